// Package notes is the client of the Nextcloud Notes app: the Notes API v1
// (docs/nextcloud-contract.md §4; nextcloud/notes lib/Controller/
// NotesApiController.php) and the note attachments, which are files beside
// the note read over WebDAV. It is built on the core client's exported
// primitives (nextcloud.Client's JSON, Send and file operations).
//
//	n := notes.New(client) // cheap; per request is fine
//	all, err := n.List(ctx, notes.ListOptions{})
package notes

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

// apiRoot is the Notes API v1 root. The index.php form works whether or
// not the server has pretty URLs (docs/nextcloud-contract.md §1).
const apiRoot = "/index.php/apps/notes/api/v1"

// DefaultChunkSize is how many notes List asks for per request.
const DefaultChunkSize = 100

// maxListPages bounds a chunked listing, so a server that keeps sending a
// cursor cannot keep a call looping (10 000 pages of 100 is a million
// notes).
const maxListPages = 10000

// Client is the Notes client of one nextcloud.Client (and so of its
// credentials). It holds no state of its own: make one per request.
type Client struct {
	nc *nextcloud.Client
}

// New returns the Notes client working through c.
func New(c *nextcloud.Client) *Client { return &Client{nc: c} }

// Note is a note as the Notes API v1 sends it (docs/nextcloud-contract.md
// §4).
type Note struct {
	ID           int64  `json:"id"`
	Title        string `json:"title"`
	Modified     int64  `json:"modified"` // unix seconds
	Category     string `json:"category"` // "/"-separated folder path, "" for none
	Favorite     bool   `json:"favorite"`
	ReadOnly     bool   `json:"readonly"`
	InternalPath string `json:"internalPath,omitempty"`
	ShareTypes   []int  `json:"shareTypes,omitempty"`
	IsShared     bool   `json:"isShared,omitempty"`
	HasError     bool   `json:"error,omitempty"`
	ErrorType    string `json:"errorType,omitempty"`
	Content      string `json:"content"`
	ETag         string `json:"etag"` // 32 hex digits, unquoted

	// Pruned marks a listing entry reduced to {"id":N}: a note that was not
	// modified since ListOptions.PruneBefore, or the deletion-detection tail
	// of a chunked listing. Only ID is set.
	Pruned bool `json:"-"`
}

