package server

import (
	"testing"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/toolsnaps"
)

// TestConsentToolSnapshots guards the progressive-consent tools'
// definitions like every module's (they go through the same kit, marked
// Public). The definitions do not depend on the service's state.
func TestConsentToolSnapshots(t *testing.T) {
	toolsnaps.Test(t, "testdata/toolsnaps/consent", (&consentService{}).module())
}
