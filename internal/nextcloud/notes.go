package nextcloud

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// notesAPI is the Notes API v1 root. The index.php form works whether or
// not the server has pretty URLs (nextcloud-wire.md §1).
const notesAPI = "/index.php/apps/notes/api/v1"

// DefaultChunkSize is how many notes ListNotes asks for per request.
const DefaultChunkSize = 100

// maxListPages bounds a chunked listing, so a server that keeps sending a
// cursor cannot keep a call looping (10 000 pages of 100 is a million
// notes).
const maxListPages = 10000

// Note is a note as the Notes API v1 sends it (nextcloud-wire.md §4).
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

func notePath(id int64) string { return notesAPI + "/notes/" + strconv.FormatInt(id, 10) }

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

// NotesPage is one response of a (possibly chunked) listing.
type NotesPage struct {
	Notes   []Note
	Cursor  string // X-Notes-Chunk-Cursor: pass to the next call; "" on the last chunk
	Pending int    // X-Notes-Chunk-Pending: notes still to come
	ETag    string // listing ETag, unquoted
}

// ListNotesPage fetches one chunk of the listing, starting at cursor ("" for
// the first).
func (c *Client) ListNotesPage(ctx context.Context, opts ListOptions, cursor string) (*NotesPage, error) {
	q := opts.query()
	if cursor != "" {
		q.Set("chunkCursor", cursor)
	}
	r := &request{op: "list notes", method: http.MethodGet, path: notesAPI + "/notes", query: q, idempotent: true, appRoute: true}
	resp, err := c.callJSON(ctx, r, nil)
	if err != nil {
		return nil, err
	}
	page := &NotesPage{
		Cursor: resp.header.Get("X-Notes-Chunk-Cursor"),
		ETag:   unquoteETag(resp.header.Get("ETag")),
	}
	page.Pending, _ = strconv.Atoi(resp.header.Get("X-Notes-Chunk-Pending"))
	if err := json.Unmarshal(resp.body, &page.Notes); err != nil {
		return nil, c.newError(r, resp, unexpected(resp, "notes listing: "+err.Error()))
	}
	return page, nil
}

// ListNotes returns every note, following chunk cursors. Notes appear once,
// in the server's order; a full entry wins over a Pruned one for the same
// id (the last chunk repeats every id for deletion detection).
func (c *Client) ListNotes(ctx context.Context, opts ListOptions) ([]Note, error) {
	var out []Note
	index := map[int64]int{}
	cursor := ""
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		if pages == maxListPages {
			return nil, &Error{Op: "list notes", Method: http.MethodGet, Path: notesAPI + "/notes", Status: http.StatusOK, AuthKind: c.creds.kind(),
				Err: &unexpectedError{fmt.Sprintf("more than %d chunks", maxListPages)}}
		}
		page, err := c.ListNotesPage(ctx, opts, cursor)
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
			return nil, &Error{Op: "list notes", Method: http.MethodGet, Path: notesAPI + "/notes", Status: http.StatusOK, AuthKind: c.creds.kind(),
				Err: &unexpectedError{"chunk cursor repeated"}}
		}
		seen[page.Cursor] = true
		cursor = page.Cursor
	}
}

