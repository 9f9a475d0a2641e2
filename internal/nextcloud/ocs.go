package nextcloud

import (
	"context"
	"encoding/json"
	"net/http"
)

// OCS envelope (docs/nextcloud-contract.md §2.1). v1 succeeds with
// statuscode 100 and answers failures with HTTP 200; v2 succeeds with 200
// and maps failures onto the HTTP status.
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
// (nextcloud/server lib/private/AppFramework/OCS/V2Response.php
// getStatus); 0 for success codes.
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

// OCS performs an OCS API call (v1 or v2, by r.Path): it asks for JSON
// (format=json, OCS-APIRequest), checks the envelope's meta and decodes its
// data into out when out is non-nil. A failure, in the HTTP status or in
// the envelope's statuscode (v1 answers failures with HTTP 200), is an
// *Error with the status the code maps to and the envelope's message.
func (c *Client) OCS(ctx context.Context, r *Request, out any) error {
	r = withAccept(r, "application/json")
	r.OCS = true
	resp, err := c.Send(ctx, r)
	if err != nil {
		return err
	}
	body, rerr := ReadAll(resp)
	if rerr != nil && resp.Status < 300 {
		return rerr
	}
	var env ocsEnvelope
	if jerr := json.Unmarshal(body, &env); jerr != nil || env.OCS == nil {
		if resp.Status >= 300 {
			return c.ResponseError(r, resp, body, nil)
		}
		return c.ResponseError(r, resp, body, Unexpected(resp, "not an OCS JSON envelope"))
	}
	if resp.Status >= 300 || ocsHTTPStatus(env.OCS.Meta.StatusCode) != 0 {
		e := c.ResponseError(r, resp, body, nil)
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
		return c.ResponseError(r, resp, body, Unexpected(resp, "OCS data: "+err.Error()))
	}
	return nil
}

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

// CurrentUser returns the account the credentials authenticate as. It
// always asks Nextcloud, and remembers the uid for the credentials'
// principal (see UserID).
func (c *Client) CurrentUser(ctx context.Context) (*User, error) {
	var raw struct {
		User
		DisplayNameDash string `json:"display-name"`
	}
	r := &Request{Op: "read the current user", Method: http.MethodGet, Path: "/ocs/v2.php/cloud/user", Idempotent: true}
	if err := c.OCS(ctx, r, &raw); err != nil {
		return nil, err
	}
	u := raw.User
	if u.DisplayName == "" {
		u.DisplayName = raw.DisplayNameDash
	}
	if u.ID == "" {
		return nil, c.newError(r, http.StatusOK, nil, &unexpectedError{"user without id"})
	}
	c.uids.put(c.key, u.ID)
	return &u, nil
}

// UserID returns the uid of the authenticated user: the name in DAV paths
// (/remote.php/dav/files/{uid}). It comes from Nextcloud (CurrentUser),
// never from a token, and is cached per principal: Clients derived from one
// base by WithCredentials share it for as long as WithUIDCache allows.
func (c *Client) UserID(ctx context.Context) (string, error) {
	if uid, ok := c.uids.get(c.key); ok {
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
// app's capability block undecoded (each app's sub-package reads its own);
// Raw is the whole OCS data object.
type Capabilities struct {
	Version Version                    `json:"version"`
	Apps    map[string]json.RawMessage `json:"capabilities"`
	Raw     json.RawMessage            `json:"-"`
}

// App decodes the capability block of app into v; ok=false when the app
// has none for this user (not enabled) or it does not decode.
func (c *Capabilities) App(app string, v any) (ok bool) {
	raw, ok := c.Apps[app]
	if !ok {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

// Capabilities returns the server's capabilities. It works anonymously
// too (the route is public), then with only the public blocks.
func (c *Client) Capabilities(ctx context.Context) (*Capabilities, error) {
	var raw json.RawMessage
	r := &Request{Op: "read the capabilities", Method: http.MethodGet, Path: "/ocs/v2.php/cloud/capabilities", Idempotent: true}
	if err := c.OCS(ctx, r, &raw); err != nil {
		return nil, err
	}
	var wire struct {
		Version Version         `json:"version"`
		Apps    json.RawMessage `json:"capabilities"`
	}
	bad := func(err error) error {
		return c.newError(r, http.StatusOK, nil, &unexpectedError{"capabilities: " + err.Error()})
	}
	if err := json.Unmarshal(raw, &wire); err != nil {
		return nil, bad(err)
	}
	caps := &Capabilities{Version: wire.Version, Apps: map[string]json.RawMessage{}, Raw: raw}
	// PHP serialises an empty array as [], never {}
	// (docs/nextcloud-contract.md §1.5).
	if len(wire.Apps) > 0 && wire.Apps[0] == '{' {
		if err := json.Unmarshal(wire.Apps, &caps.Apps); err != nil {
			return nil, bad(err)
		}
	}
	return caps, nil
}
