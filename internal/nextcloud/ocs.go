package nextcloud

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
)

// OCS envelope (nextcloud-wire.md §2.1). v1 succeeds with statuscode 100
// and answers failures with HTTP 200; v2 succeeds with 200 and maps
// failures onto the HTTP status.
type ocsEnvelope struct {
	OCS *struct {
		Meta ocsMeta         `json:"meta"`
		Data json.RawMessage `json:"data"`
	} `json:"ocs"`
}

type ocsMeta struct {
	Status     string `json:"status"`
	StatusCode int    `json:"statuscode"`
	Message    string `json:"message"`
}

// ocsHTTPStatus maps an OCS statuscode to the HTTP status v2 would use
// (V2Response::getStatus); 0 for success codes.
func ocsHTTPStatus(code int) int {
	switch {
	case code == 100 || code == 200:
		return 0
	case code == 997:
		return http.StatusUnauthorized
	case code == 998:
		return http.StatusNotFound
	case code == 996 || code == 999:
		return http.StatusInternalServerError
	case code < 200 || code > 600:
		return http.StatusBadRequest
	}
	return code
}

// ocs performs an OCS call and decodes meta-checked data into out.
func (c *Client) ocs(ctx context.Context, r *request, out any) error {
	r.ocs = true
	if r.header == nil {
		r.header = http.Header{}
	}
	r.header.Set("Accept", "application/json")
	resp, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	var env ocsEnvelope
	if jerr := json.Unmarshal(resp.body, &env); jerr != nil || env.OCS == nil {
		if resp.status >= 300 {
			return c.newError(r, resp, nil)
		}
		return c.newError(r, resp, unexpected(resp, "not an OCS JSON envelope"))
	}
	if resp.status >= 300 || ocsHTTPStatus(env.OCS.Meta.StatusCode) != 0 {
		e := c.newError(r, resp, nil)
		if e.Status < 300 {
			// A failure code the mapping calls success-range (e.g. v1 with
			// an odd code): still a failure.
			e.Status = http.StatusBadRequest
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.OCS.Data, out); err != nil {
		return c.newError(r, resp, unexpected(resp, "OCS data: "+err.Error()))
	}
	return nil
}

// unexpected wraps a description of a malformed success response.
func unexpected(resp *response, what string) error {
	ct := resp.header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		ct = mt
	}
	if ct != "" {
		what += " (Content-Type " + ct + ")"
	}
	return &unexpectedError{what}
}

// unexpectedError describes a malformed response; it matches
// ErrUnexpectedResponse.
type unexpectedError struct{ what string }

func (u *unexpectedError) Error() string        { return u.what }
func (u *unexpectedError) Is(target error) bool { return target == ErrUnexpectedResponse }

// User is the authenticated Nextcloud account (GET /ocs/v2.php/cloud/user).
// ID is the uid: the name in DAV paths. It may differ from the login name
// and from an OIDC token's sub (user_oidc hashes it by default).
type User struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"displayname"`
	Email       string   `json:"email"`
	Groups      []string `json:"groups"`
	Language    string   `json:"language"`
	Locale      string   `json:"locale"`
}

// CurrentUser returns the account the credentials authenticate as.
func (c *Client) CurrentUser(ctx context.Context) (*User, error) {
	var raw struct {
		User
		DisplayNameDash string `json:"display-name"`
	}
	r := &request{op: "read the current user", method: http.MethodGet, path: "/ocs/v2.php/cloud/user", idempotent: true}
	if err := c.ocs(ctx, r, &raw); err != nil {
		return nil, err
	}
	u := raw.User
	if u.DisplayName == "" {
		u.DisplayName = raw.DisplayNameDash
	}
	if u.ID == "" {
		return nil, c.newError(r, &response{status: http.StatusOK, header: http.Header{}}, &unexpectedError{"user without id"})
	}
	c.mu.Lock()
	c.uid = u.ID
	c.mu.Unlock()
	return &u, nil
}

// userID returns the uid, asking Nextcloud once per Client.
func (c *Client) userID(ctx context.Context) (string, error) {
	c.mu.Lock()
	uid := c.uid
	c.mu.Unlock()
	if uid != "" {
		return uid, nil
	}
	u, err := c.CurrentUser(ctx)
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

// Version is the server version block of the capabilities.
type Version struct {
	Major           int    `json:"major"`
	Minor           int    `json:"minor"`
	Micro           int    `json:"micro"`
	String          string `json:"string"`
	Edition         string `json:"edition"`
	ExtendedSupport bool   `json:"extendedSupport"`
}

// Capabilities is GET /ocs/v2.php/cloud/capabilities. Apps holds each
// app's capability block undecoded; Raw is the whole OCS data object.
type Capabilities struct {
	Version Version                    `json:"version"`
	Apps    map[string]json.RawMessage `json:"capabilities"`
	Raw     json.RawMessage            `json:"-"`
}

// NotesCapability is the "notes" capability block.
type NotesCapability struct {
	APIVersion []string `json:"api_version"`
	Version    string   `json:"version"`
	NotesPath  string   `json:"notes_path"`
}

// Notes returns the Notes app's capability block; ok=false when the app
// is not enabled for this user.
func (c *Capabilities) Notes() (nc NotesCapability, ok bool) {
	raw, ok := c.Apps["notes"]
	if !ok {
		return nc, false
	}
	if json.Unmarshal(raw, &nc) != nil {
		return nc, false
	}
	return nc, true
}

// Capabilities returns the server's capabilities. It works anonymously
// too (the route is public), then with only the public blocks.
func (c *Client) Capabilities(ctx context.Context) (*Capabilities, error) {
	var raw json.RawMessage
	r := &request{op: "read the capabilities", method: http.MethodGet, path: "/ocs/v2.php/cloud/capabilities", idempotent: true}
	if err := c.ocs(ctx, r, &raw); err != nil {
		return nil, err
	}
	var wire struct {
		Version Version         `json:"version"`
		Apps    json.RawMessage `json:"capabilities"`
	}
	bad := func(err error) error {
		return c.newError(r, &response{status: http.StatusOK, header: http.Header{}}, &unexpectedError{"capabilities: " + err.Error()})
	}
	if err := json.Unmarshal(raw, &wire); err != nil {
		return nil, bad(err)
	}
	caps := &Capabilities{Version: wire.Version, Apps: map[string]json.RawMessage{}, Raw: raw}
	// PHP serialises an empty array as [], never {} (wire §1.5).
	if len(wire.Apps) > 0 && wire.Apps[0] == '{' {
		if err := json.Unmarshal(wire.Apps, &caps.Apps); err != nil {
			return nil, bad(err)
		}
	}
	return caps, nil
}
