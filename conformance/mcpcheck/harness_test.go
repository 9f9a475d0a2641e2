package mcpcheck

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/fakectl"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
)

// The harness is a tiny MCP resource server, IdP control API and Nextcloud
// request log whose behaviour can be broken one rule at a time, so every
// check is shown to fail on the violation it exists for (and to pass on
// the well-behaved harness).

// flaws switches single violations on.
type flaws struct {
	prmResource       string // override the metadata's resource
	prmTrailingSlash  bool   // resource = the MCP URL + "/"
	noRootPRM         bool
	noResourceMeta    bool // 401 challenges lack resource_metadata
	errorWithoutToken bool // error= on a 401 without credentials
	noChallengeScope  bool
	noInvalidToken    bool // 401 for a bad token lacks error="invalid_token"
	anyAudience       bool
	anyIssuer         bool
	anyKey            bool // unknown key, alg none, HS256, tampered payload
	ignoreExp         bool
	ignoreNbf         bool
	queryToken        bool
	sessionIsAuth     bool // a session id is enough
	noSessionBinding  bool
	listAll           bool // no tools/list filtering
	noCallCheck       bool // no call-time scope check
	challengeRequired bool // 403 scope names only the required scope
	reuseJTI          bool // exchange: one exchanged token for every call
	passthrough       bool // forward the client's token even in exchange mode
	fallback          bool // forward the client's token when exchange fails
	leakToken         bool // echo the client's token in tool results
	guessUID          bool // WebDAV paths use the token's sub
	reusableState     bool // the Flow 2 callback accepts a state twice
	anyState          bool // the Flow 2 callback accepts unknown states
	plainPKCE         bool // the Flow 2 URL uses code_challenge_method=plain
	refreshPerCall    bool // tool calls of provisioned users use refresh grants
	noRefreshRevoke   bool // revoke_nextcloud_access does not revoke at the IdP
	noProvisionGate   bool // Nextcloud tools work for unprovisioned users
	foreignAccount    bool // the callback stores a grant of another account
	noOriginCheck     bool // requests from any Origin are served
	acceptUserless    bool // client-credentials and service-account tokens are accepted
	noLimits          bool // JSON-RPC batches and sessions are unbounded
	publicCache       bool // results say cacheScope "public"
	refreshCached     bool // tool calls of provisioned users use a cached Flow 2 token (no refresh grant)
	queryTokenInner   bool // the query token is verified; only an inner layer (the SDK) refuses it, without a challenge
	forgetful         bool // a note's content is not kept: reading it back answers without what was written
}

const hSecret = "harness-signing-secret"

type harness struct {
	t       *testing.T
	f       flaws
	mode    string // exchange | passthrough
	consent bool
	mcp     *httptest.Server
	ctl     *httptest.Server // IdP + Nextcloud control APIs
	mcpURL  string
	issuer  string

	mu          sync.Mutex
	exchangeOff bool
	faults      int
	idpLog      []fakectl.IdPLogEntry
	ncLog       []fakectl.NCLogEntry
	n           int
	states      map[string]string // state → user
	used        map[string]bool
	provisioned map[string]bool
	sessions    map[string]int // initializes per user
	logs        strings.Builder
	noteContent string // the last note created (one note is all the harness keeps)
}

func sign(key, headerPayload string) string {
	switch key {
	case fakectl.KeyNone:
		return ""
	case fakectl.KeyHS256Public:
		return "hs256"
	case fakectl.KeyUnknown:
		h := sha256.Sum256([]byte("other-secret" + headerPayload))
		return base64.RawURLEncoding.EncodeToString(h[:])
	}
	h := sha256.Sum256([]byte(hSecret + headerPayload))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func (h *harness) mint(claims map[string]any, key string) string {
	now := time.Now().Unix()
	full := map[string]any{"iss": h.issuer, "iat": now, "nbf": now, "exp": now + 3600, "jti": h.nextID("jti")}
	for k, v := range claims {
		full[k] = v
	}
	hdr, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "at+jwt"})
	pl, _ := json.Marshal(full)
	hp := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(pl)
	return hp + "." + sign(key, hp)
}

