package idp

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Error is an OAuth error as RFC 6749 §5.2 defines it (also used for the
// error codes of RFC 6750, 7009, 7591, 7662, 8693 and 8707). It renders as a
// JSON body {"error": ..., "error_description": ...} with Status.
type Error struct {
	// Code is the RFC error code, e.g. "invalid_grant".
	Code string `json:"error"`
	// Description is human-readable ASCII; it never contains secrets.
	Description string `json:"error_description,omitempty"`
	// Status is the HTTP status; 400 when zero.
	Status int `json:"-"`
	// WWWAuthenticate, when set, is sent as the WWW-Authenticate header.
	WWWAuthenticate string `json:"-"`
}

func (e *Error) Error() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

func (e *Error) status() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

func errInvalidRequest(desc string) *Error { return &Error{Code: "invalid_request", Description: desc} }
func errInvalidGrant(desc string) *Error   { return &Error{Code: "invalid_grant", Description: desc} }
func errInvalidScope(desc string) *Error   { return &Error{Code: "invalid_scope", Description: desc} }
func errInvalidTarget(desc string) *Error  { return &Error{Code: "invalid_target", Description: desc} }
func errUnauthorizedClient(desc string) *Error {
	return &Error{Code: "unauthorized_client", Description: desc}
}
func errServer(desc string) *Error {
	return &Error{Code: "server_error", Description: desc, Status: http.StatusInternalServerError}
}

// errInvalidClient is the 401 of RFC 6749 §5.2 for failed client
// authentication, with a challenge matching HTTP Basic.
func errInvalidClient(desc string) *Error {
	return &Error{
		Code: "invalid_client", Description: desc, Status: http.StatusUnauthorized,
		WWWAuthenticate: `Basic realm="fake-idp", charset="UTF-8"`,
	}
}

// errInvalidToken is RFC 6750 §3.1 invalid_token with its Bearer challenge.
func errInvalidToken(desc string) *Error {
	return &Error{
		Code: "invalid_token", Description: desc, Status: http.StatusUnauthorized,
		WWWAuthenticate: `Bearer realm="fake-idp", error="invalid_token", error_description="` + safeDesc(desc) + `"`,
	}
}

// safeDesc keeps only the characters RFC 6749 allows in error_description
// (%x20-21 / %x23-5B / %x5D-7E), so no quote or backslash breaks a header.
func safeDesc(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}

// writeError renders err as RFC 6749 §5.2 JSON, with no-store caching.
func writeError(w http.ResponseWriter, err *Error) {
	if err.WWWAuthenticate != "" {
		w.Header().Set("WWW-Authenticate", err.WWWAuthenticate)
	}
	body := struct {
		Code        string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{err.Code, safeDesc(err.Description)}
	writeJSONNoStore(w, err.status(), body)
}

// writeJSONNoStore writes v as JSON with the no-store headers RFC 6749 §5.1
// requires on token responses (used for every response carrying tokens or
// errors about them).
func writeJSONNoStore(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, status, v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":"server_error"}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
