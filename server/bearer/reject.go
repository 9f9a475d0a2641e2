package bearer

import (
	"net/http"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/auth"
)

// rejectionKey is where Middleware puts a POST request's rejection slot
// in the verified auth.TokenInfo's Extra, the only per-request value that
// reaches go-sdk's tool handlers (they do not see the HTTP request).
const rejectionKey = "nextcloud-mcp/bearer-rejection"

// rejection is set by RejectToken and read when the answer's first byte
// is written.
type rejection struct {
	mu          sync.Mutex
	rejected    bool
	description string
	// committed: the answer has begun, a 401 can no longer be sent.
	committed bool
}

// withRejection returns a copy of ti whose Extra carries slot; ti itself
// (which a verifier may cache) is left alone.
func withRejection(ti *auth.TokenInfo, slot *rejection) *auth.TokenInfo {
	cp := *ti
	cp.Extra = make(map[string]any, len(ti.Extra)+1)
	for k, v := range ti.Extra {
		cp.Extra[k] = v
	}
	cp.Extra[rejectionKey] = slot
	return &cp
}

// RejectToken turns the answer to the POST whose verified token is ti
// into HTTP 401 with `WWW-Authenticate: Bearer error="invalid_token"` and
// description, for code behind Middleware — a tool handler — that learns
// only after authentication that the client's token is bad: the identity
// provider refused to exchange it because it expired or is invalid. A 401
// tells the client to refresh or re-authorize; a tool error over HTTP 200
// would not. It reports whether the answer will be the 401: false when ti
// did not come from Middleware for a POST, or when the answer has already
// begun (a notification was streamed first), and the caller's own error
// then reaches the client instead.
//
// The answer becomes the 401 as a whole: go-sdk writes nothing before the
// first message of the response stream, which the handler's result is
// here, and Middleware's writer sends the challenge and a JSON-RPC error
// for the request's id in its place.
func RejectToken(ti *auth.TokenInfo, description string) bool {
	if ti == nil {
		return false
	}
	slot, ok := ti.Extra[rejectionKey].(*rejection)
	if !ok {
		return false
	}
	slot.mu.Lock()
	defer slot.mu.Unlock()
	if slot.committed {
		return false
	}
	slot.rejected, slot.description = true, description
	return true
}

// rejectingWriter sends the 401 of RejectToken in place of the answer the
// handler begins, and drops what the handler writes after.
type rejectingWriter struct {
	http.ResponseWriter
	slot      *rejection
	challenge Challenge
	id        []byte
	decided   bool
	swallow   bool
}

// decide runs at the answer's first byte (or status): from then on
// RejectToken has no effect.
func (w *rejectingWriter) decide() {
	if w.decided {
		return
	}
	w.decided = true
	w.slot.mu.Lock()
	w.slot.committed = true
	rejected, desc := w.slot.rejected, w.slot.description
	w.slot.mu.Unlock()
	if !rejected {
		return
	}
	w.swallow = true
	h := w.Header()
	for _, k := range []string{"Content-Type", "Cache-Control", "Connection", "Mcp-Session-Id"} {
		h.Del(k)
	}
	c := w.challenge
	c.Error = "invalid_token"
	c.ErrorDescription = desc
	c.writeRPC(w.ResponseWriter, http.StatusUnauthorized, w.id, "invalid_token: "+desc)
}

func (w *rejectingWriter) WriteHeader(status int) {
	w.decide()
	if !w.swallow {
		w.ResponseWriter.WriteHeader(status)
	}
}

func (w *rejectingWriter) Write(b []byte) (int, error) {
	w.decide()
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Flush passes flushes on (the SSE stream's), including the 401's. Before
// the first byte there is nothing to flush, and flushing would commit a
// 200 status.
func (w *rejectingWriter) Flush() {
	if !w.decided {
		return
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection (deadlines).
func (w *rejectingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
