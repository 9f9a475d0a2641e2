package notes

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/core"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/toolstest"
)

var fixedNow = time.Date(2026, 8, 22, 10, 0, 0, 0, time.UTC)

// Deps is the kit's dependency struct, named as the tests use it.
type Deps = tools.Deps

// The fake's default seed gives every user the password uid + "-password"
// (fakes/nextcloud/seed.go, DefaultSeed).
const (
	alice         = "alice"
	alicePassword = "alice-password"
	bob           = "bob"
	bobPassword   = "bob-password"
)

// notesAPIPath is the Notes app's API v1, as the fake routes it
// (fakes/nextcloud/index.go).
const notesAPIPath = "/index.php/apps/notes/api/v1"

// ---- the fake Nextcloud ----

// seedWithoutNotes is the fake's default seed (alice, bob, admin and their
// files) without its notes, so that a test sees only the notes it seeds.
func seedWithoutNotes() *fakenc.Seed {
	s := fakenc.DefaultSeed()
	s.Notes = nil
	return &s
}

// startNextcloud starts the real fake Nextcloud with no notes.
func startNextcloud(t testing.TB) *nctest.Server {
	t.Helper()
	return nctest.Start(t, func(cfg *fakenc.Config) { cfg.Seed = seedWithoutNotes() })
}

// startWrapped is nctest.Start with wrap between the HTTP server and the
// fake: wrap sees every request before the fake does. The fake has no
// notes unless a mutate gives it another seed.
func startWrapped(t testing.TB, wrap func(fake http.Handler) http.Handler, mutate ...func(*fakenc.Config)) *nctest.Server {
	t.Helper()
	cfg := fakenc.DefaultConfig()
	cfg.ControlAPI = true
	cfg.Seed = seedWithoutNotes()
	for _, m := range mutate {
		m(&cfg)
	}
	fake, err := fakenc.New(cfg)
	require.NoError(t, err)
	hs := httptest.NewServer(wrap(fake))
	t.Cleanup(func() {
		hs.Close()
		assert.NoError(t, fake.Close())
	})
	return &nctest.Server{Nextcloud: fake, URL: hs.URL, HTTP: hs}
}

// apiNote is a note as the fake's Notes API returns it.
type apiNote struct {
	ID       int64  `json:"id"`
	Title    string `json:"title"`
	Modified int64  `json:"modified"`
	Category string `json:"category"`
	Favorite bool   `json:"favorite"`
	Content  string `json:"content"`
	ETag     string `json:"etag"`
}

// direct sends one request to h (the fake itself, not the server around
// it) as alice with Basic auth, and returns the status and body. It is
// safe to call from an HTTP handler: it reports problems as errors.
func direct(h http.Handler, method, path string, body any) (int, []byte, error) {
	var rd io.Reader = http.NoBody // as a server request's body: never nil
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://nextcloud.test"+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.SetBasicAuth(alice, alicePassword)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes(), nil
}

// listNotes lists alice's notes through the fake's Notes API.
func listNotes(t testing.TB, srv *nctest.Server) []apiNote {
	t.Helper()
	status, body, err := direct(srv.Nextcloud, http.MethodGet, notesAPIPath+"/notes", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "list notes: %s", body)
	var out []apiNote
	require.NoError(t, json.Unmarshal(body, &out))
	return out
}

// fetchNote reads one of alice's notes through the fake's Notes API; false
// when the API answers 404.
func fetchNote(t testing.TB, srv *nctest.Server, id int64) (apiNote, bool) {
	t.Helper()
	status, body, err := direct(srv.Nextcloud, http.MethodGet, fmt.Sprintf("%s/notes/%d", notesAPIPath, id), nil)
	require.NoError(t, err)
	if status == http.StatusNotFound {
		return apiNote{}, false
	}
	require.Equal(t, http.StatusOK, status, "get note %d: %s", id, body)
	var n apiNote
	require.NoError(t, json.Unmarshal(body, &n))
	return n, true
}