func (h *harness) nextID(prefix string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n++
	return fmt.Sprintf("%s-%d", prefix, h.n)
}

// verify checks a harness token as a resource server would.
func (h *harness) verify(tok string) (map[string]any, string) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, "malformed"
	}
	if !h.f.anyKey && parts[2] != sign(fakectl.KeyCurrent, parts[0]+"."+parts[1]) {
		return nil, "bad signature"
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, "malformed"
	}
	var c map[string]any
	if json.Unmarshal(b, &c) != nil {
		return nil, "malformed"
	}
	now := float64(time.Now().Unix())
	switch {
	case !h.f.anyIssuer && c["iss"] != h.issuer:
		return nil, "issuer"
	case !h.f.anyAudience && c["aud"] != h.mcpURL:
		return nil, "audience"
	case !h.f.ignoreExp && c["exp"].(float64) < now:
		return nil, "expired"
	case !h.f.ignoreNbf && c["nbf"].(float64) > now+60:
		return nil, "not yet valid"
	case !h.f.acceptUserless && (c["sub"] == c["client_id"] || c["sub"] == c["azp"] || strings.HasPrefix(fmt.Sprint(c["preferred_username"]), "service-account-")):
		return nil, "names no user"
	}
	return c, ""
}

var toolScopes = map[string]string{
	"nc_notes_get_note": "notes:read", "nc_notes_get_attachment": "notes:read",
	"nc_notes_create_note": "notes:write", "nc_notes_delete_note": "notes:write",
}

func scopesOf(c map[string]any) []string { s, _ := c["scope"].(string); return strings.Fields(s) }

func (h *harness) challenge(w http.ResponseWriter, status int, errCode, scope string) {
	var p []string
	if errCode != "" {
		p = append(p, fmt.Sprintf(`error=%q`, errCode))
	}
	if scope != "" && (status != 401 || !h.f.noChallengeScope) {
		p = append(p, fmt.Sprintf(`scope=%q`, scope))
	}
	if !h.f.noResourceMeta {
		p = append(p, fmt.Sprintf(`resource_metadata=%q`, originOf(h.mcpURL)+"/.well-known/oauth-protected-resource/mcp"))
	}
	w.Header().Set("WWW-Authenticate", "Bearer "+strings.Join(p, ", "))
	w.WriteHeader(status)
}

func (h *harness) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if h.f.queryToken && tok == "" {
			tok = r.URL.Query().Get("access_token")
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		if h.f.queryTokenInner && tok == "" {
			if q := r.URL.Query().Get("access_token"); q != "" {
				if _, why := h.verify(q); why == "" {
					// Accepted here; the SDK's middleware, which reads
					// only the header, refuses with a bare 401.
					auth.RequireBearerToken(func(context.Context, string, *http.Request) (*auth.TokenInfo, error) {
						return nil, auth.ErrInvalidToken
					}, nil)(next).ServeHTTP(w, r)
					return
				}
			}
		}
		if tok == "" {
			if h.f.sessionIsAuth && r.Header.Get("Mcp-Session-Id") != "" {
				next.ServeHTTP(w, r)
				return
			}
			e := ""
			if h.f.errorWithoutToken {
				e = "invalid_request"
			}
			h.challenge(w, 401, e, "notes:read")
			return
		}
		claims, why := h.verify(tok)
		if why != "" {
			e := "invalid_token"
			if h.f.noInvalidToken {
				e = ""
			}
			h.challenge(w, 401, e, "notes:read")
			return
		}
		granted := scopesOf(claims)
		if r.Method == http.MethodPost && !h.f.noCallCheck {
			body := readBody(r)
			var m struct {
				ID     json.RawMessage `json:"id"`
				Method string          `json:"method"`
				Params struct {
					Name string `json:"name"`
				} `json:"params"`
			}
			_ = json.Unmarshal(body, &m)
			if need := toolScopes[m.Params.Name]; m.Method == "tools/call" && need != "" && !slices.Contains(granted, need) {
				sc := need
				if !h.f.challengeRequired {
					sc = strings.Join(append(slices.Clone(granted), need), " ")
				}
				h.challenge(w, 403, "insufficient_scope", sc)
				return
			}
		}
		ti := &auth.TokenInfo{Scopes: granted, Expiration: time.Now().Add(time.Hour), Extra: map[string]any{"token": tok, "claims": claims}}
		if !h.f.noSessionBinding {
			ti.UserID, _ = claims["sub"].(string)
		}
		auth.RequireBearerToken(func(context.Context, string, *http.Request) (*auth.TokenInfo, error) { return ti, nil }, nil)(next).ServeHTTP(w, r)
	})
}

