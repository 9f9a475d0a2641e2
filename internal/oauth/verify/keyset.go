package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
)

// DefaultMinRefreshInterval is how often, at most, a KeySet goes back to
// the JWKS endpoint when it meets a key it does not know.
const DefaultMinRefreshInterval = 10 * time.Second

// KeySetOptions configure NewKeySet.
type KeySetOptions struct {
	// HTTPClient fetches the JWKS; default oauth.NewHTTPClient(0).
	HTTPClient *http.Client
	// MinRefreshInterval bounds refetches (default
	// DefaultMinRefreshInterval): a flood of tokens with unknown kids or
	// bad signatures costs the IdP at most one JWKS request per interval.
	MinRefreshInterval time.Duration
	// Now is the clock (tests).
	Now func() time.Time
}

// KeySet is the issuer's JSON Web Key Set: go-oidc's RemoteKeySet (keys
// cached in memory, refetched when a token names a kid not in the cache,
// concurrent refetches merged) behind a transport that rate-limits the
// refetches and remembers which kids the last good fetch published, so
// that a failed refetch can still be told apart: "unknown key" or "bad
// signature" (the token's fault, 401) versus "JWKS endpoint down" (503).
// One KeySet can serve several Verifiers of the same issuer.
type KeySet struct {
	remote *oidc.RemoteKeySet
	lim    *fetchLimiter
}

// NewKeySet returns a KeySet for jwksURL. Keys are fetched on first use.
func NewKeySet(jwksURL string, opts KeySetOptions) *KeySet {
	hc := opts.HTTPClient
	if hc == nil {
		hc = oauth.NewHTTPClient(0)
	}
	if opts.MinRefreshInterval <= 0 {
		opts.MinRefreshInterval = DefaultMinRefreshInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	lim := &fetchLimiter{next: next, interval: opts.MinRefreshInterval, now: opts.Now}
	limited := *hc
	limited.Transport = lim
	// go-oidc takes its HTTP client from the context it is built with.
	ctx := oidc.ClientContext(context.Background(), &limited)
	return &KeySet{remote: oidc.NewRemoteKeySet(ctx, jwksURL), lim: lim}
}

// Fetches returns how many JWKS requests were sent (metrics, tests).
func (k *KeySet) Fetches() int {
	k.lim.mu.Lock()
	defer k.lim.mu.Unlock()
	return k.lim.fetches
}

// staleRetries bounds how often verify asks again after receiving another
// call's finished fetch result.
const staleRetries = 5

// errRefetchLimited is what the transport answers instead of fetching.
var errRefetchLimited = errors.New("JWKS refetch rate-limited")

// verify checks the signature of a compact JWS whose algorithm the caller
// already vetted, and returns its payload. Errors wrap oauth.ErrInvalidToken
// or oauth.ErrUnavailable.
func (k *KeySet) verify(ctx context.Context, token, kid string) ([]byte, error) {
	var err error
	retriedFromCache := false
	for try := 0; ; try++ {
		before := k.lim.attemptCount()
		var payload []byte
		payload, err = k.remote.VerifySignature(ctx, token)
		if err == nil {
			return payload, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("%w: verifying signature: %w", oauth.ErrUnavailable, ctxErr)
		}
		// go-oidc signals a finished fetch's waiters before it forgets
		// the fetch (jwks.go, keysFromRemote), so a call arriving in
		// between receives that older fetch's result — keys fetched before
		// a rotation, or a failure — without any attempt of its own. Such a
		// result says nothing about now: ask again.
		stale := k.lim.attemptCount() == before
		// go-oidc also reads its cache before joining a fetch: a call that
		// found it empty just before another call's fetch filled it starts
		// a second, rate-limited fetch. If the key is known now, the cache
		// has it: verify once more from there.
		fromCache := !retriedFromCache && errors.Is(err, errRefetchLimited) && k.lim.knowsKid(kid)
		if (!stale && !fromCache) || try == staleRetries {
			break
		}
		if fromCache {
			retriedFromCache = true
			continue
		}
		time.Sleep(time.Millisecond)
	}
	known, everFetched, lastFailed := k.lim.knows(kid)
	badSig := fmt.Errorf("%w: signature does not verify with the issuer's key %s", oauth.ErrInvalidToken, kidText(kid))
	unknown := fmt.Errorf("%w: signed with a key the issuer does not publish (%s)", oauth.ErrInvalidToken, kidText(kid))
	switch {
	case !isFetchError(err):
		// Fresh keys were fetched and none verified the token.
		if known {
			return nil, badSig
		}
		return nil, unknown
	case known:
		// Refetch limited or failed, but the kid is one we hold: the
		// cached key already refused the signature.
		return nil, badSig
	case errors.Is(err, errRefetchLimited) && everFetched && !lastFailed:
		return nil, unknown
	case errors.Is(err, errRefetchLimited):
		// Never fetched, or the last attempt failed: an unknown kid may be
		// a rotation the endpoint's outage hides, so it cannot be judged.
		return nil, fmt.Errorf("%w: the issuer's JWKS could not be fetched; next attempt within %s", oauth.ErrUnavailable, k.lim.interval)
	default:
		return nil, fmt.Errorf("%w: fetching the issuer's JWKS: %v", oauth.ErrUnavailable, err)
	}
}

// isFetchError tells go-oidc's "could not fetch keys" from "no key
// verified the signature": only the former wraps an error.
func isFetchError(err error) bool { return errors.Unwrap(err) != nil }

func kidText(kid string) string {
	if kid == "" {
		return "no kid"
	}
	return "kid " + kid
}

// fetchLimiter is the RoundTripper under go-oidc's key fetches.
type fetchLimiter struct {
	next     http.RoundTripper
	interval time.Duration
	now      func() time.Time

	mu       sync.Mutex
	last     time.Time
	attempts int // every RoundTrip, limited or not
	fetches  int
	fetched  bool
	// failed: the most recent fetch attempt got no usable key set.
	failed bool
	kids   map[string]bool
}

func (l *fetchLimiter) RoundTrip(req *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.attempts++
	now := l.now()
	if !l.last.IsZero() && now.Sub(l.last) < l.interval {
		l.mu.Unlock()
		return nil, errRefetchLimited
	}
	l.last = now
	l.fetches++
	l.mu.Unlock()

	resp, err := l.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		l.setFailed(true)
		return resp, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	// The body is read (or the read failed, which is reported below);
	// closing only hands the connection back, so its error is dropped.
	_ = resp.Body.Close()
	if err != nil {
		l.setFailed(true)
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if json.Unmarshal(body, &set) == nil && len(set.Keys) > 0 {
		kids := make(map[string]bool, len(set.Keys))
		for _, k := range set.Keys {
			kids[k.Kid] = true
		}
		l.mu.Lock()
		l.kids, l.fetched, l.failed = kids, true, false
		l.mu.Unlock()
	} else {
		l.setFailed(true)
	}
	return resp, nil
}

func (l *fetchLimiter) knowsKid(kid string) bool {
	known, _, _ := l.knows(kid)
	return known
}

func (l *fetchLimiter) attemptCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.attempts
}

func (l *fetchLimiter) setFailed(f bool) {
	l.mu.Lock()
	l.failed = f
	l.mu.Unlock()
}

// knows reports whether kid was in the last good key set, whether any
// fetch ever succeeded, and whether the most recent attempt failed.
func (l *fetchLimiter) knows(kid string) (known, everFetched, lastFailed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return kid != "" && l.kids[kid], l.fetched, l.failed
}
