package tools

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	ncnotes "github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud/notes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/notesearch"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/scopes"
)

// Limits on notes tool arguments. Nextcloud cuts titles to 100 characters
// anyway; the byte limits only stop absurd input before it travels.
const (
	MaxNoteTitleBytes    = 1024
	MaxNoteCategoryBytes = 1024
	MaxNoteContentBytes  = 1 << 20 // 1 MiB per create, update or append
	MaxSearchQueryBytes  = 1024
	MaxETagBytes         = 256
	// MaxSearchResults caps nc_notes_search_notes results; total_found
	// still counts every match.
	MaxSearchResults = 50
	// appendSeparator goes between a note and appended text (upstream).
	appendSeparator = "\n---\n"
	// appendAttempts bounds append's read-modify-write loop when the note
	// changes between the read and the conditional write.
	appendAttempts = 3
)

// Notes tool names (upstream).
const (
	ToolCreateNote     = "nc_notes_create_note"
	ToolUpdateNote     = "nc_notes_update_note"
	ToolAppendContent  = "nc_notes_append_content"
	ToolSearchNotes    = "nc_notes_search_notes"
	ToolGetNote        = "nc_notes_get_note"
	ToolGetAttachment  = "nc_notes_get_attachment"
	ToolDeleteNote     = "nc_notes_delete_note"
	NotesSettingsURI   = "notes://settings"
	NoteURITemplate    = "nc://Notes/{note_id}"
	AttachmentTemplate = "nc://Notes/{note_id}/attachments/{attachment_filename}"
)

// ---- inputs ----

// CreateNoteInput is nc_notes_create_note's arguments.
type CreateNoteInput struct {
	Title    string `json:"title" jsonschema:"Title of the new note (not empty, at most 1024 bytes). Nextcloud removes the characters * | / \\ : \" < > ?, cuts it to 100 characters and makes it unique in its category; the response holds the final title."`
	Content  string `json:"content" jsonschema:"Body of the note, usually Markdown (may be empty, at most 1 MiB)."`
	Category string `json:"category" jsonschema:"Category: a folder path such as \"work/projects\"; an empty string for none."`
}

// UpdateNoteInput is nc_notes_update_note's arguments.
type UpdateNoteInput struct {
	NoteID   int64   `json:"note_id" jsonschema:"Id of the note to change (a positive integer)."`
	ETag     string  `json:"etag" jsonschema:"The note's current etag, from nc_notes_get_note or an earlier write. The update fails if the note changed since; then fetch it again."`
	Title    *string `json:"title,omitempty" jsonschema:"New title (not empty); omit to keep the current one."`
	Content  *string `json:"content,omitempty" jsonschema:"New body, replacing the old one entirely (at most 1 MiB; empty clears it); omit to keep the current one."`
	Category *string `json:"category,omitempty" jsonschema:"New category (folder path; empty string for none); omit to keep the current one."`
}

// AppendContentInput is nc_notes_append_content's arguments.
type AppendContentInput struct {
	NoteID  int64  `json:"note_id" jsonschema:"Id of the note to extend (a positive integer)."`
	Content string `json:"content" jsonschema:"Text to add at the end of the note (not empty, at most 1 MiB). A line \"---\" separates it from the existing text."`
}

// SearchNotesInput is nc_notes_search_notes's arguments.
type SearchNotesInput struct {
	Query string `json:"query" jsonschema:"Words to look for in note titles and bodies (case-insensitive, at most 1024 bytes). Title matches weigh three times as much as body matches; an empty query lists the most recently modified notes."`
}

// NoteIDInput is the argument of tools that take only a note id.
type NoteIDInput struct {
	NoteID int64 `json:"note_id" jsonschema:"Id of the note (a positive integer)."`
}

// GetAttachmentInput is nc_notes_get_attachment's arguments.
type GetAttachmentInput struct {
	NoteID             int64  `json:"note_id" jsonschema:"Id of the note the attachment belongs to (a positive integer)."`
	AttachmentFilename string `json:"attachment_filename" jsonschema:"File name of the attachment, as referenced in the note (a single name, no folders)."`
}

// ---- outputs (upstream response models) ----

