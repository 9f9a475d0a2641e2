package idp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// handleRegister is RFC 7591 dynamic client registration (POST /register)
// and RFC 7592 read/delete (GET, DELETE /register/{client_id} with the
// registration access token). Registration is open unless RegistrationToken
// is set; open (anonymous) registration cannot enable the
// client_credentials grant, as in Keycloak's default anonymous policy.
//
// A registered client may request any scope the server supports: the scope
// it sends at registration is recorded and echoed but does not limit later
// requests, so MCP step-up authorization (which asks for more scopes later)
// keeps working with clients that send one scope at registration time.
// With StrictRegisteredScopes the registered scope is the limit, as at
// certified providers.
func (p *IdP) handleRegister(w http.ResponseWriter, r *http.Request) {
	entry := entryOf(r)
	if p.registrationOff {
		entry.Outcome = "not_found"
		p.notFound(w, r)
		return
	}
	rel := strings.TrimPrefix(r.URL.EscapedPath(), p.issuerPathSnapshot()+endpointPaths[epRegister])
	var status int
	var body any
	var err *Error
	switch {
	case rel == "" && r.Method == http.MethodPost:
		status, body, err = p.register(r, entry)
	case rel == "":
		w.Header().Set("Allow", "POST")
		err = &Error{Code: "invalid_request", Description: "the method must be POST", Status: http.StatusMethodNotAllowed}
	case strings.HasPrefix(rel, "/") && (r.Method == http.MethodGet || r.Method == http.MethodDelete):
		status, body, err = p.manageRegistration(r, strings.TrimPrefix(rel, "/"), entry)
	default:
		w.Header().Set("Allow", "GET, DELETE")
		err = &Error{Code: "invalid_request", Description: "the method must be GET or DELETE", Status: http.StatusMethodNotAllowed}
	}
	if err != nil {
		entry.Outcome = err.Code
		writeError(w, err)
		return
	}
	entry.Outcome = "ok"
	if body == nil {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		return
	}
	writeJSONNoStore(w, status, body)
}

func (p *IdP) issuerPathSnapshot() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.issuerPath
}

func errClientMetadata(desc string) *Error {
	return &Error{Code: "invalid_client_metadata", Description: desc}
}

// registrationRequest is the subset of RFC 7591 §2 metadata the IdP acts on;
// everything else is kept and echoed.
type registrationRequest struct {
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	ClientName              string   `json:"client_name"`
	Scope                   string   `json:"scope"`
}