// UnmarshalJSON decodes a note and detects pruned {"id":N} entries.
func (n *Note) UnmarshalJSON(b []byte) error {
	type plain Note
	var w struct {
		plain
		// Shadowing fields record presence.
		Title    *string `json:"title"`
		Modified *int64  `json:"modified"`
		Category *string `json:"category"`
		Content  *string `json:"content"`
		ETag     *string `json:"etag"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*n = Note(w.plain)
	n.Pruned = w.Title == nil && w.Modified == nil && w.Category == nil && w.Content == nil && w.ETag == nil
	if w.Title != nil {
		n.Title = *w.Title
	}
	if w.Modified != nil {
		n.Modified = *w.Modified
	}
	if w.Category != nil {
		n.Category = *w.Category
	}
	if w.Content != nil {
		n.Content = *w.Content
	}
	if w.ETag != nil {
		n.ETag = *w.ETag
	}
	return nil
}

func noteResource(id int64) string { return "Note " + strconv.FormatInt(id, 10) }

func notePath(id int64) string { return apiRoot + "/notes/" + strconv.FormatInt(id, 10) }

// ListOptions filters a notes listing.
type ListOptions struct {
	// Category, when non-nil, keeps only notes of that category ("" is the
	// root).
	Category *string
	// Exclude names fields the server should leave out, e.g. "content".
	Exclude []string
	// PruneBefore (unix seconds), when positive, reduces notes not modified
	// since then to Pruned {"id":N} entries.
	PruneBefore int64
	// ChunkSize is the number of full notes per request: 0 means
	// DefaultChunkSize, negative means everything in one request.
	ChunkSize int
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.Category != nil {
		q.Set("category", *o.Category)
	}
	if len(o.Exclude) > 0 {
		q.Set("exclude", strings.Join(o.Exclude, ","))
	}
	if o.PruneBefore > 0 {
		q.Set("pruneBefore", strconv.FormatInt(o.PruneBefore, 10))
	}
	switch {
	case o.ChunkSize == 0:
		q.Set("chunkSize", strconv.Itoa(DefaultChunkSize))
	case o.ChunkSize > 0:
		q.Set("chunkSize", strconv.Itoa(o.ChunkSize))
	}
	return q
}

// Page is one response of a (possibly chunked) listing.
type Page struct {
	Notes   []Note
	Cursor  string // X-Notes-Chunk-Cursor: pass to the next call; "" on the last chunk
	Pending int    // X-Notes-Chunk-Pending: notes still to come
	ETag    string // listing ETag, unquoted
}

// ListPage fetches one chunk of the listing, starting at cursor ("" for
// the first).
func (c *Client) ListPage(ctx context.Context, opts ListOptions, cursor string) (*Page, error) {
	q := opts.query()
	if cursor != "" {
		q.Set("chunkCursor", cursor)
	}
	r := &nextcloud.Request{Op: "list notes", Method: http.MethodGet, Path: apiRoot + "/notes", Query: q, Idempotent: true, AppRoute: true}
	var notes []Note
	resp, err := c.nc.JSON(ctx, r, &notes)
	if err != nil {
		return nil, err
	}
	page := &Page{
		Notes:  notes,
		Cursor: resp.Header.Get("X-Notes-Chunk-Cursor"),
		ETag:   nextcloud.UnquoteETag(resp.Header.Get("ETag")),
	}
	page.Pending, _ = strconv.Atoi(resp.Header.Get("X-Notes-Chunk-Pending"))
	return page, nil
}

// List returns every note, following chunk cursors. Notes appear once, in
// the server's order; a full entry wins over a Pruned one for the same id
// (the last chunk repeats every id for deletion detection).
func (c *Client) List(ctx context.Context, opts ListOptions) ([]Note, error) {
	var out []Note
	index := map[int64]int{}
	cursor := ""
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		if pages == maxListPages {
			return nil, c.listError(fmt.Sprintf("more than %d chunks", maxListPages))
		}
		page, err := c.ListPage(ctx, opts, cursor)
		if err != nil {
			return nil, err
		}
		for _, n := range page.Notes {
			i, dup := index[n.ID]
			switch {
			case !dup:
				index[n.ID] = len(out)
				out = append(out, n)
			case out[i].Pruned && !n.Pruned:
				out[i] = n
			}
		}
		if page.Cursor == "" {
			return out, nil
		}
		if seen[page.Cursor] {
			return nil, c.listError("chunk cursor repeated")
		}
		seen[page.Cursor] = true
		cursor = page.Cursor
	}
}

// listError reports a listing the server never finishes.
func (c *Client) listError(what string) error {
	r := &nextcloud.Request{Op: "list notes", Method: http.MethodGet, Path: apiRoot + "/notes"}
	resp := &nextcloud.Response{Status: http.StatusOK, Header: http.Header{}}
	return c.nc.ResponseError(r, resp, nil, nextcloud.Unexpected(resp, what))
}

// Get returns one note.
func (c *Client) Get(ctx context.Context, id int64) (*Note, error) {
	r := &nextcloud.Request{Op: "get note " + strconv.FormatInt(id, 10), Resource: noteResource(id),
		Method: http.MethodGet, Path: notePath(id), Idempotent: true, AppRoute: true}
	var n Note
	if _, err := c.nc.JSON(ctx, r, &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// NewNote is the content of a note to create. Nextcloud sanitises the
// title (and makes it unique in its category): use the returned one.
type NewNote struct {
	Title    string
	Content  string
	Category string
	Favorite bool
	Modified int64 // unix seconds; 0 lets the server choose
}

// Create creates a note. It is never retried: a POST that reached the
// server before a failure would otherwise create the note twice.
func (c *Client) Create(ctx context.Context, nn NewNote) (*Note, error) {
	body := map[string]any{"title": nn.Title, "content": nn.Content}
	if nn.Category != "" {
		body["category"] = nn.Category
	}
	if nn.Favorite {
		body["favorite"] = true
	}
	if nn.Modified > 0 {
		body["modified"] = nn.Modified
	}
	r := &nextcloud.Request{Op: "create a note", Method: http.MethodPost, Path: apiRoot + "/notes", AppRoute: true}
	if err := setJSON(r, body); err != nil {
		return nil, err
	}
	var n Note
	if _, err := c.nc.JSON(ctx, r, &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// Update lists the fields of a note to change; nil fields stay as they
// are.
type Update struct {
	Title    *string
	Content  *string
	Category *string
	Favorite *bool
	Modified *int64
}

// Update changes a note. With a non-empty etag the write is conditional
// (If-Match) and fails with a 412 *nextcloud.Error ("Note 42 changed since
// etag X; fetch it again (current etag Y)") when the note changed
// meanwhile; such a write is never retried. With etag "" the write is
// unconditional and, being idempotent, may be retried.
func (c *Client) Update(ctx context.Context, id int64, etag string, u Update) (*Note, error) {
	body := map[string]any{}
	if u.Title != nil {
		body["title"] = *u.Title
	}
	if u.Content != nil {
		body["content"] = *u.Content
	}
	if u.Category != nil {
		body["category"] = *u.Category
	}
	if u.Favorite != nil {
		body["favorite"] = *u.Favorite
	}
	if u.Modified != nil {
		body["modified"] = *u.Modified
	}
	etag = nextcloud.UnquoteETag(etag)
	r := &nextcloud.Request{Op: "update note " + strconv.FormatInt(id, 10), Resource: noteResource(id),
		Method: http.MethodPut, Path: notePath(id), AppRoute: true, ETag: etag, Idempotent: etag == ""}
	if err := setJSON(r, body); err != nil {
		return nil, err
	}
	if etag != "" {
		r.Header.Set("If-Match", `"`+etag+`"`)
	}
	r.Header.Set("Accept", "application/json")
	resp, err := c.nc.Send(ctx, r)
	if err != nil {
		return nil, err
	}
	data, rerr := nextcloud.ReadAll(resp)
	if resp.Status < 200 || resp.Status > 299 {
		e := c.nc.ResponseError(r, resp, data, nil)
		if resp.Status == http.StatusPreconditionFailed {
			// The Notes API answers a stale If-Match with the current note
			// (NotesApiController::update), whose etag the message names.
			var cur struct {
				ETag string `json:"etag"`
			}
			if json.Unmarshal(data, &cur) == nil {
				e.CurrentETag = cur.ETag
			}
		}
		return nil, e
	}
	if rerr != nil {
		return nil, rerr
	}
	var n Note
	if err := json.Unmarshal(data, &n); err != nil {
		return nil, c.nc.ResponseError(r, resp, data, nextcloud.Unexpected(resp, err.Error()))
	}
	return &n, nil
}

// Delete deletes a note. It is never retried: a retry after a delete that
// landed would report "not found" for a success.
func (c *Client) Delete(ctx context.Context, id int64) error {
	r := &nextcloud.Request{Op: "delete note " + strconv.FormatInt(id, 10), Resource: noteResource(id),
		Method: http.MethodDelete, Path: notePath(id), AppRoute: true}
	_, err := c.nc.JSON(ctx, r, nil)
	return err
}

// Settings are the user's Notes app settings.
type Settings struct {
	NotesPath  string `json:"notesPath,omitempty"`  // folder of the notes, relative to the user's files
	FileSuffix string `json:"fileSuffix,omitempty"` // ".md" or ".txt" or custom
	NoteMode   string `json:"noteMode,omitempty"`   // "rich", "edit" or "preview"
}

// Settings returns the user's Notes settings.
func (c *Client) Settings(ctx context.Context) (*Settings, error) {
	r := &nextcloud.Request{Op: "read the Notes settings", Method: http.MethodGet, Path: apiRoot + "/settings", Idempotent: true, AppRoute: true}
	var s Settings
	if _, err := c.nc.JSON(ctx, r, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// UpdateSettings changes the non-empty fields of s and returns the
// settings as Nextcloud sanitised them. An unconditional PUT is idempotent,
// so it may be retried.
func (c *Client) UpdateSettings(ctx context.Context, s Settings) (*Settings, error) {
	r := &nextcloud.Request{Op: "change the Notes settings", Method: http.MethodPut, Path: apiRoot + "/settings", Idempotent: true, AppRoute: true}
	if err := setJSON(r, s); err != nil {
		return nil, err
	}
	var out Settings
	if _, err := c.nc.JSON(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Capability is the "notes" block of the server's capabilities.
type Capability struct {
	APIVersion []string `json:"api_version"`
	Version    string   `json:"version"`
	NotesPath  string   `json:"notes_path"`
}

// CapabilityOf returns the Notes app's capability block; ok=false when the
// app is not enabled for this user.
func CapabilityOf(caps *nextcloud.Capabilities) (nc Capability, ok bool) {
	ok = caps.App("notes", &nc)
	return nc, ok
}

// setJSON sets a JSON request body (rewindable, so an idempotent write may
// be retried).
func setJSON(r *nextcloud.Request, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("nextcloud: encoding request to %s: %w", r.Op, err)
	}
	r.Body = bytes.NewReader(b)
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Set("Content-Type", "application/json")
	return nil
}