// NoteOutput is a note (upstream model Note).
type NoteOutput struct {
	ID       int64  `json:"id" jsonschema:"Note id."`
	Title    string `json:"title" jsonschema:"Title."`
	Content  string `json:"content" jsonschema:"Body."`
	Category string `json:"category" jsonschema:"Category (folder path); empty for none."`
	Modified int64  `json:"modified" jsonschema:"Last modification, unix seconds."`
	Favorite bool   `json:"favorite" jsonschema:"Whether the note is a favorite."`
	ETag     string `json:"etag" jsonschema:"Version tag; pass it to nc_notes_update_note."`
	ReadOnly bool   `json:"readonly" jsonschema:"True for notes shared without write permission."`
}

func noteOutput(n *ncnotes.Note) NoteOutput {
	return NoteOutput{ID: n.ID, Title: n.Title, Content: n.Content, Category: n.Category,
		Modified: n.Modified, Favorite: n.Favorite, ETag: n.ETag, ReadOnly: n.ReadOnly}
}

// NoteWriteOutput answers the writing tools (upstream CreateNoteResponse,
// UpdateNoteResponse and AppendContentResponse share these fields).
type NoteWriteOutput struct {
	Success   bool   `json:"success" jsonschema:"Always true; failures are tool errors."`
	Timestamp string `json:"timestamp" jsonschema:"When the server answered (RFC 3339, UTC)."`
	ID        int64  `json:"id" jsonschema:"Note id."`
	Title     string `json:"title" jsonschema:"The note's title as Nextcloud stored it."`
	Category  string `json:"category" jsonschema:"The note's category."`
	ETag      string `json:"etag" jsonschema:"The note's new etag, for the next update."`
}

// DeleteNoteOutput answers nc_notes_delete_note (upstream
// DeleteNoteResponse).
type DeleteNoteOutput struct {
	Success    bool   `json:"success" jsonschema:"Always true; failures are tool errors."`
	Timestamp  string `json:"timestamp" jsonschema:"When the server answered (RFC 3339, UTC)."`
	StatusCode int    `json:"status_code" jsonschema:"HTTP status of the deletion (200)."`
	Message    string `json:"message" jsonschema:"What happened, including any attachment clean-up problem."`
	DeletedID  int64  `json:"deleted_id" jsonschema:"Id of the deleted note."`
}

// NoteSearchResult is one search hit (upstream NoteSearchResult).
type NoteSearchResult struct {
	ID       int64    `json:"id" jsonschema:"Note id."`
	Title    string   `json:"title" jsonschema:"Title."`
	Category string   `json:"category" jsonschema:"Category."`
	Score    *float64 `json:"score" jsonschema:"Relevance (higher is better); null when the query had no searchable word."`
}

// SearchNotesOutput answers nc_notes_search_notes (upstream
// SearchNotesResponse plus where the answer came from).
type SearchNotesOutput struct {
	Success    bool               `json:"success" jsonschema:"Always true; failures are tool errors."`
	Timestamp  string             `json:"timestamp" jsonschema:"When the server answered (RFC 3339, UTC)."`
	Results    []NoteSearchResult `json:"results" jsonschema:"Best matches first, at most 50."`
	Query      string             `json:"query" jsonschema:"The query as given."`
	TotalFound int                `json:"total_found" jsonschema:"Number of matching notes, including those beyond the result limit."`
	Source     string             `json:"source" jsonschema:"\"index\" when answered from the server's notes index, \"live\" when Nextcloud was listed for this call."`
	IndexedAt  string             `json:"indexed_at,omitempty" jsonschema:"When the index snapshot was taken (RFC 3339), for source \"index\"."`
}

// AttachmentOutput answers nc_notes_get_attachment (upstream returns uri,
// mimeType and data).
type AttachmentOutput struct {
	URI      string `json:"uri" jsonschema:"Resource URI of the attachment."`
	MIMEType string `json:"mimeType" jsonschema:"Media type reported by Nextcloud."`
	Size     int    `json:"size" jsonschema:"Size in bytes."`
	Encoding string `json:"encoding" jsonschema:"Always \"base64\"."`
	Data     string `json:"data" jsonschema:"The file, base64-encoded."`
}

