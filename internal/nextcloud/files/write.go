package files

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // Nextcloud's OC-Checksum names SHA1; an integrity check, not a signature.
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

// Chunked upload bounds. Nextcloud's chunking v2 takes chunks of 5 MiB to
// 5 GiB except the last, numbered 1 to 10000 (apps/dav/lib/Upload/
// ChunkingV2Plugin.php, the S3 multipart rules it follows); its own
// clients send 10 MiB chunks by default.
const (
	MinChunkSize     = 5 << 20
	DefaultChunkSize = 10 << 20
	MaxChunks        = 10000
	// cleanupTimeout bounds the DELETE of a failed upload's folder, which
	// runs even when the caller's context is gone.
	cleanupTimeout = 30 * time.Second
)

// WriteOptions are the conditions and details of a write.
type WriteOptions struct {
	// ContentType is sent as the Content-Type; Nextcloud itself derives
	// the stored type from the name, so it matters little.
	ContentType string
	// IfMatch, when set, is the etag the file must still have: a file
	// changed since is not overwritten (412 → *StaleError).
	IfMatch string
	// CreateOnly refuses to replace an existing file (If-None-Match: *;
	// 412 → *ExistsError).
	CreateOnly bool
	// ChunkSize: content larger than this is uploaded in chunks of this
	// size with chunked upload v2; 0 means DefaultChunkSize. It must be at
	// least MinChunkSize.
	ChunkSize int64
	// Progress, when set, is called after each chunk of a chunked upload
	// with the bytes sent so far and the total.
	Progress func(sent, total int64)
}

// WriteResult is a written file.
type WriteResult struct {
	Info    Info
	Created bool // a new file (201), not a replaced one (204)
	Chunks  int  // chunks sent; 0 for a single PUT
}

// StaleError is a conditional write refused because the file changed
// since the caller read it; nothing was written.
type StaleError struct {
	Path, ETag string
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("file %q changed since you read it (etag %s is no longer current): nothing was written; read it again and reapply your change", e.Path, e.ETag)
}

// ExistsError is a create-only write refused because the file exists.
type ExistsError struct{ Path string }

func (e *ExistsError) Error() string {
	return fmt.Sprintf("file %q already exists and create_only was set: nothing was written", e.Path)
}

// Write creates or replaces a file with data. Content up to the chunk size
// goes in one PUT; larger content with chunked upload v2, whose failure
// leaves no partial target and removes its upload folder.
func (c *Client) Write(ctx context.Context, p string, data []byte, o WriteOptions) (*WriteResult, error) {
	canonical, err := CleanNew(p)
	if err != nil {
		return nil, err
	}
	if o.IfMatch != "" && o.CreateOnly {
		return nil, errors.New("if_match and create_only exclude each other: one replaces a known version, the other only creates")
	}
	chunk := o.ChunkSize
	if chunk == 0 {
		chunk = DefaultChunkSize
	}
	if chunk < MinChunkSize {
		return nil, fmt.Errorf("chunk size %s is below Nextcloud's minimum of %s", HumanBytes(chunk), HumanBytes(MinChunkSize))
	}
	if n := (int64(len(data)) + chunk - 1) / chunk; n > MaxChunks {
		return nil, fmt.Errorf("%s in chunks of %s would take %d chunks; Nextcloud accepts at most %d", HumanBytes(int64(len(data))), HumanBytes(chunk), n, MaxChunks)
	}
	t, err := c.target(ctx, canonical)
	if err != nil {
		return nil, err
	}
	var res *WriteResult
	if int64(len(data)) <= chunk {
		res, err = c.put(ctx, t, data, o)
	} else {
		res, err = c.chunked(ctx, t, data, chunk, o)
	}
	if err != nil {
		return nil, err
	}
	info, err := c.Stat(ctx, canonical)
	if err != nil {
		return nil, fmt.Errorf("the file %q was written but reading its properties failed: %w", canonical, err)
	}
	res.Info = *info
	return res, nil
}

// conditions sets If-Match / If-None-Match on h.
func conditions(h http.Header, o WriteOptions) {
	switch {
	case o.IfMatch != "":
		h.Set("If-Match", `"`+nextcloud.UnquoteETag(o.IfMatch)+`"`)
	case o.CreateOnly:
		h.Set("If-None-Match", "*")
	}
}

// writeError turns the failures of a write's final request into errors
// that say what to do.
func writeError(err error, canonical string, o WriteOptions) error {
	var ne *nextcloud.Error
	if !errors.As(err, &ne) {
		return err
	}
	switch {
	case ne.Status == http.StatusPreconditionFailed && o.CreateOnly:
		return &ExistsError{Path: canonical}
	case ne.Status == http.StatusPreconditionFailed && o.IfMatch != "":
		return &StaleError{Path: canonical, ETag: nextcloud.UnquoteETag(o.IfMatch)}
	case ne.Status == http.StatusConflict, ne.Status == http.StatusNotFound && o.IfMatch == "":
		return fmt.Errorf("cannot write %q: the folder %q does not exist (or is a file); create it first", canonical, parentOf(canonical))
	case ne.Status == http.StatusNotFound:
		return fmt.Errorf("file %q not found: if_match needs an existing file", canonical)
	}
	return err
}

