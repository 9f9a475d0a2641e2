package files

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

// Bounds on what a path may be. Nextcloud's FilenameValidator refuses
// names longer than 250 bytes (lib/private/Files/FilenameValidator.php);
// the path bound only stops absurd input before it travels.
const (
	MaxNameBytes = 250
	MaxPathBytes = 4096
)

// forbiddenExtensions are the default forbidden_filename_extensions of
// Nextcloud's files capability (lib/private/Files/FilenameValidator.php):
// names Nextcloud reserves for its own partial uploads.
var forbiddenExtensions = []string{".part", ".filepart"}

// Clean checks a path relative to the user's files root as a tool
// argument gives it and returns its canonical form ("a/b"; "" for the
// root). Leading, trailing and doubled slashes are dropped. It refuses,
// with an error matching nextcloud.ErrInvalidPath and naming the reason,
// everything that could address something the caller did not name or
// that a proxy and Nextcloud could read differently: "." and ".."
// segments, URLs, percent-encoded slashes, backslashes, dots or control
// characters, control characters and invalid UTF-8, and Nextcloud's
// reserved name ".htaccess", which it refuses even for lookups
// (lib/private/Files/FilenameValidator.php isForbidden).
func Clean(p string) (string, error) {
	bad := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("%w %q: %s", nextcloud.ErrInvalidPath, shorten(p), fmt.Sprintf(format, args...))
	}
	switch {
	case len(p) > MaxPathBytes:
		return bad("the path is %d bytes long; at most %d are allowed", len(p), MaxPathBytes)
	case !utf8.ValidString(p):
		return bad("the path is not valid UTF-8")
	case strings.ContainsFunc(p, unicode.IsControl):
		return bad("control characters are not allowed")
	case strings.Contains(p, `\`):
		// Nextcloud takes a backslash as part of a name; Windows tools
		// and some proxies take it as a separator.
		return bad("backslashes are not allowed; separate folders with /")
	case strings.Contains(p, "://") || hasScheme(p):
		return bad("give a path inside your files, such as Documents/report.md, not a URL")
	case hasEncodedSeparator(p):
		return bad("percent-encoded slashes, backslashes, dots or control characters are not allowed; write the path unencoded")
	}
	var segs []string
	for _, s := range strings.Split(p, "/") {
		switch {
		case s == "":
			continue
		case s == "." || s == "..":
			return bad("%q segments are not allowed; paths are relative to the root of your files", s)
		case strings.EqualFold(s, ".htaccess"):
			return bad("%q is a name Nextcloud reserves", s)
		}
		segs = append(segs, s)
	}
	return strings.Join(segs, "/"), nil
}

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
		return "", fmt.Errorf("%w %q: the root of your files cannot be created, replaced, moved or copied onto", nextcloud.ErrInvalidPath, shorten(p))
	}
	name := c[strings.LastIndex(c, "/")+1:]
	lower := strings.ToLower(name)
	switch {
	case len(name) > MaxNameBytes:
		return "", fmt.Errorf("%w %q: the name is %d bytes long; Nextcloud allows at most %d", nextcloud.ErrInvalidPath, shorten(p), len(name), MaxNameBytes)
	case strings.TrimSpace(name) == "" || strings.Trim(name, ".") == "":
		return "", fmt.Errorf("%w %q: a name must not consist only of dots or spaces", nextcloud.ErrInvalidPath, shorten(p))
	}
	for _, ext := range forbiddenExtensions {
		if strings.HasSuffix(lower, ext) {
			return "", fmt.Errorf("%w %q: Nextcloud forbids the file type %q (it marks partial uploads)", nextcloud.ErrInvalidPath, shorten(p), ext)
		}
	}
	return c, nil
}

// hasScheme reports whether p starts like an absolute URI ("http:",
// "file:", "webdav:"): RFC 3986 §3.1 scheme followed by a colon, before
// any slash.
func hasScheme(p string) bool {
	i := strings.IndexByte(p, ':')
	if i <= 0 || strings.Contains(p[:i], "/") {
		return false
	}
	for j, r := range p[:i] {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		other := j > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')
		if !letter && !other {
			return false
		}
	}
	return true
}

// hasEncodedSeparator finds a percent-encoded "/", "\", "." or control
// character (any case): a path written for a URL rather than a name. The
// client escapes every name itself, so such a sequence would reach
// Nextcloud literally ("%252F"), which is never what the caller meant.
func hasEncodedSeparator(p string) bool {
	for i := 0; i+2 < len(p); i++ {
		if p[i] != '%' {
			continue
		}
		hi, ok1 := unhex(p[i+1])
		lo, ok2 := unhex(p[i+2])
		if !ok1 || !ok2 {
			continue
		}
		switch b := hi<<4 | lo; {
		case b == '/', b == '\\', b == '.', b < 0x20, b == 0x7f:
			return true
		}
	}
	return false
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// shorten keeps error texts short for absurd paths.
func shorten(p string) string {
	if len(p) <= 200 {
		return p
	}
	cut := 200
	for cut > 0 && !utf8.RuneStart(p[cut]) {
		cut--
	}
	return p[:cut] + "…"
}
