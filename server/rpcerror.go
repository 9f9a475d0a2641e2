package server

import (
	"encoding/json"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// writeJSONRPCError answers status with a JSON-RPC error response: for the
// request id when there is one, without an id otherwise (a refusal of the
// whole HTTP request, before any message was read; MCP 2025-11-25
// basic/transports allows such a body).
func writeJSONRPCError(w http.ResponseWriter, status int, id json.RawMessage, e *jsonrpc.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	body := struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id,omitempty"`
		Error   *jsonrpc.Error  `json:"error"`
	}{JSONRPC: "2.0", ID: id, Error: e}
	// The status line is the answer; the body is a courtesy the client
	// may have hung up before reading.
	_ = json.NewEncoder(w).Encode(body)
}
