package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

// ResourceReader reads one resource with the request's Nextcloud client.
// For a template, req.Params.URI is the concrete URI; a URI the template
// matches but that names nothing answers mcp.ResourceNotFoundError.
type ResourceReader func(ctx context.Context, c *nextcloud.Client, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error)

// Resource is a static resource or a URI template of a module, built with
// StaticResource or TemplateResource. It needs the module's Read scope
// unless an option says otherwise (Scopes, Public); the policy matches
// concrete URIs against the template (RFC 6570, as the SDK does).
type Resource struct {
	static   *mcp.Resource
	template *mcp.ResourceTemplate
	read     ResourceReader
	scopes   []string
	public   bool
}

// StaticResource is a resource with a fixed URI.
func StaticResource(r mcp.Resource, read ResourceReader, opts ...Option) Resource {
	o := collect(opts)
	return Resource{static: &r, read: read, scopes: o.scopes, public: o.public}
}

// TemplateResource is a family of resources named by an RFC 6570 URI
// template.
func TemplateResource(t mcp.ResourceTemplate, read ResourceReader, opts ...Option) Resource {
	o := collect(opts)
	return Resource{template: &t, read: read, scopes: o.scopes, public: o.public}
}

// uri is the resource's URI or template.
func (r Resource) uri() string {
	if r.static != nil {
		return r.static.URI
	}
	if r.template != nil {
		return r.template.URITemplate
	}
	return ""
}

// install registers the resource; reads obtain the client, recover from
// panics and log failures like tools do, and every result is marked
// cacheScope "private".
func (r Resource) install(s *mcp.Server, d *Deps) {
	name := r.uri()
	h := func(ctx context.Context, req *mcp.ReadResourceRequest) (res *mcp.ReadResourceResult, err error) {
		defer func() {
			if p := recover(); p != nil {
				d.logger().Error("resource handler panicked", "resource", name, "panic", fmt.Sprint(p))
				res, err = nil, fmt.Errorf("internal error reading %s; the failure was logged", name)
			}
		}()
		ctx = withCall(ctx, d, req.Extra)
		c, err := d.client(ctx, req.Extra)
		if err == nil {
			res, err = r.read(ctx, c, req)
		}
		if res != nil {
			// Read with the request's own credentials, the result is
			// that user's data (even Nextcloud's capabilities depend on
			// the account): no shared cache may keep it ("public" is
			// the protocol's default).
			res.CacheScope = "private"
		}
		var rpcErr *jsonrpc.Error
		if err != nil && !errors.As(err, &rpcErr) {
			// Protocol errors (resource not found) stay as they are; the
			// rest get the same explanation tool errors get.
			err = d.explain(err)
			d.logger().Info("resource read failed", "resource", name, "error", logText(err))
		}
		return res, err
	}
	if r.static != nil {
		s.AddResource(r.static, h)
		return
	}
	s.AddResourceTemplate(r.template, h)
}

// JSONResource is a read result holding v as JSON.
func JSONResource(uri string, v any) (*mcp.ReadResourceResult, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "application/json", Text: string(b)}}}, nil
}

// FileContents returns a file as resource contents: text for UTF-8 files
// of a text/* type, a blob otherwise.
func FileContents(uri, contentType string, data []byte) *mcp.ResourceContents {
	rc := &mcp.ResourceContents{URI: uri, MIMEType: contentType}
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && strings.HasPrefix(mt, "text/") && utf8.Valid(data) {
		rc.Text = string(data)
		return rc
	}
	rc.Blob = data
	if rc.Blob == nil {
		rc.Blob = []byte{}
	}
	return rc
}
