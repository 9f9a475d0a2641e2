package sharing

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/toolstest"
)

// session is an MCP client session on the Sharing module, served over
// in-memory transports with a Nextcloud client for one user of the fake.
type session struct {
	cs *mcp.ClientSession
	// clients counts how often the kit asked for a Nextcloud client: in
	// exchange mode each ask is a token exchange.
	clients *atomic.Int32
}

// connectAs serves the module with a client that talks to srv as uid
// (Basic auth; the fake's default seed gives every user the password
// uid + "-password"), and returns the session. logs, when set, receives
// the kit's log.
func connectAs(t testing.TB, srv *nctest.Server, uid string, logs *safeBuffer) session {
	t.Helper()
	c, err := nextcloud.New(srv.URL, nextcloud.Basic(uid, uid+"-password"), nextcloud.WithRetry(2, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	var n atomic.Int32
	d := &tools.Deps{Client: func(context.Context, *mcp.RequestExtra) (*nextcloud.Client, error) {
		n.Add(1)
		return c, nil
	}}
	if logs != nil {
		d.Logger = logs.logger()
	}
	ctx := context.Background()
	s := mcp.NewServer(&mcp.Implementation{Name: "sharing-test", Version: "0"}, nil)
	tools.NewSet(New()).Register(s, d)
	st, ct := mcp.NewInMemoryTransports()
	ss, err := s.Connect(ctx, st, nil)
	require.NoError(t, err)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "0"}, nil).Connect(ctx, ct, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close(); _ = ss.Wait() })
	return session{cs: cs, clients: &n}
}

// call calls a tool; a protocol error fails the test.
func (s session) call(t testing.TB, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := s.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err, "%s: protocol error", name)
	return res
}

// decode and the tool-error assertion are server/tools/toolstest's
// (one copy for every module's tests), named short for this package.
func decode[T any](t testing.TB, res *mcp.CallToolResult) T { return toolstest.Decode[T](t, res) }

func assertToolError(t testing.TB, res *mcp.CallToolResult, want string) string {
	t.Helper()
	return toolstest.AssertToolError(t, res, want)
}
