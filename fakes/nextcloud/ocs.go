package nextcloud

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"strings"
)

// OCS status codes (OCSController constants).
const (
	ocsUnauthorised = 997
	ocsNotFound     = 998
	ocsServerError  = 996
	ocsUnknownError = 999
)

const ocsInvalidQuery = "Invalid query, please check the syntax. API specifications are here: http://www.freedesktop.org/wiki/Specifications/open-collaboration-services.\n"

// ocsResult is what a controller returns: a DataResponse (status = HTTP
// status of the DataResponse) or an OCSException (exc; status = OCS code).
type ocsResult struct {
	status  int
	data    any
	message string
	etag    string
	exc     bool
}

func ocsOK(data any) ocsResult { return ocsResult{status: 200, data: data} }

func ocsErr(code int, msg string) ocsResult {
	return ocsResult{status: code, message: msg, exc: true, data: []any{}}
}

// ocsCtx is one OCS request being served.
type ocsCtx struct {
	n       *Nextcloud
	r       *http.Request
	w       http.ResponseWriter
	auth    authInfo
	version int
	vars    map[string]string
	p       params
}

type ocsRoute struct {
	method  string
	pattern string // e.g. "/cloud/users/{userid}"
	public  bool   // #[PublicPage]
	admin   bool   // no #[NoAdminRequired]: NotAdminException
	// subadmin: provisioning_api routes without @NoSubAdminRequired
	// (ProvisioningApiMiddleware: NotSubAdminException).
	subadmin bool
	h        func(c *ocsCtx) ocsResult
}

// ocsRoutes is the OCS route table: the core's (capabilities,
// provisioning_api, core) and then every app's in registry order.
func (n *Nextcloud) ocsRoutes(list []app) []ocsRoute {
	routes := []ocsRoute{
		{method: "GET", pattern: "/cloud/capabilities", public: true, h: n.ocsCapabilities},
		{method: "GET", pattern: "/cloud/user", h: n.ocsCurrentUser},
		{method: "GET", pattern: "/cloud/users", subadmin: true, h: n.ocsListUsers},
		{method: "POST", pattern: "/cloud/users", subadmin: true, h: n.ocsAddUser},
		{method: "GET", pattern: "/cloud/users/{userid}", h: n.ocsGetUser},
		{method: "DELETE", pattern: "/cloud/users/{userid}", subadmin: true, h: n.ocsDeleteUser},
		{method: "GET", pattern: "/cloud/users/{userid}/groups", h: n.ocsUserGroups},
		{method: "GET", pattern: "/cloud/groups", subadmin: true, h: n.ocsListGroups},
		{method: "POST", pattern: "/cloud/groups", admin: true, h: n.ocsAddGroup},
		{method: "GET", pattern: "/cloud/groups/{groupid}", subadmin: true, h: n.ocsGroupMembers},
		{method: "GET", pattern: "/core/navigation/apps", h: n.ocsNavigationApps},
		{method: "GET", pattern: "/core/getapppassword", h: n.ocsGetAppPassword},
		{method: "DELETE", pattern: "/core/apppassword", h: n.ocsDeleteAppPassword},
	}
	for _, a := range list {
		routes = append(routes, a.ocsRoutes()...)
	}
	return routes
}

func matchRoute(pattern, path string) (map[string]string, bool) {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	if len(ps) != len(xs) {
		return nil, false
	}
	vars := map[string]string{}
	for i, p := range ps {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if xs[i] == "" {
				return nil, false
			}
			vars[p[1:len(p)-1]] = xs[i]
			continue
		}
		if p != xs[i] {
			return nil, false
		}
	}
	return vars, true
}

