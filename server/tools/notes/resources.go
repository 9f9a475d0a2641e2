package notes

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	ncnotes "github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud/notes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
)

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

// resources are the settings resource and the note and attachment
// templates; all need notes:read (the module's Read scope).
func (m *module) resources() []tools.Resource {
	return []tools.Resource{
		tools.StaticResource(mcp.Resource{
			URI:         NotesSettingsURI,
			Name:        "notes_settings",
			Title:       "Notes settings",
			Description: "Get the Notes App settings: notesPath (folder of the notes), fileSuffix and noteMode, as JSON.",
			MIMEType:    "application/json",
		}, readSettings),
		tools.TemplateResource(mcp.ResourceTemplate{
			URITemplate: NoteURITemplate,
			Name:        "note",
			Title:       "Note",
			Description: "Get user note using note id: the note as JSON (id, title, content, category, modified, favorite, etag, readonly).",
			MIMEType:    "application/json",
		}, readNote),
		tools.TemplateResource(mcp.ResourceTemplate{
			URITemplate: AttachmentTemplate,
			Name:        "note_attachment",
			Title:       "Note attachment",
			Description: "Get a specific attachment from a note: the file with its media type (text for text files, base64 blob otherwise).",
		}, readAttachmentResource),
	}
}

func readSettings(ctx context.Context, c *nextcloud.Client, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	st, err := ncnotes.New(c).Settings(ctx)
	if err != nil {
		return nil, err
	}
	return tools.JSONResource(req.Params.URI, st)
}

func readNote(ctx context.Context, c *nextcloud.Client, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
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
	return tools.JSONResource(req.Params.URI, noteOutput(n))
}

func readAttachmentResource(ctx context.Context, c *nextcloud.Client, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
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
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{tools.FileContents(req.Params.URI, f.ContentType, f.Data)}}, nil
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
