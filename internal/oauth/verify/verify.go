// Package verify checks the access tokens this server receives (Flow 1)
// and the tokens the IdP hands it for Nextcloud (after an exchange or a
// refresh): JWTs against the issuer's JWKS (RFC 9068 profile), opaque
// tokens by RFC 7662 introspection. Every failure wraps
// oauth.ErrInvalidToken (the token is not acceptable: 401) or
// oauth.ErrUnavailable (the IdP could not be asked: 503), with a reason
// that never contains the token.
package verify

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/time/rate"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
)

// DefaultAlgorithms are the signature algorithms accepted unless Config
// narrows them: asymmetric only. HS* (a shared secret the issuer would have
// to share with every resource server, and the classic key-confusion
// attack) and "none" are never accepted.
var DefaultAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
}

// Defaults for Config's zero values.
const (
	DefaultLeeway                = 30 * time.Second
	DefaultCacheSize             = 10000
	DefaultIntrospectionCacheTTL = 30 * time.Second
	// DefaultIntrospectionRate and DefaultIntrospectionBurst bound the
	// introspection calls for tokens no cache knows: a client sending
	// garbage tokens cannot make the server call the IdP without end.
	// Live tokens are cached (DefaultIntrospectionCacheTTL), so this
	// serves about rate × TTL active opaque-token users.
	DefaultIntrospectionRate  = 20
	DefaultIntrospectionBurst = 50
	// MaxTokenBytes bounds what is parsed or sent to introspection.
	MaxTokenBytes = 16 << 10
)

// Config configures a Verifier.
type Config struct {
	// Issuer must equal the iss claim exactly (and the iss of
	// introspection responses when they carry one).
	Issuer string
	// Audiences lists the values this server answers to: its canonical
	// resource URL (e.g. https://mcp.example.com/mcp), its client id, or
	// for the Nextcloud-side verifier Nextcloud's client id. A token is
	// accepted when its aud contains any of them; a single trailing slash
	// is tolerated, as go-sdk's oauthex.MatchesResource does.
	Audiences []string
	// InsecureSkipAudienceCheck accepts tokens for any audience. It exists
	// only so the conformance self-test can build a deliberately broken
	// server (the server sets it only in builds with the
	// conformance_selftest tag); never set it otherwise.
	InsecureSkipAudienceCheck bool
	// Keys verifies JWT signatures. Nil: JWTs are refused (only opaque
	// tokens via Introspection).
	Keys *KeySet
	// Introspection, when its URL is set, verifies opaque (non-JWT) tokens
	// by RFC 7662, authenticated as Introspection.Client. Without it
	// opaque tokens are refused.
	Introspection oauth.Endpoint
	// Algorithms narrows DefaultAlgorithms; New refuses none/HS*.
	Algorithms []jose.SignatureAlgorithm
	// Leeway tolerates clock skew on exp, nbf and iat (default 30s).
	Leeway time.Duration
	// CacheSize bounds the result cache (default 10000 entries); negative
	// disables caching (the exchange and broker verifiers do: their
	// tokens are used once).
	CacheSize int
	// IntrospectionCacheTTL bounds how long an introspection result is
	// reused (default 30s; negative: never cached), so that a revoked
	// opaque token stops working within that time. JWT results are cached
	// until the token's exp.
	IntrospectionCacheTTL time.Duration
	// IntrospectionRate and IntrospectionBurst bound the introspection
	// calls for tokens no cache knows (per second; 0: the defaults).
	IntrospectionRate  float64
	IntrospectionBurst int
	// RequireUser refuses tokens that name no user: client-credentials
	// grants and service accounts (see namesNoUser). The inbound verifier
	// sets it; the server acts for users only.
	RequireUser bool
	// Now is the clock (tests).
	Now func() time.Time
}

// Verifier verifies access tokens. It is safe for concurrent use.
type Verifier struct {
	cfg   Config
	algs  []jose.SignatureAlgorithm
	cache *cache
	// inactive remembers tokens introspection called inactive; limit
	// bounds introspection calls (both nil without introspection).
	inactive *negCache
	limit    *rate.Limiter
}