// origin serves requests without Origin or from the harness's own
// origin, and answers 403 to any other (MCP 2025-11-25 basic/transports).
func (h *harness) origin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && o != originOf(h.mcpURL) && !h.f.noOriginCheck {
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limits refuses batches of more than 10 messages (400) and a user's
// eleventh session (503), unless the noLimits flaw is on.
func (h *harness) limits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || h.f.noLimits {
			next.ServeHTTP(w, r)
			return
		}
		body := readBody(r)
		var batch []json.RawMessage
		if json.Unmarshal(body, &batch) == nil && len(batch) > 10 {
			http.Error(w, "batch too long", http.StatusBadRequest)
			return
		}
		if r.Header.Get("Mcp-Session-Id") == "" {
			user := ""
			if ti := auth.TokenInfoFromContext(r.Context()); ti != nil {
				user = ti.UserID
			}
			h.mu.Lock()
			h.sessions[user]++
			n := h.sessions[user]
			h.mu.Unlock()
			if n > 10 {
				http.Error(w, "too many sessions", http.StatusServiceUnavailable)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func readBody(r *http.Request) []byte {
	data, _ := io.ReadAll(r.Body)
	// A server closes request bodies itself; this close only lets the
	// body be replaced, and its error has nothing to say.
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(data))
	return data
}

// nextcloudRequest records what the server would send Nextcloud for one
// call, by mode and flaws; it returns an error text when the call fails.
func (h *harness) nextcloudRequest(extra *mcp.RequestExtra, path string) string {
	claims := extra.TokenInfo.Extra["claims"].(map[string]any)
	sub, _ := claims["sub"].(string)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.consent && !h.provisioned[sub] && !h.f.noProvisionGate {
		return "Nextcloud access is not provisioned: call provision_nextcloud_access or open " + h.issuer + "/authorize?state=x"
	}
	if h.f.refreshCached && h.provisioned[sub] {
		h.n++
		c := &fakectl.NCClaims{Sub: sub, Aud: []string{"nextcloud"}, Azp: "srv", Jti: fmt.Sprintf("f2-%d", h.n)}
		h.ncLog = append(h.ncLog, fakectl.NCLogEntry{Method: "GET", Path: path, Status: 200, AuthKind: "bearer", UID: "hashed-" + sub, Claims: c})
		return ""
	}
	forward := h.mode == "passthrough" || h.f.passthrough
	if !forward && !h.refreshPerCallLocked(sub) {
		if h.exchangeOff || h.faults > 0 {
			if h.faults > 0 {
				h.faults--
			}
			h.idpLog = append(h.idpLog, fakectl.IdPLogEntry{Endpoint: "token", GrantType: fakectl.GrantExchange, Status: 400, Outcome: "unsupported_grant_type"})
			if !h.f.fallback {
				return "token exchange failed: the IdP refused it"
			}
			forward = true
		} else {
			h.idpLog = append(h.idpLog, fakectl.IdPLogEntry{Endpoint: "token", GrantType: fakectl.GrantExchange, ClientID: "srv", Subject: sub, Status: 200, Outcome: "ok"})
		}
	}
	c := &fakectl.NCClaims{Sub: sub, Aud: []string{"nextcloud"}, Act: map[string]any{"sub": "srv"}}
	h.n++
	c.Jti = fmt.Sprintf("x-%d", h.n)
	if h.f.reuseJTI {
		c.Jti = "x-same"
	}
	if forward {
		c = &fakectl.NCClaims{Sub: sub, Aud: []string{h.mcpURL}, Jti: claims["jti"].(string)}
	}
	uid := "hashed-" + sub
	if strings.Contains(path, "{uid}") {
		u := uid
		if h.f.guessUID {
			u = sub
		}
		path = strings.ReplaceAll(path, "{uid}", u)
	}
	h.ncLog = append(h.ncLog, fakectl.NCLogEntry{Method: "GET", Path: path, Status: 200, AuthKind: "bearer", UID: uid, Claims: c})
	return ""
}

func (h *harness) refreshPerCallLocked(sub string) bool {
	if !h.f.refreshPerCall || !h.provisioned[sub] {
		return false
	}
	h.idpLog = append(h.idpLog, fakectl.IdPLogEntry{Endpoint: "token", GrantType: fakectl.GrantRefresh, ClientID: "srv", Subject: sub, Status: 200, Outcome: "ok"})
	return true
}

type noteArgs struct {
	NoteID   int64  `json:"note_id,omitempty"`
	Title    string `json:"title,omitempty"`
	Content  string `json:"content,omitempty"`
	Category string `json:"category,omitempty"`
	Name     string `json:"attachment_filename,omitempty"`
}

func (h *harness) server() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "harness", Version: "1"}, &mcp.ServerOptions{
		SetCacheable: func(_ context.Context, _ mcp.Request, c *mcp.Cacheable) {
			if !h.f.publicCache {
				c.CacheScope = "private"
			}
		},
	})
	s.AddResource(&mcp.Resource{URI: "nc://harness/settings", Name: "settings"}, func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, Text: "{}"}}}, nil
	})
	if !h.f.listAll {
		// tools/list shows only the tools the token's scopes allow.
		s.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
			return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
				res, err := next(ctx, method, req)
				lr, ok := res.(*mcp.ListToolsResult)
				if err != nil || !ok || req.GetExtra() == nil || req.GetExtra().TokenInfo == nil {
					return res, err
				}
				granted := req.GetExtra().TokenInfo.Scopes
				var keep []*mcp.Tool
				for _, tl := range lr.Tools {
					if need := toolScopes[tl.Name]; need == "" || slices.Contains(granted, need) {
						keep = append(keep, tl)
					}
				}
				lr.Tools = keep
				return lr, nil
			}
		})
	}
	add := func(name string, readOnly bool, path string) {
		mcp.AddTool(s, &mcp.Tool{Name: name, Description: name, Annotations: &mcp.ToolAnnotations{ReadOnlyHint: readOnly}},
			func(_ context.Context, req *mcp.CallToolRequest, in noteArgs) (*mcp.CallToolResult, any, error) {
				if msg := h.nextcloudRequest(req.Extra, path); msg != "" {
					return nil, nil, fmt.Errorf("%s", msg)
				}
				text := fmt.Sprintf(`{"id": %d}`, 7)
				switch {
				case name == "nc_notes_create_note" && !h.f.forgetful:
					h.mu.Lock()
					h.noteContent = in.Content
					h.mu.Unlock()
				case name == "nc_notes_get_note":
					h.mu.Lock()
					b, _ := json.Marshal(map[string]any{"id": 7, "content": h.noteContent})
					h.mu.Unlock()
					text = string(b)
				}
				if h.f.leakToken {
					text += " " + req.Extra.TokenInfo.Extra["token"].(string)
				}
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, nil, nil
			})
	}
	add("nc_notes_get_note", true, "/index.php/apps/notes/api/v1/notes/7")
	add("nc_notes_create_note", false, "/index.php/apps/notes/api/v1/notes")
	add("nc_notes_delete_note", false, "/index.php/apps/notes/api/v1/notes/7")
	add("nc_notes_get_attachment", true, "/remote.php/dav/files/{uid}/Notes/.attachments.7/x.png")
	if h.consent {
		mcp.AddTool(s, &mcp.Tool{Name: toolProvision, Description: "p"}, func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			sub := req.Extra.TokenInfo.Extra["claims"].(map[string]any)["sub"].(string)
			state := h.nextID("state-aaaaaaaaaaaaaaaaaaaaaaaa")
			method, challenge := "S256", base64.RawURLEncoding.EncodeToString(make([]byte, 32))
			if h.f.plainPKCE {
				method = "plain"
			}
			challenge = challenge[:40] + state[len(state)-3:]
			h.mu.Lock()
			h.states[state] = sub
			h.mu.Unlock()
			q := url.Values{"response_type": {"code"}, "client_id": {"srv"}, "state": {state}, "code_challenge": {challenge},
				"code_challenge_method": {method}, "scope": {"openid offline_access"}, "redirect_uri": {originOf(h.mcpURL) + "/oauth/callback"}}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "open " + h.issuer + "/authorize?" + q.Encode()}}}, nil, nil
		})
		mcp.AddTool(s, &mcp.Tool{Name: toolStatus, Description: "s"}, func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			sub := req.Extra.TokenInfo.Extra["claims"].(map[string]any)["sub"].(string)
			h.mu.Lock()
			defer h.mu.Unlock()
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf(`{"provisioned": %v}`, h.provisioned[sub])}}}, nil, nil
		})
		mcp.AddTool(s, &mcp.Tool{Name: toolRevoke, Description: "r"}, func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			sub := req.Extra.TokenInfo.Extra["claims"].(map[string]any)["sub"].(string)
			h.mu.Lock()
			defer h.mu.Unlock()
			if !h.f.noRefreshRevoke {
				h.idpLog = append(h.idpLog, fakectl.IdPLogEntry{Endpoint: "revoke", ClientID: "srv", Subject: sub, Status: 200, Outcome: "revoked"})
			}
			delete(h.provisioned, sub)
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "revoked"}}}, nil, nil
		})
	}
	return s
}

