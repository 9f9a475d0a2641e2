package idp

import "net/http"

// corsEndpoints are the endpoints browser-based clients (the MCP
// Inspector, web apps) call from JavaScript: metadata, keys, token,
// registration, revocation, introspection and userinfo. The authorization,
// login and consent pages are navigations and get no CORS headers, like a
// real OP (they must not be framed or fetched cross-origin).
var corsEndpoints = map[string]bool{
	epDiscoveryOIDC: true, epDiscoveryOAuth: true, epJWKS: true, epToken: true,
	epRegister: true, epRevoke: true, epIntrospect: true, epUserinfo: true,
}

// cors adds CORS headers for a request from a browser (it has an Origin)
// and answers preflights. Credentials are never allowed: these endpoints
// authenticate clients by explicit parameters and headers, not cookies.
// It reports whether the request was a preflight it answered.
func cors(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Origin") == "" {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "WWW-Authenticate, Cache-Control")
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, MCP-Protocol-Version")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}
