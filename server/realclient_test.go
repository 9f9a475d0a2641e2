package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/devstack/devstacktest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/notes"
)

// TestRealClientDiscoversRegistersAndStepsUp drives go-sdk's own OAuth
// client: PRM discovery, AS metadata, dynamic client registration, code +
// PKCE against the fake IdP, a read tool, then a write tool whose 403
// challenge makes the client re-authorize with the larger scope.
func TestRealClientDiscoversRegistersAndStepsUp(t *testing.T) {
	st := devstacktest.Start(t, devstack.Options{Mode: server.ModeExchange, AutoApprove: true})
	ctx := context.Background()
	const redirect = "http://127.0.0.1:1/callback"
	var requested []string
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	fetcher := func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
		u, err := url.Parse(args.URL)
		if err != nil {
			return nil, err
		}
		requested = append(requested, u.Query().Get("scope"))
		if u.Query().Get("code_challenge_method") != "S256" || u.Query().Get("resource") != st.MCPURL {
			return nil, errors.New("authorization request without PKCE S256 or resource: " + args.URL)
		}
		resp, err := noFollow.Get(args.URL)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || !strings.HasPrefix(loc.String(), redirect) {
			return nil, errors.New("unexpected redirect " + resp.Header.Get("Location"))
		}
		q := loc.Query()
		return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
	}
	h, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			RedirectURIs:            []string{redirect},
			TokenEndpointAuthMethod: "none",
			GrantTypes:              []string{"authorization_code"},
			ClientName:              "go-sdk test client",
		}},
		RedirectURL:              redirect,
		AuthorizationCodeFetcher: fetcher,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "real-client", Version: "0"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: st.MCPURL, OAuthHandler: h}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer cs.Close()

	lt, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range lt.Tools {
		if tool.Name == notes.ToolCreateNote {
			t.Fatal("the first token should only unlock read tools")
		}
	}
	mustCall(t, cs, notes.ToolSearchNotes, map[string]any{"query": "welcome"}, nil)

	var created writeOut
	mustCall(t, cs, notes.ToolCreateNote, map[string]any{"title": "Stepped up", "content": "written after re-authorization", "category": ""}, &created)
	if created.ID <= 0 {
		t.Fatalf("create after step-up = %+v", created)
	}
	// go-sdk's client unions granted and challenged scopes in no fixed
	// order (auth/authorization_code.go), so compare them as sets.
	read := strings.Fields(registryReadScopes())
	if len(requested) != 2 || !sameScopes(requested[0], read) || !sameScopes(requested[1], append(slices.Clone(read), "notes:write")) {
		t.Errorf("authorizations requested scopes %q, want %v then those plus notes:write", requested, read)
	}
	var registered bool
	for _, e := range st.IdP.RequestLog() {
		if e.Endpoint == "register" && e.Status == 201 {
			registered = true
		}
	}
	if !registered {
		t.Error("the client did not register dynamically")
	}
	if n := len(grants(st, idp.GrantTokenExchange)); n < 2 {
		t.Errorf("%d exchanges for two Nextcloud calls", n)
	}
}

// sameScopes reports whether the space-separated scope string got holds
// exactly the scopes of want, in any order.
func sameScopes(got string, want []string) bool {
	g := strings.Fields(got)
	slices.Sort(g)
	w := slices.Clone(want)
	slices.Sort(w)
	return slices.Equal(g, w)
}
