package nextcloud

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/davxml"
)

// davError is a Sabre exception: status, class name and message, rendered
// as sabre's <d:error> document.
type davError struct {
	status    int
	exception string
	message   string
	header    string            // PreconditionFailed: the header that failed
	headers   map[string]string // extra response headers (Allow, WWW-Authenticate)
	ocReason  bool              // OCA\DAV\…\InvalidPath: <o:retry>/<o:reason>
}

func (e *davError) Error() string { return e.message }

func errNotFound(msg string) *davError {
	return &davError{status: http.StatusNotFound, exception: `Sabre\DAV\Exception\NotFound`, message: msg}
}
func errForbidden(msg string) *davError {
	return &davError{status: http.StatusForbidden, exception: `Sabre\DAV\Exception\Forbidden`, message: msg}
}
func errConflict(msg string) *davError {
	return &davError{status: http.StatusConflict, exception: `Sabre\DAV\Exception\Conflict`, message: msg}
}
func errBadRequest(msg string) *davError {
	return &davError{status: http.StatusBadRequest, exception: `Sabre\DAV\Exception\BadRequest`, message: msg}
}
func errPrecondition(msg, header string) *davError {
	return &davError{status: http.StatusPreconditionFailed, exception: `Sabre\DAV\Exception\PreconditionFailed`, message: msg, header: header}
}
func errUnsupportedMedia(msg string) *davError {
	return &davError{status: http.StatusUnsupportedMediaType, exception: `Sabre\DAV\Exception\UnsupportedMediaType`, message: msg}
}
func errNotImplemented(method string) *davError {
	msg := "There was no plugin in the system that was willing to handle this " + method + " method."
	if method == http.MethodGet {
		msg += " Enable the Browser plugin to get a better result here."
	}
	return &davError{status: http.StatusNotImplemented, exception: `Sabre\DAV\Exception\NotImplemented`, message: msg}
}
func errInvalidPath(msg string) *davError {
	return &davError{status: http.StatusBadRequest, exception: `OCA\DAV\Connector\Sabre\Exception\InvalidPath`, message: msg, ocReason: true}
}

func writeDAVError(w http.ResponseWriter, e *davError) {
	for k, v := range e.headers {
		w.Header().Set(k, v)
	}
	if e.status == http.StatusNotModified {
		w.WriteHeader(e.status)
		return
	}
	extra, rootAttrs := "", ""
	if e.header != "" {
		extra = "  <s:header>" + davxml.EscapeText(e.header) + "</s:header>\n"
	}
	if e.ocReason {
		rootAttrs = ` xmlns:o="http://owncloud.org/ns"`
		extra += `  <o:retry xmlns:o="o:">false</o:retry>` + "\n" + `  <o:reason xmlns:o="o:">` + davxml.EscapeText(e.message) + "</o:reason>\n"
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(e.status)
	_, _ = w.Write(davxml.ErrorBody(e.exception, e.message, extra, rootAttrs))
}

// davBase is the DAV root every collection is mounted below
// (apps/dav/appinfo/v2/remote.php).
const davBase = "/remote.php/dav"

// davReq is one WebDAV request being served.
type davReq struct {
	n    *Nextcloud
	w    http.ResponseWriter
	r    *http.Request
	auth authInfo
	// legacy is the endpoint serving the request when it is not the DAV
	// root (remote.php/webdav); nil below /remote.php/dav.
	legacy  davLegacyEndpoint
	base    string // davBase or the legacy endpoint's base
	segs    []string
	body    []byte
	changed bool // the state changed and must be persisted
}

// percentDecode is rawurldecode: %XX sequences are decoded, anything else
// (including a malformed escape) is kept as is.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// davSegments turns the escaped request path below base into segments the
// way sabre's Server::calculateUri does: the whole path is decoded (so an
// encoded slash separates segments), then split; empty segments vanish.
func davSegments(escapedRest string) []string {
	return splitPath(percentDecode(escapedRest))
}

// encodePath is sabre's HTTP\encodePath: everything but
// A-Za-z0-9_-.~()/:@ is percent-encoded.
func encodePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strings.IndexByte("_-.~()/:@", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
	}
	return b.String()
}

