package nextcloud

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/davxml"
)

// boardsApp is a throw-away app that exists only in this file: it proves
// that an app plugs into every part of the fake without a change to the
// core. Users own boards; the app serves them on index.php, OCS and DAV,
// and brings a capability block, a navigation entry, seed data and state.
type boardsApp struct{ baseApp }

const boardsNS = "urn:x-boards"

type board struct {
	ID    int64  `json:"id"`
	Owner string `json:"owner"`
	Title string `json:"title"`
}

type boardsState struct {
	boards map[int64]*board
	next   int64
}

func (boardsApp) id() string { return "boards" }

func (boardsApp) newState() appState { return &boardsState{boards: map[int64]*board{}, next: 1} }

func (s *boardsState) snapshot() (json.RawMessage, error) { return json.Marshal(s.sorted()) }

func (s *boardsState) restore(raw json.RawMessage) error {
	var list []*board
	if err := json.Unmarshal(raw, &list); err != nil {
		return err
	}
	for _, b := range list {
		s.boards[b.ID] = b
		s.next = max(s.next, b.ID+1)
	}
	return nil
}

func (s *boardsState) nodesDeleted(map[int64]bool) {}

func (s *boardsState) userDeleted(uid string) {
	for id, b := range s.boards {
		if b.Owner == uid {
			delete(s.boards, id)
		}
	}
}

