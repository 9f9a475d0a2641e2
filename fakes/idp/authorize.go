package idp

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// authRequest is a validated authorization request waiting for the user
// (login and consent pages).
type authRequest struct {
	id          string
	client      *Client
	redirectURI string
	state       string
	scopes      []string
	resources   []string
	audiences   []string // the audience parameter (see withAudiences)
	challenge   string
	nonce       string
	loginHint   string
	prompt      []string
	username    string // set once the user has logged in
	authTime    time.Time
	expiresAt   time.Time
}

// codeRecord is an issued authorization code, bound to its client,
// redirect URI, PKCE challenge and resources.
type codeRecord struct {
	clientID    string
	redirectURI string
	challenge   string
	username    string
	scopes      []string
	resources   []string
	nonce       string
	authTime    time.Time
	expiresAt   time.Time
	used        bool
	grantID     string
}

// session is a logged-in browser (cookie sessionCookie).
type session struct {
	username  string
	authTime  time.Time
	expiresAt time.Time
}

const (
	sessionCookie = "fake_idp_session"
	pendingTTL    = 10 * time.Minute
	sessionTTL    = 8 * time.Hour
)

// authzFailure is a failed authorization request: either an error that may
// be redirected to the (trusted) redirect URI, or an HTML 400 page.
type authzFailure struct {
	redirect *authRequest // non-nil: redirect err to redirect.redirectURI
	err      *Error
	page     string // HTML 400 message when redirect is nil
}

// handleAuthorize is the authorization endpoint (RFC 6749 §4.1.1, OIDC
// Core §3.1.2.1; GET or form POST).
func (p *IdP) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	raw, fail := authorizeParams(r)
	if fail != "" {
		p.htmlError(w, http.StatusBadRequest, fail)
		return
	}
	req, f := p.validateAuthorize(raw)
	entry := entryOf(r)
	if req != nil {
		entry.ClientID = req.client.ID
		entry.Audience = req.resources
	}
	if f != nil {
		p.failAuthorize(w, r, f)
		return
	}
	if p.autoApprove {
		user := req.loginHint
		if user == "" {
			user = p.defaultLoginHint
		}
		p.mu.Lock()
		u, ok := p.users[user]
		p.mu.Unlock()
		if !ok {
			p.failAuthorize(w, r, &authzFailure{redirect: req, err: &Error{Code: "access_denied", Description: "unknown login_hint user"}})
			return
		}
		req.username, req.authTime = u.Username, p.Now().Truncate(time.Second)
		entry.Subject = u.Subject
		p.finishAuthorize(w, r, req, req.scopes)
		return
	}
	sess, hasSession := p.sessionOf(r)
	if slices.Contains(req.prompt, "none") {
		code := "login_required"
		if hasSession {
			// Consent is always asked interactively here.
			code = "consent_required"
		}
		p.failAuthorize(w, r, &authzFailure{redirect: req, err: &Error{Code: code, Description: "user interaction is required"}})
		return
	}
	p.mu.Lock()
	p.state.init()
	req.id = randomToken(18)
	req.expiresAt = p.nowLocked().Add(pendingTTL)
	if hasSession && !slices.Contains(req.prompt, "login") {
		req.username, req.authTime = sess.username, sess.authTime
	}
	p.state.pending[req.id] = req
	p.mu.Unlock()
	if req.username != "" {
		p.renderConsent(w, req)
		return
	}
	p.renderLogin(w, req, "")
}

// authorizeParams reads the raw parameters of a GET (query) or POST (form
// body) authorization request. A non-empty string is an HTML error.
func authorizeParams(r *http.Request) (url.Values, string) {
	switch r.Method {
	case http.MethodGet:
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, "The authorization request's query string is malformed."
		}
		return q, ""
	case http.MethodPost:
		if r.URL.RawQuery != "" {
			return nil, "Send the authorization request's parameters either in the query or in the body."
		}
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, "The authorization request must be form-encoded."
		}
		body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxFormBytes))
		if err != nil {
			return nil, "The authorization request's body is too large or unreadable."
		}
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, "The authorization request's body is malformed."
		}
		return q, ""
	}
	return nil, "The authorization endpoint accepts GET and POST only."
}

