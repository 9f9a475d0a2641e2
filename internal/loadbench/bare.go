package loadbench

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/serve"
)

// EchoTool is the bare server's only tool.
const EchoTool = "echo"

// EchoArgs is the echo tool's input and output. The load client sends the
// same arguments to it as to nc_notes_get_note, so both parse alike.
type EchoArgs struct {
	NoteID int64 `json:"note_id" jsonschema:"any number; it is echoed"`
}

// BareHandler is the framework's ceiling: a go-sdk server with one tool
// that echoes its input, behind the same streamable HTTP options as
// nextcloud-mcp (server/server.go) and nothing else — no authentication,
// no policy, no upstream.
func BareHandler() http.Handler {
	s := mcp.NewServer(&mcp.Implementation{Name: "bare-echo", Version: "0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: EchoTool, Description: "Echo the input."},
		func(_ context.Context, _ *mcp.CallToolRequest, in EchoArgs) (*mcp.CallToolResult, EchoArgs, error) {
			return nil, in, nil
		})
	mux := http.NewServeMux()
	mux.Handle("/mcp", mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{
		SessionTimeout: 30 * time.Minute,
	}))
	return mux
}

// ServeBare runs the bare server on addr the way the repository's binaries
// run (internal/serve: ready line, same listener settings, SIGTERM) until
// ctx ends.
func ServeBare(ctx context.Context, addr string, stdout, stderr io.Writer) error {
	return serve.Run(ctx, serve.Options{
		Addr:    addr,
		Handler: BareHandler(),
		Logger:  slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Stdout:  stdout,
		Ready:   func(base string) map[string]any { return map[string]any{"mcp_url": base + "/mcp"} },
	})
}