// put writes the file in one request.
func (c *Client) put(ctx context.Context, t target, data []byte, o WriteOptions) (*WriteResult, error) {
	h := http.Header{}
	if o.ContentType != "" {
		h.Set("Content-Type", o.ContentType)
	}
	conditions(h, o)
	r := &nextcloud.Request{Op: fmt.Sprintf("write %q", t.canonical), Resource: describe("File", t.canonical),
		Method: http.MethodPut, Path: t.escaped, Header: h, Body: bytes.NewReader(data), ETag: o.IfMatch,
		// An unconditional PUT may be sent again; a conditional one that
		// landed would report a false conflict.
		Idempotent: o.IfMatch == "" && !o.CreateOnly}
	resp, err := c.nc.WebDAV(ctx, r)
	if err != nil {
		return nil, writeError(err, t.canonical, o)
	}
	_ = resp.Body.Close()
	return &WriteResult{Created: resp.Status == http.StatusCreated}, nil
}

// chunked uploads data with Nextcloud's chunked upload v2, as its desktop
// client and rclone do (docs/nextcloud-contract.md §5.5): MKCOL an upload
// folder naming the target in Destination, PUT the chunks 1..N, MOVE the
// assembled ".file" onto the target with the total length, the write's
// condition and a SHA1 checksum. The target changes only with the final
// MOVE, so a failure before it leaves the target as it was; the upload
// folder is then deleted.
func (c *Client) chunked(ctx context.Context, t target, data []byte, chunk int64, o WriteOptions) (res *WriteResult, err error) {
	uid, err := c.nc.UserID(ctx)
	if err != nil {
		return nil, err
	}
	id, err := transferID()
	if err != nil {
		return nil, err
	}
	folder := "/remote.php/dav/uploads/" + url.PathEscape(uid) + "/" + id
	dest := c.nc.BaseURL() + t.escaped
	total := strconv.Itoa(len(data))
	op := func(what string) string { return fmt.Sprintf("upload %q (%s)", t.canonical, what) }
	resource := describe("File", t.canonical)

	mk := &nextcloud.Request{Op: op("start"), Resource: resource, Method: "MKCOL", Path: folder,
		Header: http.Header{"Destination": {dest}}}
	resp, err := c.nc.WebDAV(ctx, mk)
	if err != nil {
		return nil, err
	}
	_ = resp.Body.Close()
	defer func() {
		if err != nil {
			c.abort(ctx, folder)
		}
	}()

	n := 0
	for off := int64(0); off < int64(len(data)); off += chunk {
		n++
		part := data[off:min(off+chunk, int64(len(data)))]
		pr := &nextcloud.Request{Op: op(fmt.Sprintf("chunk %d", n)), Resource: resource, Method: http.MethodPut,
			Path: folder + "/" + strconv.Itoa(n), Body: bytes.NewReader(part),
			Header: http.Header{"Destination": {dest}, "OC-Total-Length": {total}, "Content-Type": {"application/octet-stream"}},
			// A chunk is named by its number: sending it again puts the
			// same bytes in the same place.
			Idempotent: true}
		resp, err := c.nc.WebDAV(ctx, pr)
		if err != nil {
			return nil, err
		}
		_ = resp.Body.Close()
		if o.Progress != nil {
			o.Progress(off+int64(len(part)), int64(len(data)))
		}
	}

	sum := sha1.Sum(data) //nolint:gosec // see the import
	h := http.Header{"Destination": {dest}, "OC-Total-Length": {total}, "OC-Checksum": {"SHA1:" + hex.EncodeToString(sum[:])}}
	conditions(h, o)
	mv := &nextcloud.Request{Op: op("assemble"), Resource: resource, Method: "MOVE", Path: folder + "/.file", Header: h, ETag: o.IfMatch}
	resp, err = c.nc.WebDAV(ctx, mv)
	if err != nil {
		return nil, writeError(err, t.canonical, o)
	}
	_ = resp.Body.Close()
	return &WriteResult{Created: resp.Status == http.StatusCreated, Chunks: n}, nil
}

// abort deletes a failed upload's folder. It runs on a context of its own
// (bounded by cleanupTimeout) because the caller's may be the reason the
// upload failed; a folder it cannot delete expires on Nextcloud's side
// (24 h, apps/dav/lib/BackgroundJob/UploadCleanup.php).
func (c *Client) abort(ctx context.Context, folder string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	r := &nextcloud.Request{Op: "remove a failed upload", Method: http.MethodDelete, Path: folder}
	if resp, err := c.nc.WebDAV(cctx, r); err == nil {
		_ = resp.Body.Close()
	}
}

// transferID names an upload folder: random, so concurrent uploads of one
// user never share one.
func transferID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "nextcloud-mcp-" + hex.EncodeToString(b[:]), nil
}
