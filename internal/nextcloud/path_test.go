package nextcloud_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud/files"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud/sharing"
)

// TestModulesShareOnePathCheck: the files and sharing modules accept and
// refuse the same paths (below the root), because both check them with
// CleanPath; only the form differs ("a/b" for WebDAV, "/a/b" for the
// share API).
func TestModulesShareOnePathCheck(t *testing.T) {
	tests := []struct {
		name, in, want string // want "" = refused
	}{
		{"plain", "Documents/report.md", "Documents/report.md"},
		{"slashes and dots", "//Documents/./report.md/", "Documents/report.md"},
		{"colon in a name", "Meeting: notes.md", "Meeting: notes.md"},
		{"percent that is no separator", "100%25 done.txt", "100%25 done.txt"},
		{"dotdot", "Documents/../../bob", ""},
		{"encoded slash", "Documents%2F..%2Fbob", ""},
		{"encoded dot", "%2e%2e/bob", ""},
		{"NUL", "a\x00b", ""},
		{"backslash", `a\b`, ""},
		{"URL", "https://evil.example/x", ""},
		{"scheme without slashes", "file:secret", ""},
		{"reserved name", "Documents/.htaccess", ""},
		{"invalid UTF-8", "a\xffb", ""},
		{"too long", strings.Repeat("a/", nextcloud.MaxPathBytes), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, cerr := nextcloud.CleanPath(tt.in)
			f, ferr := files.Clean(tt.in)
			s, serr := sharing.NormalizePath(tt.in)
			if tt.want == "" {
				assert.ErrorIs(t, cerr, nextcloud.ErrInvalidPath)
				assert.ErrorIs(t, ferr, nextcloud.ErrInvalidPath)
				assert.ErrorIs(t, serr, nextcloud.ErrInvalidPath)
				return
			}
			assert.NoError(t, cerr)
			assert.NoError(t, ferr)
			assert.NoError(t, serr)
			assert.Equal(t, tt.want, core)
			assert.Equal(t, tt.want, f)
			assert.Equal(t, "/"+tt.want, s)
		})
	}
}
