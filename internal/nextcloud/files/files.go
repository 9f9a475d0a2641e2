// Package files is the client of a user's Nextcloud files over WebDAV
// (docs/nextcloud-contract.md §5): PROPFIND listings and metadata,
// downloads bounded by a size limit, conditional writes with chunked
// upload v2 for large files, folders, delete, move and copy, and DASL
// SEARCH. It is built on the core's primitives (WebDAV, DAVPath,
// ParseMultistatus), so every call gets the core's timeouts, retry policy
// and user-facing errors.
//
// emersion/go-webdav's client does not fit here: its file info has no
// Nextcloud properties (oc:fileid, oc:favorite, oc:size), its writes send
// no If-Match / If-None-Match, and it has neither SEARCH nor chunked
// upload; the requests below are written by hand, in the shapes of
// Nextcloud's own clients.
//
// Every path is checked with Clean (or CleanNew for what a call creates)
// before anything is sent: a refused path sends no request.
package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

// davFiles is the root of the users' file trees; the uid follows.
const davFiles = "/remote.php/dav/files/"

// Client reads and writes the current user's files.
type Client struct {
	nc *nextcloud.Client
}

// New returns a files client that uses c's credentials.
func New(c *nextcloud.Client) *Client { return &Client{nc: c} }

// Info is a file or folder: nextcloud.FileInfo, with Path relative to the
// user's files root ("" for the root).
type Info = nextcloud.FileInfo

// Listing is a folder and its direct children, with totals.
type Listing struct {
	Folder   Info
	Children []Info
	Files    int   // how many children are files
	Folders  int   // how many are folders
	Size     int64 // the children's sizes added up (folders count recursively)
}

// propfindBody asks for every property Info carries (FilesPlugin's
// properties, apps/dav/lib/Connector/Sabre/FilesPlugin.php).
const propfindBody = `<?xml version="1.0" encoding="UTF-8"?>
<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">
 <d:prop>
  <d:resourcetype/><d:getcontentlength/><d:getcontenttype/><d:getetag/><d:getlastmodified/>
  <oc:fileid/><oc:size/><oc:favorite/>
 </d:prop>
</d:propfind>`

// target is a checked path with its escaped DAV path.
type target struct {
	canonical string // "a/b"
	escaped   string // "/remote.php/dav/files/{uid}/a/b"
}

func (c *Client) target(ctx context.Context, canonical string) (target, error) {
	escaped, canon, err := c.nc.DAVPath(ctx, canonical)
	if err != nil {
		return target{}, err
	}
	return target{canonical: canon, escaped: escaped}, nil
}

// describe names a path in error messages: "File "a/b"", or "Your files
// root" for "".
func describe(kind, canonical string) string {
	if canonical == "" {
		return "The root of your files"
	}
	return fmt.Sprintf("%s %q", kind, canonical)
}

// Stat returns a file's or folder's properties (PROPFIND Depth 0).
func (c *Client) Stat(ctx context.Context, p string) (*Info, error) {
	canonical, err := Clean(p)
	if err != nil {
		return nil, err
	}
	infos, err := c.propfind(ctx, canonical, "0", "read the properties of", "Path")
	if err != nil {
		return nil, err
	}
	for i := range infos {
		if infos[i].Path == canonical {
			return &infos[i], nil
		}
	}
	return nil, fmt.Errorf("%w: PROPFIND of %q did not describe it", nextcloud.ErrUnexpectedResponse, canonical)
}

// List lists a folder's direct children (PROPFIND Depth 1), folders
// first, then by name.
func (c *Client) List(ctx context.Context, p string) (*Listing, error) {
	canonical, err := Clean(p)
	if err != nil {
		return nil, err
	}
	infos, err := c.propfind(ctx, canonical, "1", "list", "Folder")
	if err != nil {
		return nil, err
	}
	l := &Listing{Children: []Info{}}
	found := false
	for _, fi := range infos {
		if fi.Path == canonical {
			l.Folder, found = fi, true
			continue
		}
		l.Children = append(l.Children, fi)
		if fi.IsDir {
			l.Folders++
		} else {
			l.Files++
		}
		l.Size += fi.Size
	}
	if !found {
		return nil, fmt.Errorf("%w: PROPFIND of %q did not describe the folder itself", nextcloud.ErrUnexpectedResponse, canonical)
	}
	if !l.Folder.IsDir {
		return nil, fmt.Errorf("%s is a file, not a folder: read it instead of listing it", describe("Path", canonical))
	}
	sortInfos(l.Children)
	return l, nil
}