func (s *boardsState) sorted() []*board {
	out := []*board{}
	for _, b := range s.boards {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *boardsState) add(owner, title string) *board {
	b := &board{ID: s.next, Owner: owner, Title: title}
	s.boards[b.ID] = b
	s.next++
	return b
}

func (s *boardsState) of(uid string) []*board {
	var out []*board
	for _, b := range s.sorted() {
		if b.Owner == uid {
			out = append(out, b)
		}
	}
	return out
}

func boardsOf(st *state) *boardsState { return stateOf[*boardsState](st, "boards") }

func (boardsApp) indexRoutes() []appRoute {
	re := regexp.MustCompile(`^/apps/boards/api/v1/boards$`)
	return []appRoute{
		{method: "GET", re: re, cors: true, h: func(c *appCtx) {
			var list []any
			c.n.withState(func(st *state) bool {
				for _, b := range boardsOf(st).of(c.auth.uid) {
					list = append(list, obj{{"id", b.ID}, {"title", b.Title}})
				}
				return false
			})
			writeAppJSON(c.w, http.StatusOK, append([]any{}, list...))
		}},
		{method: "POST", re: re, cors: true, h: func(c *appCtx) {
			title, _ := c.p.str("title")
			var b *board
			c.n.withState(func(st *state) bool {
				b = boardsOf(st).add(c.auth.uid, title)
				return true
			})
			writeAppJSON(c.w, http.StatusOK, obj{{"id", b.ID}, {"title", b.Title}})
		}},
	}
}

func (boardsApp) ocsRoutes() []ocsRoute {
	return []ocsRoute{{method: "GET", pattern: "/apps/boards/api/v1/stats", h: func(c *ocsCtx) ocsResult {
		var count int
		c.n.withState(func(st *state) bool {
			count = len(boardsOf(st).of(c.auth.uid))
			return false
		})
		return ocsOK(obj{{"boards", count}})
	}}}
}

func (boardsApp) capabilities(st *state, uid string) []capability {
	return []capability{
		{name: "boards", value: obj{{"version", "1.0"}, {"yours", len(boardsOf(st).of(uid))}}},
		{name: "boards-public", public: true, value: obj{{"enabled", true}}},
	}
}

func (boardsApp) navigation() []navEntry { return []navEntry{{id: "boards", name: "Boards", order: 5}} }

func (boardsApp) defaultSeed(s *Seed) {
	if s.Apps == nil {
		s.Apps = map[string]json.RawMessage{}
	}
	s.Apps["boards"] = json.RawMessage(`[{"owner":"alice","title":"Roadmap"}]`)
}

func (boardsApp) seed(st *state, _ Seed, raw json.RawMessage) error {
	if raw == nil {
		return nil
	}
	var list []board
	if err := decodeSeed(raw, &list); err != nil {
		return fmt.Errorf("seed boards: %w", err)
	}
	for _, b := range list {
		if st.users[b.Owner] == nil {
			return fmt.Errorf("seed board %q: unknown owner %q", b.Title, b.Owner)
		}
		boardsOf(st).add(b.Owner, b.Title)
	}
	return nil
}

func (boardsApp) dav() *davPlugin {
	return &davPlugin{collections: []davCollection{boardsDAV{}}, namespaces: davxml.Namespaces{{Prefix: "b", URI: boardsNS}}}
}

// boardsDAV is /remote.php/dav/boards/{uid}/{id}: the user's boards, with a
// method of its own (MKBOARD) the way CalDAV brings MKCALENDAR.
type boardsDAV struct{}

func (boardsDAV) name() string { return "boards" }

func (boardsDAV) resolve(d *davReq, rest []string) (davNode, *davError) {
	switch {
	case len(rest) == 0:
		return boardsHome{uid: d.auth.uid, top: true}, nil
	case rest[0] != d.auth.uid:
		return nil, errNotFound("File not found: " + rest[0] + " in 'boards'")
	case len(rest) == 1:
		return boardsHome{uid: rest[0]}, nil
	case len(rest) == 2:
		for _, b := range boardsOf(d.st()).of(rest[0]) {
			if strconv.FormatInt(b.ID, 10) == rest[1] {
				return boardNode{b: b}, nil
			}
		}
	}
	return nil, errNotFound("File not found: " + rest[len(rest)-1])
}

func (boardsDAV) serve(d *davReq) (bool, *davError) {
	if d.r.Method != "MKBOARD" {
		return false, nil
	}
	boardsOf(d.st()).add(d.auth.uid, string(d.body))
	d.changed = true
	d.w.WriteHeader(http.StatusCreated)
	return true, nil
}

func (boardsDAV) methods(_ *davReq, node davNode) []string {
	if _, ok := node.(boardsHome); ok {
		return []string{"MKBOARD"}
	}
	return nil
}

type boardsHome struct {
	uid string
	top bool
}

func (h boardsHome) davPath(*davReq) string {
	if h.top {
		return "/boards/"
	}
	return "/boards/" + h.uid + "/"
}
func (boardsHome) isCollection() bool { return true }
func (h boardsHome) children(d *davReq) []davNode {
	if h.top {
		return []davNode{boardsHome{uid: h.uid}}
	}
	var out []davNode
	for _, b := range boardsOf(d.st()).of(h.uid) {
		out = append(out, boardNode{b: b})
	}
	return out
}
func (boardsHome) prop(*davReq, davxml.Name, bool) (string, bool) { return "", false }

type boardNode struct{ b *board }

func (n boardNode) davPath(*davReq) string {
	return "/boards/" + n.b.Owner + "/" + strconv.FormatInt(n.b.ID, 10)
}
func (boardNode) isCollection() bool         { return false }
func (boardNode) children(*davReq) []davNode { return nil }
func (n boardNode) prop(_ *davReq, name davxml.Name, _ bool) (string, bool) {
	if name == (davxml.Name{Space: boardsNS, Local: "title"}) {
		return davxml.EscapeText(n.b.Title), true
	}
	return "", false
}

// seamReq serves one request on n as uid (password = uid + "-password").
func seamReq(t *testing.T, n *Nextcloud, uid, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	// The control API answers loopback hosts only; httptest's default
	// Host is example.com.
	r.Host = "127.0.0.1"
	if uid != "" {
		r.SetBasicAuth(uid, uid+"-password")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	n.ServeHTTP(w, r)
	return w
}

func jsonOf(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v), w.Body.String())
	return v
}

