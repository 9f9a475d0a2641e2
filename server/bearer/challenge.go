// Package bearer is the MCP server's OAuth 2.0 resource-server surface:
// it authenticates bearer tokens on the MCP endpoint (RFC 6750), answers
// failures with RFC 6750 §3 challenges that carry the RFC 9728
// resource_metadata parameter, enforces per-tool soft scopes before a
// request reaches the MCP server (the 2025-11-25 step-up: HTTP 403 with
// error="insufficient_scope"), and serves Protected Resource Metadata.
//
// go-sdk's auth.RequireBearerToken sends no error= parameter and checks no
// audience or per-tool scope, so this package does those things itself and
// only uses the SDK to place the verified auth.TokenInfo where the
// streamable transport looks for it.
package bearer

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// Challenge is one RFC 6750 §3 "Bearer" WWW-Authenticate challenge.
type Challenge struct {
	// Error is the RFC 6750 §3.1 error code: "invalid_request",
	// "invalid_token", "insufficient_scope", or empty when the request
	// carried no credentials (§3.1: then no error code is sent).
	Error            string
	ErrorDescription string
	// Scope is the space-separated scope the client should ask for.
	Scope string
	// ResourceMetadata is the RFC 9728 §5.1 metadata URL.
	ResourceMetadata string
}

// String renders the challenge as a WWW-Authenticate header value.
// Parameter values are quoted strings; RFC 6750 §3 forbids '"' and '\' in
// error_description and scope values, so those characters are dropped
// rather than escaped.
func (c Challenge) String() string {
	var params []string
	add := func(k, v string) {
		if v != "" {
			params = append(params, fmt.Sprintf(`%s="%s"`, k, sanitize(v)))
		}
	}
	add("error", c.Error)
	add("error_description", c.ErrorDescription)
	add("scope", c.Scope)
	add("resource_metadata", c.ResourceMetadata)
	if len(params) == 0 {
		return "Bearer"
	}
	return "Bearer " + strings.Join(params, ", ")
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		// RFC 6750 §3: %x20-21 / %x23-5B / %x5D-7E only.
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}

// write sends status with the challenge and a short JSON body (clients
// show it; it never contains the token).
func (c Challenge) write(w http.ResponseWriter, status int) {
	w.Header().Set("WWW-Authenticate", c.String())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	code := c.Error
	if code == "" {
		code = "unauthorized"
	}
	desc := c.ErrorDescription
	if desc == "" {
		desc = "this endpoint requires an OAuth bearer access token"
	}
	// The status and challenge are the answer; the body is a courtesy.
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// writeRPC sends status with the challenge and, when the refused message
// was a JSON-RPC request (it has an id), a JSON-RPC error body for that id:
// MCP clients show it as the call's error instead of a bare "Forbidden".
func (c Challenge) writeRPC(w http.ResponseWriter, status int, id json.RawMessage, message string) {
	if len(id) == 0 || string(id) == "null" {
		c.write(w, status)
		return
	}
	w.Header().Set("WWW-Authenticate", c.String())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   rpcError        `json:"error"`
	}{"2.0", id, rpcError{Code: -32600, Message: message}})
}

type rpcError struct {
	Code    int64           `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// writeRPCStatus answers status with a JSON-RPC error for id (without an
// id when the message had none).
func writeRPCStatus(w http.ResponseWriter, status int, id json.RawMessage, e *jsonrpc.Error) {
	if string(id) == "null" {
		id = nil
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct { // the status line is the answer; the body a courtesy
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id,omitempty"`
		Error   rpcError        `json:"error"`
	}{"2.0", id, rpcError{Code: e.Code, Message: e.Message, Data: e.Data}})
}

// writeRPCError answers a refused JSON-RPC request with its error, as the
// MCP server would: HTTP 200 with a JSON-RPC error response for its id (a
// message without an id, which expects no response, gets 202 and nothing).
func writeRPCError(w http.ResponseWriter, id json.RawMessage, refusal error) {
	if len(id) == 0 || string(id) == "null" {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	e := rpcError{Code: jsonrpc.CodeInvalidRequest, Message: refusal.Error()}
	var we *jsonrpc.Error
	if errors.As(refusal, &we) {
		e = rpcError{Code: we.Code, Message: we.Message, Data: we.Data}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   rpcError        `json:"error"`
	}{"2.0", id, e})
}
