package nextcloud_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
)

// TestDefaultAppPasswordsDocumented keeps README.md and the seed in step and
// checks the app passwords have a real one's shape.
func TestDefaultAppPasswordsDocumented(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, uid := range []string{"alice", "bob", "admin"} {
		pw := nextcloud.DefaultAppPassword(uid)
		if !regexp.MustCompile(`^[A-Za-z0-9]{72}$`).MatchString(pw) {
			t.Errorf("%s: %q is not 72 alphanumerics", uid, pw)
		}
		if !strings.Contains(string(readme), "| "+uid+": `"+pw+"` |") {
			t.Errorf("README lacks %s's app password %s", uid, pw)
		}
	}
}