// New checks cfg and returns a Verifier.
func New(cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("verify: Issuer is required")
	}
	if len(cfg.Audiences) == 0 || slices.Contains(cfg.Audiences, "") {
		return nil, errors.New("verify: at least one non-empty audience is required (the server's resource URL or client id)")
	}
	if cfg.Keys == nil && cfg.Introspection.URL == "" {
		return nil, errors.New("verify: need a JWKS (Keys) or an introspection endpoint")
	}
	algs := cfg.Algorithms
	if len(algs) == 0 {
		algs = DefaultAlgorithms
	}
	for _, a := range algs {
		if !slices.Contains(DefaultAlgorithms, a) && a != jose.EdDSA {
			return nil, fmt.Errorf("verify: algorithm %s is not allowed (asymmetric algorithms only)", a)
		}
	}
	if cfg.Leeway <= 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.IntrospectionCacheTTL == 0 {
		cfg.IntrospectionCacheTTL = DefaultIntrospectionCacheTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Introspection.Name == "" {
		cfg.Introspection.Name = "introspection endpoint"
	}
	v := &Verifier{cfg: cfg, algs: slices.Clone(algs)}
	if cfg.CacheSize > 0 {
		v.cache = newCache(cfg.CacheSize)
	}
	if cfg.Introspection.URL != "" {
		if cfg.IntrospectionRate <= 0 {
			cfg.IntrospectionRate = DefaultIntrospectionRate
		}
		if cfg.IntrospectionBurst <= 0 {
			cfg.IntrospectionBurst = DefaultIntrospectionBurst
		}
		v.cfg = cfg
		v.limit = rate.NewLimiter(rate.Limit(cfg.IntrospectionRate), cfg.IntrospectionBurst)
		if cfg.IntrospectionCacheTTL > 0 {
			v.inactive = newNegCache(max(cfg.CacheSize, DefaultCacheSize))
		}
	}
	return v, nil
}

// Verify checks token and describes it. The result is a copy the caller
// may keep. Errors wrap oauth.ErrInvalidToken or oauth.ErrUnavailable.
func (v *Verifier) Verify(ctx context.Context, token string) (*Result, error) {
	if token == "" {
		return nil, invalid("empty token")
	}
	if len(token) > MaxTokenBytes {
		return nil, invalid("token longer than %d bytes", MaxTokenBytes)
	}
	now := v.cfg.Now()
	key := sha256.Sum256([]byte(token))
	if v.cache != nil {
		if r, ok := v.cache.get(key, now); ok {
			return r.clone(), nil
		}
	}
	var (
		r     *Result
		until time.Time
		err   error
	)
	if hdr, ok := parseHeader(token); ok {
		r, err = v.verifyJWT(ctx, token, hdr, now)
		if err == nil {
			until = r.Expiry
		}
	} else {
		r, err = v.verifyOpaque(ctx, token, now)
		if err == nil && v.cfg.IntrospectionCacheTTL > 0 {
			until = minTime(r.Expiry, now.Add(v.cfg.IntrospectionCacheTTL))
		}
	}
	if err != nil {
		return nil, err
	}
	if v.cache != nil && until.After(now) {
		v.cache.put(key, r, until, now)
	}
	return r.clone(), nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{oauth.ErrInvalidToken}, args...)...)
}

// header is the part of a JOSE header looked at before any verification.
type header struct {
	Alg  string `json:"alg"`
	Typ  string `json:"typ"`
	Kid  string `json:"kid"`
	Enc  string `json:"enc"`
	Crit []any  `json:"crit"`
}

// parseHeader reports whether token looks like a compact JWS (three
// base64url parts, the first a JSON object with alg) and returns its
// header. Anything else is treated as opaque.
func parseHeader(token string) (header, bool) {
	var h header
	first, rest, ok := strings.Cut(token, ".")
	if !ok || strings.Count(rest, ".") != 1 {
		return h, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(first)
	if err != nil {
		return h, false
	}
	if json.Unmarshal(raw, &h) != nil || h.Alg == "" {
		return h, false
	}
	return h, true
}

// acceptedTyp: RFC 9068 §4 wants "at+jwt" (media types are case
// insensitive, the "application/" prefix optional); many IdPs (Keycloak)
// send "JWT", and RFC 7519 makes typ optional, so those are accepted too.
// Anything else (an ID token's "id+jwt", a logout token, ...) is refused.
func acceptedTyp(typ string) bool {
	t := strings.TrimPrefix(strings.ToLower(typ), "application/")
	return t == "" || t == "at+jwt" || t == "jwt"
}

func (v *Verifier) verifyJWT(ctx context.Context, token string, h header, now time.Time) (*Result, error) {
	if v.cfg.Keys == nil {
		return nil, invalid("JWT access tokens are not accepted (no JWKS configured)")
	}
	alg := jose.SignatureAlgorithm(h.Alg)
	if !slices.Contains(v.algs, alg) {
		return nil, invalid("signature algorithm %s is not allowed", sanitize(h.Alg))
	}
	if !acceptedTyp(h.Typ) {
		return nil, invalid("token type %s is not an access token", sanitize(h.Typ))
	}
	if len(h.Crit) > 0 {
		return nil, invalid("critical header parameters are not supported")
	}
	if _, err := jose.ParseSignedCompact(token, v.algs); err != nil {
		return nil, invalid("malformed JWT")
	}
	payload, err := v.cfg.Keys.verify(ctx, token, h.Kid)
	if err != nil {
		return nil, err
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, invalid("malformed claims: %s", claimError(err))
	}
	return v.checkClaims(&c, now)
}

// sanitize keeps attacker-chosen header values short and printable in
// error text (which ends up in WWW-Authenticate error_description).
func sanitize(s string) string {
	if s == "" {
		return "(none)"
	}
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			r = '?'
		}
		out = append(out, r)
		if len(out) == 40 {
			break
		}
	}
	return string(out)
}

