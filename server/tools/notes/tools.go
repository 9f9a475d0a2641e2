package notes

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	ncnotes "github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud/notes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/notesearch"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
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
	ToolCreateNote    = "nc_notes_create_note"
	ToolUpdateNote    = "nc_notes_update_note"
	ToolAppendContent = "nc_notes_append_content"
	ToolSearchNotes   = "nc_notes_search_notes"
	ToolGetNote       = "nc_notes_get_note"
	ToolGetAttachment = "nc_notes_get_attachment"
	ToolDeleteNote    = "nc_notes_delete_note"
	// NotesSettingsURI is the resource with the user's Notes settings.
	NotesSettingsURI = "notes://settings"
	// NoteURITemplate names a note as a resource.
	NoteURITemplate = "nc://Notes/{note_id}"
	// AttachmentTemplate names a note attachment as a resource.
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
	tools.Status
	ID       int64  `json:"id" jsonschema:"Note id."`
	Title    string `json:"title" jsonschema:"The note's title as Nextcloud stored it."`
	Category string `json:"category" jsonschema:"The note's category."`
	ETag     string `json:"etag" jsonschema:"The note's new etag, for the next update."`
}

// DeleteNoteOutput answers nc_notes_delete_note (upstream
// DeleteNoteResponse).
type DeleteNoteOutput struct {
	tools.Status
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
	tools.Status
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

// ---- validation: what the schemas cannot express, checked by the kit
// before any Nextcloud client is obtained ----

// Validate checks the arguments of nc_notes_create_note.
func (in CreateNoteInput) Validate() error {
	return errors.Join(checkTitle(in.Title), checkContent("content", in.Content), checkCategory(in.Category))
}

// Validate checks the arguments of nc_notes_update_note.
func (in UpdateNoteInput) Validate() error {
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
	return errors.Join(errs...)
}

// Validate checks the arguments of nc_notes_append_content.
func (in AppendContentInput) Validate() error {
	err := errors.Join(checkNoteID(in.NoteID), checkContent("content", in.Content))
	if err == nil && strings.TrimSpace(in.Content) == "" {
		err = errors.New("content to append must not be empty")
	}
	return err
}

// Validate checks the arguments of nc_notes_search_notes.
func (in SearchNotesInput) Validate() error {
	if len(in.Query) > MaxSearchQueryBytes {
		return fmt.Errorf("query is %d bytes long; at most %d are allowed", len(in.Query), MaxSearchQueryBytes)
	}
	return nil
}

// Validate checks a note id argument.
func (in NoteIDInput) Validate() error { return checkNoteID(in.NoteID) }

// Validate checks the arguments of nc_notes_get_attachment.
func (in GetAttachmentInput) Validate() error {
	return errors.Join(checkNoteID(in.NoteID), checkAttachmentName(in.AttachmentFilename))
}

// ---- the tools ----

func (m *module) tools() []tools.Tool {
	closed := tools.Ptr(false)
	return []tools.Tool{
		tools.NC(mcp.Tool{
			Name:        ToolCreateNote,
			Title:       "Create note",
			Description: "Create a new note in the user's Nextcloud Notes. Returns its id, final title, category and etag.",
			Annotations: &mcp.ToolAnnotations{DestructiveHint: tools.Ptr(false), OpenWorldHint: closed},
		}, createNote),
		tools.NC(mcp.Tool{
			Name:  ToolUpdateNote,
			Title: "Update note",
			Description: "Change a note's title, content and/or category (fields left out stay as they are). " +
				"The etag must be the note's current one (from nc_notes_get_note or an earlier write): if the note changed since, " +
				"the update is refused and the note must be fetched again. Content replaces the whole body.",
			Annotations: &mcp.ToolAnnotations{DestructiveHint: tools.Ptr(true), IdempotentHint: true, OpenWorldHint: closed},
		}, updateNote),
		tools.NC(mcp.Tool{
			Name:  ToolAppendContent,
			Title: "Append to note",
			Description: "Add text at the end of a note, after a separator line \"---\" (none when the note is empty). " +
				"Concurrent edits are detected and the append is reapplied to the latest version.",
			Annotations: &mcp.ToolAnnotations{DestructiveHint: tools.Ptr(false), OpenWorldHint: closed},
		}, appendContent),
		tools.Func(mcp.Tool{
			Name:  ToolSearchNotes,
			Title: "Search notes",
			Description: "Search the user's notes by words in their title and body. Returns the best matches (id, title, category, score), " +
				"at most 50, best first; use nc_notes_get_note to read one.",
			Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: closed},
		}, m.searchNotes),
		tools.NC(mcp.Tool{
			Name:        ToolGetNote,
			Title:       "Get note",
			Description: "Read one note by id: title, content, category, modification time, favorite flag and etag.",
			Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: closed},
		}, getNote),
		tools.Func(mcp.Tool{
			Name:  ToolGetAttachment,
			Title: "Get note attachment",
			Description: "Read a file attached to a note (an image or document the note references), by note id and file name. " +
				"Returns the file base64-encoded with its media type.",
			Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: closed},
		}, getAttachment),
		tools.NC(mcp.Tool{
			Name:        ToolDeleteNote,
			Title:       "Delete note",
			Description: "Delete a note permanently, with its attachments.",
			Annotations: &mcp.ToolAnnotations{DestructiveHint: tools.Ptr(true), IdempotentHint: true, OpenWorldHint: closed},
		}, deleteNote),
	}
}

