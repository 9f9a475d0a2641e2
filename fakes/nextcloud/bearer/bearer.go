// Package bearer validates JWT bearer tokens the way Nextcloud's user_oidc
// app does with a provider whose "checkBearer" setting is on
// (SelfEncodedValidator): the signing key comes from the JWKS named by the
// provider's discovery document, cached (one hour) and fetched again when a
// token names an unknown kid; php-jwt checks with a 60 second leeway; iss
// must equal the discovery issuer; aud must be or contain the provider's
// client id unless that check is switched off. azp is deliberately not
// checked (user_oidc checks it only for login ID tokens).
package bearer

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Leeway is php-jwt's JWT::$leeway as user_oidc sets it.
const Leeway = 60 * time.Second

// DefaultCacheTTL is how long user_oidc keeps a provider's JWKS
// (jwksCacheTimestamp plus one hour).
const DefaultCacheTTL = time.Hour

// ErrInvalid wraps every rejection of a token that is a JWT.
var ErrInvalid = errors.New("bearer: invalid token")

// ErrNotJWT is returned for a bearer value that is not a compact JWS at
// all; Nextcloud then tries it as one of its own tokens (app password).
var ErrNotJWT = errors.New("bearer: not a JWT")

// Config configures a Validator.
type Config struct {
	// Issuer is the provider's issuer URL; discovery is fetched from
	// Issuer + "/.well-known/openid-configuration".
	Issuer string
	// ClientID is the provider's client id, which aud must contain.
	ClientID string
	// SkipAudienceCheck is user_oidc's
	// selfencoded_bearer_validation_audience_check = false.
	SkipAudienceCheck bool
	// HTTPClient fetches discovery and JWKS; a client with a 10 s timeout
	// when nil.
	HTTPClient *http.Client
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// CacheTTL is the JWKS cache lifetime; DefaultCacheTTL when zero.
	CacheTTL time.Duration
}

// Claims are the claims the fake uses (and logs) from a validated token.
type Claims struct {
	Issuer            string
	Subject           string
	Audience          []string
	Azp               string
	Act               map[string]any
	Scope             string
	JTI               string
	PreferredUsername string
	Name              string
	Email             string
	// Raw is every claim, for uid mapping by an arbitrary claim.
	Raw map[string]any
}

// Validator validates tokens of one provider. It is safe for concurrent use.
type Validator struct {
	cfg Config

	mu        sync.Mutex
	issuer    string // from discovery
	jwksURI   string
	keys      []jose.JSONWebKey
	fetchedAt time.Time
}

// New returns a Validator for cfg.
func New(cfg Config) *Validator {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	return &Validator{cfg: cfg}
}

// allowedAlgs are the RSA, EC and OKP families php-jwt supports for JWKS
// keys; "none" and the HMAC family can never verify against a JWKS.
var allowedAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// LooksLikeJWT reports whether s has the shape of a compact JWS.
func LooksLikeJWT(s string) bool {
	return strings.Count(s, ".") == 2 && !strings.ContainsAny(s, " \t")
}