// mustFetchNote is fetchNote for a note that must exist.
func mustFetchNote(t testing.TB, srv *nctest.Server, id int64) apiNote {
	t.Helper()
	n, ok := fetchNote(t, srv, id)
	require.True(t, ok, "note %d does not exist", id)
	return n
}

// changeNote changes a note's content with an unconditional PUT to the
// fake's Notes API, as another client editing it would: edit maps the
// current content to the new one. It reports problems as errors, so that
// an HTTP handler may call it.
func changeNote(h http.Handler, id int64, edit func(content string) string) error {
	path := fmt.Sprintf("%s/notes/%d", notesAPIPath, id)
	status, body, err := direct(h, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	var cur apiNote
	if status != http.StatusOK {
		return fmt.Errorf("get note %d: HTTP %d %s", id, status, body)
	}
	if err := json.Unmarshal(body, &cur); err != nil {
		return err
	}
	status, body, err = direct(h, http.MethodPut, path, map[string]string{"content": edit(cur.Content)})
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("edit note %d: HTTP %d %s", id, status, body)
	}
	return nil
}

// concurrentEditor wraps the fake: before each of the first Times PUTs to
// a note passes through, it changes that note with a direct request to
// the fake's Notes API (changeNote with Edit), so that the tool's
// conditional write meets Nextcloud's own 412.
type concurrentEditor struct {
	T     testing.TB
	Times int32
	Edit  func(content string) string
	// puts counts the PUTs to a note that passed through the wrapper (the
	// tool's writes; the edits go to the fake directly).
	puts atomic.Int32
	n    atomic.Int32
}

var notePathRe = regexp.MustCompile(`^` + regexp.QuoteMeta(notesAPIPath) + `/notes/(\d+)$`)

func (e *concurrentEditor) wrap(fake http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m := notePathRe.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodPut {
			e.puts.Add(1)
			if e.n.Add(1) <= e.Times {
				id, err := strconv.ParseInt(m[1], 10, 64)
				if assert.NoError(e.T, err) {
					assert.NoError(e.T, changeNote(fake, id, e.Edit), "the concurrent edit failed")
				}
			}
		}
		fake.ServeHTTP(w, r)
	})
}

// putStatuses lists the statuses of the PUTs in the fake's request log,
// in order.
func putStatuses(log []fakenc.LogEntry) []int {
	var out []int
	for _, e := range log {
		if e.Method == http.MethodPut {
			out = append(out, e.Status)
		}
	}
	return out
}

// seedNotes creates notes for alice (Owner defaults to alice) as the Notes
// app would and returns them as the Notes API lists them, by id: the fake
// gives ids in creation order.
func seedNotes(t testing.TB, srv *nctest.Server, notes ...fakenc.SeedNote) []apiNote {
	t.Helper()
	before := map[int64]bool{}
	for _, n := range listNotes(t, srv) {
		before[n.ID] = true
	}
	for i := range notes {
		if notes[i].Owner == "" {
			notes[i].Owner = alice
		}
	}
	require.NoError(t, srv.SeedData(fakenc.Seed{Notes: notes}))
	var added []apiNote
	for _, n := range listNotes(t, srv) {
		if !before[n.ID] {
			added = append(added, n)
		}
	}
	slices.SortFunc(added, func(a, b apiNote) int { return int(a.ID - b.ID) })
	require.Len(t, added, len(notes))
	return added
}

// seedNote creates one note for alice and returns it.
func seedNote(t testing.TB, srv *nctest.Server, title, content, category string, modified int64) apiNote {
	t.Helper()
	return seedNotes(t, srv, fakenc.SeedNote{Title: title, Content: content, Category: category, Modified: modified})[0]
}

// seedFiles creates files in alice's tree: path → content.
func seedFiles(t testing.TB, srv *nctest.Server, files map[string]string) {
	t.Helper()
	var seed fakenc.Seed
	for p, c := range files {
		seed.Files = append(seed.Files, fakenc.SeedFile{Owner: alice, Path: p, Content: c})
	}
	require.NoError(t, srv.SeedData(seed))
}

