package nextcloud

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
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

// FileInfo describes a file or folder from a PROPFIND
// (docs/nextcloud-contract.md §5.2).
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

// DAVPath returns the escaped path of p in the current user's files,
// "/remote.php/dav/files/{uid}/a/b" for "a/b" (p relative to the user's
// files root; "" is the root itself), and p in canonical form ("a/b"). It
// refuses "." and ".." segments, backslashes and control characters
// (ErrInvalidPath). The uid comes from UserID.
func (c *Client) DAVPath(ctx context.Context, p string) (escaped, canonical string, err error) {
	escaped, canonical, _, err = c.davPath(ctx, p)
	return escaped, canonical, err
}

func (c *Client) davPath(ctx context.Context, p string) (escaped, canonical, uid string, err error) {
	segs, err := splitPath(p)
	if err != nil {
		return "", "", "", err
	}
	uid, err = c.UserID(ctx)
	if err != nil {
		return "", "", "", err
	}
	var b strings.Builder
	b.WriteString(davFiles)
	b.WriteString(url.PathEscape(uid))
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String(), strings.Join(segs, "/"), uid, nil
}

// WebDAV sends a WebDAV request (any method: PROPFIND, PUT, MKCOL, MOVE,
// COPY, DELETE, SEARCH, REPORT, PROPPATCH, GET...) and returns the
// streamed response of a success: 2xx (207 Multi-Status included) or 304.
// Any other status is an *Error carrying sabre/dav's <s:message>. The
// caller reads and closes the body; ParseMultistatus reads a 207.
func (c *Client) WebDAV(ctx context.Context, r *Request) (*Response, error) {
	resp, err := c.Send(ctx, r)
	if err != nil {
		return nil, err
	}
	if davSuccess(resp.Status) {
		return resp, nil
	}
	body, _ := ReadAll(resp)
	return nil, c.ResponseError(r, resp, body, nil)
}

func davSuccess(status int) bool {
	return status >= 200 && status < 300 || status == http.StatusNotModified
}

// CallOption adjusts the Request a file operation builds.
type CallOption func(*Request)

// Describe names the call and its object in error messages ("read
// attachment "a.png" of note 7", "Attachment "a.png" of note 7") instead of
// the file operation's generic wording.
func Describe(op, resource string) CallOption {
	return func(r *Request) { r.Op, r.Resource = op, resource }
}

// ResponseLimit caps the call's response body at n bytes (> 0).
func ResponseLimit(n int64) CallOption {
	return func(r *Request) { r.MaxResponseBytes = n }
}

func applyOptions(r *Request, opts []CallOption) *Request {
	for _, o := range opts {
		o(r)
	}
	return r
}

// FileReader is a file being downloaded: its metadata and its body, which
// the caller reads (within the call's size limit) and must close.
type FileReader struct {
	Path         string // canonical, relative to the user's files root
	ContentType  string
	ETag         string // unquoted
	LastModified time.Time
	Size         int64 // Content-Length; -1 when unknown
	io.ReadCloser
}

// OpenFile starts downloading a file (GET) and returns it as a stream.
func (c *Client) OpenFile(ctx context.Context, p string, opts ...CallOption) (*FileReader, error) {
	escaped, canonical, err := c.DAVPath(ctx, p)
	if err != nil {
		return nil, err
	}
	r := applyOptions(&Request{Op: fmt.Sprintf("download %q", p), Resource: fmt.Sprintf("File %q", p),
		Method: http.MethodGet, Path: escaped, Idempotent: true}, opts)
	resp, err := c.WebDAV(ctx, r)
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		_ = resp.Body.Close()
		return nil, c.ResponseError(r, resp, nil, nil)
	}
	f := &FileReader{
		Path:        canonical,
		ContentType: resp.Header.Get("Content-Type"),
		ETag:        UnquoteETag(resp.Header.Get("ETag")),
		Size:        -1,
		ReadCloser:  resp.Body,
	}
	if f.ContentType == "" {
		f.ContentType = "application/octet-stream"
	}
	if lm := resp.Header.Get("Last-Modified"); lm != "" {
		f.LastModified, _ = http.ParseTime(lm)
	}
	if n, err := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64); err == nil && n >= 0 {
		f.Size = n
	}
	return f, nil
}