func (h *harness) prm(w http.ResponseWriter, _ *http.Request) {
	res := h.mcpURL
	if h.f.prmResource != "" {
		res = h.f.prmResource
	}
	if h.f.prmTrailingSlash {
		res += "/"
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"resource": res, "authorization_servers": []string{h.issuer}, "scopes_supported": []string{"notes:read", "notes:write"}}) // a failed write shows up as the client's error
}

func (h *harness) callback(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	h.mu.Lock()
	defer h.mu.Unlock()
	user, ok := h.states[state]
	switch {
	case !ok && !h.f.anyState, h.used[state] && !h.f.reusableState:
		http.Error(w, "unknown state", http.StatusBadRequest)
		return
	}
	h.used[state] = true
	h.idpLog = append(h.idpLog, fakectl.IdPLogEntry{Endpoint: "token", GrantType: fakectl.GrantCode, ClientID: "srv", Subject: user, Status: 200, Outcome: "ok"})
	if r.URL.Query().Get("as") != user && !h.f.foreignAccount {
		http.Error(w, "the grant belongs to another account", http.StatusForbidden)
		return
	}
	h.provisioned[user] = true
	_, _ = fmt.Fprintln(w, "done") // a failed write shows up as the client's error
}

// control serves the IdP and Nextcloud control APIs of the harness.
func (h *harness) control(w http.ResponseWriter, r *http.Request) {
	writeJSON := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v) // a failed write shows up as the client's error
	}
	// decode reads a control request; a body that does not parse is the
	// caller's mistake and gets 400, as the fakes' control APIs answer.
	decode := func(v any) bool {
		if err := json.NewDecoder(r.Body).Decode(v); err != nil {
			http.Error(w, "bad control request: "+err.Error(), http.StatusBadRequest)
			return false
		}
		return true
	}
	if r.URL.Path == "/idp/_fake/mint" {
		var m fakectl.MintRequest
		if !decode(&m) {
			return
		}
		claims := m.Claims
		if m.ExpiresIn != nil {
			claims = with(claims, "exp", time.Now().Unix()+*m.ExpiresIn)
		}
		writeJSON(map[string]string{"token": h.mint(claims, m.Key)})
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case r.URL.Path == "/idp/_fake/log" && r.Method == "GET":
		writeJSON(append([]fakectl.IdPLogEntry{}, h.idpLog...))
	case r.URL.Path == "/idp/_fake/log" && r.Method == "DELETE":
		h.idpLog = nil
	case r.URL.Path == "/nc/_fake/log" && r.Method == "GET":
		writeJSON(append([]fakectl.NCLogEntry{}, h.ncLog...))
	case r.URL.Path == "/nc/_fake/log" && r.Method == "DELETE":
		h.ncLog = nil
	case r.URL.Path == "/idp/_fake/exchange":
		var v struct{ Enabled bool }
		if !decode(&v) {
			return
		}
		h.exchangeOff = !v.Enabled
	case r.URL.Path == "/idp/_fake/faults" && r.Method == "POST":
		var f fakectl.Fault
		if !decode(&f) {
			return
		}
		h.faults = f.Count
	case r.URL.Path == "/idp/_fake/faults" && r.Method == "DELETE":
		h.faults = 0
	default:
		http.NotFound(w, r)
	}
}

