package idp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// TokenResponse is a token endpoint response (RFC 6749 §5.1, RFC 8693 §2.2).
type TokenResponse struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type,omitempty"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	RefreshToken    string `json:"refresh_token,omitempty"`
	IDToken         string `json:"id_token,omitempty"`
	Scope           string `json:"scope,omitempty"`
}

// IssueRequest asks IssueAccessToken for what the token endpoint would
// issue after an authorization-code flow.
type IssueRequest struct {
	ClientID string `json:"client_id"`
	// Username is the resource owner; empty issues a service-account token
	// as client_credentials would (confidential clients only).
	Username string   `json:"username,omitempty"`
	Scopes   []string `json:"scopes,omitempty"`
	// Resource is the RFC 8707 resource; it becomes the aud. Empty uses the
	// client's default audiences.
	Resource string `json:"resource,omitempty"`
	// Offline adds offline_access and so a refresh token.
	Offline bool   `json:"offline,omitempty"`
	Nonce   string `json:"nonce,omitempty"`
}

// token kinds in the store.
const (
	kindAccess  = "access"
	kindRefresh = "refresh"
)

// tokenRecord is what the IdP remembers of an issued token: enough to
// introspect, revoke and detect reuse. Raw tokens are never stored; opaque
// ones are keyed by their SHA-256.
type tokenRecord struct {
	kind      string
	key       string
	clientID  string
	subject   string
	username  string
	scopes    []string
	aud       []string
	resources []string
	issuedAt  time.Time
	expiresAt time.Time // zero = no expiry (minted tokens without exp)
	grantID   string
	revoked   bool
	used      bool           // refresh token already rotated
	claims    map[string]any // access tokens: the claim set
	opaque    bool
}

func (t *tokenRecord) expired(now time.Time) bool {
	return !t.expiresAt.IsZero() && !now.Before(t.expiresAt)
}

// grantRecord ties together the tokens of one authorization: revoking the
// grant (code replay, refresh reuse, refresh token revocation) revokes them
// all.
type grantRecord struct {
	id        string
	clientID  string
	username  string
	scopes    []string
	resources []string
	// audiences are the authorization request's audience parameter,
	// added to the resources' audience (withAudiences).
	audiences []string
	authTime  time.Time
	tokens    []string
	revoked   bool
	expiresAt time.Time
}

// store is the mutable protocol state, guarded by IdP.mu. The zero value is
// empty and usable.
type store struct {
	codes     map[string]*codeRecord
	tokens    map[string]*tokenRecord
	grants    map[string]*grantRecord
	pending   map[string]*authRequest
	sessions  map[string]session
	regTokens map[string][32]byte
	inserts   int
}

func (s *store) init() {
	if s.tokens == nil {
		s.codes = map[string]*codeRecord{}
		s.tokens = map[string]*tokenRecord{}
		s.grants = map[string]*grantRecord{}
		s.pending = map[string]*authRequest{}
		s.sessions = map[string]session{}
		s.regTokens = map[string][32]byte{}
	}
}

