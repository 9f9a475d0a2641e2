package server

import "net/http"

// corsMCP lets browser-based MCP clients (the MCP Inspector in direct
// mode, web agents) call /mcp in OAuth modes, from the origins
// validateOrigin lets through: the server's own and MCP_ALLOWED_ORIGINS.
// The origin is reflected, never "*", and credentials are not allowed: a
// request still needs a bearer token, which browsers never attach on their
// own. Basic mode gets no CORS: there the server acts with a stored
// password for whoever reaches it, and a web page must not be able to.
func corsMCP(origins originPolicy, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin, ok := origins.check(r)
		if origin == "" || !ok {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Expose-Headers", "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
