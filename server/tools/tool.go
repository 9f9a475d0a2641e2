package tools

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

// Tool is one MCP tool of a module, built with NC or Func. Its scopes are
// settled when the module joins a Set: explicit Scopes, or the module's
// Read or Write scope chosen by the ReadOnlyHint annotation, or none for
// a tool marked Public. A tool with none of these makes NewSet panic.
type Tool struct {
	def    mcp.Tool
	scopes []string
	public bool
	// install registers the resolved definition on s; h carries what the
	// wrapper needs at call time.
	install func(s *mcp.Server, def *mcp.Tool, h *hooks)
}

// hooks are the per-server parts of a tool's wrapper.
type hooks struct {
	d        *Deps
	readOnly bool
	bg       *Background
}

// Name is the tool's name.
func (t Tool) Name() string { return t.def.Name }

// Option refines a tool or resource.
type Option func(*options)

type options struct {
	scopes []string
	public bool
}

// Scopes overrides the scopes chosen from the module's Read/Write, e.g.
// for a calendar module whose task tools need todo:read.
func Scopes(s ...string) Option {
	return func(o *options) { o.scopes = append(o.scopes, s...) }
}

// Public marks a tool or resource that needs no soft scope (it still needs
// a valid token in OAuth modes). It is an explicit decision: a tool with
// neither scopes nor Public is a registration panic.
func Public() Option { return func(o *options) { o.public = true } }

func collect(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Validator is implemented by tool inputs that can check themselves. The
// kit calls Validate after the SDK has checked the JSON schema and before
// the Nextcloud client is obtained, so an invalid call costs no token
// exchange and reaches no server. Its error is the tool error.
type Validator interface {
	Validate() error
}

// NC builds a typed tool whose handler receives the request's Nextcloud
// client. The SDK infers the input schema from In and validates arguments
// against it; the kit infers the output schema from Out (slices as
// arrays, never null), validates In, obtains the client, recovers from
// panics and logs failures. A returned error becomes an isError result
// whose text is the error's (Nextcloud errors are written for users).
func NC[In, Out any](def mcp.Tool, h func(ctx context.Context, c *nextcloud.Client, in In) (Out, error), opts ...Option) Tool {
	return Func(def, func(ctx context.Context, _ *mcp.CallToolRequest, in In) (*mcp.CallToolResult, Out, error) {
		c, err := Client(ctx)
		if err != nil {
			var zero Out
			return nil, zero, err
		}
		out, err := h(ctx, c, in)
		return nil, out, err
	}, opts...)
}

// Func builds a typed tool whose handler gets the raw request: for tools
// that need no Nextcloud client (the progressive-consent tools), need one
// only on some paths (Client obtains it), or return their own result
// content. Everything else is as for NC.
func Func[In, Out any](def mcp.Tool, h func(ctx context.Context, req *mcp.CallToolRequest, in In) (*mcp.CallToolResult, Out, error), opts ...Option) Tool {
	o := collect(opts)
	t := Tool{def: def, scopes: o.scopes, public: o.public}
	name := def.Name
	t.install = func(s *mcp.Server, rdef *mcp.Tool, hk *hooks) {
		if rdef.OutputSchema == nil {
			rdef.OutputSchema = outputSchema[Out]()
		}
		mcp.AddTool(s, rdef, func(ctx context.Context, req *mcp.CallToolRequest, in In) (res *mcp.CallToolResult, out Out, err error) {
			d := hk.d
			defer func() {
				if p := recover(); p != nil {
					d.logger().Error("tool panicked", "tool", name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					var zero Out
					res, out, err = nil, zero, fmt.Errorf("internal error in %s; the failure was logged", name)
				}
			}()
			ctx = withCall(ctx, d, req.Extra)
			if v, ok := any(&in).(Validator); ok {
				err = v.Validate()
			}
			if err == nil {
				res, out, err = h(ctx, req, in)
			}
			if err != nil {
				err = d.explain(err)
				d.logger().Info("tool failed", "tool", name, "error", logText(err))
				return res, out, err
			}
			if !hk.readOnly && hk.bg != nil && hk.bg.Invalidate != nil && (res == nil || !res.IsError) {
				// The call changed what the module's background work keeps:
				// drop it, so nothing answers from stale data, and ask the
				// worker to rebuild it.
				user := Principal(ctx)
				hk.bg.Invalidate(user)
				if d != nil && d.Resync != nil {
					d.Resync(user)
				}
			}
			return res, out, nil
		})
	}
	return t
}

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

// Ptr returns a pointer to v, for the optional hints of mcp.ToolAnnotations.
func Ptr[T any](v T) *T { return &v }