// serveDAV is remote.php/dav and the legacy endpoints (remote.php/webdav):
// authentication (sabre Auth plugin with Nextcloud's backends),
// preconditions, then the method.
func (n *Nextcloud) serveDAV(w http.ResponseWriter, r *http.Request) {
	d := &davReq{n: n, w: w, r: r, base: davBase}
	esc := r.URL.EscapedPath()
	if ep := n.dav.legacyFor(esc); ep != nil {
		d.legacy, d.base = ep, ep.legacyBase()
	}
	d.segs = davSegments(strings.TrimPrefix(esc, d.base))
	d.auth = n.authenticate(r)
	if !d.auth.loggedIn() {
		if r.Method == http.MethodOptions && r.Header.Get("Authorization") == "" &&
			(len(d.segs) == 0 || strings.Contains(strings.ToLower(r.Header.Get("User-Agent")), "microsoft office")) {
			// AnonymousOptionsPlugin.
			d.options(nil)
			return
		}
		d.unauthorized()
		return
	}
	if err := d.dispatch(); err != nil {
		writeDAVError(w, err)
	}
}

// unauthorized is sabre's Auth plugin failure: every backend's reason,
// comma-joined (public, basic, bearer, basic as Nextcloud registers them),
// and the Basic challenge.
func (d *davReq) unauthorized() {
	const (
		public   = "No public access to this resource."
		noBasic  = "No 'Authorization: Basic' header found. Either the client didn't send one, or the server is misconfigured"
		noBearer = "No 'Authorization: Bearer' header found. Either the client didn't send one, or the server is mis-configured"
		badBasic = "Username or password was incorrect"
		badBear  = "Bearer token was incorrect"
	)
	basic, bearer := noBasic, noBearer
	switch {
	case d.auth.badBasic:
		basic = badBasic
	case d.auth.kind == authBearer:
		bearer = badBear
	}
	challenge := `Basic realm="Nextcloud", charset="UTF-8"`
	if d.r.Header.Get("X-Requested-With") == "XMLHttpRequest" {
		challenge = `DummyBasic realm="Nextcloud", charset="UTF-8"`
	}
	writeDAVError(d.w, &davError{status: http.StatusUnauthorized, exception: `Sabre\DAV\Exception\NotAuthenticated`,
		message: strings.Join([]string{public, basic, bearer, basic}, ", "), headers: map[string]string{"WWW-Authenticate": challenge}})
}

// dispatch runs a method under the state lock: OPTIONS, the preconditions,
// then PROPFIND, REPORT and SEARCH (served for every collection, as sabre's
// CorePlugin and its report and search plugins are), the methods the
// owning collection handles itself, and sabre's CorePlugin over the node
// interfaces (dav_node.go) for the rest.
func (d *davReq) dispatch() *davError {
	if d.isUploadChunkPut() {
		// A chunk streams to disk instead (dav_uploads.go).
		return d.uploadChunkPut()
	}
	// The body is read before the state lock is taken, so a slow client
	// never holds up others.
	body, err := readBody(d.r)
	if err != nil {
		writeTooLarge(d.w)
		return nil
	}
	d.body = body
	d.n.mu.Lock()
	defer func() {
		if d.changed {
			if err := d.n.saveLocked(); err != nil {
				d.n.logger.Error("saving state failed", "err", err)
			}
		}
		d.n.mu.Unlock()
	}()
	if d.r.Method == http.MethodOptions {
		node, _ := d.resolve(d.segs)
		d.options(node)
		return nil
	}
	if err := d.checkPreconditions(); err != nil {
		return err
	}
	switch d.r.Method {
	case "PROPFIND":
		return d.propfind()
	case "REPORT":
		return d.report()
	case "SEARCH":
		return d.search()
	}
	if c := d.owner(); c != nil {
		if handled, err := c.serve(d); handled {
			return err
		}
	}
	switch d.r.Method {
	case http.MethodGet, http.MethodHead:
		return d.get()
	case http.MethodPut:
		return d.put()
	case "PROPPATCH":
		return d.proppatch()
	case "MKCOL":
		return d.mkcol()
	case http.MethodDelete:
		return d.delete()
	case "MOVE", "COPY":
		return d.moveCopy(d.r.Method == "MOVE")
	}
	return errNotImplemented(d.r.Method)
}

// st is the state; callers hold n.mu.
func (d *davReq) st() *state { return d.n.st }

// owner is the collection the request path lies in: the legacy endpoint,
// or the collection named by the first segment; nil for the DAV root and
// unknown names.
func (d *davReq) owner() davCollection {
	if d.legacy != nil {
		return d.legacy
	}
	if len(d.segs) == 0 {
		return nil
	}
	return d.n.dav.collection(d.segs[0])
}

