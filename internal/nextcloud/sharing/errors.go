package sharing

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

// Error is a share API call Nextcloud refused with a reason of its own
// (HTTP 400, 403 or 404 with an OCS message): its text says what was
// attempted and quotes Nextcloud's reason. It unwraps to the core's
// *nextcloud.Error, so errors.Is against the core's sentinels still works.
type Error struct {
	text string
	err  *nextcloud.Error
}

// Error implements error.
func (e *Error) Error() string { return e.text }

// Unwrap returns the core error.
func (e *Error) Unwrap() error { return e.err }

// explain rewrites a refusal with Nextcloud's reason into plain words;
// anything else (401, 5xx, time-outs, …) keeps the core's text, which the
// server explains further per token mode.
func explain(err error) error {
	var ne *nextcloud.Error
	if !errors.As(err, &ne) || ne.Message == "" {
		return err
	}
	switch ne.Status {
	case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound:
		return &Error{text: fmt.Sprintf("Nextcloud refused to %s (HTTP %d): %s", ne.Op, ne.Status, ne.Message), err: ne}
	}
	return err
}

// explainID is explain for calls on one share: Nextcloud answers 404
// "Wrong share ID, share does not exist" both for an id that does not
// exist and for a share the caller may not see (ShareAPIController
// getShare, updateShare, deleteShare via canAccessShare), and says so.
func explainID(err error, id int64) error {
	var ne *nextcloud.Error
	if errors.As(err, &ne) && ne.Status == http.StatusNotFound &&
		(ne.Message == "" || strings.Contains(strings.ToLower(ne.Message), "wrong share id")) {
		return &Error{text: fmt.Sprintf("share %d does not exist, or it is neither yours nor shared with you (Nextcloud: HTTP 404 %q)", id, ne.Message), err: ne}
	}
	return explain(err)
}