// propfind sends a PROPFIND and returns the described resources with
// paths relative to the user's files root.
func (c *Client) propfind(ctx context.Context, canonical, depth, verb, kind string) ([]Info, error) {
	t, err := c.target(ctx, canonical)
	if err != nil {
		return nil, err
	}
	r := &nextcloud.Request{Op: fmt.Sprintf("%s %q", verb, "/"+canonical), Resource: describe(kind, canonical),
		Method: "PROPFIND", Path: t.escaped, Idempotent: true,
		Header: http.Header{"Depth": {depth}, "Content-Type": {"application/xml; charset=utf-8"}},
		Body:   strings.NewReader(propfindBody)}
	resp, err := c.nc.WebDAV(ctx, r)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.Status != http.StatusMultiStatus {
		return nil, c.nc.ResponseError(r, resp, nil, nextcloud.Unexpected(resp, "PROPFIND answered without a multistatus"))
	}
	return c.parse(ctx, r, resp)
}

// parse reads a 207 of file properties and keeps the responses under the
// user's own files, with paths made relative to its root.
func (c *Client) parse(ctx context.Context, r *nextcloud.Request, resp *nextcloud.Response) ([]Info, error) {
	infos, err := nextcloud.ParseMultistatus(resp.Body)
	if err != nil {
		var ne *nextcloud.Error
		if errors.As(err, &ne) {
			return nil, ne
		}
		return nil, c.nc.ResponseError(r, resp, nil, nextcloud.Unexpected(resp, err.Error()))
	}
	root, err := c.root(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(infos))
	for _, fi := range infos {
		rel, ok := strings.CutPrefix(strings.TrimSuffix(fi.Path, "/")+"/", root)
		if !ok {
			continue // not under this user's files: ignore rather than trust
		}
		fi.Path = strings.TrimSuffix(rel, "/")
		fi.Name = path.Base(fi.Path)
		if fi.Path == "" {
			fi.Name = ""
		}
		out = append(out, fi)
	}
	return out, nil
}

// root is the decoded href prefix of the user's files: hrefs are absolute
// paths, below the base URL's own path when Nextcloud lives in a
// sub-folder ("/nextcloud/remote.php/dav/files/alice/").
func (c *Client) root(ctx context.Context) (string, error) {
	uid, err := c.nc.UserID(ctx)
	if err != nil {
		return "", err
	}
	base, err := url.Parse(c.nc.BaseURL())
	if err != nil {
		return "", err
	}
	return base.Path + davFiles + uid + "/", nil
}

// File is a downloaded file.
type File struct {
	Info Info
	Data []byte
}

// TooLargeError is a file beyond the read limit; nothing of it was kept.
type TooLargeError struct {
	Path  string
	Size  int64 // -1 when Nextcloud did not say
	Limit int64
}

func (e *TooLargeError) Error() string {
	if e.Size >= 0 {
		return fmt.Sprintf("file %q is %s, more than the read limit of %s", e.Path, HumanBytes(e.Size), HumanBytes(e.Limit))
	}
	return fmt.Sprintf("file %q is larger than the read limit of %s", e.Path, HumanBytes(e.Limit))
}

