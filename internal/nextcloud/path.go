package nextcloud

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxPathBytes bounds a path a tool argument may give: it only stops
// absurd input before it travels (Nextcloud itself bounds names, not
// paths).
const MaxPathBytes = 4096

// CleanPath checks a path in the user's files as a tool argument gives
// it and returns its canonical form: relative to the root of the user's
// files, "a/b", and "" for the root. Leading, trailing and doubled slashes
// and "." segments are dropped. It refuses, with an error matching
// ErrInvalidPath and naming the reason, everything that could address
// something the caller did not name or that a proxy and Nextcloud could
// read differently: ".." segments, URLs, percent-encoded slashes,
// backslashes, dots or control characters (the client escapes every
// name itself, so such a sequence would reach Nextcloud literally), raw
// backslashes and control characters, invalid UTF-8, and Nextcloud's
// reserved name ".htaccess", which it refuses even for lookups
// (lib/private/Files/FilenameValidator.php isForbidden). Every module that
// takes a path in the user's files (files, sharing) checks it here, so
// they accept and refuse the same paths.
func CleanPath(p string) (string, error) {
	bad := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("%w %q: %s", ErrInvalidPath, shortPath(p), fmt.Sprintf(format, args...))
	}
	switch {
	case len(p) > MaxPathBytes:
		return bad("the path is %d bytes long; at most %d are allowed", len(p), MaxPathBytes)
	case !utf8.ValidString(p):
		return bad("the path is not valid UTF-8")
	case strings.ContainsFunc(p, unicode.IsControl):
		return bad("control characters (NUL included) are not allowed")
	case strings.Contains(p, `\`):
		// Nextcloud takes a backslash as part of a name; Windows tools
		// and some proxies take it as a separator.
		return bad("backslashes are not allowed; separate folders with /")
	case strings.Contains(p, "://") || hasURLScheme(p):
		return bad("give a path inside your files, such as Documents/report.md, not a URL")
	case hasEncodedSeparator(p):
		return bad("percent-encoded slashes, backslashes, dots or control characters are not allowed; write the path unencoded")
	}
	var segs []string
	for _, s := range strings.Split(p, "/") {
		switch {
		case s == "" || s == ".":
			continue
		case s == "..":
			return bad(`".." segments are not allowed; paths are relative to the root of your files`)
		case strings.EqualFold(s, ".htaccess"):
			return bad("%q is a name Nextcloud reserves", s)
		}
		segs = append(segs, s)
	}
	return strings.Join(segs, "/"), nil
}

// urlSchemes are the schemes that need no "//" (RFC 3986 §3) and that a
// confused caller might paste: "file:secret", "javascript:…". A colon on
// its own is fine in a Nextcloud name ("Meeting: notes.md").
var urlSchemes = []string{"file:", "data:", "javascript:", "mailto:", "http:", "https:", "dav:", "davs:", "webdav:", "webdavs:", "ftp:"}

func hasURLScheme(p string) bool {
	lower := strings.ToLower(p)
	for _, s := range urlSchemes {
		if strings.HasPrefix(lower, s) {
			return true
		}
	}
	return false
}

// hasEncodedSeparator finds a percent-encoded "/", "\", "." or control
// character (any case): a path written for a URL rather than a name.
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

// shortPath keeps error texts short for absurd paths.
func shortPath(p string) string {
	if len(p) <= 200 {
		return p
	}
	cut := 200
	for cut > 0 && !utf8.RuneStart(p[cut]) {
		cut--
	}
	return p[:cut] + "…"
}
