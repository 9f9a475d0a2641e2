package tools

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

// Deps is what the kit needs from the server to run tools and resources.
// Tool code never sees it: handlers get their client as an argument and
// the rest through the context helpers below (Now, Logger, Principal,
// Client).
type Deps struct {
	// Client returns the Nextcloud client for the request being served.
	// The token modes (basic / pass-through / exchange) and the
	// provisioning check live behind it; its error text is user-facing
	// and becomes the tool error. extra is nil outside streamable HTTP
	// (stdio, in-memory).
	Client func(ctx context.Context, extra *mcp.RequestExtra) (*nextcloud.Client, error)
	// Principal names the user a request acts for, as background work
	// keys users: the token subject in OAuth modes, "" without a token.
	// Nil means "" for every request.
	Principal func(extra *mcp.RequestExtra) string
	// ExplainError, when set, rewrites a failed call's error before it is
	// returned, e.g. to add what a 401 means in the server's token mode.
	ExplainError func(error) error
	// Resync, when set, asks the background worker to sync user again
	// soon; the kit calls it after a module's Invalidate.
	Resync func(user string)
	// Logger receives one line per failed call (tool name and error text,
	// which never holds secrets). Nil discards.
	Logger *slog.Logger
	// Now stamps responses; nil means time.Now.
	Now func() time.Time
	// Files bounds the file transfers of tools (zero fields take the
	// defaults); FileLimits reads it.
	Files FileTransfer
}

// FileTransfer bounds what tools move between a client and Nextcloud's
// files: server settings (FILES_MAX_READ_BYTES, FILES_CHUNK_SIZE) that
// every module reading or writing files honours.
type FileTransfer struct {
	// MaxReadBytes is the largest file a tool reads into a result.
	MaxReadBytes int64
	// ChunkSize: a file written with more bytes than this is uploaded in
	// chunks of this size (Nextcloud's chunked upload v2).
	ChunkSize int64
}

// Defaults of FileTransfer.
const (
	DefaultMaxReadBytes = 10 << 20
	DefaultChunkSize    = 10 << 20
)

// FileLimits is the server's FileTransfer, defaults filled in.
func FileLimits(ctx context.Context) FileTransfer {
	var f FileTransfer
	if d := callOf(ctx).d; d != nil {
		f = d.Files
	}
	if f.MaxReadBytes <= 0 {
		f.MaxReadBytes = DefaultMaxReadBytes
	}
	if f.ChunkSize <= 0 {
		f.ChunkSize = DefaultChunkSize
	}
	return f
}

// errNoConnection is the tool error when the server has no Nextcloud.
var errNoConnection = errors.New("this server has no Nextcloud connection configured")

func (d *Deps) logger() *slog.Logger {
	if d == nil || d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

func (d *Deps) now() time.Time {
	if d == nil || d.Now == nil {
		return time.Now().UTC()
	}
	return d.Now().UTC()
}

func (d *Deps) principal(extra *mcp.RequestExtra) string {
	if d == nil || d.Principal == nil {
		return ""
	}
	return d.Principal(extra)
}

// client returns the request's Nextcloud client.
func (d *Deps) client(ctx context.Context, extra *mcp.RequestExtra) (*nextcloud.Client, error) {
	if d == nil || d.Client == nil {
		return nil, errNoConnection
	}
	c, err := d.Client(ctx, extra)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errors.New("no Nextcloud client for this request")
	}
	return c, nil
}

func (d *Deps) explain(err error) error {
	if d == nil || d.ExplainError == nil {
		return err
	}
	return d.ExplainError(err)
}

// call is what the kit puts in a handler's context.
type call struct {
	d     *Deps
	extra *mcp.RequestExtra
}

type callKey struct{}

func withCall(ctx context.Context, d *Deps, extra *mcp.RequestExtra) context.Context {
	return context.WithValue(ctx, callKey{}, &call{d: d, extra: extra})
}

func callOf(ctx context.Context) *call {
	if c, ok := ctx.Value(callKey{}).(*call); ok {
		return c
	}
	return &call{}
}

// Now is the time of the call being served, in UTC.
func Now(ctx context.Context) time.Time { return callOf(ctx).d.now() }

// Timestamp is Now in RFC 3339, as tool outputs report it.
func Timestamp(ctx context.Context) string { return Now(ctx).Format(time.RFC3339) }

// Logger is the server's logger (never give it secrets).
func Logger(ctx context.Context) *slog.Logger { return callOf(ctx).d.logger() }

// Principal is the user the call acts for, as Background keys users: the
// token subject in OAuth modes, "" in basic mode.
func Principal(ctx context.Context) string {
	c := callOf(ctx)
	return c.d.principal(c.extra)
}

// Client obtains the call's Nextcloud client, for Func tools that need one
// only on some paths (an exchange-mode call costs a token exchange). NC
// tools get theirs as an argument.
func Client(ctx context.Context) (*nextcloud.Client, error) {
	c := callOf(ctx)
	return c.d.client(ctx, c.extra)
}

// Status is how the upstream server's response models begin; modules
// embed it in their outputs: success (always true, since failures are
// tool errors) and when the server answered.
type Status struct {
	Success   bool   `json:"success" jsonschema:"Always true; failures are tool errors."`
	Timestamp string `json:"timestamp" jsonschema:"When the server answered (RFC 3339, UTC)."`
}

// OK is the Status of a successful call.
func OK(ctx context.Context) Status { return Status{Success: true, Timestamp: Timestamp(ctx)} }