// ---- the tools ----

var (
	notesRead  = []string{scopes.NotesRead}
	notesWrite = []string{scopes.NotesWrite}
)

func notesTools() []Tool {
	closed := ptr(false)
	return []Tool{
		typedTool(mcp.Tool{
			Name:  ToolCreateNote,
			Title: "Create note",
			Description: "Create a new note in the user's Nextcloud Notes. Returns its id, final title, category and etag. " +
				"Requires the notes:write scope.",
			Annotations: &mcp.ToolAnnotations{Title: "Create note", DestructiveHint: ptr(false), OpenWorldHint: closed},
		}, notesWrite, createNote),
		typedTool(mcp.Tool{
			Name:  ToolUpdateNote,
			Title: "Update note",
			Description: "Change a note's title, content and/or category (fields left out stay as they are). " +
				"The etag must be the note's current one (from nc_notes_get_note or an earlier write): if the note changed since, " +
				"the update is refused and the note must be fetched again. Content replaces the whole body. Requires the notes:write scope.",
			Annotations: &mcp.ToolAnnotations{Title: "Update note", DestructiveHint: ptr(true), IdempotentHint: true, OpenWorldHint: closed},
		}, notesWrite, updateNote),
		typedTool(mcp.Tool{
			Name:  ToolAppendContent,
			Title: "Append to note",
			Description: "Add text at the end of a note, after a separator line \"---\" (none when the note is empty). " +
				"Concurrent edits are detected and the append is reapplied to the latest version. Requires the notes:write scope.",
			Annotations: &mcp.ToolAnnotations{Title: "Append to note", DestructiveHint: ptr(false), OpenWorldHint: closed},
		}, notesWrite, appendContent),
		typedTool(mcp.Tool{
			Name:  ToolSearchNotes,
			Title: "Search notes",
			Description: "Search the user's notes by words in their title and body. Returns the best matches (id, title, category, score), " +
				"at most 50, best first; use nc_notes_get_note to read one. Requires the notes:read scope.",
			Annotations: &mcp.ToolAnnotations{Title: "Search notes", ReadOnlyHint: true, OpenWorldHint: closed},
		}, notesRead, searchNotes),
		typedTool(mcp.Tool{
			Name:        ToolGetNote,
			Title:       "Get note",
			Description: "Read one note by id: title, content, category, modification time, favorite flag and etag. Requires the notes:read scope.",
			Annotations: &mcp.ToolAnnotations{Title: "Get note", ReadOnlyHint: true, OpenWorldHint: closed},
		}, notesRead, getNote),
		typedTool(mcp.Tool{
			Name:  ToolGetAttachment,
			Title: "Get note attachment",
			Description: "Read a file attached to a note (an image or document the note references), by note id and file name. " +
				"Returns the file base64-encoded with its media type. Requires the notes:read scope.",
			Annotations: &mcp.ToolAnnotations{Title: "Get note attachment", ReadOnlyHint: true, OpenWorldHint: closed},
		}, notesRead, getAttachment),
		typedTool(mcp.Tool{
			Name:        ToolDeleteNote,
			Title:       "Delete note",
			Description: "Delete a note permanently, with its attachments. Requires the notes:write scope.",
			Annotations: &mcp.ToolAnnotations{Title: "Delete note", DestructiveHint: ptr(true), IdempotentHint: true, OpenWorldHint: closed},
		}, notesWrite, deleteNote),
	}
}

func createNote(ctx context.Context, req *mcp.CallToolRequest, d *Deps, in CreateNoteInput) (*mcp.CallToolResult, NoteWriteOutput, error) {
	if err := errors.Join(checkTitle(in.Title), checkContent("content", in.Content), checkCategory(in.Category)); err != nil {
		return nil, NoteWriteOutput{}, err
	}
	c, err := d.client(ctx, req.Extra)
	if err != nil {
		return nil, NoteWriteOutput{}, err
	}
	n, err := ncnotes.New(c).Create(ctx, ncnotes.NewNote{Title: in.Title, Content: in.Content, Category: in.Category})
	if err != nil {
		return nil, NoteWriteOutput{}, err
	}
	return nil, d.writeOutput(n), nil
}

