package tools_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
)

type echoIn struct {
	Word string `json:"word" jsonschema:"A word (not \"bad\")."`
}

func (in echoIn) Validate() error {
	if in.Word == "bad" {
		return errors.New("word must not be bad")
	}
	return nil
}

type echoOut struct {
	Word  string   `json:"word"`
	Items []string `json:"items"`
}

func def(name string, readOnly bool) mcp.Tool {
	return mcp.Tool{Name: name, Title: "Title of " + name, Description: "Does " + name + ".", Annotations: &mcp.ToolAnnotations{ReadOnlyHint: readOnly}}
}

func echo(_ context.Context, _ *nextcloud.Client, in echoIn) (echoOut, error) {
	if in.Word == "panic" {
		panic("boom")
	}
	if in.Word == "fail" {
		return echoOut{}, errors.New("it failed")
	}
	return echoOut{Word: in.Word, Items: []string{}}, nil
}

func readAny(_ context.Context, _ *nextcloud.Client, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	return tools.JSONResource(req.Params.URI, map[string]string{"uri": req.Params.URI})
}

func TestNewSetResolvesScopesTitlesAndDescriptions(t *testing.T) {
	set := tools.NewSet(tools.Module{
		ID: "demo", Title: "Demo", Read: "demo:read", Write: "demo:write",
		Tools: []tools.Tool{
			tools.NC(def("demo_get", true), echo),
			tools.NC(def("demo_put", false), echo),
			tools.NC(def("demo_todo", true), echo, tools.Scopes("todo:read", "demo:read")),
			tools.NC(def("demo_free", false), echo, tools.Public()),
		},
		Resources: []tools.Resource{
			tools.TemplateResource(mcp.ResourceTemplate{URITemplate: "nc://Demo/{id}", Name: "demo"}, readAny),
			tools.StaticResource(mcp.Resource{URI: "nc://demo-public", Name: "pub"}, readAny, tools.Public()),
		},
	})
	byName := map[string]tools.ToolInfo{}
	for _, ti := range set.Tools() {
		byName[ti.Name] = ti
		assert.Equal(t, "demo", ti.Module)
	}
	tests := []struct {
		name, wantDesc string
		wantScopes     []string
		wantReadOnly   bool
	}{
		{name: "demo_get", wantScopes: []string{"demo:read"}, wantReadOnly: true, wantDesc: "Does demo_get. Requires the demo:read scope."},
		{name: "demo_put", wantScopes: []string{"demo:write"}, wantDesc: "Does demo_put. Requires the demo:write scope."},
		{name: "demo_todo", wantScopes: []string{"demo:read", "todo:read"}, wantReadOnly: true, wantDesc: "Does demo_todo. Requires the demo:read and todo:read scopes."},
		{name: "demo_free", wantScopes: []string{}, wantDesc: "Does demo_free."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ti, ok := byName[tt.name]
			require.True(t, ok)
			assert.Equal(t, tt.wantScopes, ti.Scopes)
			assert.Equal(t, tt.wantReadOnly, ti.ReadOnly)
			assert.Equal(t, tt.wantDesc, ti.Description)
			need, known := set.Policy().Tool(tt.name)
			assert.True(t, known)
			assert.Equal(t, tt.wantScopes, need)
		})
	}

	// The listed definitions carry the annotation title the kit filled in.
	cs := serve(t, set, &tools.Deps{})
	lt, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	require.Len(t, lt.Tools, 4)
	for _, tl := range lt.Tools {
		assert.Equal(t, "Title of "+tl.Name, tl.Annotations.Title)
		assert.Equal(t, byName[tl.Name].Description, tl.Description)
		assert.Equal(t, "array", schemaType(t, tl, "items"), "output slices are arrays, never null")
	}
}

func schemaType(t *testing.T, tl *mcp.Tool, prop string) string {
	t.Helper()
	m, ok := tl.OutputSchema.(map[string]any)
	require.True(t, ok, "output schema of %s", tl.Name)
	props := m["properties"].(map[string]any)
	return props[prop].(map[string]any)["type"].(string)
}