// TestAppSeam registers boardsApp next to the real apps and shows each part
// of it served: index.php and OCS routes, capabilities, navigation, seed,
// DAV, reset and state.json.
func TestAppSeam(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ControlAPI = true
	cfg.DataDir = t.TempDir()
	n, err := newWithApps(cfg, boardsApp{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })

	t.Run("index.php route with the default seed", func(t *testing.T) {
		for _, path := range []string{"/index.php/apps/boards/api/v1/boards", "/apps/boards/api/v1/boards"} {
			w := seamReq(t, n, "alice", "GET", path, "")
			require.Equal(t, http.StatusOK, w.Code)
			assert.JSONEq(t, `[{"id":1,"title":"Roadmap"}]`, w.Body.String())
		}
		// The core's middlewares apply to app routes: CORSMiddleware for a
		// #[CORS] route, then SecurityMiddleware.
		w := seamReq(t, n, "", "GET", "/index.php/apps/boards/api/v1/boards", "")
		assert.Equal(t, http.StatusUnauthorized, w.Code)
		assert.JSONEq(t, `{"message":"CORS requires basic auth"}`, w.Body.String())
		w = seamReq(t, n, "", "GET", "/index.php/apps/boards/api/v1/boards", "", "OCS-APIRequest", "true")
		assert.Equal(t, http.StatusUnauthorized, w.Code)
		assert.JSONEq(t, `{"message":"Current user is not logged in"}`, w.Body.String())
	})

	t.Run("OCS route in the OCS envelope", func(t *testing.T) {
		w := seamReq(t, n, "alice", "GET", "/ocs/v2.php/apps/boards/api/v1/stats?format=json", "", "OCS-APIRequest", "true")
		require.Equal(t, http.StatusOK, w.Code)
		assert.JSONEq(t, `{"ocs":{"meta":{"status":"ok","statuscode":200,"message":"OK"},"data":{"boards":1}}}`, w.Body.String())
		w = seamReq(t, n, "alice", "GET", "/ocs/v2.php/apps/boards/api/v1/stats?format=json", "")
		assert.Equal(t, http.StatusPreconditionFailed, w.Code, "the core's CSRF check applies")
	})

	t.Run("capabilities", func(t *testing.T) {
		caps := func(uid string) map[string]any {
			w := seamReq(t, n, uid, "GET", "/ocs/v2.php/cloud/capabilities?format=json", "", "OCS-APIRequest", "true")
			require.Equal(t, http.StatusOK, w.Code)
			return jsonOf(t, w)["ocs"].(map[string]any)["data"].(map[string]any)["capabilities"].(map[string]any)
		}
		anon := caps("")
		assert.Equal(t, map[string]any{"enabled": true}, anon["boards-public"])
		assert.NotContains(t, anon, "boards", "a private block is for logged-in users only")
		alice := caps("alice")
		assert.Equal(t, map[string]any{"version": "1.0", "yours": float64(1)}, alice["boards"])
		assert.Contains(t, alice, "notes", "the registered apps still report theirs")
	})

	t.Run("navigation by order", func(t *testing.T) {
		w := seamReq(t, n, "alice", "GET", "/ocs/v2.php/core/navigation/apps?format=json", "", "OCS-APIRequest", "true")
		require.Equal(t, http.StatusOK, w.Code)
		var doc struct {
			OCS struct {
				Data []struct {
					ID    string `json:"id"`
					Order int    `json:"order"`
					Href  string `json:"href"`
				} `json:"data"`
			} `json:"ocs"`
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
		var ids []string
		for _, e := range doc.OCS.Data {
			ids = append(ids, e.ID)
		}
		assert.Equal(t, []string{"files", "boards", "notes"}, ids)
		assert.Equal(t, "/index.php/apps/boards/", doc.OCS.Data[1].Href)
	})

	t.Run("DAV collection, namespace, method and Allow", func(t *testing.T) {
		w := seamReq(t, n, "alice", "MKBOARD", "/remote.php/dav/boards/alice/", "Backlog")
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())

		w = seamReq(t, n, "alice", "PROPFIND", "/remote.php/dav/boards/alice/",
			`<d:propfind xmlns:d="DAV:" xmlns:b="urn:x-boards"><d:prop><b:title/><d:resourcetype/></d:prop></d:propfind>`, "Depth", "1")
		require.Equal(t, http.StatusMultiStatus, w.Code, w.Body.String())
		body := w.Body.String()
		assert.Contains(t, body, `xmlns:b="urn:x-boards"`, "the app's prefix is declared on the root")
		assert.Contains(t, body, `<d:href>/remote.php/dav/boards/alice/2</d:href><d:propstat><d:prop><b:title>Backlog</b:title><d:resourcetype/>`)
		assert.Contains(t, body, `<d:href>/remote.php/dav/boards/alice/</d:href>`)

		w = seamReq(t, n, "alice", "OPTIONS", "/remote.php/dav/boards/alice/", "")
		assert.Contains(t, w.Header().Get("Allow"), "MKBOARD")
		w = seamReq(t, n, "alice", "PROPFIND", "/remote.php/dav/", "", "Depth", "1")
		assert.Contains(t, w.Body.String(), "<d:href>/remote.php/dav/boards/</d:href>", "the DAV root lists the collection")

		// The core answers the methods the collection leaves to it, as sabre
		// does for read-only nodes.
		w = seamReq(t, n, "alice", "DELETE", "/remote.php/dav/boards/alice/2", "")
		assert.Equal(t, http.StatusForbidden, w.Code)
		w = seamReq(t, n, "alice", "MKBOARD", "/remote.php/dav/files/alice/", "")
		assert.Equal(t, http.StatusNotImplemented, w.Code, "MKBOARD is the boards collection's only")
	})

	t.Run("seed through the control API", func(t *testing.T) {
		w := seamReq(t, n, "", "POST", "/_fake/seed", `{"apps":{"boards":[{"owner":"bob","title":"Bob's"}]}}`, "Content-Type", "application/json")
		require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
		w = seamReq(t, n, "bob", "GET", "/apps/boards/api/v1/boards", "")
		assert.JSONEq(t, `[{"id":3,"title":"Bob's"}]`, w.Body.String())

		for _, tc := range []struct{ name, body, wantErr string }{
			{name: "unknown app", body: `{"apps":{"nope":[]}}`, wantErr: `no app \"nope\"`},
			{name: "app without seed", body: `{"apps":{"theming":{}}}`, wantErr: `app \"theming\" takes no seed data`},
			{name: "unknown field in a section", body: `{"apps":{"boards":[{"owner":"bob","name":"x"}]}}`, wantErr: `unknown field \"name\"`},
		} {
			w = seamReq(t, n, "", "POST", "/_fake/seed", tc.body, "Content-Type", "application/json")
			assert.Equal(t, http.StatusBadRequest, w.Code, tc.name)
			assert.Contains(t, w.Body.String(), tc.wantErr, tc.name)
		}
		// The Notes app takes its list in its section too.
		w = seamReq(t, n, "", "POST", "/_fake/seed", `{"apps":{"notes":[{"owner":"bob","title":"From the section"}]}}`, "Content-Type", "application/json")
		require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
		w = seamReq(t, n, "bob", "GET", "/index.php/apps/notes/api/v1/notes?exclude=content", "")
		assert.Contains(t, w.Body.String(), `"title":"From the section"`)
	})

	t.Run("state.json section and restart", func(t *testing.T) {
		w := seamReq(t, n, "alice", "POST", "/apps/boards/api/v1/boards", `{"title":"Kept"}`, "Content-Type", "application/json")
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.NoError(t, n.Close())

		again, err := newWithApps(cfg, boardsApp{})
		require.NoError(t, err)
		w = seamReq(t, again, "alice", "GET", "/apps/boards/api/v1/boards", "")
		assert.JSONEq(t, `[{"id":1,"title":"Roadmap"},{"id":2,"title":"Backlog"},{"id":4,"title":"Kept"}]`, w.Body.String())

		_, err = New(cfg)
		require.Error(t, err, "a fake without the app refuses its section")
		assert.Contains(t, err.Error(), `app "boards"`)
	})

	t.Run("user deletion reaches the app", func(t *testing.T) {
		w := seamReq(t, n, "admin", "DELETE", "/ocs/v2.php/cloud/users/bob?format=json", "", "OCS-APIRequest", "true")
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		n.mu.Lock()
		defer n.mu.Unlock()
		for _, b := range boardsOf(n.st).boards {
			assert.NotEqual(t, "bob", b.Owner)
		}
	})

	t.Run("reset restores the app's seed", func(t *testing.T) {
		w := seamReq(t, n, "", "POST", "/_fake/reset", "")
		require.Equal(t, http.StatusNoContent, w.Code)
		w = seamReq(t, n, "alice", "GET", "/apps/boards/api/v1/boards", "")
		assert.JSONEq(t, `[{"id":1,"title":"Roadmap"}]`, w.Body.String())
	})
}

func TestAppRegistryRefusesClashes(t *testing.T) {
	tests := []struct {
		name    string
		extra   []app
		wantErr string
	}{
		{name: "duplicate id", extra: []app{notesApp{}}, wantErr: `app id "notes"`},
		{name: "duplicate DAV collection", extra: []app{clashingDAVApp{}}, wantErr: `DAV collection name "files"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newWithApps(DefaultConfig(), tt.extra...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

type clashingDAVApp struct{ baseApp }

func (clashingDAVApp) id() string      { return "clash" }
func (clashingDAVApp) dav() *davPlugin { return &davPlugin{collections: []davCollection{filesDAV{}}} }
