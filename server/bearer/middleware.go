package bearer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// ErrInvalidToken is what a Verifier's error wraps when the token itself is
// bad (expired, wrong audience, bad signature, ...): the client gets 401
// invalid_token. Any other error means verification could not be done
// (IdP unreachable) and the client gets 503, not a misleading 401.
var ErrInvalidToken = auth.ErrInvalidToken

// Verifier checks a raw bearer token and describes it. TokenInfo.UserID
// must be the token's subject (the streamable transport binds sessions to
// it) and Expiration must be set.
type Verifier func(ctx context.Context, token string) (*auth.TokenInfo, error)

// Options configures Middleware.
type Options struct {
	// ResourceMetadataURL is the RFC 9728 metadata URL sent in every
	// challenge.
	ResourceMetadataURL string
	// Scope is the scope advertised in 401 challenges (MCP 2025-11-25:
	// servers SHOULD include one); typically the scopes that unlock the
	// basic tools.
	Scope []string
	// Required says what a JSON-RPC request needs: the soft scopes of the
	// tool named in a tools/call, say, or a refusal for a tool the server
	// does not define. Nil checks nothing.
	Required func(method string, params json.RawMessage) Requirement
	// MaxBodyBytes bounds how much of a POST body is read to find the
	// JSON-RPC method; larger bodies get 413. Default 4 MiB, as go-sdk.
	MaxBodyBytes int64
	// Logger records refusals (never the token).
	Logger *slog.Logger
	// ClockSkew is the leeway the Verifier applies to exp; go-sdk re-checks
	// Expiration after us and must not be stricter.
	ClockSkew time.Duration
}

// Requirement is what one JSON-RPC request needs to pass.
type Requirement struct {
	// Scopes are all required; a token lacking one gets the 403 step-up
	// challenge.
	Scopes []string
	// Refusal, when set, refuses the request whatever the token holds (it
	// names something the server does not define): the client gets it as
	// the JSON-RPC error of that request, as the MCP server would answer.
	// A *jsonrpc.Error keeps its code, message and data.
	Refusal error
}

// Middleware authenticates every request with Verifier and, for POSTed
// JSON-RPC requests, refuses those whose scopes are missing before they
// reach next. On success the verified auth.TokenInfo is in the request
// context where go-sdk's streamable transport finds it
// (auth.TokenInfoFromContext).
func Middleware(verify Verifier, opts Options) func(http.Handler) http.Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 4 << 20
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// go-sdk keeps its context key private; RequireBearerToken is the only
	// way to place TokenInfo there. Its verifier just hands back what this
	// middleware already verified.
	inject := auth.RequireBearerToken(func(_ context.Context, _ string, r *http.Request) (*auth.TokenInfo, error) {
		if ti, ok := r.Context().Value(verifiedKey{}).(*auth.TokenInfo); ok {
			return ti, nil
		}
		return nil, ErrInvalidToken
	}, &auth.RequireBearerTokenOptions{ClockSkew: opts.ClockSkew})
	return func(next http.Handler) http.Handler {
		injected := inject(next)
		// check authenticates r and checks its scopes; it returns the
		// request to serve (the verified TokenInfo in its context) or nil
		// after writing the refusal. It is a frame of its own that has
		// returned before next runs, so a request held open — an idle
		// session's SSE stream — does not keep its 1 KiB of locals on the
		// goroutine's stack, which took each such goroutine past Go's
		// 8 KiB initial stack (TestMiddlewareHoldsLittleStackWhileServing).
		check := func(w http.ResponseWriter, r *http.Request) *http.Request {
			base := Challenge{ResourceMetadata: opts.ResourceMetadataURL, Scope: scopes.Format(opts.Scope)}
			if r.URL.Query().Has("access_token") {
				// RFC 6750 §2.3 allows it, MCP forbids tokens in query
				// strings; refuse so clients learn, and never log the URL.
				c := base
				c.Error = "invalid_request"
				c.ErrorDescription = "access tokens are accepted only in the Authorization header"
				c.write(w, http.StatusBadRequest)
				return nil
			}
			token, err := extract(r)
			if err != nil {
				c := base
				if !errors.Is(err, errNoToken) {
					c.Error = "invalid_request"
					c.ErrorDescription = err.Error()
					c.write(w, http.StatusBadRequest)
					return nil
				}
				c.write(w, http.StatusUnauthorized)
				return nil
			}
			ti, err := verify(r.Context(), token)
			if err != nil {
				if !errors.Is(err, ErrInvalidToken) {
					logger.Warn("token verification unavailable", "err", err)
					w.Header().Set("Retry-After", "5")
					http.Error(w, "token verification is temporarily unavailable", http.StatusServiceUnavailable)
					return nil
				}
				logger.Info("bearer token refused", "reason", err.Error(), "path", r.URL.Path)
				c := base
				c.Error = "invalid_token"
				c.ErrorDescription = err.Error()
				c.write(w, http.StatusUnauthorized)
				return nil
			}
			if ti == nil || ti.UserID == "" {
				c := base
				c.Error = "invalid_token"
				c.ErrorDescription = "token has no subject"
				c.write(w, http.StatusUnauthorized)
				return nil
			}
			if r.Method == http.MethodPost && opts.Required != nil {
				body, err := io.ReadAll(io.LimitReader(r.Body, opts.MaxBodyBytes+1))
				_ = r.Body.Close() // fully read; a close error changes nothing
				if err != nil {
					http.Error(w, "reading request body failed", http.StatusBadRequest)
					return nil
				}
				if int64(len(body)) > opts.MaxBodyBytes {
					http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
					return nil
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
				need := missingScopes(body, ti.Scopes, opts.Required)
				if need.refusal != nil {
					logger.Info("request refused", "sub", ti.UserID, "method", need.method, "target", need.target, "reason", need.refusal.Error())
					writeRPCError(w, need.id, need.refusal)
					return nil
				}
				if len(need.missing) > 0 {
					logger.Info("insufficient scope", "sub", ti.UserID, "method", need.method, "target", need.target, "missing", need.missing)
					c := base
					c.Error = "insufficient_scope"
					c.Scope = scopes.Format(scopes.Union(ti.Scopes, need.required))
					c.ErrorDescription = need.describe()
					c.writeRPC(w, http.StatusForbidden, need.id, "insufficient_scope: "+need.describe()+"; re-authorize with scope \""+c.Scope+"\"")
					return nil
				}
			}
			return r.WithContext(context.WithValue(r.Context(), verifiedKey{}, ti))
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r = check(w, r); r != nil {
				injected.ServeHTTP(w, r)
			}
		})
	}
}

