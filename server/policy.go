package server

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// scopePolicy knows which soft scopes each tool and resource needs
// (architecture §3). The HTTP layer (server/bearer) uses it to answer 403
// step-up challenges before the MCP server runs; the MCP middleware below
// uses it to filter list results and, as defence in depth, to refuse calls
// that reach the server by any other path.
type scopePolicy struct {
	tools map[string][]string
}

func newScopePolicy() *scopePolicy { return &scopePolicy{tools: map[string][]string{}} }

func (p *scopePolicy) setTool(name string, required []string) { p.tools[name] = required }

// forTool returns the scopes a tool needs; known=false for unknown tools.
func (p *scopePolicy) forTool(name string) (required []string, known bool) {
	required, known = p.tools[name]
	return required, known
}

// forResource returns the scopes reading a resource URI needs.
func (p *scopePolicy) forResource(uri string) []string {
	switch {
	case strings.HasPrefix(uri, "notes://"), strings.HasPrefix(uri, "nc://Notes/"), strings.HasPrefix(uri, "nc://Notes?"):
		return []string{scopes.NotesRead}
	}
	return nil
}

// required implements bearer.Options.Required for JSON-RPC requests.
func (p *scopePolicy) required(method string, params json.RawMessage) ([]string, bool) {
	var x struct {
		Name string `json:"name"`
		URI  string `json:"uri"`
	}
	switch method {
	case "tools/call":
		if json.Unmarshal(params, &x) != nil {
			return nil, false
		}
		req, known := p.forTool(x.Name)
		return req, known && len(req) > 0
	case "resources/read", "resources/subscribe":
		if json.Unmarshal(params, &x) != nil {
			return nil, false
		}
		req := p.forResource(x.URI)
		return req, len(req) > 0
	}
	return nil, false
}

// granted returns the token's scopes, and ok=false when the request carries
// no token (basic mode, stdio): then nothing is filtered.
func granted(req mcp.Request) ([]string, bool) {
	extra := req.GetExtra()
	if extra == nil || extra.TokenInfo == nil {
		return nil, false
	}
	return extra.TokenInfo.Scopes, true
}

// middleware filters tools/list and resources lists by the token's scopes
// and, when callCheck is set, refuses tools/call and resources/read whose
// scopes are missing.
func (p *scopePolicy) middleware(enforce, callCheck bool) mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if !enforce {
				return next(ctx, method, req)
			}
			have, ok := granted(req)
			if !ok {
				return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "this server requires an OAuth bearer token"}
			}
			switch {
			case !callCheck:
			case method == "tools/call":
				if r, isCall := req.(*mcp.CallToolRequest); isCall && r.Params != nil {
					if need, known := p.forTool(r.Params.Name); known {
						if miss := scopes.Missing(have, need); len(miss) > 0 {
							return nil, scopeError("tools/call "+r.Params.Name, miss, have, need)
						}
					}
				}
			case method == "resources/read":
				if r, isRead := req.(*mcp.ReadResourceRequest); isRead && r.Params != nil {
					need := p.forResource(r.Params.URI)
					if miss := scopes.Missing(have, need); len(miss) > 0 {
						return nil, scopeError("resources/read "+r.Params.URI, miss, have, need)
					}
				}
			}
			res, err := next(ctx, method, req)
			if err != nil {
				return res, err
			}
			switch r := res.(type) {
			case *mcp.ListToolsResult:
				r.Tools = slices.DeleteFunc(slices.Clone(r.Tools), func(t *mcp.Tool) bool {
					need, _ := p.forTool(t.Name)
					return !scopes.HasAll(have, need)
				})
				r.CacheScope = "private"
			case *mcp.ListResourcesResult:
				r.Resources = slices.DeleteFunc(slices.Clone(r.Resources), func(x *mcp.Resource) bool {
					return !scopes.HasAll(have, p.forResource(x.URI))
				})
				r.CacheScope = "private"
			case *mcp.ListResourceTemplatesResult:
				r.ResourceTemplates = slices.DeleteFunc(slices.Clone(r.ResourceTemplates), func(x *mcp.ResourceTemplate) bool {
					return !scopes.HasAll(have, p.forResource(x.URITemplate))
				})
				r.CacheScope = "private"
			}
			return res, nil
		}
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