// single returns the one non-empty value of name, and false when it is
// missing or repeated.
func single(raw url.Values, name string) (string, bool) {
	var v string
	n := 0
	for _, s := range raw[name] {
		if s != "" {
			v = s
			n++
		}
	}
	return v, n == 1
}

// validateAuthorize checks an authorization request. Until the client and
// redirect URI are known good, failures are HTML pages (RFC 6749
// §4.1.2.1); after that they redirect.
func (p *IdP) validateAuthorize(raw url.Values) (*authRequest, *authzFailure) {
	clientID, ok := single(raw, "client_id")
	if !ok {
		return nil, &authzFailure{page: "The request is missing client_id, or repeats it."}
	}
	p.mu.Lock()
	c, known := p.clients[clientID]
	if known {
		c = cloneClient(c)
	}
	p.mu.Unlock()
	if !known {
		return nil, &authzFailure{page: "Unknown client."}
	}
	redirectURI, ok := single(raw, "redirect_uri")
	if !ok {
		return nil, &authzFailure{page: "The request is missing redirect_uri, or repeats it."}
	}
	if !redirectAllowed(c, redirectURI) {
		return nil, &authzFailure{page: "The redirect_uri is not registered for this client."}
	}
	req := &authRequest{client: c, redirectURI: redirectURI}
	req.state, _ = single(raw, "state")
	q, perr := decodeParams(raw, "resource", "audience")
	if perr != nil {
		return req, &authzFailure{redirect: req, err: perr}
	}
	fail := func(e *Error) (*authRequest, *authzFailure) { return req, &authzFailure{redirect: req, err: e} }
	switch rt := q.get("response_type"); {
	case rt == "":
		return fail(errInvalidRequest("response_type is required"))
	case rt != "code":
		return fail(&Error{Code: "unsupported_response_type", Description: "only response_type=code is supported"})
	}
	if rm := q.get("response_mode"); rm != "" && rm != "query" {
		return fail(errInvalidRequest("only response_mode=query is supported"))
	}
	if q.get("request") != "" {
		return fail(&Error{Code: "request_not_supported", Description: "request objects are not supported"})
	}
	if q.get("request_uri") != "" {
		return fail(&Error{Code: "request_uri_not_supported", Description: "request_uri is not supported"})
	}
	if !c.allowsGrant(GrantAuthorizationCode) {
		return fail(errUnauthorizedClient("the client may not use the authorization code grant"))
	}
	challenge, method := q.get("code_challenge"), q.get("code_challenge_method")
	switch {
	case method != "" && method != "S256":
		return fail(errInvalidRequest("code_challenge_method must be S256"))
	case challenge == "" && method != "":
		return fail(errInvalidRequest("code_challenge is required with code_challenge_method"))
	case challenge == "" && (c.Public || c.RequirePKCE):
		return fail(errInvalidRequest("PKCE is required: send code_challenge with code_challenge_method=S256"))
	case challenge != "" && method == "":
		return fail(errInvalidRequest("code_challenge_method must be S256 (plain is not supported)"))
	case challenge != "" && !validChallenge(challenge):
		return fail(errInvalidRequest("code_challenge must be the base64url SHA-256 of the verifier (43 characters)"))
	}
	req.challenge = challenge
	req.scopes = requestedScopes(c, q.get("scope"))
	if e := p.checkScopes(c, req.scopes); e != nil {
		return fail(e)
	}
	for _, res := range q.all("resource") {
		if e := p.checkResource(res); e != nil {
			return fail(e)
		}
		if !slices.Contains(req.resources, res) {
			req.resources = append(req.resources, res)
		}
	}
	for _, a := range q.all("audience") {
		if a != c.ID && !slices.Contains(c.DefaultAudiences, a) && !slices.Contains(c.ExchangeAudiences, a) {
			return fail(errInvalidTarget("the client may not request audience " + printable(a)))
		}
		if !slices.Contains(req.audiences, a) {
			req.audiences = append(req.audiences, a)
		}
	}
	req.prompt = strings.Fields(q.get("prompt"))
	if slices.Contains(req.prompt, "none") && len(req.prompt) > 1 {
		return fail(errInvalidRequest("prompt=none must not be combined with other values"))
	}
	req.nonce = q.get("nonce")
	req.loginHint = q.get("login_hint")
	return req, nil
}