func updateNote(ctx context.Context, req *mcp.CallToolRequest, d *Deps, in UpdateNoteInput) (*mcp.CallToolResult, NoteWriteOutput, error) {
	errs := []error{checkNoteID(in.NoteID), checkETag(in.ETag)}
	if in.Title == nil && in.Content == nil && in.Category == nil {
		errs = append(errs, errors.New("nothing to update: give at least one of title, content or category"))
	}
	if in.Title != nil {
		errs = append(errs, checkTitle(*in.Title))
	}
	if in.Content != nil {
		errs = append(errs, checkContent("content", *in.Content))
	}
	if in.Category != nil {
		errs = append(errs, checkCategory(*in.Category))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, NoteWriteOutput{}, err
	}
	c, err := d.client(ctx, req.Extra)
	if err != nil {
		return nil, NoteWriteOutput{}, err
	}
	n, err := ncnotes.New(c).Update(ctx, in.NoteID, in.ETag, ncnotes.Update{Title: in.Title, Content: in.Content, Category: in.Category})
	if err != nil {
		return nil, NoteWriteOutput{}, err
	}
	return nil, d.writeOutput(n), nil
}

func appendContent(ctx context.Context, req *mcp.CallToolRequest, d *Deps, in AppendContentInput) (*mcp.CallToolResult, NoteWriteOutput, error) {
	err := errors.Join(checkNoteID(in.NoteID), checkContent("content", in.Content))
	if err == nil && strings.TrimSpace(in.Content) == "" {
		err = errors.New("content to append must not be empty")
	}
	if err != nil {
		return nil, NoteWriteOutput{}, err
	}
	c, err := d.client(ctx, req.Extra)
	if err != nil {
		return nil, NoteWriteOutput{}, err
	}
	// Read, extend, write conditionally; if the note changed in between,
	// start over from the new version (appending does not depend on what
	// the rest of the note says).
	for attempt := 1; ; attempt++ {
		cur, err := ncnotes.New(c).Get(ctx, in.NoteID)
		if err != nil {
			return nil, NoteWriteOutput{}, err
		}
		body := in.Content
		if cur.Content != "" {
			body = cur.Content + appendSeparator + in.Content
		}
		n, err := ncnotes.New(c).Update(ctx, in.NoteID, cur.ETag, ncnotes.Update{Content: &body})
		if nextcloud.IsPreconditionFailed(err) && attempt < appendAttempts {
			continue
		}
		if err != nil {
			return nil, NoteWriteOutput{}, err
		}
		return nil, d.writeOutput(n), nil
	}
}

func searchNotes(ctx context.Context, req *mcp.CallToolRequest, d *Deps, in SearchNotesInput) (*mcp.CallToolResult, SearchNotesOutput, error) {
	if len(in.Query) > MaxSearchQueryBytes {
		return nil, SearchNotesOutput{}, fmt.Errorf("query is %d bytes long; at most %d are allowed", len(in.Query), MaxSearchQueryBytes)
	}
	out := SearchNotesOutput{Success: true, Timestamp: d.timestamp(), Query: in.Query, Results: []NoteSearchResult{}}
	var res notesearch.Results
	indexed := false
	if d.NotesIndex != nil {
		// The index answers without a Nextcloud call; the server removes a
		// user's snapshot when their access ends.
		res, indexed = d.NotesIndex.Search(userKey(req.Extra), in.Query, MaxSearchResults)
	}
	if indexed {
		out.Source = "index"
		if !res.SyncedAt.IsZero() {
			out.IndexedAt = res.SyncedAt.UTC().Format(time.RFC3339)
		}
	} else {
		c, err := d.client(ctx, req.Extra)
		if err != nil {
			return nil, SearchNotesOutput{}, err
		}
		notes, err := ncnotes.New(c).List(ctx, ncnotes.ListOptions{})
		if err != nil {
			return nil, SearchNotesOutput{}, err
		}
		res = notesearch.Rank(notesearch.FromNextcloud(notes), in.Query, MaxSearchResults)
		out.Source = "live"
	}
	for _, h := range res.Hits {
		out.Results = append(out.Results, NoteSearchResult{ID: h.ID, Title: h.Title, Category: h.Category, Score: h.Score})
	}
	out.TotalFound = res.Total
	return nil, out, nil
}