// Read downloads a file of at most limit bytes: its properties (PROPFIND,
// which also tells a folder from a file) and then its content (GET),
// streamed and cut at limit + 1 bytes, so that no more than the limit is
// ever held. A larger file fails with a *TooLargeError.
func (c *Client) Read(ctx context.Context, p string, limit int64) (*File, error) {
	info, err := c.Stat(ctx, p)
	if err != nil {
		return nil, err
	}
	if info.IsDir {
		return nil, fmt.Errorf("%s is a folder, not a file: list it instead of reading it", describe("Path", info.Path))
	}
	if info.Size > limit {
		return nil, &TooLargeError{Path: info.Path, Size: info.Size, Limit: limit}
	}
	fr, err := c.nc.OpenFile(ctx, info.Path, nextcloud.ResponseLimit(limit+1),
		nextcloud.Describe(fmt.Sprintf("download %q", info.Path), describe("File", info.Path)))
	if err != nil {
		return nil, err
	}
	defer func() { _ = fr.Close() }()
	if fr.Size > limit {
		// It grew between the PROPFIND and the GET.
		return nil, &TooLargeError{Path: info.Path, Size: fr.Size, Limit: limit}
	}
	data, err := io.ReadAll(io.LimitReader(fr, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{Path: info.Path, Size: -1, Limit: limit}
	}
	// The GET's headers describe the content actually read.
	info.ETag, info.Size = fr.ETag, int64(len(data))
	if fr.ContentType != "" {
		info.ContentType = fr.ContentType
	}
	if !fr.LastModified.IsZero() {
		info.LastModified = fr.LastModified
	}
	return &File{Info: *info, Data: data}, nil
}

// Mkdir creates a folder (MKCOL) and returns its properties. Its parent
// must exist; an existing path is an error (405).
func (c *Client) Mkdir(ctx context.Context, p string) (*Info, error) {
	canonical, err := CleanNew(p)
	if err != nil {
		return nil, err
	}
	t, err := c.target(ctx, canonical)
	if err != nil {
		return nil, err
	}
	r := &nextcloud.Request{Op: fmt.Sprintf("create folder %q", canonical), Resource: describe("Folder", canonical),
		Method: "MKCOL", Path: t.escaped}
	resp, err := c.nc.WebDAV(ctx, r)
	if err != nil {
		var ne *nextcloud.Error
		if errors.As(err, &ne) {
			switch ne.Status {
			case http.StatusMethodNotAllowed:
				return nil, fmt.Errorf("%s already exists", describe("Path", canonical))
			case http.StatusConflict:
				return nil, fmt.Errorf("cannot create folder %q: its parent folder %q does not exist; create that first", canonical, parentOf(canonical))
			}
		}
		return nil, err
	}
	_ = resp.Body.Close()
	return c.Stat(ctx, canonical)
}

// Delete deletes a file or a folder with everything in it. The root of
// the user's files cannot be deleted.
func (c *Client) Delete(ctx context.Context, p string) error {
	canonical, err := Clean(p)
	if err != nil {
		return err
	}
	if canonical == "" {
		return fmt.Errorf("%w: refusing to delete the root of your files", nextcloud.ErrInvalidPath)
	}
	return c.nc.DeleteFile(ctx, canonical, nextcloud.Describe(fmt.Sprintf("delete %q", canonical), describe("Path", canonical)))
}

// TransferResult is the outcome of a move or copy.
type TransferResult struct {
	Info        Info // the destination, after the transfer
	Overwritten bool // the destination existed and was replaced (204)
}

// Move moves or renames src to dst (MOVE). Without overwrite, an
// existing dst is an error (Overwrite: F → 412).
func (c *Client) Move(ctx context.Context, src, dst string, overwrite bool) (*TransferResult, error) {
	return c.transfer(ctx, "MOVE", "move", src, dst, overwrite)
}

// Copy copies src, a folder with everything in it, to dst (COPY). Without
// overwrite, an existing dst is an error.
func (c *Client) Copy(ctx context.Context, src, dst string, overwrite bool) (*TransferResult, error) {
	return c.transfer(ctx, "COPY", "copy", src, dst, overwrite)
}

func (c *Client) transfer(ctx context.Context, method, verb, src, dst string, overwrite bool) (*TransferResult, error) {
	s, err := Clean(src)
	if err != nil {
		return nil, fmt.Errorf("source_path: %w", err)
	}
	if s == "" {
		return nil, fmt.Errorf("source_path: %w: the root of your files cannot be moved or copied", nextcloud.ErrInvalidPath)
	}
	d, err := CleanNew(dst)
	if err != nil {
		return nil, fmt.Errorf("destination_path: %w", err)
	}
	if s == d {
		return nil, fmt.Errorf("source_path and destination_path are both %q", s)
	}
	st, err := c.target(ctx, s)
	if err != nil {
		return nil, err
	}
	dt, err := c.target(ctx, d)
	if err != nil {
		return nil, err
	}
	ow := "F"
	if overwrite {
		ow = "T"
	}
	// RFC 4918 §10.3, §10.6: Destination is an absolute URI, Overwrite T/F.
	r := &nextcloud.Request{Op: fmt.Sprintf("%s %q to %q", verb, s, d), Resource: describe("Path", s),
		Method: method, Path: st.escaped,
		Header: http.Header{"Destination": {c.nc.BaseURL() + dt.escaped}, "Overwrite": {ow}}}
	resp, err := c.nc.WebDAV(ctx, r)
	if err != nil {
		var ne *nextcloud.Error
		if errors.As(err, &ne) {
			switch ne.Status {
			case http.StatusPreconditionFailed:
				return nil, fmt.Errorf("cannot %s %q: destination %q already exists; pass overwrite=true to replace it", verb, s, d)
			case http.StatusConflict:
				return nil, fmt.Errorf("cannot %s %q to %q: the destination folder %q does not exist (or the destination is inside the source)", verb, s, d, parentOf(d))
			case http.StatusNotFound:
				return nil, fmt.Errorf("cannot %s %q: %s not found", verb, s, describe("source path", s))
			}
		}
		return nil, err
	}
	_ = resp.Body.Close()
	info, err := c.Stat(ctx, d)
	if err != nil {
		return nil, err
	}
	return &TransferResult{Info: *info, Overwritten: resp.Status == http.StatusNoContent}, nil
}

// parentOf is a canonical path's parent folder ("" for the root).
func parentOf(canonical string) string {
	if i := strings.LastIndex(canonical, "/"); i >= 0 {
		return canonical[:i]
	}
	return ""
}

// HumanBytes writes a size for people: "10 MiB", "1.5 KiB", "12 bytes".
func HumanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return trimZero(float64(n)/(1<<30)) + " GiB"
	case n >= 1<<20:
		return trimZero(float64(n)/(1<<20)) + " MiB"
	case n >= 1<<10:
		return trimZero(float64(n)/(1<<10)) + " KiB"
	}
	return fmt.Sprintf("%d bytes", n)
}

func trimZero(f float64) string {
	s := fmt.Sprintf("%.1f", f)
	return strings.TrimSuffix(s, ".0")
}