// validChallenge checks an S256 code_challenge: 43 base64url characters
// encoding 32 bytes.
func validChallenge(s string) bool {
	if len(s) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 32
}

// validVerifier is RFC 7636 §4.1: 43-128 unreserved characters.
func validVerifier(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		unreserved := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
		if !unreserved {
			return false
		}
	}
	return true
}

// s256 is the PKCE S256 transform.
func s256(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// failAuthorize answers a failed authorization request: a redirect with
// error, state and iss when the redirect URI is trusted, else HTML 400.
func (p *IdP) failAuthorize(w http.ResponseWriter, r *http.Request, f *authzFailure) {
	entry := entryOf(r)
	if f.redirect == nil {
		entry.Outcome = "invalid_request"
		p.htmlError(w, http.StatusBadRequest, f.page)
		return
	}
	entry.Outcome = f.err.Code
	loc := withParams(f.redirect.redirectURI,
		"error", f.err.Code, "error_description", safeDesc(f.err.Description),
		"state", f.redirect.state, "iss", p.Issuer())
	redirect(w, r, loc)
}

func redirect(w http.ResponseWriter, r *http.Request, loc string) {
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	http.Redirect(w, r, loc, status)
}

// finishAuthorize issues a code for the granted scopes and redirects.
func (p *IdP) finishAuthorize(w http.ResponseWriter, r *http.Request, req *authRequest, granted []string) {
	code := randomToken(32)
	p.mu.Lock()
	p.state.init()
	u := p.users[req.username]
	if u == nil {
		p.mu.Unlock()
		p.failAuthorize(w, r, &authzFailure{redirect: req, err: &Error{Code: "access_denied", Description: "the user no longer exists"}})
		return
	}
	grant := p.newGrantLocked(req.client, u, granted, req.resources, req.authTime)
	p.state.grants[grant].audiences = req.audiences
	p.state.codes[hashKey(code)] = &codeRecord{
		clientID: req.client.ID, redirectURI: req.redirectURI, challenge: req.challenge,
		username: req.username, scopes: granted, resources: req.resources, nonce: req.nonce,
		authTime: req.authTime, expiresAt: p.nowLocked().Add(p.codeTTL), grantID: grant,
	}
	if req.id != "" {
		delete(p.state.pending, req.id)
	}
	p.sweepLocked()
	p.mu.Unlock()
	entry := entryOf(r)
	entry.Subject, entry.Outcome = u.Subject, "ok"
	redirect(w, r, withParams(req.redirectURI, "code", code, "state", req.state, "iss", p.Issuer()))
}

// sessionOf returns the browser's login session, if any.
func (p *IdP) sessionOf(r *http.Request) (session, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return session{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.init()
	s, ok := p.state.sessions[ck.Value]
	if !ok || !p.nowLocked().Before(s.expiresAt) {
		return session{}, false
	}
	if _, exists := p.users[s.username]; !exists {
		return session{}, false
	}
	return s, true
}

// pendingRequest finds a pending authorization request by id.
func (p *IdP) pendingRequest(id string) (*authRequest, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.init()
	req, ok := p.state.pending[id]
	if !ok || !p.nowLocked().Before(req.expiresAt) {
		return nil, false
	}
	return req, true
}

// htmlForm reads a login or consent form post; errors are HTML messages.
func htmlForm(r *http.Request) (url.Values, string) {
	if r.Method != http.MethodPost {
		return nil, "This page accepts form posts only."
	}
	raw, msg := authorizeParams(r)
	if msg != "" {
		return nil, msg
	}
	for _, k := range []string{"req", "username", "password", "action"} {
		if len(raw[k]) > 1 {
			return nil, "The form repeats a field."
		}
	}
	return raw, ""
}

// handleLogin checks the login form and moves on to consent.
func (p *IdP) handleLogin(w http.ResponseWriter, r *http.Request) {
	raw, msg := htmlForm(r)
	if msg != "" {
		p.htmlError(w, http.StatusBadRequest, msg)
		return
	}
	req, ok := p.pendingRequest(raw.Get("req"))
	if !ok {
		p.htmlError(w, http.StatusBadRequest, "This login request is unknown or has expired. Start again from the application.")
		return
	}
	entry := entryOf(r)
	entry.ClientID = req.client.ID
	username, password := raw.Get("username"), raw.Get("password")
	p.mu.Lock()
	u, known := p.users[username]
	var want string
	if known {
		want = u.Password
	}
	p.mu.Unlock()
	if !secretEqual(password, want) || !known {
		entry.Outcome = "login_failed"
		p.renderLogin(w, req, "Invalid username or password.")
		return
	}
	sid := randomToken(24)
	p.mu.Lock()
	now := p.nowLocked().Truncate(time.Second)
	req.username, req.authTime = u.Username, now
	p.state.sessions[sid] = session{username: u.Username, authTime: now, expiresAt: now.Add(sessionTTL)}
	ipath := p.issuerPath
	p.mu.Unlock()
	if ipath == "" {
		ipath = "/"
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: sid, Path: ipath, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: strings.HasPrefix(p.Issuer(), "https:"),
	})
	entry.Subject, entry.Outcome = u.Subject, "ok"
	p.renderConsent(w, req)
}

// handleConsent applies the consent form: approve with the ticked scopes,
// or deny.
func (p *IdP) handleConsent(w http.ResponseWriter, r *http.Request) {
	raw, msg := htmlForm(r)
	if msg != "" {
		p.htmlError(w, http.StatusBadRequest, msg)
		return
	}
	req, ok := p.pendingRequest(raw.Get("req"))
	if !ok || req.username == "" {
		p.htmlError(w, http.StatusBadRequest, "This consent request is unknown, has expired, or nobody has logged in for it.")
		return
	}
	entry := entryOf(r)
	entry.ClientID = req.client.ID
	switch raw.Get("action") {
	case "deny":
		p.mu.Lock()
		delete(p.state.pending, req.id)
		p.mu.Unlock()
		p.failAuthorize(w, r, &authzFailure{redirect: req, err: &Error{Code: "access_denied", Description: "the user denied the request"}})
	case "approve":
		var granted []string
		for _, s := range raw["scope"] {
			if !slices.Contains(req.scopes, s) {
				p.htmlError(w, http.StatusBadRequest, "The form grants a scope that was not requested.")
				return
			}
			if !slices.Contains(granted, s) {
				granted = append(granted, s)
			}
		}
		// Keep the requested order so scope strings are stable.
		slices.SortStableFunc(granted, func(a, b string) int {
			return slices.Index(req.scopes, a) - slices.Index(req.scopes, b)
		})
		if granted == nil {
			granted = []string{}
		}
		p.finishAuthorize(w, r, req, granted)
	default:
		p.htmlError(w, http.StatusBadRequest, "The form must approve or deny.")
	}
}

// scopeDescriptions explain scopes on the consent page.
var scopeDescriptions = map[string]string{
	scopes.OpenID:        "Sign you in (OpenID Connect)",
	scopes.Profile:       "Read your name and user name",
	scopes.Email:         "Read your email address",
	scopes.OfflineAccess: "Keep access while you are away (refresh tokens)",
}
