package files

import (
	"context"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	ncfiles "github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud/files"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
)

// FileURITemplate names a file's content as a resource. {+path} is RFC
// 6570 reserved expansion: the path keeps its slashes.
const FileURITemplate = "nc://Files/{+path}"

const fileURIPrefix = "nc://Files/"

// FileURI is the resource URI of a file: each name percent-encoded, the
// slashes between them kept.
func FileURI(p string) string {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return fileURIPrefix + strings.Join(segs, "/")
}

// resources is the file content template; it needs files:read (the
// module's Read scope).
func resources() []tools.Resource {
	return []tools.Resource{
		tools.TemplateResource(mcp.ResourceTemplate{
			URITemplate: FileURITemplate,
			Name:        "file",
			Title:       "File",
			Description: "A file of the user's Nextcloud by path, e.g. nc://Files/Documents/report.md: text for text files, a base64 blob otherwise, within the server's read limit.",
		}, readFileResource),
	}
}

func readFileResource(ctx context.Context, c *nextcloud.Client, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	p, ok := parseFileURI(req.Params.URI)
	if !ok {
		return nil, mcp.ResourceNotFoundError(req.Params.URI)
	}
	f, err := read(ctx, c, p)
	if nextcloud.IsNotFound(err) {
		return nil, mcp.ResourceNotFoundError(req.Params.URI)
	}
	if err != nil {
		return nil, err
	}
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{tools.FileContents(req.Params.URI, f.Info.ContentType, f.Data)}}, nil
}

// parseFileURI returns the path a file URI names; false when it names
// none or a path Clean refuses (no request is sent for it).
func parseFileURI(uri string) (string, bool) {
	rest, ok := strings.CutPrefix(uri, fileURIPrefix)
	if !ok || rest == "" || strings.ContainsAny(rest, "?#") {
		return "", false
	}
	segs := strings.Split(rest, "/")
	for i, s := range segs {
		dec, err := url.PathUnescape(s)
		if err != nil || strings.Contains(dec, "/") {
			return "", false
		}
		segs[i] = dec
	}
	p, err := ncfiles.Clean(strings.Join(segs, "/"))
	if err != nil || p == "" {
		return "", false
	}
	return p, true
}