// resolve finds the node at segs (below d.base).
func (d *davReq) resolve(segs []string) (davNode, *davError) {
	if d.legacy != nil {
		return d.legacy.resolveLegacy(d, segs)
	}
	if len(segs) == 0 {
		return davRoot{}, nil
	}
	c := d.n.dav.collection(segs[0])
	if c == nil {
		return nil, errNotFound("File not found: " + segs[0] + " in 'root'")
	}
	return c.resolve(d, segs[1:])
}

// href is the percent-encoded href of a node; collections end in a slash.
func (d *davReq) href(node davNode) string { return encodePath(d.base + node.davPath(d)) }

// davHeader is the DAV compliance header Nextcloud sends: classes 1 and 3
// (no locking) and the features of the plugins it always loads.
const davHeader = "1, 3, extended-mkcol, access-control, calendarserver-principal-property-search, nextcloud-checksum-update"

// allowedMethods is Server::getAllowedMethods for the request path; node is
// nil when nothing exists there. The owning collection may add methods
// (sabre's ServerPlugin::getHTTPMethods).
func (d *davReq) allowedMethods(node davNode) string {
	m := []string{"OPTIONS", "GET", "HEAD", "DELETE", "PROPFIND", "PUT", "PROPPATCH", "COPY", "MOVE", "REPORT"}
	if node == nil {
		m = append(m, "MKCOL")
	}
	if d.searchable() {
		m = append(m, "SEARCH")
	}
	if c := d.owner(); c != nil && node != nil {
		m = append(m, c.methods(d, node)...)
	}
	return strings.Join(m, ", ")
}

// searchable: SEARCH (and the DASL header) is offered on the DAV root when
// an app provides a search backend (SearchDAV's SearchPlugin).
func (d *davReq) searchable() bool {
	return d.legacy == nil && len(d.segs) == 0 && d.n.dav.search != nil
}

// options is CorePlugin::httpOptions.
func (d *davReq) options(node davNode) {
	h := d.w.Header()
	h.Set("Allow", d.allowedMethods(node))
	h.Set("DAV", davHeader)
	h.Set("MS-Author-Via", "DAV")
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Length", "0")
	if d.searchable() {
		h.Set("DASL", "<DAV:basicsearch>")
	}
	d.w.WriteHeader(http.StatusOK)
}

// search is SEARCH: the search backend on the DAV root, 501 anywhere else
// (sabre's answer to a method no plugin handles).
func (d *davReq) search() *davError {
	if !d.searchable() {
		return errNotImplemented("SEARCH")
	}
	return d.n.dav.search(d)
}

// checkPreconditions is Server::checkPreconditions for the request path:
// If-Match (only files have ETags there, so a folder never matches;
// davConditional),
// If-None-Match (304 for GET/HEAD), If-Unmodified-Since and the If header.
func (d *davReq) checkPreconditions() *davError {
	ifMatch := d.r.Header.Get("If-Match")
	ifNoneMatch := d.r.Header.Get("If-None-Match")
	ifUnmod := d.r.Header.Get("If-Unmodified-Since")
	ifHeader := d.r.Header.Get("If")
	if ifMatch == "" && ifNoneMatch == "" && ifUnmod == "" && ifHeader == "" {
		return nil
	}
	segs := d.segs
	if t, ok := d.owner().(davPreconditionTarget); ok {
		if s, redirect := t.preconditionTarget(d); redirect {
			segs = s
		}
	}
	node, lookupErr := d.resolve(segs)
	if lookupErr != nil && lookupErr.status != http.StatusNotFound {
		return lookupErr
	}
	fileETag := func() string {
		if c, ok := node.(davConditional); ok {
			return c.fileETag(d)
		}
		return ""
	}
	if ifMatch != "" {
		if node == nil {
			return errPrecondition("An If-Match header was specified and the resource did not exist", "If-Match")
		}
		if ifMatch != "*" {
			etag := fileETag()
			ok := false
			for _, t := range strings.Split(ifMatch, ",") {
				t = strings.Trim(t, " ")
				if etag != "" && (t == etag || strings.ReplaceAll(t, `\"`, `"`) == etag) {
					ok = true
				}
			}
			if !ok {
				e := errPrecondition("An If-Match header was specified, but none of the specified ETags matched.", "If-Match")
				if etag != "" {
					e.headers = map[string]string{"ETag": etag}
				}
				return e
			}
		}
	}
	if ifNoneMatch != "" && node != nil {
		match := ifNoneMatch == "*"
		etag := fileETag()
		if !match {
			for _, t := range strings.Split(ifNoneMatch, ",") {
				if etag != "" && strings.Trim(t, " ") == etag {
					match = true
				}
			}
		}
		if match {
			if d.r.Method == http.MethodGet || d.r.Method == http.MethodHead {
				if etag != "" {
					d.w.Header().Set("ETag", etag)
				}
				return &davError{status: http.StatusNotModified}
			}
			e := errPrecondition("An If-None-Match header was specified, but the ETag matched (or * was specified).", "If-None-Match")
			if etag != "" {
				e.headers = map[string]string{"ETag": etag}
			}
			return e
		}
	}
	if c, ok := node.(davConditional); ok && ifUnmod != "" {
		if t, err := http.ParseTime(ifUnmod); err == nil && c.lastModified() > t.Unix() {
			return errPrecondition("An If-Unmodified-Since header was specified, but the entity has been changed since the specified date.", "If-Unmodified-Since")
		}
	}
	if ifHeader != "" {
		return d.checkIfHeader(ifHeader)
	}
	return nil
}