func newHarness(t *testing.T, mode string, consent bool, f flaws) (*harness, *grade.Target) {
	t.Helper()
	h := &harness{t: t, f: f, mode: mode, consent: consent, states: map[string]string{}, used: map[string]bool{}, provisioned: map[string]bool{}, sessions: map[string]int{}}
	h.ctl = httptest.NewServer(http.HandlerFunc(h.control))
	t.Cleanup(h.ctl.Close)
	h.issuer = h.ctl.URL + "/idp"
	mux := http.NewServeMux()
	srv := h.server()
	mux.Handle("/mcp", h.origin(h.auth(h.limits(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil)))))
	mux.HandleFunc("GET /.well-known/oauth-protected-resource/mcp", h.prm)
	if !f.noRootPRM {
		mux.HandleFunc("GET /.well-known/oauth-protected-resource", h.prm)
	}
	mux.HandleFunc("GET /oauth/callback", h.callback)
	h.mcp = httptest.NewServer(mux)
	t.Cleanup(h.mcp.Close)
	h.mcpURL = h.mcp.URL + "/mcp"
	hc := grade.NewHTTPClient(10 * time.Second)
	rec := grade.NewRecorder(1<<20, strings.TrimPrefix(h.mcp.URL, "http://"))
	tg := &grade.Target{
		Name: "harness", HTTP: grade.NewRecordingClient(10*time.Second, rec), Recorder: rec,
		MCP: &grade.MCP{
			URL: h.mcpURL, Mode: mode, Issuer: h.issuer, ProgressiveConsent: consent, ServerClientID: "srv",
			NextcloudAudience: "nextcloud", Users: [2]string{"alice", "bob"},
			Tokens:     harnessTokens{h},
			IdPControl: fakectl.NewIdP(h.issuer, hc),
			NCControl:  fakectl.NewNextcloud(h.ctl.URL+"/nc", hc),
			Approve: func(_ context.Context, authURL, user string) (string, error) {
				u, _ := url.Parse(authURL)
				q := u.Query()
				return q.Get("redirect_uri") + "?" + url.Values{"state": {q.Get("state")}, "code": {"c"}, "as": {user}}.Encode(), nil
			},
			ServerLog: func() []byte { h.mu.Lock(); defer h.mu.Unlock(); return []byte(h.logs.String()) },
		},
	}
	return h, tg
}

type harnessTokens struct{ h *harness }

func (ht harnessTokens) Token(_ context.Context, user string, scopes []string) (string, error) {
	return ht.h.mint(map[string]any{"sub": user, "aud": ht.h.mcpURL, "scope": strings.Join(scopes, " ")}, fakectl.KeyCurrent), nil
}
