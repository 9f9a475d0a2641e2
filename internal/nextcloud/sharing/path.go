package sharing

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// ErrInvalidPath matches a path NormalizePath refuses.
var ErrInvalidPath = errors.New("invalid path")

// NormalizePath turns a path in the user's files into the form the share
// API takes ("/Documents/report.md": one leading slash, no empty, "." or
// ".." segments, no trailing slash). It refuses what could address
// something the caller did not name or is no file path at all: ".."
// segments, control characters (NUL included), backslashes, percent-encoded
// slashes or dots (Nextcloud does not decode the path again, so they only
// ever come from a confused or hostile caller), and URLs. The root itself
// is refused too: Nextcloud never shares a user's root folder
// (lib/private/Share20/Manager.php generalCreateChecks).
func NormalizePath(p string) (string, error) {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrInvalidPath, p, why) }
	switch {
	case strings.TrimSpace(p) == "":
		return "", fmt.Errorf("%w: the path is empty; give a file or folder such as \"/Documents/report.md\"", ErrInvalidPath)
	case strings.ContainsFunc(p, unicode.IsControl):
		return "", bad("control characters (NUL included) are not allowed")
	case strings.Contains(p, `\`):
		return "", bad("backslashes are not allowed; separate folders with /")
	case strings.Contains(p, "://") || hasScheme(p):
		return "", bad("give a path in your files, not a URL")
	}
	lower := strings.ToLower(p)
	for _, enc := range []string{"%2f", "%5c", "%2e", "%00"} {
		if strings.Contains(lower, enc) {
			return "", bad("percent-encoded slashes, backslashes, dots or NULs are not allowed; write the path plainly")
		}
	}
	var segs []string
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "", ".":
			continue
		case "..":
			return "", bad(`".." segments are not allowed`)
		}
		segs = append(segs, s)
	}
	if len(segs) == 0 {
		return "", bad("that is your root folder, which cannot be shared; name a file or folder in it")
	}
	return "/" + strings.Join(segs, "/"), nil
}

// hasScheme reports whether p starts with a URL scheme that needs no
// "//" ("file:", "data:", …). Other colons are left alone: "Meeting:
// notes.md" is a fine file name.
func hasScheme(p string) bool {
	lower := strings.ToLower(p)
	for _, s := range []string{"file:", "data:", "javascript:", "mailto:", "http:", "https:", "dav:", "davs:"} {
		if strings.HasPrefix(lower, s) {
			return true
		}
	}
	return false
}