type verifiedKey struct{}

var errNoToken = errors.New("no bearer token")

// extract returns the token of the request's single Authorization header.
func extract(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return "", errNoToken
	}
	if len(values) > 1 {
		return "", errors.New("more than one Authorization header")
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		// Another scheme (Basic, ...) is "no bearer token" (RFC 6750 §3.1).
		return "", errNoToken
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", errors.New("malformed Bearer credentials")
	}
	return token, nil
}

type scopeNeed struct {
	id                json.RawMessage
	method, target    string
	required, missing []string
	refusal           error
}

func (n scopeNeed) describe() string {
	what := n.method
	if n.target != "" {
		what += " " + n.target
	}
	return what + " requires scope " + scopes.Format(n.missing)
}

// missingScopes inspects a JSON-RPC message or batch and returns the first
// request that is refused or whose required scopes the token lacks. Bodies
// that are not JSON-RPC pass through: the MCP transport answers them
// properly.
func missingScopes(body []byte, granted []string, required func(string, json.RawMessage) Requirement) scopeNeed {
	type message struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	var msgs []message
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if json.Unmarshal(trimmed, &msgs) != nil {
			return scopeNeed{}
		}
	} else {
		var m message
		if json.Unmarshal(trimmed, &m) != nil {
			return scopeNeed{}
		}
		msgs = []message{m}
	}
	for _, m := range msgs {
		if m.Method == "" {
			continue
		}
		req := required(m.Method, m.Params)
		if req.Refusal != nil {
			return scopeNeed{id: m.ID, method: m.Method, target: targetOf(m.Params), refusal: req.Refusal}
		}
		if miss := scopes.Missing(granted, req.Scopes); len(miss) > 0 {
			return scopeNeed{id: m.ID, method: m.Method, target: targetOf(m.Params), required: req.Scopes, missing: miss}
		}
	}
	return scopeNeed{}
}

func targetOf(params json.RawMessage) string {
	var p struct {
		Name string `json:"name"`
		URI  string `json:"uri"`
	}
	if json.Unmarshal(params, &p) != nil {
		return ""
	}
	if p.Name != "" {
		return p.Name
	}
	return p.URI
}