// TestNewSetPanics: a definition that cannot be served safely is a
// start-up panic, never a tool that anyone may call.
func TestNewSetPanics(t *testing.T) {
	scoped := tools.Module{ID: "ok", Read: "ok:read", Write: "ok:write"}
	tests := []struct {
		name string
		mods []tools.Module
		want string
	}{
		{name: "tool without scopes", want: `tool "bare" of module "bare" has no scopes`,
			mods: []tools.Module{{ID: "bare", Tools: []tools.Tool{tools.NC(def("bare", false), echo)}}}},
		{name: "write tool of a read-only module", want: `tool "w" of module "ro" has no scopes`,
			mods: []tools.Module{{ID: "ro", Read: "ro:read", Tools: []tools.Tool{tools.NC(def("w", false), echo)}}}},
		{name: "resource without scopes", want: `resource "nc://x/{id}" of module "bare" has no scopes`,
			mods: []tools.Module{{ID: "bare", Resources: []tools.Resource{tools.TemplateResource(mcp.ResourceTemplate{URITemplate: "nc://x/{id}"}, readAny)}}}},
		{name: "public with scopes", want: "is marked Public but also names scopes",
			mods: []tools.Module{withTools(scoped, tools.NC(def("t", true), echo, tools.Public(), tools.Scopes("x:read")))}},
		{name: "invalid scope", want: `names the invalid scope "two words"`,
			mods: []tools.Module{withTools(scoped, tools.NC(def("t", true), echo, tools.Scopes("two words")))}},
		{name: "duplicate tool", want: `tool "t" is defined by module "ok" and by module "ok2"`,
			mods: []tools.Module{withTools(scoped, tools.NC(def("t", true), echo)), withTools(tools.Module{ID: "ok2", Read: "r", Write: "w"}, tools.NC(def("t", true), echo))}},
		{name: "duplicate module", want: `two modules have the id "ok"`, mods: []tools.Module{scoped, scoped}},
		{name: "bad module id", want: `module id "Not OK"`, mods: []tools.Module{{ID: "Not OK"}}},
		{name: "no title", want: "has no title",
			mods: []tools.Module{withTools(scoped, tools.NC(mcp.Tool{Name: "t", Description: "d"}, echo))}},
		{name: "no description", want: "has no description",
			mods: []tools.Module{withTools(scoped, tools.NC(mcp.Tool{Name: "t", Title: "T"}, echo))}},
		{name: "zero tool", want: `a tool of module "ok" has no name`, mods: []tools.Module{withTools(scoped, tools.Tool{})}},
		{name: "bad template", want: "nc://x/{id",
			mods: []tools.Module{{ID: "t", Read: "r", Resources: []tools.Resource{tools.TemplateResource(mcp.ResourceTemplate{URITemplate: "nc://x/{id"}, readAny)}}}},
		{name: "resource without reader", want: "has no reader",
			mods: []tools.Module{{ID: "t", Read: "r", Resources: []tools.Resource{tools.StaticResource(mcp.Resource{URI: "nc://x"}, nil)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				p := recover()
				require.NotNil(t, p, "NewSet did not panic")
				assert.Contains(t, p, tt.want)
			}()
			tools.NewSet(tt.mods...)
		})
	}
}

func withTools(m tools.Module, ts ...tools.Tool) tools.Module {
	m.Tools = ts
	return m
}

func TestPolicyResources(t *testing.T) {
	set := tools.NewSet(tools.Module{
		ID: "demo", Read: "demo:read", Write: "demo:write",
		Resources: []tools.Resource{
			tools.StaticResource(mcp.Resource{URI: "demo://settings", Name: "s"}, readAny),
			tools.TemplateResource(mcp.ResourceTemplate{URITemplate: "nc://Demo/{id}", Name: "d"}, readAny),
			tools.TemplateResource(mcp.ResourceTemplate{URITemplate: "nc://Demo/{id}/files/{name}", Name: "f"}, readAny, tools.Scopes("files:read")),
			tools.StaticResource(mcp.Resource{URI: "nc://open", Name: "o"}, readAny, tools.Public()),
		},
	})
	p := set.Policy()
	tests := []struct {
		uri       string
		wantKnown bool
		want      []string
	}{
		{uri: "demo://settings", wantKnown: true, want: []string{"demo:read"}},
		{uri: "nc://Demo/42", wantKnown: true, want: []string{"demo:read"}},
		{uri: "nc://Demo/42/files/a%20b.png", wantKnown: true, want: []string{"files:read"}},
		{uri: "nc://open", wantKnown: true, want: []string{}},
		{uri: "nc://Demo/42/other", wantKnown: false},
		// RFC 6570 expands an empty {id} to nothing: the template matches
		// (as it does for the SDK) and its reader answers "not found".
		{uri: "nc://Demo/", wantKnown: true, want: []string{"demo:read"}},
		{uri: "demo://settings/x", wantKnown: false},
		{uri: "nc://Notes/1", wantKnown: false},
		{uri: "", wantKnown: false},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			got, known := p.Resource(tt.uri)
			assert.Equal(t, tt.wantKnown, known)
			if tt.wantKnown {
				assert.Equal(t, tt.want, got)
			}
		})
	}
	need, known := p.Template("nc://Demo/{id}")
	assert.True(t, known)
	assert.Equal(t, []string{"demo:read"}, need)
	_, known = p.Template("nc://Demo/{other}")
	assert.False(t, known)
	_, known = p.Tool("nope")
	assert.False(t, known, "a tool the set does not define is unknown")
	assert.Equal(t, []string{"demo:read", "files:read"}, p.Scopes())
}

