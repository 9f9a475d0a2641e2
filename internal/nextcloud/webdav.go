package nextcloud

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// davFiles is the root of the users' file trees; the uid follows.
const davFiles = "/remote.php/dav/files/"

// FileInfo describes a file or folder from a PROPFIND (nextcloud-wire.md
// §5.2).
type FileInfo struct {
	Path         string // relative to the user's files root, "/"-separated, no leading slash
	Name         string
	IsDir        bool
	Size         int64 // bytes; for folders the recursive size (oc:size)
	ContentType  string
	ETag         string // unquoted
	LastModified time.Time
	FileID       int64
	Favorite     bool
}

// File is a downloaded file.
type File struct {
	Path         string
	Data         []byte
	ContentType  string
	ETag         string // unquoted
	LastModified time.Time
}

// ErrInvalidPath reports a file path this client refuses to send: one with
// "." or ".." segments or control characters, which could address a file
// the caller did not name.
var ErrInvalidPath = errors.New("nextcloud: invalid path")

// splitPath validates a path relative to the user's files root and returns
// its segments (empty segments from doubled or edge slashes are dropped).
func splitPath(p string) ([]string, error) {
	var segs []string
	for _, s := range strings.Split(p, "/") {
		switch {
		case s == "":
			continue
		case s == "." || s == "..":
			return nil, fmt.Errorf("%w %q: %q segments are not allowed", ErrInvalidPath, p, s)
		case strings.ContainsFunc(s, unicode.IsControl):
			return nil, fmt.Errorf("%w %q: control characters are not allowed", ErrInvalidPath, p)
		case strings.Contains(s, `\`):
			// Nextcloud takes a backslash literally, proxies and clients
			// do not: refuse rather than guess.
			return nil, fmt.Errorf("%w %q: backslashes are not allowed", ErrInvalidPath, p)
		}
		segs = append(segs, s)
	}
	return segs, nil
}

// davPath returns the escaped DAV path of a file path, and the path in
// canonical form ("a/b/c").
func (c *Client) davPath(ctx context.Context, p string) (escaped, canonical string, err error) {
	segs, err := splitPath(p)
	if err != nil {
		return "", "", err
	}
	uid, err := c.userID(ctx)
	if err != nil {
		return "", "", err
	}
	var b strings.Builder
	b.WriteString(davFiles)
	b.WriteString(url.PathEscape(uid))
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String(), strings.Join(segs, "/"), nil
}

// DownloadFile reads a file (GET). Bodies beyond the response limit fail.
func (c *Client) DownloadFile(ctx context.Context, p string) (*File, error) {
	return c.download(ctx, p, fmt.Sprintf("download %q", p), fmt.Sprintf("File %q", p))
}

func (c *Client) download(ctx context.Context, p, op, resource string) (*File, error) {
	escaped, canonical, err := c.davPath(ctx, p)
	if err != nil {
		return nil, err
	}
	r := &request{op: op, resource: resource, method: http.MethodGet, path: escaped, idempotent: true}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusOK {
		return nil, c.newError(r, resp, nil)
	}
	f := &File{
		Path:        canonical,
		Data:        resp.body,
		ContentType: resp.header.Get("Content-Type"),
		ETag:        unquoteETag(resp.header.Get("ETag")),
	}
	if f.ContentType == "" {
		f.ContentType = "application/octet-stream"
	}
	if lm := resp.header.Get("Last-Modified"); lm != "" {
		f.LastModified, _ = http.ParseTime(lm)
	}
	return f, nil
}

// DeleteFile deletes a file or folder (recursively). It is not retried.
func (c *Client) DeleteFile(ctx context.Context, p string) error {
	return c.delete(ctx, p, fmt.Sprintf("delete %q", p), fmt.Sprintf("File %q", p))
}

func (c *Client) delete(ctx context.Context, p, op, resource string) error {
	escaped, canonical, err := c.davPath(ctx, p)
	if err != nil {
		return err
	}
	if canonical == "" {
		return fmt.Errorf("%w: refusing to delete the root of the user's files", ErrInvalidPath)
	}
	r := &request{op: op, resource: resource, method: http.MethodDelete, path: escaped}
	resp, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	if resp.status < 200 || resp.status > 299 {
		return c.newError(r, resp, nil)
	}
	return nil
}

// propfindBody asks for the properties FileInfo carries.
const propfindBody = `<?xml version="1.0" encoding="UTF-8"?>
<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">
 <d:prop>
  <d:resourcetype/><d:getcontentlength/><d:getcontenttype/><d:getetag/><d:getlastmodified/>
  <oc:fileid/><oc:size/><oc:favorite/>
 </d:prop>
</d:propfind>`

// ListFolder lists a folder's direct children (PROPFIND Depth 1), without
// the folder itself.
func (c *Client) ListFolder(ctx context.Context, p string) ([]FileInfo, error) {
	return c.list(ctx, p, fmt.Sprintf("list %q", p), fmt.Sprintf("Folder %q", p))
}

func (c *Client) list(ctx context.Context, p, op, resource string) ([]FileInfo, error) {
	escaped, canonical, err := c.davPath(ctx, p)
	if err != nil {
		return nil, err
	}
	r := &request{op: op, resource: resource, method: "PROPFIND", path: escaped + "/", idempotent: true,
		header: http.Header{"Depth": {"1"}, "Content-Type": {"application/xml; charset=utf-8"}}, body: []byte(propfindBody)}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusMultiStatus {
		if resp.status >= 200 && resp.status < 300 {
			return nil, c.newError(r, resp, unexpected(resp, "PROPFIND answered without a multistatus"))
		}
		return nil, c.newError(r, resp, nil)
	}
	infos, err := parseMultistatus(resp.body)
	if err != nil {
		return nil, c.newError(r, resp, unexpected(resp, err.Error()))
	}
	uid, _ := c.userID(ctx)
	root := davFiles + uid + "/"
	out := make([]FileInfo, 0, len(infos))
	for _, fi := range infos {
		rel, ok := strings.CutPrefix(fi.Path, root)
		if !ok {
			continue // not under this user's files: ignore rather than trust
		}
		fi.Path = strings.TrimSuffix(rel, "/")
		if fi.Path == canonical {
			continue // the folder itself
		}
		fi.Name = path.Base(fi.Path)
		out = append(out, fi)
	}
	return out, nil
}

type multistatus struct {
	Responses []struct {
		Href      string `xml:"DAV: href"`
		Propstats []struct {
			Status string  `xml:"DAV: status"`
			Prop   davProp `xml:"DAV: prop"`
		} `xml:"DAV: propstat"`
	} `xml:"DAV: response"`
}

type davProp struct {
	ResourceType *struct {
		Collection *struct{} `xml:"DAV: collection"`
	} `xml:"DAV: resourcetype"`
	ContentLength string `xml:"DAV: getcontentlength"`
	ContentType   string `xml:"DAV: getcontenttype"`
	ETag          string `xml:"DAV: getetag"`
	LastModified  string `xml:"DAV: getlastmodified"`
	FileID        string `xml:"http://owncloud.org/ns fileid"`
	Size          string `xml:"http://owncloud.org/ns size"`
	Favorite      string `xml:"http://owncloud.org/ns favorite"`
}

// parseMultistatus reads a 207 body. Only 200 propstats count: a 404
// propstat lists properties the server does not have (wire §5.2). Paths
// are the decoded hrefs.
func parseMultistatus(body []byte) ([]FileInfo, error) {
	var ms multistatus
	if err := xml.Unmarshal(body, &ms); err != nil {
		return nil, fmt.Errorf("multistatus: %v", err)
	}
	out := make([]FileInfo, 0, len(ms.Responses))
	for _, resp := range ms.Responses {
		href := resp.Href
		if u, err := url.Parse(href); err == nil && u.Path != "" {
			href = u.Path // absolute hrefs: keep the path; decoded
		} else if dec, err := url.PathUnescape(href); err == nil {
			href = dec
		}
		fi := FileInfo{Path: href}
		for _, ps := range resp.Propstats {
			if f := strings.Fields(ps.Status); len(f) < 2 || f[1] != "200" {
				continue
			}
			p := ps.Prop
			if p.ResourceType != nil && p.ResourceType.Collection != nil {
				fi.IsDir = true
			}
			if p.ContentLength != "" {
				fi.Size, _ = strconv.ParseInt(strings.TrimSpace(p.ContentLength), 10, 64)
			}
			if p.Size != "" {
				fi.Size, _ = strconv.ParseInt(strings.TrimSpace(p.Size), 10, 64)
			}
			if p.ContentType != "" {
				fi.ContentType = strings.TrimSpace(p.ContentType)
			}
			if p.ETag != "" {
				fi.ETag = unquoteETag(p.ETag)
			}
			if p.LastModified != "" {
				fi.LastModified, _ = http.ParseTime(strings.TrimSpace(p.LastModified))
			}
			if p.FileID != "" {
				fi.FileID, _ = strconv.ParseInt(strings.TrimSpace(p.FileID), 10, 64)
			}
			if p.Favorite != "" {
				fi.Favorite = strings.TrimSpace(p.Favorite) == "1"
			}
		}
		out = append(out, fi)
	}
	return out, nil
}