// sweepLocked forgets long-expired state, so benchmarks and long dev
// sessions do not grow without bound. It runs every 1024 insertions.
func (p *IdP) sweepLocked() {
	s := &p.state
	s.inserts++
	if s.inserts%1024 != 0 {
		return
	}
	cutoff := p.nowLocked().Add(-time.Hour)
	for k, t := range s.tokens {
		if !t.expiresAt.IsZero() && t.expiresAt.Before(cutoff) {
			delete(s.tokens, k)
		}
	}
	for k, c := range s.codes {
		if c.expiresAt.Before(cutoff) {
			delete(s.codes, k)
		}
	}
	for k, g := range s.grants {
		if g.expiresAt.Before(cutoff) {
			delete(s.grants, k)
		}
	}
	for k, a := range s.pending {
		if a.expiresAt.Before(cutoff) {
			delete(s.pending, k)
		}
	}
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashKey(raw string) string {
	h := sha256.Sum256([]byte(raw))
	return "h:" + hex.EncodeToString(h[:])
}

// issueParams describes one issuance; the caller has validated it.
type issueParams struct {
	client    *Client
	user      *User // nil: service account (client_credentials)
	scopes    []string
	aud       []string
	resources []string
	grantID   string // "" for grants without a family
	refresh   bool
	idToken   bool
	nonce     string
	authTime  time.Time
	ttl       time.Duration
	act       map[string]any
	// refreshScopes are the scopes of the rotated refresh token (RFC 6749
	// §6: identical to the original grant even when the access token is
	// down-scoped); nil means scopes.
	refreshScopes []string
	exchange      bool
}

// issue mints the tokens of a successful grant and records them.
func (p *IdP) issue(ip issueParams) (*TokenResponse, error) {
	p.mu.Lock()
	now := p.nowLocked().Truncate(time.Second)
	issuer := p.issuer
	p.mu.Unlock()

	ttl := ip.ttl
	if ttl == 0 {
		ttl = p.accessTTL
	}
	jti := randomToken(16)
	claims := map[string]any{
		"iss":       issuer,
		"aud":       audClaim(ip.aud),
		"exp":       now.Add(ttl).Unix(),
		"iat":       now.Unix(),
		"nbf":       now.Unix(),
		"jti":       jti,
		"client_id": ip.client.ID,
		"azp":       ip.client.ID,
		"typ":       "Bearer",
	}
	if len(ip.scopes) > 0 {
		claims["scope"] = scopes.Format(ip.scopes)
	}
	var subject, username string
	if ip.user != nil {
		subject, username = ip.user.Subject, ip.user.Username
		claims["preferred_username"] = username
		if ip.user.Email != "" {
			claims["email"] = ip.user.Email
		}
		if !ip.authTime.IsZero() {
			claims["auth_time"] = ip.authTime.Unix()
		}
	} else {
		subject, username = ip.client.ID, "service-account-"+ip.client.ID
		claims["preferred_username"] = username
	}
	claims["sub"] = subject
	if ip.act != nil {
		claims["act"] = ip.act
	}

	rec := &tokenRecord{
		kind: kindAccess, clientID: ip.client.ID, subject: subject, username: username,
		scopes: ip.scopes, aud: ip.aud, resources: ip.resources, issuedAt: now,
		expiresAt: now.Add(ttl), grantID: ip.grantID, claims: claims,
	}
	var access string
	if ip.client.OpaqueAccessTokens {
		access = randomToken(32)
		rec.key, rec.opaque = hashKey(access), true
	} else {
		var err error
		if access, err = p.signJWT(claims, "at+jwt"); err != nil {
			return nil, err
		}
		rec.key = "jti:" + jti
	}
	resp := &TokenResponse{
		AccessToken: access, TokenType: "Bearer", ExpiresIn: int64(ttl / time.Second),
		Scope: scopes.Format(ip.scopes),
	}
	if ip.exchange {
		resp.IssuedTokenType = TokenTypeAccessToken
	}
	if ip.idToken && ip.user != nil {
		id, err := p.idToken(ip, issuer, now, access)
		if err != nil {
			return nil, err
		}
		resp.IDToken = id
	}
	records := []*tokenRecord{rec}
	if ip.refresh {
		resp.RefreshToken = randomToken(32)
		rs := ip.refreshScopes
		if rs == nil {
			rs = ip.scopes
		}
		records = append(records, &tokenRecord{
			kind: kindRefresh, key: hashKey(resp.RefreshToken), clientID: ip.client.ID,
			subject: subject, username: username, scopes: rs, resources: ip.resources,
			issuedAt: now, expiresAt: now.Add(p.refreshTTL), grantID: ip.grantID,
		})
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.init()
	g := p.state.grants[ip.grantID]
	if ip.grantID != "" && (g == nil || g.revoked) {
		// The family was revoked while we signed (e.g. a concurrent code
		// replay): issue nothing.
		return nil, errGrantRevoked
	}
	for _, t := range records {
		p.state.tokens[t.key] = t
		if g != nil {
			g.tokens = append(g.tokens, t.key)
			if t.expiresAt.After(g.expiresAt) {
				g.expiresAt = t.expiresAt
			}
		}
	}
	p.sweepLocked()
	return resp, nil
}

var errGrantRevoked = errors.New("idp: grant revoked")

// idToken builds the OpenID Connect ID token for an issuance.
func (p *IdP) idToken(ip issueParams, issuer string, now time.Time, access string) (string, error) {
	u := ip.user
	claims := map[string]any{
		"iss": issuer, "sub": u.Subject, "aud": ip.client.ID, "azp": ip.client.ID,
		"iat": now.Unix(), "exp": now.Add(p.idTokenTTL).Unix(), "jti": randomToken(16),
		"at_hash": atHash(access),
	}
	if !ip.authTime.IsZero() {
		claims["auth_time"] = ip.authTime.Unix()
	}
	if ip.nonce != "" {
		claims["nonce"] = ip.nonce
	}
	if slices.Contains(ip.scopes, scopes.Profile) {
		claims["preferred_username"] = u.Username
		if u.Name != "" {
			claims["name"] = u.Name
		}
	}
	if slices.Contains(ip.scopes, scopes.Email) && u.Email != "" {
		claims["email"] = u.Email
		claims["email_verified"] = true
	}
	return p.signJWT(claims, "JWT")
}

// atHash is OpenID Connect Core §3.1.3.6 at_hash for SHA-256 algorithms
// (RS256 and ES256 both hash with SHA-256).
func atHash(access string) string {
	h := sha256.Sum256([]byte(access))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

// audClaim renders aud as a string when single (like Keycloak) and as an
// array otherwise, so consumers exercise both RFC 7519 forms.
func audClaim(aud []string) any {
	if len(aud) == 1 {
		return aud[0]
	}
	return slices.Clone(aud)
}

// claimStrings reads a string-or-array claim such as aud.
func claimStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return x
	}
	return nil
}

// claimTime reads a NumericDate claim.
func claimTime(v any) (time.Time, bool) {
	f, ok := v.(float64)
	if !ok {
		if i, isInt := v.(int64); isInt {
			return time.Unix(i, 0), true
		}
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// newGrantLocked records a new grant family.
func (p *IdP) newGrantLocked(c *Client, u *User, sc, resources []string, authTime time.Time) string {
	p.state.init()
	id := randomToken(12)
	p.state.grants[id] = &grantRecord{
		id: id, clientID: c.ID, username: u.Username, scopes: sc, resources: resources,
		authTime: authTime, expiresAt: p.nowLocked().Add(p.codeTTL),
	}
	return id
}

// revokeGrantLocked revokes a grant and every token it issued.
func (p *IdP) revokeGrantLocked(id string) {
	g := p.state.grants[id]
	if g == nil {
		return
	}
	g.revoked = true
	for _, k := range g.tokens {
		if t := p.state.tokens[k]; t != nil {
			t.revoked = true
		}
	}
}

// withAudiences adds the audiences the authorization request named (the
// audience parameter, each one the client may target) to the aud of a
// token issued for resources; without resources the client's default
// audiences apply unchanged.
func withAudiences(aud, resources, audiences []string) []string {
	if len(resources) == 0 {
		return aud
	}
	for _, a := range audiences {
		if !slices.Contains(aud, a) {
			aud = append(aud, a)
		}
	}
	return aud
}

// grantAudiences returns the audience parameter of a grant's authorization.
func (p *IdP) grantAudiences(id string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if g := p.state.grants[id]; g != nil {
		return slices.Clone(g.audiences)
	}
	return nil
}

// resolveAudience is the aud of an access token: the requested resources,
// else the client's default audiences, else the client itself.
func resolveAudience(c *Client, resources []string) []string {
	switch {
	case len(resources) > 0:
		return slices.Clone(resources)
	case len(c.DefaultAudiences) > 0:
		return slices.Clone(c.DefaultAudiences)
	}
	return []string{c.ID}
}

// checkScopes validates requested scopes for a client (RFC 6749 §3.3).
func (p *IdP) checkScopes(c *Client, requested []string) *Error {
	p.mu.Lock()
	server := p.scopes
	p.mu.Unlock()
	for _, s := range requested {
		switch {
		case !validScopeToken(s):
			return errInvalidScope("malformed scope")
		case !slices.Contains(server, s):
			return errInvalidScope("unknown scope " + printable(s))
		case len(c.Scopes) > 0 && !slices.Contains(c.Scopes, s) && c.registration != nil:
			return errInvalidScope("scope " + printable(s) + " is outside the scope the client registered (" + safeDesc(strings.Join(c.Scopes, " ")) + ")")
		case len(c.Scopes) > 0 && !slices.Contains(c.Scopes, s):
			return errInvalidScope("scope " + printable(s) + " is not allowed for this client")
		case s == scopes.OfflineAccess && !c.AllowOfflineAccess:
			return errInvalidScope("offline_access is not allowed for this client")
		}
	}
	return nil
}

// requestedScopes parses a scope parameter, falling back to the client's
// default scopes.
func requestedScopes(c *Client, raw string) []string {
	if sc := scopes.Parse(raw); len(sc) > 0 {
		return sc
	}
	return slices.Clone(c.DefaultScopes)
}

// validScopeToken is RFC 6749 §3.3 scope-token = 1*NQCHAR.
func validScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// IssueAccessToken issues exactly what the token endpoint would after an
// authorization-code flow for req (an ID token with openid, a refresh token
// with Offline), and records it: the tokens are introspectable, revocable
// and usable as exchange subject tokens.
func (p *IdP) IssueAccessToken(ctx context.Context, req IssueRequest) (*TokenResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, ok := p.Client(req.ClientID)
	if !ok {
		return nil, fmt.Errorf("idp: unknown client %q", req.ClientID)
	}
	sc := slices.Clone(req.Scopes)
	if req.Offline && !slices.Contains(sc, scopes.OfflineAccess) {
		sc = append(sc, scopes.OfflineAccess)
	}
	if e := p.checkScopes(&c, sc); e != nil {
		return nil, e
	}
	var resources []string
	if req.Resource != "" {
		if e := p.checkResource(req.Resource); e != nil {
			return nil, e
		}
		resources = []string{req.Resource}
	}
	if req.Username == "" {
		if c.Public {
			return nil, errors.New("idp: a service-account token needs a confidential client")
		}
		if slices.Contains(sc, scopes.OfflineAccess) || slices.Contains(sc, scopes.OpenID) {
			return nil, errInvalidScope("service-account tokens carry neither openid nor offline_access")
		}
		return p.issue(issueParams{client: &c, scopes: sc, aud: resolveAudience(&c, resources), resources: resources})
	}
	p.mu.Lock()
	u, ok := p.users[req.Username]
	if ok {
		cp := *u
		u = &cp
	}
	var grant string
	now := p.nowLocked().Truncate(time.Second)
	if ok {
		grant = p.newGrantLocked(&c, u, sc, resources, now)
	}
	p.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("idp: unknown user %q", req.Username)
	}
	return p.issue(issueParams{
		client: &c, user: u, scopes: sc, aud: resolveAudience(&c, resources), resources: resources,
		grantID: grant, refresh: slices.Contains(sc, scopes.OfflineAccess),
		idToken: slices.Contains(sc, scopes.OpenID), nonce: req.Nonce, authTime: now,
	})
}

// findAccessToken returns the record of a valid (signed by a published key,
// right issuer, inside its lifetime, issued here, not revoked) access
// token, or nil.
func (p *IdP) findAccessToken(raw string) *tokenRecord {
	if raw == "" || len(raw) > 16<<10 {
		return nil
	}
	var key string
	if strings.Count(raw, ".") == 2 {
		v, err := p.verifyJWT(raw)
		if err != nil || !strings.EqualFold(v.typ, "at+jwt") {
			return nil
		}
		iss, _ := v.claims["iss"].(string)
		jti, _ := v.claims["jti"].(string)
		if jti == "" || iss != p.Issuer() {
			return nil
		}
		key = "jti:" + jti
	} else {
		key = hashKey(raw)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.init()
	t := p.state.tokens[key]
	now := p.nowLocked()
	if t == nil || t.kind != kindAccess || t.revoked || t.expired(now) {
		return nil
	}
	if nbf, ok := claimTime(t.claims["nbf"]); ok && now.Before(nbf) {
		return nil
	}
	return t
}

// checkResource validates an RFC 8707 resource indicator.
func (p *IdP) checkResource(r string) *Error {
	if err := checkResourceURI(r); err != nil {
		return errInvalidTarget("resource must be an absolute URI without a fragment")
	}
	if !p.strictResources {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.clients {
		if slices.Contains(c.ResourceURIs, r) {
			return nil
		}
	}
	return errInvalidTarget("unknown resource")
}
