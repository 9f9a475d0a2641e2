// Package tools holds the MCP tools and resources of the Nextcloud apps,
// one file per app (notes.go, ...). Each app file contributes a function
// returning its []Tool and one registering its resources; Catalogue and
// RegisterResources list them in the apps table below, so adding an app is
// one new file plus one line there.
//
// Tools are typed (mcp.AddTool with In/Out structs): the SDK infers input
// and output schemas from the structs, validates arguments against them
// (wrong types and unknown fields are tool errors), and turns a handler's Go
// error into an isError result carrying the error text. Handlers validate
// what a schema cannot express (empty titles, non-positive ids, sizes) and
// return Nextcloud failures as the client's *nextcloud.Error, whose text is
// written for users and never contains credentials.
package tools

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/notesearch"
)

// NotesIndex answers note searches for users a background job has indexed.
// *notesearch.Index implements it.
type NotesIndex interface {
	// Search ranks key's indexed notes; indexed=false when key has none.
	Search(key, query string, limit int) (res notesearch.Results, indexed bool)
}

// Deps is what tools need from the server.
type Deps struct {
	// Client returns the Nextcloud client for the request being served. The
	// mode layer (basic / pass-through / exchange) and the provisioning
	// check live behind it; its error text is user-facing and becomes the
	// tool error. extra is nil outside streamable HTTP (stdio, in-memory).
	Client func(ctx context.Context, extra *mcp.RequestExtra) (*nextcloud.Client, error)
	// NotesIndex, when non-nil, answers nc_notes_search_notes for users it
	// has indexed (keyed by the token subject, extra.TokenInfo.UserID; ""
	// when there is no token, as in basic mode).
	NotesIndex NotesIndex
	// ExplainError, when set, rewrites a failed call's error before it is
	// returned, e.g. to add what a 401 means in the server's token mode.
	ExplainError func(error) error
	// Logger receives one line per failed tool call (tool name and error
	// text, which never holds secrets). Nil discards.
	Logger *slog.Logger
	// Now stamps responses; nil means time.Now.
	Now func() time.Time
}

func (d *Deps) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

func (d *Deps) now() time.Time {
	if d.Now == nil {
		return time.Now().UTC()
	}
	return d.Now().UTC()
}

// client returns the request's Nextcloud client.
func (d *Deps) client(ctx context.Context, extra *mcp.RequestExtra) (*nextcloud.Client, error) {
	if d.Client == nil {
		return nil, fmt.Errorf("this server has no Nextcloud connection configured")
	}
	c, err := d.Client(ctx, extra)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("no Nextcloud client for this request")
	}
	return c, nil
}

// userKey is the NotesIndex key of a request: the token subject, or "".
func userKey(extra *mcp.RequestExtra) string {
	if extra == nil || extra.TokenInfo == nil {
		return ""
	}
	return extra.TokenInfo.UserID
}

// Tool is one MCP tool with the soft scopes it needs.
type Tool struct {
	Name     string
	Title    string
	Scopes   []string // all required (architecture §3)
	ReadOnly bool

	register func(s *mcp.Server, d *Deps)
}

// app is one Nextcloud app's contribution.
type app struct {
	tools     func() []Tool
	resources func(s *mcp.Server, d *Deps)
}

// apps lists every app, in catalogue order. Add new apps here.
var apps = []app{
	{tools: notesTools, resources: registerNotesResources},
}

// Catalogue returns every tool, in a stable order.
func Catalogue() []Tool {
	var out []Tool
	for _, a := range apps {
		out = append(out, a.tools()...)
	}
	return out
}

// Register adds tools to s; their handlers use deps (nil: no Nextcloud,
// every call fails with a clear error).
func Register(s *mcp.Server, deps *Deps, tools []Tool) {
	if deps == nil {
		deps = &Deps{}
	}
	for _, t := range tools {
		t.register(s, deps)
	}
}

// RegisterResources adds every app's resources and nc://capabilities.
func RegisterResources(s *mcp.Server, deps *Deps) {
	if deps == nil {
		deps = &Deps{}
	}
	registerCoreResources(s, deps)
	for _, a := range apps {
		if a.resources != nil {
			a.resources(s, deps)
		}
	}
}

// handler is a typed tool body; d is never nil.
type handler[In, Out any] func(ctx context.Context, req *mcp.CallToolRequest, d *Deps, in In) (*mcp.CallToolResult, Out, error)

// typedTool builds a Tool whose registration wires h through mcp.AddTool,
// with logging of failures and recovery from panics (a bug in one call
// must not take the server down).
func typedTool[In, Out any](def mcp.Tool, scopes []string, h handler[In, Out]) Tool {
	readOnly := def.Annotations != nil && def.Annotations.ReadOnlyHint
	title := def.Title
	return Tool{
		Name: def.Name, Title: title, Scopes: scopes, ReadOnly: readOnly,
		register: func(s *mcp.Server, d *Deps) {
			t := def
			if t.OutputSchema == nil {
				t.OutputSchema = outputSchema[Out]()
			}
			mcp.AddTool(s, &t, func(ctx context.Context, req *mcp.CallToolRequest, in In) (res *mcp.CallToolResult, out Out, err error) {
				defer func() {
					if p := recover(); p != nil {
						d.logger().Error("tool panicked", "tool", def.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
						var zero Out
						res, out, err = nil, zero, fmt.Errorf("internal error in %s; the failure was logged", def.Name)
					}
				}()
				res, out, err = h(ctx, req, d, in)
				if err != nil {
					if d.ExplainError != nil {
						err = d.ExplainError(err)
					}
					d.logger().Info("tool failed", "tool", def.Name, "error", logText(err))
				}
				return res, out, err
			})
		},
	}
}

func ptr[T any](v T) *T { return &v }

// logText is an error's text for the log. Errors whose message holds
// something meant only for the user (a personal authorization link)
// provide a LogText without it.
func logText(err error) string {
	var lt interface{ LogText() string }
	if errors.As(err, &lt) {
		return lt.LogText()
	}
	return err.Error()
}

// outputSchema infers Out's schema like the SDK would, but declares slices
// as plain arrays: outputs always carry [] rather than null, so clients
// should not have to handle null (the SDK validates every output against
// this schema, so a nil slice would be caught as a bug).
func outputSchema[Out any]() *jsonschema.Schema {
	sch, err := jsonschema.For[Out](nil)
	if err != nil {
		panic(fmt.Sprintf("tools: output schema of %T: %v", *new(Out), err))
	}
	var walk func(*jsonschema.Schema)
	walk = func(x *jsonschema.Schema) {
		if x == nil {
			return
		}
		if slices.Equal(x.Types, []string{"null", "array"}) {
			x.Types, x.Type = nil, "array"
		}
		for _, p := range x.Properties {
			walk(p)
		}
		walk(x.Items)
	}
	walk(sch)
	return sch
}
