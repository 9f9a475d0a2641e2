package server

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/bearer"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
)

// scopePolicy enforces the soft scopes of docs/architecture.md §3 from the
// registry's own definitions (tools.Policy). Three layers ask it: the HTTP
// layer (server/bearer) answers 403 step-up challenges before the MCP
// server runs; the MCP middleware below filters list results and, as
// defence in depth, refuses calls that reach the server by any other path.
// Every layer fails closed: a tool or resource the registry does not
// define is refused, never allowed.
type scopePolicy struct {
	p *tools.Policy
}

// required implements bearer.Options.Required for JSON-RPC requests. It
// reads params the way go-sdk does, with exact keys (bearer.Fields; the
// bearer layer has already refused bodies whose keys two decoders could
// read differently), so the tool or resource it judges is the one the SDK
// will run.
func (sp scopePolicy) required(method string, params json.RawMessage) bearer.Requirement {
	target := func(key string) (string, bool) {
		f, err := bearer.Fields(params)
		if err != nil {
			return "", false
		}
		var v string
		if raw, ok := f[key]; ok && json.Unmarshal(raw, &v) != nil {
			return "", false
		}
		return v, true
	}
	switch method {
	case "tools/call":
		name, ok := target("name")
		if !ok {
			// Malformed params: the SDK answers them with the right error.
			return bearer.Requirement{}
		}
		need, known := sp.p.Tool(name)
		if !known {
			return bearer.Requirement{Refusal: unknownTool(name)}
		}
		return bearer.Requirement{Scopes: need}
	case "resources/read", "resources/subscribe":
		uri, ok := target("uri")
		if !ok {
			return bearer.Requirement{}
		}
		need, known := sp.p.Resource(uri)
		if !known {
			return bearer.Requirement{Refusal: unknownResource(uri)}
		}
		return bearer.Requirement{Scopes: need}
	}
	return bearer.Requirement{}
}

// unknownTool is the error for a tool the registry does not define: the
// same -32602 the SDK answers for a tool it does not have.
func unknownTool(name string) *jsonrpc.Error {
	return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("unknown tool %q", name)}
}

// unknownResource is the SDK's "Resource not found" for a URI the registry
// does not define (the SDK treats unregistered and missing alike, so as
// not to reveal its configuration).
func unknownResource(uri string) error { return mcp.ResourceNotFoundError(uri) }

// granted returns the token's scopes, and ok=false when the request carries
// no token (basic mode, stdio).
func granted(req mcp.Request) ([]string, bool) {
	extra := req.GetExtra()
	if extra == nil || extra.TokenInfo == nil {
		return nil, false
	}
	return extra.TokenInfo.Scopes, true
}

// middleware refuses calls and reads of what the registry does not define
// (in every mode) and, when enforce is set (OAuth modes), filters lists by
// the token's scopes and, when callCheck is set, refuses tools/call and
// resources/read whose scopes are missing.
func (sp scopePolicy) middleware(enforce, callCheck bool) mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			var have []string
			if enforce {
				var ok bool
				if have, ok = granted(req); !ok {
					return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "this server requires an OAuth bearer token"}
				}
			}
			if err := sp.checkCall(method, req, have, enforce && callCheck); err != nil {
				return nil, err
			}
			res, err := next(ctx, method, req)
			if err != nil {
				return res, err
			}
			sp.filter(res, have, enforce)
			return res, nil
		}
	}
}

// checkCall refuses a tools/call or resources/read (or subscribe) of
// something unknown, and, with checkScopes, one whose scopes are missing.
func (sp scopePolicy) checkCall(method string, req mcp.Request, have []string, checkScopes bool) error {
	var (
		need  []string
		known bool
		uri   string
	)
	switch r := req.(type) {
	case *mcp.CallToolRequest:
		if method != "tools/call" || r.Params == nil {
			return nil
		}
		if need, known = sp.p.Tool(r.Params.Name); !known {
			return unknownTool(r.Params.Name)
		}
		return scopeCheck(method+" "+r.Params.Name, have, need, checkScopes)
	case *mcp.ReadResourceRequest:
		if r.Params == nil {
			return nil
		}
		uri = r.Params.URI
	case *mcp.SubscribeRequest:
		if r.Params == nil {
			return nil
		}
		uri = r.Params.URI
	default:
		return nil
	}
	if need, known = sp.p.Resource(uri); !known {
		return unknownResource(uri)
	}
	return scopeCheck(method+" "+uri, have, need, checkScopes)
}

// scopeCheck refuses what when have lacks a scope of need.
func scopeCheck(what string, have, need []string, checkScopes bool) error {
	if !checkScopes {
		return nil
	}
	if miss := scopes.Missing(have, need); len(miss) > 0 {
		return scopeError(what, miss, have, need)
	}
	return nil
}

// filter removes from list results what the registry does not define and,
// with enforce, what the token's scopes do not allow.
func (sp scopePolicy) filter(res mcp.Result, have []string, enforce bool) {
	allowed := func(need []string, known bool) bool {
		return known && (!enforce || scopes.HasAll(have, need))
	}
	switch r := res.(type) {
	case *mcp.ListToolsResult:
		r.Tools = slices.DeleteFunc(slices.Clone(r.Tools), func(t *mcp.Tool) bool {
			return !allowed(sp.p.Tool(t.Name))
		})
	case *mcp.ListResourcesResult:
		r.Resources = slices.DeleteFunc(slices.Clone(r.Resources), func(x *mcp.Resource) bool {
			return !allowed(sp.p.Resource(x.URI))
		})
	case *mcp.ListResourceTemplatesResult:
		r.ResourceTemplates = slices.DeleteFunc(slices.Clone(r.ResourceTemplates), func(x *mcp.ResourceTemplate) bool {
			return !allowed(sp.p.Template(x.URITemplate))
		})
	default:
		return
	}
	if enforce {
		// The list depends on the token: no shared cache may keep it.
		setPrivate(res)
	}
}

func setPrivate(res mcp.Result) {
	switch r := res.(type) {
	case *mcp.ListToolsResult:
		r.CacheScope = "private"
	case *mcp.ListResourcesResult:
		r.CacheScope = "private"
	case *mcp.ListResourceTemplatesResult:
		r.CacheScope = "private"
	}
}

// scopeError is the JSON-RPC error for a call that slipped past the HTTP
// step-up check; its text tells the user what to re-authorize with.
func scopeError(what string, missing, have, need []string) error {
	return &jsonrpc.Error{
		Code: jsonrpc.CodeInvalidRequest,
		Message: fmt.Sprintf("insufficient_scope: %s requires scope %s; re-authorize with scope %q",
			what, scopes.Format(missing), scopes.Format(scopes.Union(have, need))),
	}
}

// tokenInfo returns the request's verified token, or nil.
func tokenInfo(extra *mcp.RequestExtra) *auth.TokenInfo {
	if extra == nil {
		return nil
	}
	return extra.TokenInfo
}