func getNote(ctx context.Context, req *mcp.CallToolRequest, d *Deps, in NoteIDInput) (*mcp.CallToolResult, NoteOutput, error) {
	if err := checkNoteID(in.NoteID); err != nil {
		return nil, NoteOutput{}, err
	}
	c, err := d.client(ctx, req.Extra)
	if err != nil {
		return nil, NoteOutput{}, err
	}
	n, err := ncnotes.New(c).Get(ctx, in.NoteID)
	if err != nil {
		return nil, NoteOutput{}, err
	}
	return nil, noteOutput(n), nil
}

func getAttachment(ctx context.Context, req *mcp.CallToolRequest, d *Deps, in GetAttachmentInput) (*mcp.CallToolResult, AttachmentOutput, error) {
	if err := errors.Join(checkNoteID(in.NoteID), checkAttachmentName(in.AttachmentFilename)); err != nil {
		return nil, AttachmentOutput{}, err
	}
	c, err := d.client(ctx, req.Extra)
	if err != nil {
		return nil, AttachmentOutput{}, err
	}
	f, err := readAttachment(ctx, c, in.NoteID, in.AttachmentFilename)
	if err != nil {
		return nil, AttachmentOutput{}, err
	}
	uri := AttachmentURI(in.NoteID, in.AttachmentFilename)
	out := AttachmentOutput{URI: uri, MIMEType: f.ContentType, Size: len(f.Data), Encoding: "base64", Data: base64.StdEncoding.EncodeToString(f.Data)}
	res := &mcp.CallToolResult{Content: []mcp.Content{&mcp.EmbeddedResource{Resource: attachmentContents(uri, f)}}}
	return res, out, nil
}

// readAttachment fetches the note (for its category) and then the file; a
// missing file's error lists the attachments the note does have.
func readAttachment(ctx context.Context, c *nextcloud.Client, noteID int64, name string) (*nextcloud.File, error) {
	nc := ncnotes.New(c)
	note, err := nc.Get(ctx, noteID)
	if err != nil {
		return nil, err
	}
	f, err := nc.Attachment(ctx, note, name)
	if nextcloud.IsNotFound(err) {
		if files, lerr := nc.Attachments(ctx, note); lerr == nil {
			var names []string
			for _, fi := range files {
				if !fi.IsDir {
					names = append(names, strconv.Quote(fi.Name))
				}
			}
			if len(names) == 0 {
				return nil, fmt.Errorf("%w; note %d has no attachments", err, noteID)
			}
			return nil, fmt.Errorf("%w; note %d has: %s", err, noteID, strings.Join(names, ", "))
		}
	}
	return f, err
}

func deleteNote(ctx context.Context, req *mcp.CallToolRequest, d *Deps, in NoteIDInput) (*mcp.CallToolResult, DeleteNoteOutput, error) {
	if err := checkNoteID(in.NoteID); err != nil {
		return nil, DeleteNoteOutput{}, err
	}
	c, err := d.client(ctx, req.Extra)
	if err != nil {
		return nil, DeleteNoteOutput{}, err
	}
	// The category locates the attachment folder, which Nextcloud leaves
	// behind when a note is deleted.
	nc := ncnotes.New(c)
	note, err := nc.Get(ctx, in.NoteID)
	if err != nil {
		return nil, DeleteNoteOutput{}, err
	}
	if err := nc.Delete(ctx, in.NoteID); err != nil {
		return nil, DeleteNoteOutput{}, err
	}
	msg := fmt.Sprintf("Note %d deleted successfully", in.NoteID)
	if err := nc.DeleteAttachments(ctx, note); err != nil {
		d.logger().Warn("note attachments left behind", "note_id", in.NoteID, "error", err.Error())
		msg += "; its attachment folder could not be removed: " + err.Error()
	}
	return nil, DeleteNoteOutput{Success: true, Timestamp: d.timestamp(), StatusCode: 200, Message: msg, DeletedID: in.NoteID}, nil
}