// attachmentDir is a note's attachment folder in alice's files, where the
// Notes app keeps it: Notes/<category>/.attachments.<id>.
func attachmentDir(category string, id int64) string {
	dir := "Notes"
	if category != "" {
		dir += "/" + category
	}
	return fmt.Sprintf("%s/.attachments.%d", dir, id)
}

// davExists reports whether path exists in alice's files, asked over the
// fake's WebDAV (a GET, which answers 200 for folders too).
func davExists(t testing.TB, srv *nctest.Server, path string) bool {
	t.Helper()
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	status, body, err := direct(srv.Nextcloud, http.MethodGet, "/remote.php/dav/files/"+alice+"/"+strings.Join(segs, "/"), nil)
	require.NoError(t, err)
	require.Contains(t, []int{http.StatusOK, http.StatusNotFound}, status, "GET %s: %s", path, body)
	return status == http.StatusOK
}

// ---- clients and sessions ----

// newClient is a Nextcloud client for the server at baseURL; attempts is
// WithRetry's (1: no retries).
func newClient(t testing.TB, baseURL string, creds nextcloud.Credentials, attempts int) *nextcloud.Client {
	t.Helper()
	c, err := nextcloud.New(baseURL, creds, nextcloud.WithRetry(attempts, time.Millisecond, 2*time.Millisecond))
	require.NoError(t, err)
	return c
}

// depsWith returns Deps whose every request uses c, with the clock fixed.
func depsWith(c *nextcloud.Client) *Deps {
	return &Deps{
		Client: func(context.Context, *mcp.RequestExtra) (*nextcloud.Client, error) { return c, nil },
		Now:    func() time.Time { return fixedNow },
	}
}

// depsFor returns Deps whose client talks to the server at baseURL as
// alice with Basic auth and no retries.
func depsFor(t testing.TB, baseURL string) *Deps {
	t.Helper()
	return depsWith(newClient(t, baseURL, nextcloud.Basic(alice, alicePassword), 1))
}

// connect serves the core and Notes modules with d over in-memory
// transports and returns a connected client session.
func connect(t testing.TB, d *Deps) *mcp.ClientSession {
	t.Helper()
	return connectModule(t, d, newModule())
}

// connectModule is connect with a given Notes module (to reach its index)
// and receiving middleware for the server.
func connectModule(t testing.TB, d *Deps, m *module, mw ...mcp.Middleware) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	s := mcp.NewServer(&mcp.Implementation{Name: "nextcloud-mcp-test", Version: "0"}, nil)
	s.AddReceivingMiddleware(mw...)
	tools.NewSet(core.New(), m.kit()).Register(s, d)
	st, ct := mcp.NewInMemoryTransports()
	ss, err := s.Connect(ctx, st, nil)
	require.NoError(t, err)
	c := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "0"}, nil)
	cs, err := c.Connect(ctx, ct, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close(); _ = ss.Wait() })
	return cs
}

// ---- calls and results ----

// call calls a tool; a protocol error fails the test.
func call(t testing.TB, cs *mcp.ClientSession, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err, "%s: protocol error", name)
	return res
}

// readResource reads a resource; the error is the protocol error.
func readResource(cs *mcp.ClientSession, uri string) (*mcp.ReadResourceResult, error) {
	return cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: uri})
}

// text, decode and the tool-error assertion are server/tools/toolstest's
// (one copy for every module's tests), named short for this package.
func text(res *mcp.CallToolResult) string { return toolstest.Text(res) }

func decode[T any](t testing.TB, res *mcp.CallToolResult) T { return toolstest.Decode[T](t, res) }

func assertToolError(t testing.TB, res *mcp.CallToolResult, want string) string {
	t.Helper()
	return toolstest.AssertToolError(t, res, want)
}

// toolNames lists the module's tools.
func toolNames() []string {
	var out []string
	for _, tl := range tools.NewSet(New()).Tools() {
		out = append(out, tl.Name)
	}
	return out
}

func TestNoClientConfigured(t *testing.T) {
	cs := connect(t, &Deps{})
	res := call(t, cs, ToolGetNote, map[string]any{"note_id": 1})
	assert.True(t, res.IsError)
	assert.Equal(t, "this server has no Nextcloud connection configured", text(res))
}