// GetNote returns one note.
func (c *Client) GetNote(ctx context.Context, id int64) (*Note, error) {
	r := &request{op: "get note " + strconv.FormatInt(id, 10), resource: noteResource(id),
		method: http.MethodGet, path: notePath(id), idempotent: true, appRoute: true}
	var n Note
	if _, err := c.callJSON(ctx, r, &n); err != nil {
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

// CreateNote creates a note. It is never retried: a POST that reached the
// server before a failure would otherwise create the note twice.
func (c *Client) CreateNote(ctx context.Context, nn NewNote) (*Note, error) {
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
	r := &request{op: "create a note", method: http.MethodPost, path: notesAPI + "/notes", appRoute: true}
	if err := r.setJSON(body); err != nil {
		return nil, err
	}
	var n Note
	if _, err := c.callJSON(ctx, r, &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// NoteUpdate lists the fields to change; nil fields stay as they are.
type NoteUpdate struct {
	Title    *string
	Content  *string
	Category *string
	Favorite *bool
	Modified *int64
}

// UpdateNote changes a note. With a non-empty etag the write is
// conditional (If-Match) and fails with a 412 *Error ("Note 42 changed
// since etag X; fetch it again") when the note changed meanwhile; such a
// write is never retried. With etag "" the write is unconditional and, being
// idempotent, may be retried.
func (c *Client) UpdateNote(ctx context.Context, id int64, etag string, u NoteUpdate) (*Note, error) {
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
	etag = unquoteETag(etag)
	r := &request{op: "update note " + strconv.FormatInt(id, 10), resource: noteResource(id),
		method: http.MethodPut, path: notePath(id), appRoute: true, etag: etag, idempotent: etag == ""}
	if err := r.setJSON(body); err != nil {
		return nil, err
	}
	if etag != "" {
		r.header.Set("If-Match", `"`+etag+`"`)
	}
	var n Note
	if _, err := c.callJSON(ctx, r, &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// DeleteNote deletes a note. It is never retried: a retry after a delete
// that landed would report "not found" for a success.
func (c *Client) DeleteNote(ctx context.Context, id int64) error {
	r := &request{op: "delete note " + strconv.FormatInt(id, 10), resource: noteResource(id),
		method: http.MethodDelete, path: notePath(id), appRoute: true}
	_, err := c.callJSON(ctx, r, nil)
	return err
}

// NotesSettings are the user's Notes app settings.
type NotesSettings struct {
	NotesPath  string `json:"notesPath,omitempty"`  // folder of the notes, relative to the user's files
	FileSuffix string `json:"fileSuffix,omitempty"` // ".md" or ".txt" or custom
	NoteMode   string `json:"noteMode,omitempty"`   // "rich", "edit" or "preview"
}

// NotesSettings returns the user's Notes settings.
func (c *Client) NotesSettings(ctx context.Context) (*NotesSettings, error) {
	r := &request{op: "read the Notes settings", method: http.MethodGet, path: notesAPI + "/settings", idempotent: true, appRoute: true}
	var s NotesSettings
	if _, err := c.callJSON(ctx, r, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// UpdateNotesSettings changes the non-empty fields of s and returns the
// settings as Nextcloud sanitised them. An unconditional PUT is idempotent,
// so it may be retried.
func (c *Client) UpdateNotesSettings(ctx context.Context, s NotesSettings) (*NotesSettings, error) {
	r := &request{op: "change the Notes settings", method: http.MethodPut, path: notesAPI + "/settings", idempotent: true, appRoute: true}
	if err := r.setJSON(s); err != nil {
		return nil, err
	}
	var out NotesSettings
	if _, err := c.callJSON(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// setJSON sets a JSON request body.
func (r *request) setJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("nextcloud: encoding request to %s: %w", r.op, err)
	}
	r.body = b
	if r.header == nil {
		r.header = http.Header{}
	}
	r.header.Set("Content-Type", "application/json")
	return nil
}

// callJSON performs an app-API call (plain JSON, {"message"} errors) and
// decodes a 2xx body into out when out is non-nil.
func (c *Client) callJSON(ctx context.Context, r *request, out any) (*response, error) {
	if r.header == nil {
		r.header = http.Header{}
	}
	r.header.Set("Accept", "application/json")
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	if resp.status < 200 || resp.status > 299 {
		e := c.newError(r, resp, nil)
		if resp.status == http.StatusPreconditionFailed {
			// The Notes API sends the current note with its 412.
			var cur struct {
				ETag string `json:"etag"`
			}
			if json.Unmarshal(resp.body, &cur) == nil {
				e.CurrentETag = cur.ETag
			}
		}
		return nil, e
	}
	if out != nil {
		if err := json.Unmarshal(resp.body, out); err != nil {
			return nil, c.newError(r, resp, unexpected(resp, err.Error()))
		}
	}
	return resp, nil
}

// unquoteETag strips a weak prefix and the quotes an ETag travels in, so
// callers can hand any form back.
func unquoteETag(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "W/")
	return strings.Trim(s, `"`)
}