func writeOutput(ctx context.Context, n *ncnotes.Note) NoteWriteOutput {
	return NoteWriteOutput{Status: tools.OK(ctx), ID: n.ID, Title: n.Title, Category: n.Category, ETag: n.ETag}
}

func createNote(ctx context.Context, c *nextcloud.Client, in CreateNoteInput) (NoteWriteOutput, error) {
	n, err := ncnotes.New(c).Create(ctx, ncnotes.NewNote{Title: in.Title, Content: in.Content, Category: in.Category})
	if err != nil {
		return NoteWriteOutput{}, err
	}
	return writeOutput(ctx, n), nil
}

func updateNote(ctx context.Context, c *nextcloud.Client, in UpdateNoteInput) (NoteWriteOutput, error) {
	n, err := ncnotes.New(c).Update(ctx, in.NoteID, in.ETag, ncnotes.Update{Title: in.Title, Content: in.Content, Category: in.Category})
	if err != nil {
		return NoteWriteOutput{}, err
	}
	return writeOutput(ctx, n), nil
}

func appendContent(ctx context.Context, c *nextcloud.Client, in AppendContentInput) (NoteWriteOutput, error) {
	// Read, extend, write conditionally; if the note changed in between,
	// start over from the new version (appending does not depend on what
	// the rest of the note says).
	for attempt := 1; ; attempt++ {
		cur, err := ncnotes.New(c).Get(ctx, in.NoteID)
		if err != nil {
			return NoteWriteOutput{}, err
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
			return NoteWriteOutput{}, err
		}
		return writeOutput(ctx, n), nil
	}
}

// searchNotes answers from the index when the background sync has indexed
// the caller, and lists the notes live otherwise; only the live path needs
// a Nextcloud client.
func (m *module) searchNotes(ctx context.Context, _ *mcp.CallToolRequest, in SearchNotesInput) (*mcp.CallToolResult, SearchNotesOutput, error) {
	out := SearchNotesOutput{Status: tools.OK(ctx), Query: in.Query, Results: []NoteSearchResult{}}
	// The index answers without a Nextcloud call; the server removes a
	// user's snapshot when their access ends.
	res, indexed := m.index.Search(tools.Principal(ctx), in.Query, MaxSearchResults)
	if indexed {
		out.Source = "index"
		if !res.SyncedAt.IsZero() {
			out.IndexedAt = res.SyncedAt.UTC().Format(time.RFC3339)
		}
	} else {
		c, err := tools.Client(ctx)
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

func getNote(ctx context.Context, c *nextcloud.Client, in NoteIDInput) (NoteOutput, error) {
	n, err := ncnotes.New(c).Get(ctx, in.NoteID)
	if err != nil {
		return NoteOutput{}, err
	}
	return noteOutput(n), nil
}

// getAttachment returns the file twice: as structured output (base64) and
// as an embedded resource, which clients can show or save directly.
func getAttachment(ctx context.Context, _ *mcp.CallToolRequest, in GetAttachmentInput) (*mcp.CallToolResult, AttachmentOutput, error) {
	c, err := tools.Client(ctx)
	if err != nil {
		return nil, AttachmentOutput{}, err
	}
	f, err := readAttachment(ctx, c, in.NoteID, in.AttachmentFilename)
	if err != nil {
		return nil, AttachmentOutput{}, err
	}
	uri := AttachmentURI(in.NoteID, in.AttachmentFilename)
	out := AttachmentOutput{URI: uri, MIMEType: f.ContentType, Size: len(f.Data), Encoding: "base64", Data: base64.StdEncoding.EncodeToString(f.Data)}
	res := &mcp.CallToolResult{Content: []mcp.Content{&mcp.EmbeddedResource{Resource: tools.FileContents(uri, f.ContentType, f.Data)}}}
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

func deleteNote(ctx context.Context, c *nextcloud.Client, in NoteIDInput) (DeleteNoteOutput, error) {
	// The category locates the attachment folder, which Nextcloud leaves
	// behind when a note is deleted.
	nc := ncnotes.New(c)
	note, err := nc.Get(ctx, in.NoteID)
	if err != nil {
		return DeleteNoteOutput{}, err
	}
	if err := nc.Delete(ctx, in.NoteID); err != nil {
		return DeleteNoteOutput{}, err
	}
	msg := fmt.Sprintf("Note %d deleted successfully", in.NoteID)
	if err := nc.DeleteAttachments(ctx, note); err != nil {
		tools.Logger(ctx).Warn("note attachments left behind", "note_id", in.NoteID, "error", err.Error())
		msg += "; its attachment folder could not be removed: " + err.Error()
	}
	return DeleteNoteOutput{Status: tools.OK(ctx), StatusCode: 200, Message: msg, DeletedID: in.NoteID}, nil
}

// ---- checks ----

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