// serve registers set over in-memory transports.
func serve(t *testing.T, set *tools.Set, d *tools.Deps) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	s := mcp.NewServer(&mcp.Implementation{Name: "kit-test", Version: "0"}, nil)
	set.Register(s, d)
	st, ct := mcp.NewInMemoryTransports()
	ss, err := s.Connect(ctx, st, nil)
	require.NoError(t, err)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "0"}, nil).Connect(ctx, ct, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close(); _ = ss.Wait() })
	return cs
}

func callText(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err)
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

// recorder counts client requests and background hooks.
type recorder struct {
	mu          sync.Mutex
	clients     int
	invalidated []string
	resynced    []string
}

func (r *recorder) deps() *tools.Deps {
	return &tools.Deps{
		Client: func(context.Context, *mcp.RequestExtra) (*nextcloud.Client, error) {
			r.mu.Lock()
			r.clients++
			r.mu.Unlock()
			return nextcloud.New("http://127.0.0.1:1", nil)
		},
		Principal: func(*mcp.RequestExtra) string { return "sub-1" },
		Resync: func(user string) {
			r.mu.Lock()
			r.resynced = append(r.resynced, user)
			r.mu.Unlock()
		},
		ExplainError: func(err error) error { return errors.New("explained: " + err.Error()) },
	}
}

func TestToolWrapper(t *testing.T) {
	rec := &recorder{}
	set := tools.NewSet(tools.Module{
		ID: "demo", Read: "demo:read", Write: "demo:write",
		Tools: []tools.Tool{tools.NC(def("demo_get", true), echo), tools.NC(def("demo_put", false), echo)},
		Background: &tools.Background{
			Sync: func(context.Context, *nextcloud.Client, string) error { return nil },
			Invalidate: func(user string) {
				rec.mu.Lock()
				rec.invalidated = append(rec.invalidated, user)
				rec.mu.Unlock()
			},
		},
	})
	cs := serve(t, set, rec.deps())
	tests := []struct {
		name, tool, word string
		wantErr          string // "" for success
		wantClients      int    // clients obtained by this call
		wantInvalidated  bool
	}{
		{name: "read succeeds", tool: "demo_get", word: "hi", wantClients: 1},
		{name: "invalid input costs no client", tool: "demo_get", word: "bad", wantErr: "explained: word must not be bad"},
		{name: "invalid write costs no client and invalidates nothing", tool: "demo_put", word: "bad", wantErr: "explained: word must not be bad"},
		{name: "failure is explained", tool: "demo_get", word: "fail", wantErr: "explained: it failed", wantClients: 1},
		{name: "panic is a tool error", tool: "demo_get", word: "panic", wantErr: "internal error in demo_get; the failure was logged", wantClients: 1},
		{name: "failed write invalidates nothing", tool: "demo_put", word: "fail", wantErr: "explained: it failed", wantClients: 1},
		{name: "write invalidates and asks for a resync", tool: "demo_put", word: "ok", wantClients: 1, wantInvalidated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec.mu.Lock()
			clients, inval, resync := rec.clients, len(rec.invalidated), len(rec.resynced)
			rec.mu.Unlock()
			text, isErr := callText(t, cs, tt.tool, map[string]any{"word": tt.word})
			if tt.wantErr == "" {
				assert.False(t, isErr, text)
			} else {
				assert.True(t, isErr)
				assert.Equal(t, tt.wantErr, text)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			assert.Equal(t, tt.wantClients, rec.clients-clients, "clients obtained")
			if tt.wantInvalidated {
				assert.Equal(t, []string{"sub-1"}, rec.invalidated[inval:])
				assert.Equal(t, []string{"sub-1"}, rec.resynced[resync:])
			} else {
				assert.Len(t, rec.invalidated, inval)
				assert.Len(t, rec.resynced, resync)
			}
		})
	}
}

