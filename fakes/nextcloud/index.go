package nextcloud

import (
	"net/http"
	"regexp"
	"strings"
)

// appRoute is an index.php route of an app (appinfo/routes.php).
type appRoute struct {
	method string
	re     *regexp.Regexp
	// cors marks #[CORS] #[NoCSRFRequired] API methods (Notes, Deck,
	// Cookbook, Tables v1): CORSMiddleware runs before SecurityMiddleware.
	cors bool
	// public is #[PublicPage] (e.g. the CORS preflight).
	public bool
	h      func(c *appCtx)
}

type appCtx struct {
	n    *Nextcloud
	w    http.ResponseWriter
	r    *http.Request
	auth authInfo
	m    []string // regexp submatches
	p    params
	body []byte
}

// indexRoutes is the index.php route table: every app's routes in
// registry order (the first match wins).
func indexRoutes(list []app) []appRoute {
	var out []appRoute
	for _, a := range list {
		out = append(out, a.indexRoutes()...)
	}
	return out
}

// serveIndex is index.php: login (wrong Basic credentials end here), route
// matching, then the middleware chain (CORS, Security) and the controller.
func (n *Nextcloud) serveIndex(w http.ResponseWriter, r *http.Request, route string) {
	auth := n.authenticate(r)
	if auth.badBasic {
		// index.php catches LoginException: 401 with an empty message.
		if strings.Contains(r.Header.Get("Accept"), "html") {
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte("<!DOCTYPE html>\n<html><head><title>Nextcloud</title></head><body><h2>Access forbidden</h2></body></html>\n"))
			return
		}
		writeAppMessage(w, http.StatusUnauthorized, "")
		return
	}
	var found *appRoute
	var match []string
	methodMismatch := false
	for _, rt := range n.routes {
		m := rt.re.FindStringSubmatch(route)
		if m == nil {
			continue
		}
		if rt.method != r.Method {
			methodMismatch = true
			continue
		}
		rt := rt
		found, match = &rt, m
		break
	}
	if found == nil {
		if methodMismatch {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		writeNotFoundPage(w)
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeTooLarge(w)
		return
	}
	c := &appCtx{n: n, w: w, r: r, auth: auth, m: match, body: body, p: requestParams(r, body)}
	if found.cors && !n.corsPasses(c) {
		writeAppMessage(w, http.StatusUnauthorized, "CORS requires basic auth")
		return
	}
	if !found.public && !c.auth.loggedIn() {
		writeAppMessage(w, http.StatusUnauthorized, "Current user is not logged in")
		return
	}
	found.h(c)
}

// corsPasses is CORSMiddleware::beforeController for a #[CORS] method. It
// may log the session out (c.auth.uid cleared), as Nextcloud does before
// re-logging a Basic client in.
func (n *Nextcloud) corsPasses(c *appCtx) bool {
	// passesCSRFCheck(): any non-empty OCS-APIRequest header.
	if c.r.Header.Get("OCS-APIRequest") != "" {
		return true
	}
	if n.BearerOnAppRoutes() == BearerAccept && c.auth.bearerHeader {
		// The patched middleware returns early for Bearer requests; an
		// invalid token then meets SecurityMiddleware's 401.
		return true
	}
	// $this->session->logout(), then logClientIn with PHP_AUTH_USER/PW.
	if c.auth.basic && c.auth.loggedIn() {
		return true
	}
	c.auth.uid = ""
	e := logEntryOf(c.r)
	if e.UID != "" {
		e.UID = ""
		e.AuthError = "session logged out by CORSMiddleware (bearer on a #[CORS] route)"
	}
	return false
}

// preflightedCORS is ApiController::preflightedCors.
func preflightedCORS(c *appCtx) {
	origin := c.r.Header.Get("Origin")
	if origin == "" {
		origin = "*"
	}
	h := c.w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", "PUT, POST, GET, DELETE, PATCH")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept")
	h.Set("Access-Control-Max-Age", "1728000")
	writeAppJSON(c.w, http.StatusOK, []any{})
}