func (d *Deps) timestamp() string { return d.now().Format(time.RFC3339) }

func (d *Deps) writeOutput(n *ncnotes.Note) NoteWriteOutput {
	return NoteWriteOutput{Success: true, Timestamp: d.timestamp(), ID: n.ID, Title: n.Title, Category: n.Category, ETag: n.ETag}
}

// ---- validation ----

func checkNoteID(id int64) error {
	if id <= 0 {
		return fmt.Errorf("note_id must be a positive integer, got %d", id)
	}
	return nil
}

func checkTitle(t string) error {
	switch {
	case strings.TrimSpace(t) == "":
		return errors.New("title must not be empty")
	case len(t) > MaxNoteTitleBytes:
		return fmt.Errorf("title is %d bytes long; at most %d are allowed", len(t), MaxNoteTitleBytes)
	}
	return nil
}

func checkContent(field, s string) error {
	if len(s) > MaxNoteContentBytes {
		return fmt.Errorf("%s is %d bytes long; at most %d (1 MiB) are allowed", field, len(s), MaxNoteContentBytes)
	}
	return nil
}

func checkCategory(cat string) error {
	if len(cat) > MaxNoteCategoryBytes {
		return fmt.Errorf("category is %d bytes long; at most %d are allowed", len(cat), MaxNoteCategoryBytes)
	}
	if strings.ContainsFunc(cat, unicode.IsControl) {
		return errors.New("category must not contain control characters")
	}
	for _, seg := range strings.Split(cat, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("category %q must not contain %q segments", cat, seg)
		}
	}
	return nil
}

func checkETag(e string) error {
	switch {
	case strings.TrimSpace(strings.Trim(e, `"`)) == "":
		return errors.New("etag must not be empty: take it from nc_notes_get_note")
	case len(e) > MaxETagBytes:
		return fmt.Errorf("etag is %d bytes long; at most %d are allowed", len(e), MaxETagBytes)
	case strings.ContainsFunc(e, func(r rune) bool { return unicode.IsControl(r) || r == ',' }):
		return errors.New("etag must be a single etag without control characters or commas")
	}
	return nil
}

func checkAttachmentName(name string) error {
	if err := ncnotes.ValidateAttachmentName(name); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), nextcloud.ErrInvalidPath.Error()+": "))
	}
	return nil
}

// ---- resources ----

// NoteURI is the resource URI of a note.
func NoteURI(id int64) string { return "nc://Notes/" + strconv.FormatInt(id, 10) }

// AttachmentURI is the resource URI of a note attachment. Every byte of
// the name outside RFC 3986's unreserved set is percent-encoded, so the URI
// matches the RFC 6570 template (whose {var} admits nothing else).
func AttachmentURI(id int64, name string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return NoteURI(id) + "/attachments/" + b.String()
}

