package bearer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

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
	// InsecureQueryToken takes a token from the access_token query
	// parameter when no Authorization header is sent. It exists only so
	// the conformance self-test can build a deliberately broken server
	// (set only in builds with the conformance_selftest tag); never set
	// it otherwise.
	InsecureQueryToken bool
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
		check := func(w http.ResponseWriter, r *http.Request) (*http.Request, http.ResponseWriter) {
			base := Challenge{ResourceMetadata: opts.ResourceMetadataURL, Scope: scopes.Format(opts.Scope)}
			if opts.InsecureQueryToken && r.Header.Get("Authorization") == "" && r.URL.Query().Get("access_token") != "" {
				// The deliberately broken variant: verify the query token
				// as if it came in the header.
				if ti, err := verify(r.Context(), r.URL.Query().Get("access_token")); err == nil && ti != nil && ti.UserID != "" {
					return r.WithContext(context.WithValue(r.Context(), verifiedKey{}, ti)), w
				}
			}
			if r.URL.Query().Has("access_token") {
				// RFC 6750 §2.3 allows it, MCP forbids tokens in query
				// strings; refuse so clients learn, and never log the URL.
				c := base
				c.Error = "invalid_request"
				c.ErrorDescription = "access tokens are accepted only in the Authorization header"
				c.write(w, http.StatusBadRequest)
				return nil, nil
			}
			token, err := extract(r)
			if err != nil {
				c := base
				if !errors.Is(err, errNoToken) {
					c.Error = "invalid_request"
					c.ErrorDescription = err.Error()
					c.write(w, http.StatusBadRequest)
					return nil, nil
				}
				c.write(w, http.StatusUnauthorized)
				return nil, nil
			}
			ti, err := verify(r.Context(), token)
			if err != nil {
				if !errors.Is(err, ErrInvalidToken) {
					logger.Warn("token verification unavailable", "err", err)
					w.Header().Set("Retry-After", "5")
					http.Error(w, "token verification is temporarily unavailable", http.StatusServiceUnavailable)
					return nil, nil
				}
				logger.Info("bearer token refused", "reason", err.Error(), "path", r.URL.Path)
				c := base
				c.Error = "invalid_token"
				c.ErrorDescription = err.Error()
				c.write(w, http.StatusUnauthorized)
				return nil, nil
			}
			if ti == nil || ti.UserID == "" {
				c := base
				c.Error = "invalid_token"
				c.ErrorDescription = "token has no subject"
				c.write(w, http.StatusUnauthorized)
				return nil, nil
			}
			var firstID json.RawMessage
			if r.Method == http.MethodPost && opts.Required != nil {
				body, err := io.ReadAll(io.LimitReader(r.Body, opts.MaxBodyBytes+1))
				_ = r.Body.Close() // fully read; a close error changes nothing
				if err != nil {
					http.Error(w, "reading request body failed", http.StatusBadRequest)
					return nil, nil
				}
				if int64(len(body)) > opts.MaxBodyBytes {
					BodyTooLarge(w, opts.MaxBodyBytes)
					return nil, nil
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
				need := missingScopes(body, ti.Scopes, opts.Required)
				firstID = need.firstID
				if need.malformed != nil {
					logger.Info("request refused", "sub", ti.UserID, "reason", need.malformed.Error())
					writeRPCStatus(w, http.StatusBadRequest, need.id, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "Invalid Request: " + need.malformed.Error()})
					return nil, nil
				}
				if need.refusal != nil {
					logger.Info("request refused", "sub", ti.UserID, "method", need.method, "target", need.target, "reason", need.refusal.Error())
					writeRPCError(w, need.id, need.refusal)
					return nil, nil
				}
				if len(need.missing) > 0 {
					logger.Info("insufficient scope", "sub", ti.UserID, "method", need.method, "target", need.target, "missing", need.missing)
					c := base
					c.Error = "insufficient_scope"
					c.Scope = scopes.Format(scopes.Union(ti.Scopes, need.required))
					c.ErrorDescription = need.describe()
					c.writeRPC(w, http.StatusForbidden, need.id, "insufficient_scope: "+need.describe()+"; re-authorize with scope \""+c.Scope+"\"")
					return nil, nil
				}
			}
			if r.Method == http.MethodPost {
				// What answers a POST may still learn that the token is
				// bad (RejectToken): the answer then becomes a 401.
				rw := &rejectingWriter{ResponseWriter: w, slot: &rejection{}, challenge: base, id: firstID}
				ti = withRejection(ti, rw.slot)
				return r.WithContext(context.WithValue(r.Context(), verifiedKey{}, ti)), rw
			}
			return r.WithContext(context.WithValue(r.Context(), verifiedKey{}, ti)), w
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r, w = check(w, r); r != nil {
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
	id json.RawMessage
	// firstID is the id of the body's first request (a 401 that
	// RejectToken turns the answer into is a JSON-RPC error for it).
	firstID           json.RawMessage
	method, target    string
	required, missing []string
	refusal           error
	// malformed refuses the body as a JSON-RPC Invalid Request (HTTP
	// 400): two readings of it could disagree.
	malformed error
}

func (n scopeNeed) describe() string {
	what := n.method
	if n.target != "" {
		what += " " + n.target
	}
	return what + " requires scope " + scopes.Format(n.missing)
}

// The members of a JSON-RPC message and of tools/call and resources/read
// params that the MCP SDK reads (exactly cased; see Fields).
var (
	messageKeys = []string{"jsonrpc", "id", "method", "params", "result", "error"}
	paramsKeys  = []string{"name", "uri", "arguments", "_meta"}
)

// KeyError is a JSON object whose keys two decoders could read
// differently: a duplicate, two keys equal but for case, or a key that
// differs only in case from one the MCP SDK reads.
type KeyError struct {
	Object string // "message" or "params"
	Keys   []string
}

func (e *KeyError) Error() string {
	if len(e.Keys) == 1 {
		return fmt.Sprintf("%s has the key %q; keys must be exactly cased", e.Object, e.Keys[0])
	}
	return fmt.Sprintf("%s has the keys %q and %q; keys must be unique and exactly cased", e.Object, e.Keys[0], e.Keys[1])
}

// Fields decodes the JSON object obj into its members, keyed exactly as
// sent, the way go-sdk reads requests (case-sensitive keys). Because
// encoding/json matches keys case-insensitively and lets the last
// duplicate win, a body with duplicate keys, keys equal but for case
// (Unicode simple folding, as encoding/json folds), or a key that is a
// case variant of one in known could be read one way here and another
// way by the SDK: Fields refuses it with a *KeyError. Any other failure
// (obj is not a JSON object) is returned as the decoder's error.
func Fields(obj json.RawMessage, known ...string) (map[string]json.RawMessage, error) {
	return fields("object", obj, known)
}

func fields(name string, obj json.RawMessage, known []string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		for k := range out {
			if strings.EqualFold(k, key) {
				return nil, &KeyError{Object: name, Keys: []string{k, key}}
			}
		}
		for _, k := range known {
			if k != key && strings.EqualFold(k, key) {
				return nil, &KeyError{Object: name, Keys: []string{key}}
			}
		}
		out[key] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	return out, nil
}

// missingScopes inspects a JSON-RPC message or batch and returns the first
// request that is refused or whose required scopes the token lacks. It
// reads the body as go-sdk does (exact keys) and refuses one that could be
// read otherwise (see Fields), so the scope check and the SDK never judge
// different requests. Bodies that are not JSON-RPC pass through: the MCP
// transport answers them properly.
func missingScopes(body []byte, granted []string, required func(string, json.RawMessage) Requirement) scopeNeed {
	var raws []json.RawMessage
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if json.Unmarshal(trimmed, &raws) != nil {
			return scopeNeed{}
		}
	} else {
		raws = []json.RawMessage{trimmed}
	}
	var first json.RawMessage
	for _, raw := range raws {
		m, err := fields("message", raw, messageKeys)
		if err != nil {
			var ke *KeyError
			if errors.As(err, &ke) {
				return scopeNeed{malformed: err}
			}
			continue // not an object: the SDK refuses it
		}
		var method string
		if json.Unmarshal(m["method"], &method) != nil || method == "" {
			continue
		}
		id := m["id"]
		if first == nil && len(id) > 0 && string(id) != "null" {
			first = id
		}
		params := m["params"]
		if len(params) > 0 && string(params) != "null" {
			if _, err := fields("params", params, paramsKeys); err != nil {
				var ke *KeyError
				if errors.As(err, &ke) {
					return scopeNeed{id: id, method: method, malformed: err}
				}
			}
		}
		req := required(method, params)
		if req.Refusal != nil {
			return scopeNeed{id: id, method: method, target: targetOf(params), refusal: req.Refusal}
		}
		if miss := scopes.Missing(granted, req.Scopes); len(miss) > 0 {
			return scopeNeed{id: id, method: method, target: targetOf(params), required: req.Scopes, missing: miss}
		}
	}
	return scopeNeed{firstID: first}
}

func targetOf(params json.RawMessage) string {
	f, err := Fields(params)
	if err != nil {
		return ""
	}
	var name, uri string
	if json.Unmarshal(f["name"], &name) == nil && name != "" {
		return name
	}
	_ = json.Unmarshal(f["uri"], &uri) // absent or not a string: no target
	return uri
}

// BodyTooLarge answers 413 for a request body over limit, naming the
// limit and its setting: every reader of /mcp bodies (this middleware,
// the server's batch bound) answers with it.
func BodyTooLarge(w http.ResponseWriter, limit int64) {
	http.Error(w, fmt.Sprintf("request body too large: this server takes at most %d bytes per request (MCP_MAX_BODY_BYTES); file content written through a tool travels in the body", limit), http.StatusRequestEntityTooLarge)
}