func (p *IdP) register(r *http.Request, entry *LogEntry) (int, any, *Error) {
	if p.registrationToken != "" {
		tok, ok := bearer(r)
		if !ok || !secretEqual(tok, p.registrationToken) {
			return 0, nil, errInvalidToken("a valid initial access token is required")
		}
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return 0, nil, errInvalidRequest("the content type must be application/json")
	}
	raw, rerr := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxFormBytes))
	if rerr != nil {
		return 0, nil, errInvalidRequest("the request body is too large or unreadable")
	}
	var meta map[string]any
	var req registrationRequest
	if json.Unmarshal(raw, &meta) != nil || meta == nil {
		return 0, nil, errClientMetadata("the body must be a JSON object")
	}
	if json.Unmarshal(raw, &req) != nil {
		return 0, nil, errClientMetadata("a metadata field has the wrong type")
	}
	method := req.TokenEndpointAuthMethod
	if method == "" {
		method = authBasic // RFC 7591 §2 default
	}
	if !slices.Contains([]string{authNone, authBasic, authPost}, method) {
		return 0, nil, errClientMetadata("token_endpoint_auth_method must be none, client_secret_basic or client_secret_post")
	}
	public := method == authNone
	grants := req.GrantTypes
	if len(grants) == 0 {
		grants = []string{GrantAuthorizationCode}
	}
	for _, g := range grants {
		switch {
		case g == GrantAuthorizationCode || g == GrantRefreshToken:
		case g == GrantClientCredentials && !public && p.registrationToken != "":
			// Only a registration authenticated by the initial access
			// token may enable it.
		case g == GrantClientCredentials && !public:
			// Keycloak's default policy for anonymous registration: a
			// client registered by anyone gets no service account, whose
			// tokens would name no user (docs/architecture.md §1.1).
			return 0, nil, errClientMetadata("anonymous registration cannot enable the client_credentials grant; register with an initial access token")
		default:
			return 0, nil, errClientMetadata("unsupported grant type " + printable(g))
		}
	}
	responses := req.ResponseTypes
	if len(responses) == 0 && slices.Contains(grants, GrantAuthorizationCode) {
		responses = []string{"code"}
	}
	for _, rt := range responses {
		if rt != "code" {
			return 0, nil, errClientMetadata("only the code response type is supported")
		}
	}
	if slices.Contains(grants, GrantAuthorizationCode) != slices.Contains(responses, "code") {
		return 0, nil, errClientMetadata("grant_types and response_types are inconsistent")
	}
	if slices.Contains(grants, GrantAuthorizationCode) && len(req.RedirectURIs) == 0 {
		return 0, nil, &Error{Code: "invalid_redirect_uri", Description: "redirect_uris is required for the authorization code grant"}
	}
	for _, u := range req.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return 0, nil, &Error{Code: "invalid_redirect_uri", Description: err.Error()}
		}
	}
	c := Client{
		ID: "dcr-" + randomToken(12), Public: public, RedirectURIs: req.RedirectURIs,
		DefaultAudiences: slices.Clone(p.dcrAudiences), GrantTypes: grants,
		AllowOfflineAccess: slices.Contains(grants, GrantRefreshToken), Name: req.ClientName,
	}
	if !public {
		c.Secret = randomToken(32)
	}
	if registered := scopes.Parse(req.Scope); p.strictRegScopes && len(registered) > 0 {
		if e := p.checkScopes(&Client{AllowOfflineAccess: true}, registered); e != nil {
			return 0, nil, errClientMetadata("scope: " + e.Description)
		}
		c.Scopes = registered
	}
	regToken := randomToken(32)
	p.mu.Lock()
	now := p.nowLocked()
	issuer := p.issuer
	p.mu.Unlock()
	meta["client_id"] = c.ID
	meta["client_id_issued_at"] = now.Unix()
	meta["token_endpoint_auth_method"] = method
	meta["grant_types"] = grants
	meta["response_types"] = responses
	meta["registration_client_uri"] = issuer + endpointPaths[epRegister] + "/" + c.ID
	if !public {
		meta["client_secret"] = c.Secret
		meta["client_secret_expires_at"] = 0
	}
	c.registration = meta
	p.mu.Lock()
	p.state.init()
	p.clients[c.ID] = &c
	p.state.regTokens[c.ID] = sha256.Sum256([]byte(regToken))
	p.mu.Unlock()
	entry.ClientID = c.ID
	resp := make(map[string]any, len(meta)+1)
	for k, v := range meta {
		resp[k] = v
	}
	resp["registration_access_token"] = regToken
	return http.StatusCreated, resp, nil
}

// manageRegistration is RFC 7592 read (GET) and delete (DELETE).
func (p *IdP) manageRegistration(r *http.Request, id string, entry *LogEntry) (int, any, *Error) {
	tok, ok := bearer(r)
	if !ok {
		return 0, nil, errInvalidToken("the registration access token is required")
	}
	h := sha256.Sum256([]byte(tok))
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.init()
	want, known := p.state.regTokens[id]
	c := p.clients[id]
	// RFC 7592 §2: an unknown client is a 401 too, not a 404.
	if !known || c == nil || subtle.ConstantTimeCompare(h[:], want[:]) != 1 {
		return 0, nil, errInvalidToken("the registration access token is invalid")
	}
	entry.ClientID = id
	if r.Method == http.MethodDelete {
		delete(p.clients, id)
		delete(p.state.regTokens, id)
		return http.StatusNoContent, nil, nil
	}
	resp := make(map[string]any, len(c.registration))
	for k, v := range c.registration {
		resp[k] = v
	}
	return http.StatusOK, resp, nil
}

// bearer extracts an RFC 6750 §2.1 bearer token from the Authorization
// header.
func bearer(r *http.Request) (string, bool) {
	vals := r.Header.Values("Authorization")
	if len(vals) != 1 {
		return "", false
	}
	scheme, tok, _ := strings.Cut(vals[0], " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}
