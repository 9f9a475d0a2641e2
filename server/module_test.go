package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/modules"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/notes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/toolsnaps"
)

type probeIn struct {
	Word string `json:"word" jsonschema:"Any word."`
}

type probeOut struct {
	Word    string `json:"word" jsonschema:"The word."`
	Version string `json:"version" jsonschema:"Nextcloud's version string."`
}

// probeModule is a throw-away module written only with the kit: one read
// and one write tool that each ask Nextcloud for its version, and a
// resource template, on the deck scopes (no module uses them yet).
func probeModule() tools.Module {
	version := func(ctx context.Context, c *nextcloud.Client, in probeIn) (probeOut, error) {
		caps, err := c.Capabilities(ctx)
		if err != nil {
			return probeOut{}, err
		}
		return probeOut{Word: in.Word, Version: caps.Version.String}, nil
	}
	return tools.Module{
		ID: "probe", Title: "Probe", Instructions: "probe (read, write)",
		Read: scopes.DeckRead, Write: scopes.DeckWrite,
		Tools: []tools.Tool{
			tools.NC(mcp.Tool{Name: "probe_read", Title: "Probe read", Description: "Read the version.",
				Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: tools.Ptr(false)}}, version),
			tools.NC(mcp.Tool{Name: "probe_write", Title: "Probe write", Description: "Pretend to write.",
				Annotations: &mcp.ToolAnnotations{DestructiveHint: tools.Ptr(false), OpenWorldHint: tools.Ptr(false)}}, version),
		},
		Resources: []tools.Resource{
			tools.TemplateResource(mcp.ResourceTemplate{URITemplate: "nc://Probe/{id}", Name: "probe", Title: "Probe", Description: "A probe.", MIMEType: "application/json"},
				func(_ context.Context, _ *nextcloud.Client, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
					return tools.JSONResource(req.Params.URI, map[string]string{"probe": req.Params.URI})
				}),
		},
	}
}

// withProbe serves the registry plus the probe module.
func withProbe(c *server.Config) {
	c.Modules = func() []tools.Module { return append(modules.New(), probeModule()) }
}

// TestThrowawayModuleSnapshot: the kit's snapshot helper works for any
// module, this one included.
func TestThrowawayModuleSnapshot(t *testing.T) {
	toolsnaps.Test(t, "testdata/toolsnaps/probe", probeModule())
}

// TestThrowawayModule registers a module the core files know nothing
// about and shows it listed, scope-filtered, step-up-challenged and
// advertised, with nothing reaching Nextcloud for a refused call.
func TestThrowawayModule(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange, MutateServer: withProbe})
	ctx := context.Background()

	var prm struct {
		ScopesSupported []string `json:"scopes_supported"`
	}
	resp, err := http.Get(st.BaseURL + "/.well-known/oauth-protected-resource/mcp")
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&prm))
	require.NoError(t, resp.Body.Close())
	assert.Subset(t, prm.ScopesSupported, []string{scopes.DeckRead, scopes.DeckWrite, scopes.NotesRead}, "PRM advertises the module's scopes")

	readTok, err := st.Token(ctx, "alice", []string{scopes.DeckRead})
	require.NoError(t, err)
	cs := connect(t, st.MCPURL, readTok)
	lt, err := cs.ListTools(ctx, nil)
	require.NoError(t, err)
	var names []string
	for _, tl := range lt.Tools {
		names = append(names, tl.Name)
	}
	assert.Equal(t, []string{"probe_read"}, names, "deck:read lists the probe's read tool only")
	var out probeOut
	mustCall(t, cs, "probe_read", map[string]any{"word": "hi"}, &out)
	assert.Equal(t, probeOut{Word: "hi", Version: "32.0.14"}, out, "the NC tool reached Nextcloud with an exchanged token")

	st.Nextcloud.ResetLog()
	st.IdP.ResetLog()
	body := `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"probe_write","arguments":{"word":"x"}}}`
	resp = post(t, st.MCPURL, readTok, body)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, `Bearer error="insufficient_scope", error_description="tools/call probe_write requires scope deck:write", scope="deck:read deck:write", resource_metadata="`+
		st.BaseURL+`/.well-known/oauth-protected-resource/mcp"`, resp.Header.Get("WWW-Authenticate"))
	assert.Empty(t, st.Nextcloud.RequestLog(), "a refused call reaches no Nextcloud")
	assert.Empty(t, grants(st, idp.GrantTokenExchange), "a refused call costs no exchange")

	rt, err := cs.ListResourceTemplates(ctx, nil)
	require.NoError(t, err)
	require.Len(t, rt.ResourceTemplates, 1)
	assert.Equal(t, "nc://Probe/{id}", rt.ResourceTemplates[0].URITemplate)
	r, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "nc://Probe/5"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"probe":"nc://Probe/5"}`, r.Contents[0].Text)
}

// TestNotesResourcesNeedNotesScope: a token holding only another module's
// scope sees no Notes resource and cannot read one; nothing reaches
// Nextcloud and no token is exchanged.
func TestNotesResourcesNeedNotesScope(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange, MutateServer: withProbe})
	ctx := context.Background()
	tok, err := st.Token(ctx, "alice", []string{scopes.DeckRead, scopes.DeckWrite})
	require.NoError(t, err)
	cs := connect(t, st.MCPURL, tok)
	st.Nextcloud.ResetLog()
	st.IdP.ResetLog()

	lr, err := cs.ListResources(ctx, nil)
	require.NoError(t, err)
	for _, r := range lr.Resources {
		assert.NotEqual(t, notes.NotesSettingsURI, r.URI, "notes settings listed without notes:read")
	}
	rt, err := cs.ListResourceTemplates(ctx, nil)
	require.NoError(t, err)
	for _, r := range rt.ResourceTemplates {
		assert.NotContains(t, r.URITemplate, "Notes", "a Notes template listed without notes:read")
	}
	for _, uri := range []string{notes.NotesSettingsURI, notes.NoteURI(1), notes.AttachmentURI(1, "a.png")} {
		body := `{"jsonrpc":"2.0","id":4,"method":"resources/read","params":{"uri":"` + uri + `"}}`
		resp := post(t, st.MCPURL, tok, body)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, uri)
		assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`, uri)
		assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `scope="deck:read deck:write notes:read"`, uri)
		_, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
		assert.ErrorContains(t, err, "insufficient_scope", uri)
	}
	assert.Empty(t, st.Nextcloud.RequestLog(), "Nextcloud saw a request")
	assert.Empty(t, grants(st, idp.GrantTokenExchange), "a token was exchanged")
}
