package notes

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

// Note attachments are ordinary files beside the note, in the folder
// "<notesPath>/<category>/.attachments.<noteId>/" of the user's files, read
// over WebDAV (docs/nextcloud-contract.md §4 "Shared storage"; the upstream
// client does the same). notesPath comes from the user's Notes settings.

// DefaultNotesPath is the Notes folder when the settings name none.
const DefaultNotesPath = "Notes"

// AttachmentDir returns the attachment folder of a note, relative to the
// user's files root.
func AttachmentDir(notesPath, category string, noteID int64) string {
	parts := make([]string, 0, 3)
	if p := strings.Trim(notesPath, "/"); p != "" {
		parts = append(parts, p)
	} else {
		parts = append(parts, DefaultNotesPath)
	}
	if cat := strings.Trim(category, "/"); cat != "" {
		parts = append(parts, cat)
	}
	parts = append(parts, ".attachments."+strconv.FormatInt(noteID, 10))
	return strings.Join(parts, "/")
}

// ValidateAttachmentName checks that name is a single file name that
// cannot address anything outside the note's attachment folder; its
// errors match nextcloud.ErrInvalidPath.
func ValidateAttachmentName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: the attachment file name is empty", nextcloud.ErrInvalidPath)
	case len(name) > 255:
		return fmt.Errorf("%w: the attachment file name is %d bytes long; at most 255 are allowed", nextcloud.ErrInvalidPath, len(name))
	case name == "." || name == "..":
		return fmt.Errorf("%w: %q is not a file name", nextcloud.ErrInvalidPath, name)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("%w: the attachment file name %q must not contain slashes", nextcloud.ErrInvalidPath, name)
	case strings.ContainsFunc(name, unicode.IsControl):
		return fmt.Errorf("%w: the attachment file name must not contain control characters", nextcloud.ErrInvalidPath)
	}
	return nil
}

func attachmentResource(noteID int64, name string) string {
	return fmt.Sprintf("Attachment %q of note %d", name, noteID)
}

// attachmentDir resolves a note's attachment folder with the user's
// notesPath.
func (c *Client) attachmentDir(ctx context.Context, note *Note) (string, error) {
	s, err := c.Settings(ctx)
	if err != nil {
		return "", err
	}
	return AttachmentDir(s.NotesPath, note.Category, note.ID), nil
}

// Attachment downloads one attachment of note (ID and Category are used;
// get the note first). Attachments beyond the client's response size limit
// fail.
func (c *Client) Attachment(ctx context.Context, note *Note, name string) (*nextcloud.File, error) {
	if err := ValidateAttachmentName(name); err != nil {
		return nil, err
	}
	dir, err := c.attachmentDir(ctx, note)
	if err != nil {
		return nil, err
	}
	return c.nc.DownloadFile(ctx, dir+"/"+name, nextcloud.Describe(
		fmt.Sprintf("read attachment %q of note %d", name, note.ID), attachmentResource(note.ID, name)))
}

// Attachments lists a note's attachments; none (and no folder) is an empty
// list.
func (c *Client) Attachments(ctx context.Context, note *Note) ([]nextcloud.FileInfo, error) {
	dir, err := c.attachmentDir(ctx, note)
	if err != nil {
		return nil, err
	}
	files, err := c.nc.ListFolder(ctx, dir, nextcloud.Describe(
		fmt.Sprintf("list the attachments of note %d", note.ID), fmt.Sprintf("Attachment folder of note %d", note.ID)))
	if nextcloud.IsNotFound(err) {
		return nil, nil
	}
	return files, err
}

// DeleteAttachments deletes a note's attachment folder; a missing folder
// is not an error.
func (c *Client) DeleteAttachments(ctx context.Context, note *Note) error {
	dir, err := c.attachmentDir(ctx, note)
	if err != nil {
		return err
	}
	err = c.nc.DeleteFile(ctx, dir, nextcloud.Describe(
		fmt.Sprintf("delete the attachments of note %d", note.ID), fmt.Sprintf("Attachment folder of note %d", note.ID)))
	if nextcloud.IsNotFound(err) {
		return nil
	}
	return err
}