// Validate checks token and returns its claims.
func (v *Validator) Validate(ctx context.Context, token string) (*Claims, error) {
	if !LooksLikeJWT(token) {
		return nil, ErrNotJWT
	}
	tok, err := jwt.ParseSigned(token, allowedAlgs)
	if err != nil {
		return nil, invalid("unparsable or unsupported algorithm")
	}
	if len(tok.Headers) != 1 {
		return nil, invalid("exactly one signature expected")
	}
	hdr := tok.Headers[0]
	if hdr.KeyID == "" {
		// php-jwt with a key set: '"kid" empty, unable to lookup correct key'
		return nil, invalid("kid empty, unable to lookup correct key")
	}
	key, err := v.key(ctx, hdr.KeyID)
	if err != nil {
		return nil, err
	}
	if key.Algorithm != "" && key.Algorithm != hdr.Algorithm {
		return nil, invalid("incorrect key for this algorithm")
	}
	if err := checkStrength(key); err != nil {
		return nil, err
	}
	var raw map[string]any
	if err := tok.Claims(key.Key, &raw); err != nil {
		return nil, invalid("signature verification failed")
	}
	var std struct {
		Issuer   string          `json:"iss"`
		Subject  string          `json:"sub"`
		Audience jwt.Audience    `json:"aud"`
		Expiry   json.Number     `json:"exp"`
		NotBef   json.Number     `json:"nbf"`
		IssuedAt json.Number     `json:"iat"`
		Azp      string          `json:"azp"`
		Act      map[string]any  `json:"act"`
		Scope    json.RawMessage `json:"scope"`
		JTI      string          `json:"jti"`
		Pref     string          `json:"preferred_username"`
		Name     string          `json:"name"`
		Email    string          `json:"email"`
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &std); err != nil {
		return nil, invalid("malformed claims")
	}
	now := v.cfg.Now()
	exp, ok := numericDate(std.Expiry)
	if !ok {
		return nil, invalid("exp missing or not a number")
	}
	if !now.Add(-Leeway).Before(exp) {
		return nil, invalid("expired token")
	}
	if nbf, ok := numericDate(std.NotBef); ok && nbf.After(now.Add(Leeway)) {
		return nil, invalid("cannot handle token prior to nbf")
	}
	if iat, ok := numericDate(std.IssuedAt); ok && iat.After(now.Add(Leeway)) {
		return nil, invalid("cannot handle token prior to iat")
	}
	v.mu.Lock()
	issuer := v.issuer
	v.mu.Unlock()
	if std.Issuer != issuer {
		return nil, invalid("issuer mismatch")
	}
	if !v.cfg.SkipAudienceCheck && !contains(std.Audience, v.cfg.ClientID) {
		return nil, invalid("audience does not contain the client id")
	}
	c := &Claims{Issuer: std.Issuer, Subject: std.Subject, Audience: std.Audience, Azp: std.Azp, Act: std.Act,
		JTI: std.JTI, PreferredUsername: std.Pref, Name: std.Name, Email: std.Email, Raw: raw}
	c.Scope = scopeString(std.Scope)
	return c, nil
}

// scopeString accepts the RFC 9068 space-separated string and the array form
// some IdPs (and "scp") use.
func scopeString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return strings.Join(list, " ")
	}
	return ""
}

func numericDate(n json.Number) (time.Time, bool) {
	if n == "" {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func checkStrength(k *jose.JSONWebKey) error {
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < 2048 {
			return invalid("RSA key too short")
		}
	case *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return invalid("unsupported key type")
	}
	return nil
}

// key returns the published key with kid, fetching discovery and JWKS when
// the cache is empty, stale, or does not know kid.
func (v *Validator) key(ctx context.Context, kid string) (*jose.JSONWebKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fresh := !v.fetchedAt.IsZero() && v.cfg.Now().Sub(v.fetchedAt) < v.cfg.CacheTTL
	if fresh {
		if k := findKey(v.keys, kid); k != nil {
			return k, nil
		}
	}
	if err := v.refresh(ctx); err != nil {
		return nil, err
	}
	if k := findKey(v.keys, kid); k != nil {
		return k, nil
	}
	return nil, invalid("no published key with this kid")
}

func findKey(keys []jose.JSONWebKey, kid string) *jose.JSONWebKey {
	for i := range keys {
		if keys[i].KeyID == kid && keys[i].Use != "enc" && keys[i].Valid() {
			return &keys[i]
		}
	}
	return nil
}

// Invalidate drops the cached JWKS (user_oidc clears it when the provider
// is edited).
func (v *Validator) Invalidate() {
	v.mu.Lock()
	v.fetchedAt = time.Time{}
	v.keys = nil
	v.mu.Unlock()
}

func (v *Validator) refresh(ctx context.Context) error {
	if v.cfg.Issuer == "" {
		return invalid("no OIDC issuer configured")
	}
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := v.getJSON(ctx, v.cfg.Issuer+"/.well-known/openid-configuration", &disc); err != nil {
		return invalid("discovery unavailable: %v", err)
	}
	if disc.JWKSURI == "" || disc.Issuer == "" {
		return invalid("discovery document lacks issuer or jwks_uri")
	}
	var set jose.JSONWebKeySet
	if err := v.getJSON(ctx, disc.JWKSURI, &set); err != nil {
		return invalid("JWKS unavailable: %v", err)
	}
	v.issuer, v.jwksURI, v.keys, v.fetchedAt = disc.Issuer, disc.JWKSURI, set.Keys, v.cfg.Now()
	return nil
}

func (v *Validator) getJSON(ctx context.Context, url string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	return json.Unmarshal(body, into)
}