func registerNotesResources(s *mcp.Server, d *Deps) {
	s.AddResource(&mcp.Resource{
		URI:         NotesSettingsURI,
		Name:        "notes_settings",
		Title:       "Notes settings",
		Description: "Get the Notes App settings: notesPath (folder of the notes), fileSuffix and noteMode, as JSON.",
		MIMEType:    "application/json",
	}, safeResource(d, NotesSettingsURI, func(ctx context.Context, req *mcp.ReadResourceRequest, c *nextcloud.Client) (*mcp.ReadResourceResult, error) {
		st, err := ncnotes.New(c).Settings(ctx)
		if err != nil {
			return nil, err
		}
		return jsonResource(req.Params.URI, st)
	}))

	s.AddResourceTemplate(&mcp.ResourceTemplate{
		URITemplate: NoteURITemplate,
		Name:        "note",
		Title:       "Note",
		Description: "Get user note using note id: the note as JSON (id, title, content, category, modified, favorite, etag, readonly).",
		MIMEType:    "application/json",
	}, safeResource(d, NoteURITemplate, func(ctx context.Context, req *mcp.ReadResourceRequest, c *nextcloud.Client) (*mcp.ReadResourceResult, error) {
		id, rest, err := parseNoteURI(req.Params.URI)
		if err != nil || rest != "" {
			return nil, mcp.ResourceNotFoundError(req.Params.URI)
		}
		n, err := ncnotes.New(c).Get(ctx, id)
		if nextcloud.IsNotFound(err) {
			return nil, mcp.ResourceNotFoundError(req.Params.URI)
		}
		if err != nil {
			return nil, err
		}
		return jsonResource(req.Params.URI, noteOutput(n))
	}))

	s.AddResourceTemplate(&mcp.ResourceTemplate{
		URITemplate: AttachmentTemplate,
		Name:        "note_attachment",
		Title:       "Note attachment",
		Description: "Get a specific attachment from a note: the file with its media type (text for text files, base64 blob otherwise).",
	}, safeResource(d, AttachmentTemplate, func(ctx context.Context, req *mcp.ReadResourceRequest, c *nextcloud.Client) (*mcp.ReadResourceResult, error) {
		id, rest, err := parseNoteURI(req.Params.URI)
		name, ok := strings.CutPrefix(rest, "/attachments/")
		if err != nil || !ok {
			return nil, mcp.ResourceNotFoundError(req.Params.URI)
		}
		if name, err = url.PathUnescape(name); err != nil || checkAttachmentName(name) != nil {
			return nil, mcp.ResourceNotFoundError(req.Params.URI)
		}
		f, err := readAttachment(ctx, c, id, name)
		if nextcloud.IsNotFound(err) {
			return nil, mcp.ResourceNotFoundError(req.Params.URI)
		}
		if err != nil {
			return nil, err
		}
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{attachmentContents(req.Params.URI, f)}}, nil
	}))
}

// parseNoteURI splits "nc://Notes/<id><rest>".
func parseNoteURI(uri string) (id int64, rest string, err error) {
	s, ok := strings.CutPrefix(uri, "nc://Notes/")
	if !ok {
		return 0, "", errors.New("not a note URI")
	}
	digits, rest, _ := strings.Cut(s, "/")
	if rest != "" {
		rest = "/" + rest
	}
	id, err = strconv.ParseInt(digits, 10, 64)
	if err != nil || id <= 0 {
		return 0, "", errors.New("bad note id")
	}
	return id, rest, nil
}

// attachmentContents returns text for UTF-8 text files, a blob otherwise.
func attachmentContents(uri string, f *nextcloud.File) *mcp.ResourceContents {
	rc := &mcp.ResourceContents{URI: uri, MIMEType: f.ContentType}
	if mt, _, err := mime.ParseMediaType(f.ContentType); err == nil && strings.HasPrefix(mt, "text/") && utf8.Valid(f.Data) {
		rc.Text = string(f.Data)
		return rc
	}
	rc.Blob = f.Data
	if rc.Blob == nil {
		rc.Blob = []byte{}
	}
	return rc
}

func jsonResource(uri string, v any) (*mcp.ReadResourceResult, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "application/json", Text: string(b)}}}, nil
}

// safeResource wraps a resource body: it obtains the client, recovers from
// panics and logs failures.
func safeResource(d *Deps, name string, h func(ctx context.Context, req *mcp.ReadResourceRequest, c *nextcloud.Client) (*mcp.ReadResourceResult, error)) mcp.ResourceHandler {
	return func(ctx context.Context, req *mcp.ReadResourceRequest) (res *mcp.ReadResourceResult, err error) {
		defer func() {
			if p := recover(); p != nil {
				d.logger().Error("resource handler panicked", "resource", name, "panic", fmt.Sprint(p))
				res, err = nil, fmt.Errorf("internal error reading %s; the failure was logged", name)
			}
		}()
		c, err := d.client(ctx, req.Extra)
		if err == nil {
			res, err = h(ctx, req, c)
		}
		var rpcErr *jsonrpc.Error
		if err != nil && !errors.As(err, &rpcErr) {
			// Protocol errors (resource not found) stay as they are; the
			// rest get the same explanation tool errors get.
			if d.ExplainError != nil {
				err = d.ExplainError(err)
			}
			d.logger().Info("resource read failed", "resource", name, "error", logText(err))
		}
		return res, err
	}
}