func TestFuncToolGetsContextHelpers(t *testing.T) {
	rec := &recorder{}
	type out struct {
		Principal string `json:"principal"`
		Stamp     string `json:"stamp"`
	}
	set := tools.NewSet(tools.Module{ID: "demo", Tools: []tools.Tool{
		tools.Func(def("demo_who", true), func(ctx context.Context, _ *mcp.CallToolRequest, _ echoIn) (*mcp.CallToolResult, out, error) {
			return nil, out{Principal: tools.Principal(ctx), Stamp: tools.Timestamp(ctx)}, nil
		}, tools.Public()),
	}})
	cs := serve(t, set, rec.deps())
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "demo_who", Arguments: map[string]any{"word": "x"}})
	require.NoError(t, err)
	require.False(t, res.IsError)
	got := res.StructuredContent.(map[string]any)
	assert.Equal(t, "sub-1", got["principal"])
	assert.NotEmpty(t, got["stamp"])
	assert.Zero(t, rec.clients, "a Func tool that does not ask for a client costs none")
}

func TestResourceWrapper(t *testing.T) {
	rec := &recorder{}
	set := tools.NewSet(tools.Module{ID: "demo", Read: "demo:read", Resources: []tools.Resource{
		tools.TemplateResource(mcp.ResourceTemplate{URITemplate: "nc://Demo/{id}", Name: "d"},
			func(_ context.Context, _ *nextcloud.Client, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
				switch req.Params.URI {
				case "nc://Demo/panic":
					panic("boom")
				case "nc://Demo/fail":
					return nil, errors.New("it failed")
				case "nc://Demo/missing":
					return nil, mcp.ResourceNotFoundError(req.Params.URI)
				}
				return tools.JSONResource(req.Params.URI, 1)
			}),
	}})
	cs := serve(t, set, rec.deps())
	read := func(uri string) error {
		_, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: uri})
		return err
	}
	require.NoError(t, read("nc://Demo/1"))
	assert.ErrorContains(t, read("nc://Demo/fail"), "explained: it failed")
	assert.ErrorContains(t, read("nc://Demo/panic"), "internal error reading nc://Demo/{id}")
	err := read("nc://Demo/missing")
	assert.ErrorContains(t, err, "Resource not found")
	assert.NotContains(t, err.Error(), "explained", "protocol errors are not rewritten")
}

func TestFileContents(t *testing.T) {
	tests := []struct {
		name, ct string
		data     []byte
		wantText string
		wantBlob []byte
	}{
		{name: "text", ct: "text/plain; charset=utf-8", data: []byte("hello"), wantText: "hello"},
		{name: "binary", ct: "image/png", data: []byte{0x89, 'P'}, wantBlob: []byte{0x89, 'P'}},
		{name: "invalid UTF-8 text is a blob", ct: "text/plain", data: []byte{0xff}, wantBlob: []byte{0xff}},
		{name: "empty binary is an empty blob", ct: "application/octet-stream", wantBlob: []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := tools.FileContents("nc://f", tt.ct, tt.data)
			assert.Equal(t, tt.wantText, rc.Text)
			assert.Equal(t, tt.wantBlob, rc.Blob)
			assert.Equal(t, tt.ct, rc.MIMEType)
		})
	}
}

func TestInstructions(t *testing.T) {
	set := tools.NewSet(tools.Module{ID: "a", Instructions: "apples (pick)"}, tools.Module{ID: "b"}, tools.Module{ID: "c", Instructions: "cherries (eat)"})
	assert.Equal(t, "Tools for a Nextcloud account: apples (pick); cherries (eat). Errors name what went wrong.", set.Instructions())
	assert.Empty(t, tools.NewSet().Instructions())
}

// TestResourceResultsArePrivate: every resource a module serves is read
// with the request's own Nextcloud client, so the kit marks every read
// result cacheScope "private", also when a reader says otherwise, static
// and template resources alike, public (scope-free) ones included.
func TestResourceResultsArePrivate(t *testing.T) {
	public := func(_ context.Context, _ *nextcloud.Client, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		res, err := tools.JSONResource(req.Params.URI, 1)
		if err == nil {
			res.CacheScope = "public"
		}
		return res, err
	}
	set := tools.NewSet(tools.Module{ID: "demo", Read: "demo:read", Resources: []tools.Resource{
		tools.TemplateResource(mcp.ResourceTemplate{URITemplate: "nc://Demo/{id}", Name: "d"}, readAny),
		tools.StaticResource(mcp.Resource{URI: "nc://demo-static", Name: "s"}, public),
		tools.StaticResource(mcp.Resource{URI: "nc://demo-public", Name: "p"}, public, tools.Public()),
	}})
	cs := serve(t, set, (&recorder{}).deps())
	for _, uri := range []string{"nc://Demo/1", "nc://demo-static", "nc://demo-public"} {
		res, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: uri})
		require.NoError(t, err, uri)
		assert.Equal(t, "private", res.CacheScope, uri)
	}
}