func claimError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return "claim " + sanitize(te.Field) + " has the wrong type"
	}
	return "not a JSON object of the expected shape"
}

func (v *Verifier) verifyOpaque(ctx context.Context, token string, now time.Time) (*Result, error) {
	if v.cfg.Introspection.URL == "" {
		return nil, invalid("not a JWT, and no introspection endpoint is configured for opaque tokens")
	}
	if !b64token(token) {
		return nil, invalid("not a bearer token (RFC 6750 §2.1 allows letters, digits and -._~+/ with trailing =)")
	}
	key := sha256.Sum256([]byte(token))
	if v.inactive != nil && v.inactive.has(key, now) {
		return nil, invalid("token is not active (expired, revoked or unknown to the issuer)")
	}
	if !v.limit.AllowN(now, 1) {
		// Not looked at, so not known to be bad: an outage (503 with
		// Retry-After), which a client with a good token simply retries.
		return nil, fmt.Errorf("%w: too many unknown tokens to introspect just now", oauth.ErrUnavailable)
	}
	ir, err := oauth.Introspect(ctx, v.cfg.Introspection, token, "access_token")
	if err != nil {
		// A refusal of our own credentials (401 invalid_client) says
		// nothing about the token: report it as an infrastructure problem.
		if errors.Is(err, oauth.ErrUnavailable) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: introspection failed: %w", oauth.ErrUnavailable, err)
	}
	if !ir.Active {
		if v.inactive != nil {
			v.inactive.put(key, now.Add(v.cfg.IntrospectionCacheTTL), now)
		}
		return nil, invalid("token is not active (expired, revoked or unknown to the issuer)")
	}
	if ir.TokenType != "" && !strings.EqualFold(ir.TokenType, "bearer") && ir.TokenType != "access_token" && ir.TokenType != oauth.TokenTypeAccessToken {
		return nil, invalid("introspection says this is a %s, not an access token", sanitize(ir.TokenType))
	}
	if ir.Iss != "" && ir.Iss != v.cfg.Issuer {
		return nil, invalid("issued by %s, not by %s", sanitize(ir.Iss), v.cfg.Issuer)
	}
	c := claims{
		Iss: v.cfg.Issuer, Sub: ir.Sub, Aud: ir.Aud, Exp: ir.Exp, Nbf: ir.Nbf, Iat: ir.Iat, Jti: ir.Jti,
		ClientID: ir.ClientID, Azp: ir.Azp, Username: ir.Username, PreferredUsername: ir.PreferredUsername,
		Email: ir.Email, Act: ir.Act,
	}
	if ir.Scope != "" {
		c.Scope = json.RawMessage(mustJSON(ir.Scope))
	}
	if c.Exp == nil {
		// RFC 7662 makes exp optional; such a result lives no longer than
		// the introspection cache.
		ttl := v.cfg.IntrospectionCacheTTL
		if ttl <= 0 {
			ttl = DefaultIntrospectionCacheTTL
		}
		c.expOverride = now.Add(ttl)
	}
	r, err := v.checkClaims(&c, now)
	if err != nil {
		return nil, err
	}
	r.Introspected = true
	return r, nil
}

// b64token reports whether s has RFC 6750 §2.1's b64token syntax:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func b64token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/':
		default:
			return false
		}
	}
	return true
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