// serveOCS is ocs/v1.php and ocs/v2.php: login before routing (wrong Basic
// credentials fail here with 997 "Unauthorised"), route matching (998 for
// an unknown route, 405 with an empty body for a known one with another
// method), then the controller with the AppFramework middlewares.
func (n *Nextcloud) serveOCS(w http.ResponseWriter, r *http.Request) {
	version := 2
	rest := strings.TrimPrefix(r.URL.Path, "/ocs/v2.php")
	if strings.HasPrefix(r.URL.Path, "/ocs/v1.php/") {
		version = 1
		rest = strings.TrimPrefix(r.URL.Path, "/ocs/v1.php")
	}
	auth := n.authenticate(r)
	if auth.badBasic {
		// OC::handleLogin throws LoginException → ApiHelper::respond(997,
		// 'Unauthorised'), format from the format parameter only.
		n.apiHelperRespond(w, r, version, ocsUnauthorised, "Unauthorised")
		return
	}
	var route *ocsRoute
	var vars map[string]string
	methodMismatch := false
	for _, rt := range n.ocs {
		v, ok := matchRoute(rt.pattern, rest)
		if !ok {
			continue
		}
		headOnGet := r.Method == http.MethodHead && rt.method == http.MethodGet
		if rt.method != r.Method && !headOnGet {
			methodMismatch = true
			continue
		}
		rt := rt
		route, vars = &rt, v
		break
	}
	if route == nil {
		if methodMismatch {
			// ocs/v1.php: MethodNotAllowedException → 405, no body.
			w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		n.apiHelperRespond(w, r, version, ocsNotFound, ocsInvalidQuery)
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeTooLarge(w)
		return
	}
	c := &ocsCtx{n: n, r: r, w: w, auth: auth, version: version, vars: vars, p: requestParams(r, body)}

	// SecurityMiddleware::beforeController.
	if !route.public && !auth.loggedIn() {
		n.writeOCS(c, ocsErr(ocsUnauthorised, "Current user is not logged in"))
		return
	}
	if route.admin && !n.isAdmin(auth.uid) {
		n.writeOCS(c, ocsErr(http.StatusForbidden, "Logged in account must be an admin"))
		return
	}
	// CSRF: passesCSRFCheck() is true for any non-empty OCS-APIRequest; an
	// OCSController also waives the check for "Authorization: Bearer …"
	// (isValidOCSRequest). The 412 JSON is not converted to OCS
	// (OCSMiddleware::afterController converts only 401 and 403).
	if r.Header.Get("OCS-APIRequest") == "" && !auth.bearerHeader {
		writeAppMessage(w, http.StatusPreconditionFailed, "CSRF check failed")
		return
	}
	if route.subadmin && !n.isAdmin(auth.uid) {
		n.writeOCS(c, ocsErr(http.StatusForbidden, "Logged in account must be at least a sub admin"))
		return
	}
	n.writeOCS(c, route.h(c))
}

func (n *Nextcloud) isAdmin(uid string) bool {
	if uid == "" {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	u := n.st.users[uid]
	return u != nil && u.isAdmin()
}

// ocsFormat is OCSController's choice: the format parameter, else the
// Accept header, else XML.
func ocsFormat(r *http.Request, p params) string {
	if f, ok := p.str("format"); ok {
		if f == "json" {
			return "json"
		}
		return "xml"
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		part = strings.ToLower(part)
		if strings.Contains(part, "json") {
			return "json"
		}
		if strings.Contains(part, "xml") {
			return "xml"
		}
	}
	return "xml"
}

// writeOCS renders a controller result as V1Response or V2Response.
func (n *Nextcloud) writeOCS(c *ocsCtx, res ocsResult) {
	format := ocsFormat(c.r, c.p)
	httpStatus, meta := ocsMeta(c.version, res.status, res.message)
	data := res.data
	if data == nil {
		data = []any{}
	}
	h := c.w.Header()
	frameworkHeaders(h)
	if res.etag != "" {
		h.Set("ETag", `"`+res.etag+`"`)
		// NotModifiedMiddleware: If-None-Match equal to the quoted ETag.
		if c.r.Header.Get("If-None-Match") == `"`+res.etag+`"` {
			c.w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	body := renderOCS(format, meta, data)
	if format == "json" {
		h.Set("Content-Type", "application/json; charset=utf-8")
	} else {
		h.Set("Content-Type", "application/xml; charset=utf-8")
	}
	c.w.WriteHeader(httpStatus)
	if c.r.Method != http.MethodHead {
		_, _ = c.w.Write(body)
	}
}

// ocsMeta maps a DataResponse/exception status to the HTTP status and the
// meta block (V1Response / V2Response).
func ocsMeta(version, status int, message string) (int, obj) {
	if version == 1 {
		code := status
		if code == http.StatusOK {
			code = 100
		}
		httpStatus := http.StatusOK
		if status == ocsUnauthorised {
			httpStatus = http.StatusUnauthorized
		}
		st, msg := "failure", message
		if code == 100 {
			st, msg = "ok", "OK"
		}
		return httpStatus, obj{{"status", st}, {"statuscode", code}, {"message", msg}, {"totalitems", ""}, {"itemsperpage", ""}}
	}
	httpStatus := status
	switch {
	case status == ocsUnauthorised:
		httpStatus = http.StatusUnauthorized
	case status == ocsNotFound:
		httpStatus = http.StatusNotFound
	case status == ocsServerError || status == ocsUnknownError:
		httpStatus = http.StatusInternalServerError
	case status < 200 || status > 600:
		httpStatus = http.StatusBadRequest
	}
	st, msg := "failure", message
	if status >= 200 && status < 300 {
		st, msg = "ok", "OK"
	}
	return httpStatus, obj{{"status", st}, {"statuscode", status}, {"message", msg}}
}

func renderOCS(format string, meta obj, data any) []byte {
	doc := obj{{"ocs", obj{{"meta", meta}, {"data", data}}}}
	if format == "json" {
		return phpJSON(doc)
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0"?>` + "\n")
	phpXML(&b, "ocs", doc[0].V, 0)
	return b.Bytes()
}

// apiHelperRespond is OC\OCS\ApiHelper::respond, used before routing: the
// format comes from the format parameter alone (default XML, served as
// text/xml), and 997 adds the Basic challenge.
func (n *Nextcloud) apiHelperRespond(w http.ResponseWriter, r *http.Request, version, code int, message string) {
	format := "xml"
	if r.URL.Query().Get("format") == "json" {
		format = "json"
	}
	httpStatus, meta := ocsMeta(version, code, message)
	if code == ocsUnauthorised {
		if r.Header.Get("X-Requested-With") == "XMLHttpRequest" {
			w.Header().Set("WWW-Authenticate", `DummyBasic realm="Authorisation Required"`)
		} else {
			w.Header().Set("WWW-Authenticate", `Basic realm="Authorisation Required"`)
		}
		httpStatus = http.StatusUnauthorized
	}
	frameworkHeaders(w.Header())
	if format == "json" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	}
	w.WriteHeader(httpStatus)
	_, _ = w.Write(renderOCS(format, meta, []any{}))
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}
