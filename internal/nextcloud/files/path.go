package files

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

// Bounds on what a path may be. Nextcloud's FilenameValidator refuses
// names longer than 250 bytes (lib/private/Files/FilenameValidator.php);
// the path bound only stops absurd input before it travels.
const (
	MaxNameBytes = 250
	MaxPathBytes = nextcloud.MaxPathBytes
)

// forbiddenExtensions are the default forbidden_filename_extensions of
// Nextcloud's files capability (lib/private/Files/FilenameValidator.php):
// names Nextcloud reserves for its own partial uploads.
var forbiddenExtensions = []string{".part", ".filepart"}

// Clean is nextcloud.CleanPath: the one path check of every module that
// takes a path in the user's files.
func Clean(p string) (string, error) { return nextcloud.CleanPath(p) }

// CleanNew is Clean for a path about to be created (a write, a new folder,
// the target of a move or copy): it must name something below the root,
// and its last name must be one Nextcloud accepts for a new file — not
// longer than 250 bytes, no forbidden extension (.part, .filepart), not
// only dots or spaces (FilenameValidator::validateFilename).
func CleanNew(p string) (string, error) {
	c, err := Clean(p)
	if err != nil {
		return "", err
	}
	if c == "" {
		return "", fmt.Errorf("%w %q: the root of your files cannot be created, replaced, moved or copied onto", nextcloud.ErrInvalidPath, shortName(p))
	}
	name := c[strings.LastIndex(c, "/")+1:]
	lower := strings.ToLower(name)
	switch {
	case len(name) > MaxNameBytes:
		return "", fmt.Errorf("%w %q: the name is %d bytes long; Nextcloud allows at most %d", nextcloud.ErrInvalidPath, shortName(p), len(name), MaxNameBytes)
	case strings.TrimSpace(name) == "" || strings.Trim(name, ".") == "":
		return "", fmt.Errorf("%w %q: a name must not consist only of dots or spaces", nextcloud.ErrInvalidPath, shortName(p))
	}
	for _, ext := range forbiddenExtensions {
		if strings.HasSuffix(lower, ext) {
			return "", fmt.Errorf("%w %q: Nextcloud forbids the file type %q (it marks partial uploads)", nextcloud.ErrInvalidPath, shortName(p), ext)
		}
	}
	return c, nil
}

// shortName keeps error texts short for absurd paths.
func shortName(p string) string {
	if len(p) <= 200 {
		return p
	}
	cut := 200
	for cut > 0 && !utf8.RuneStart(p[cut]) {
		cut--
	}
	return p[:cut] + "…"
}
