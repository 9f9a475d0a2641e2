package sharing

import (
	"fmt"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

// ErrInvalidPath matches a path NormalizePath refuses: it is the client
// core's nextcloud.ErrInvalidPath.
var ErrInvalidPath = nextcloud.ErrInvalidPath

// NormalizePath turns a path in the user's files into the form the share
// API takes ("/Documents/report.md": one leading slash, no empty or "."
// segments, no trailing slash). The checks are the client core's
// (nextcloud.CleanPath, shared with the files module, so both modules
// accept and refuse the same paths); the root itself is refused too:
// Nextcloud never shares a user's root folder
// (lib/private/Share20/Manager.php generalCreateChecks).
func NormalizePath(p string) (string, error) {
	if strings.TrimSpace(p) == "" {
		return "", fmt.Errorf("%w %q: the path is empty; give a file or folder such as \"/Documents/report.md\"", ErrInvalidPath, p)
	}
	c, err := nextcloud.CleanPath(p)
	if err != nil {
		return "", err
	}
	if c == "" {
		return "", fmt.Errorf("%w %q: that is your root folder, which cannot be shared; name a file or folder in it", ErrInvalidPath, p)
	}
	return "/" + c, nil
}