// checkIfHeader evaluates the RFC 4918 If header as sabre does: every
// condition list needs one (token, etag) pair that holds; with no lock
// support a state token is never valid, so only "Not <token>" or ETag-only
// entries can pass.
func (d *davReq) checkIfHeader(h string) *davError {
	conds, ok := parseIfHeader(h)
	if !ok {
		return nil // sabre's regex simply finds nothing in a malformed header
	}
	for _, c := range conds {
		uri := c.uri
		segs := d.segs
		if uri != "" {
			u, err := url.Parse(uri)
			if err != nil {
				return errPrecondition("Failed to find a valid token/etag combination for "+uri, "If")
			}
			esc := u.EscapedPath()
			if !strings.HasPrefix(esc, d.base) {
				return errPrecondition("Failed to find a valid token/etag combination for "+uri, "If")
			}
			segs = davSegments(strings.TrimPrefix(esc, d.base))
		}
		passed := false
		for _, t := range c.tokens {
			tokenValid := t.token == ""
			etagValid := t.etag == ""
			if t.etag != "" && tokenValid {
				if n, err := d.resolve(segs); err == nil {
					if c, ok := n.(davConditional); ok && c.fileETag(d) != "" {
						etagValid = c.fileETag(d) == t.etag
					}
				}
			}
			if (tokenValid && etagValid) != t.negate {
				passed = true
				break
			}
		}
		if !passed {
			path := strings.Join(segs, "/")
			return errPrecondition("Failed to find a valid token/etag combination for "+path, "If")
		}
	}
	return nil
}

type ifToken struct {
	negate bool
	token  string
	etag   string
}

type ifCondition struct {
	uri    string
	tokens []ifToken
}

// parseIfHeader reads "<uri> (Not <token> ["etag"]) (...)" lists.
func parseIfHeader(h string) ([]ifCondition, bool) {
	var out []ifCondition
	var cur *ifCondition
	s := strings.TrimSpace(h)
	for len(s) > 0 {
		switch s[0] {
		case '<':
			end := strings.IndexByte(s, '>')
			if end < 0 {
				return nil, false
			}
			out = append(out, ifCondition{uri: s[1:end]})
			cur = &out[len(out)-1]
			s = strings.TrimSpace(s[end+1:])
		case '(':
			end := strings.IndexByte(s, ')')
			if end < 0 {
				return nil, false
			}
			if cur == nil {
				out = append(out, ifCondition{})
				cur = &out[len(out)-1]
			}
			list := strings.TrimSpace(s[1:end])
			var t ifToken
			for len(list) > 0 {
				switch {
				case strings.HasPrefix(list, "Not"):
					t.negate = true
					list = strings.TrimSpace(list[3:])
				case list[0] == '<':
					e := strings.IndexByte(list, '>')
					if e < 0 {
						return nil, false
					}
					t.token = list[1:e]
					list = strings.TrimSpace(list[e+1:])
				case list[0] == '[':
					e := strings.IndexByte(list, ']')
					if e < 0 {
						return nil, false
					}
					t.etag = list[1:e]
					list = strings.TrimSpace(list[e+1:])
				default:
					return nil, false
				}
			}
			cur.tokens = append(cur.tokens, t)
			s = strings.TrimSpace(s[end+1:])
		default:
			return nil, false
		}
	}
	return out, len(out) > 0
}