// DownloadFile reads a whole file (GET) into memory. Bodies beyond the
// call's size limit fail; use OpenFile to stream.
func (c *Client) DownloadFile(ctx context.Context, p string, opts ...CallOption) (*File, error) {
	fr, err := c.OpenFile(ctx, p, opts...)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(fr)
	_ = fr.Close()
	if err != nil {
		return nil, err
	}
	return &File{Path: fr.Path, Data: data, ContentType: fr.ContentType, ETag: fr.ETag, LastModified: fr.LastModified}, nil
}

// DeleteFile deletes a file or folder (recursively). It is not retried.
func (c *Client) DeleteFile(ctx context.Context, p string, opts ...CallOption) error {
	if segs, err := splitPath(p); err == nil && len(segs) == 0 {
		return fmt.Errorf("%w: refusing to delete the root of the user's files", ErrInvalidPath)
	}
	escaped, _, err := c.DAVPath(ctx, p)
	if err != nil {
		return err
	}
	r := applyOptions(&Request{Op: fmt.Sprintf("delete %q", p), Resource: fmt.Sprintf("File %q", p),
		Method: http.MethodDelete, Path: escaped}, opts)
	resp, err := c.WebDAV(ctx, r)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.Status < 200 || resp.Status > 299 {
		return c.ResponseError(r, resp, nil, nil)
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
func (c *Client) ListFolder(ctx context.Context, p string, opts ...CallOption) ([]FileInfo, error) {
	escaped, canonical, uid, err := c.davPath(ctx, p)
	if err != nil {
		return nil, err
	}
	r := applyOptions(&Request{Op: fmt.Sprintf("list %q", p), Resource: fmt.Sprintf("Folder %q", p),
		Method: "PROPFIND", Path: escaped + "/", Idempotent: true,
		Header: http.Header{"Depth": {"1"}, "Content-Type": {"application/xml; charset=utf-8"}},
		Body:   strings.NewReader(propfindBody)}, opts)
	resp, err := c.WebDAV(ctx, r)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.Status != http.StatusMultiStatus {
		return nil, c.ResponseError(r, resp, nil, Unexpected(resp, "PROPFIND answered without a multistatus"))
	}
	infos, err := ParseMultistatus(resp.Body)
	if err != nil {
		var ne *Error
		if errors.As(err, &ne) {
			return nil, ne // the body failed (size, timeout), not the XML
		}
		return nil, c.ResponseError(r, resp, nil, Unexpected(resp, err.Error()))
	}
	// Hrefs are absolute paths, below the base URL's own path when
	// Nextcloud lives in a sub-folder ("/nextcloud/remote.php/...").
	root := c.baseURL.Path + davFiles + uid + "/"
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

// ParseMultistatus reads a 207 Multi-Status body (RFC 4918 §13) of file
// properties: one FileInfo per response, Path being the decoded href (an
// absolute path such as "/remote.php/dav/files/alice/a.txt"). Only 200
// propstats count: a 404 propstat lists properties the server does not
// have (docs/nextcloud-contract.md §5.2). A failure to read the body is
// returned as is (a Response body's *Error); broken XML is a plain error.
func ParseMultistatus(body io.Reader) ([]FileInfo, error) {
	var ms multistatus
	if err := xml.NewDecoder(body).Decode(&ms); err != nil {
		var ne *Error
		if errors.As(err, &ne) {
			return nil, ne
		}
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
				fi.ETag = UnquoteETag(p.ETag)
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

// UnquoteETag strips a weak prefix and the quotes an ETag travels in, so
// callers can hand any form back.
func UnquoteETag(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "W/")
	return strings.Trim(s, `"`)
}
