package sharing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	ncsharing "github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud/sharing"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
)

// Sharing tool names (upstream).
const (
	ToolCreate = "nc_share_create"
	ToolDelete = "nc_share_delete"
	ToolGet    = "nc_share_get"
	ToolList   = "nc_share_list"
	ToolUpdate = "nc_share_update"
)

// Limits on arguments that Nextcloud bounds loosely or not at all; they
// only stop absurd input before it travels.
const (
	MaxShareWithBytes = 255 // oc_share.share_with is a varchar(255)
	MaxPasswordBytes  = 1024
	MaxNoteBytes      = 4096
	MaxPathBytes      = 4096
)

// dateLayout is the expiry date format the share API takes.
const dateLayout = "2006-01-02"

// ---- inputs ----

// CreateShareInput is nc_share_create's arguments.
type CreateShareInput struct {
	Path        string `json:"path" jsonschema:"File or folder to share, relative to your files root, e.g. \"/Documents/report.md\". Not the root itself; no \"..\" segments."`
	ShareWith   string `json:"share_with,omitempty" jsonschema:"The user id (share_type 0) or group id (share_type 1) to share with. Required for those; leave it out for a public link (share_type 3)."`
	ShareType   int    `json:"share_type,omitempty" jsonschema:"0 user (the default), 1 group, 3 public link."`
	Permissions *int   `json:"permissions,omitempty" jsonschema:"Bitmask of what recipients may do: 1 read, 2 update, 4 create, 8 delete, 16 share (31 all); default 1 (read only). User and group shares must include read. A public link needs read, or create alone for an upload-only file drop; update and delete need read. Shares of a single file lose create and delete."`
	ExpireDate  string `json:"expire_date,omitempty" jsonschema:"Last day the share works, YYYY-MM-DD, after today. Omit for no expiry (or the server's default)."`
	Password    string `json:"password,omitempty" jsonschema:"Password protecting a public link (share_type 3 only)."`
	Note        string `json:"note,omitempty" jsonschema:"Note shown to the recipients (at most 4096 bytes)."`
}

// ShareIDInput is the argument of the tools that take only a share id.
type ShareIDInput struct {
	ShareID int64 `json:"share_id" jsonschema:"Id of the share (a positive integer), from nc_share_list or nc_share_create."`
}

// ListSharesInput is nc_share_list's arguments.
type ListSharesInput struct {
	Path         string `json:"path,omitempty" jsonschema:"Only the shares of this file or folder (relative to your files root); omit for all."`
	SharedWithMe bool   `json:"shared_with_me,omitempty" jsonschema:"true lists the shares others made with you; false (the default) the shares you made."`
}

// UpdateShareInput is nc_share_update's arguments.
type UpdateShareInput struct {
	ShareID     int64   `json:"share_id" jsonschema:"Id of the share to change (a positive integer); only shares you made can be changed."`
	Permissions *int    `json:"permissions,omitempty" jsonschema:"New permission bitmask (1 read, 2 update, 4 create, 8 delete, 16 share); the same rules as for nc_share_create. Omit to keep."`
	ExpireDate  *string `json:"expire_date,omitempty" jsonschema:"New last day, YYYY-MM-DD, after today; an empty string removes the expiry. Omit to keep."`
	Password    *string `json:"password,omitempty" jsonschema:"New password of a public link; an empty string removes it. Public links only. Omit to keep."`
	Note        *string `json:"note,omitempty" jsonschema:"New note for the recipients; an empty string removes it. Omit to keep."`
}

// ---- outputs ----

// ShareOutput is a share as Nextcloud reports it to the caller.
type ShareOutput struct {
	ID                   int64    `json:"id" jsonschema:"Share id."`
	ShareType            int      `json:"share_type" jsonschema:"0 user, 1 group, 3 public link."`
	ShareTypeName        string   `json:"share_type_name" jsonschema:"\"user\", \"group\" or \"link\"."`
	UIDOwner             string   `json:"uid_owner" jsonschema:"Who made the share."`
	DisplayNameOwner     string   `json:"displayname_owner" jsonschema:"Display name of who made the share."`
	UIDFileOwner         string   `json:"uid_file_owner" jsonschema:"Who owns the file or folder."`
	Permissions          int      `json:"permissions" jsonschema:"What the recipients may do (bitmask: 1 read, 2 update, 4 create, 8 delete, 16 share)."`
	PermissionNames      []string `json:"permission_names" jsonschema:"The permissions in words."`
	CanEdit              bool     `json:"can_edit" jsonschema:"Whether you may change this share."`
	CanDelete            bool     `json:"can_delete" jsonschema:"Whether you may delete this share (a recipient deletes it only from their own files)."`
	STime                int64    `json:"stime" jsonschema:"When the share was made, unix seconds."`
	Expiration           string   `json:"expiration,omitempty" jsonschema:"Expiry, \"YYYY-MM-DD 00:00:00\"; absent for none."`
	Path                 string   `json:"path" jsonschema:"The file or folder as you see it, relative to your files root."`
	ItemType             string   `json:"item_type" jsonschema:"\"file\" or \"folder\"."`
	ItemPermissions      int      `json:"item_permissions" jsonschema:"Your own permissions on the shared item (bitmask)."`
	MimeType             string   `json:"mimetype" jsonschema:"Media type of the item."`
	FileTarget           string   `json:"file_target" jsonschema:"Where the share appears in the recipient's files."`
	ShareWith            string   `json:"share_with,omitempty" jsonschema:"The user or group shared with; absent for links."`
	ShareWithDisplayName string   `json:"share_with_displayname" jsonschema:"Display name of the user or group, or \"(Shared link)\"."`
	Note                 string   `json:"note" jsonschema:"Note to the recipients."`
	Token                string   `json:"token,omitempty" jsonschema:"Public links: the link's token."`
	URL                  string   `json:"url,omitempty" jsonschema:"Public links: the address anyone can open."`
	HasPassword          bool     `json:"has_password" jsonschema:"Public links: whether a password protects the link (the password itself is never returned)."`
}

// ShareResultOutput answers the tools that return one share.
type ShareResultOutput struct {
	tools.Status
	Share ShareOutput `json:"share" jsonschema:"The share."`
}

// ListSharesOutput answers nc_share_list.
type ListSharesOutput struct {
	tools.Status
	Shares       []ShareOutput `json:"shares" jsonschema:"The shares."`
	Count        int           `json:"count" jsonschema:"Number of shares."`
	SharedWithMe bool          `json:"shared_with_me" jsonschema:"Whether these are shares made with you (true) or by you (false)."`
	Path         string        `json:"path,omitempty" jsonschema:"The file or folder the list is limited to, normalised."`
}

// DeleteShareOutput answers nc_share_delete.
type DeleteShareOutput struct {
	tools.Status
	ShareID int64  `json:"share_id" jsonschema:"Id of the deleted share."`
	Message string `json:"message" jsonschema:"What happened."`
}

var typeNames = map[int]string{ncsharing.TypeUser: "user", ncsharing.TypeGroup: "group", ncsharing.TypeLink: "link"}

func permissionNames(p int) []string {
	out := []string{}
	for _, b := range []struct {
		bit  int
		name string
	}{{ncsharing.PermRead, "read"}, {ncsharing.PermUpdate, "update"}, {ncsharing.PermCreate, "create"}, {ncsharing.PermDelete, "delete"}, {ncsharing.PermShare, "share"}} {
		if p&b.bit != 0 {
			out = append(out, b.name)
		}
	}
	return out
}

func shareOutput(s *ncsharing.Share) ShareOutput {
	name := typeNames[s.ShareType]
	if name == "" {
		name = fmt.Sprintf("type %d", s.ShareType)
	}
	return ShareOutput{
		ID: s.ID, ShareType: s.ShareType, ShareTypeName: name, UIDOwner: s.UIDOwner, DisplayNameOwner: s.DisplayNameOwner,
		UIDFileOwner: s.UIDFileOwner, Permissions: s.Permissions, PermissionNames: permissionNames(s.Permissions),
		CanEdit: s.CanEdit, CanDelete: s.CanDelete, STime: s.STime, Expiration: s.Expiration, Path: s.Path, ItemType: s.ItemType,
		ItemPermissions: s.ItemPermissions, MimeType: s.MimeType, FileTarget: s.FileTarget, ShareWith: s.ShareWith,
		ShareWithDisplayName: s.ShareWithDisplayName, Note: s.Note, Token: s.Token, URL: s.URL, HasPassword: s.HasPassword,
	}
}

// ---- validation: what the schemas cannot express, checked by the kit
// before any Nextcloud client is obtained ----

// Validate checks the arguments of nc_share_create.
func (in CreateShareInput) Validate() error {
	errs := []error{checkPath(in.Path), checkNote(in.Note)}
	switch in.ShareType {
	case ncsharing.TypeUser, ncsharing.TypeGroup:
		what := map[int]string{ncsharing.TypeUser: "user", ncsharing.TypeGroup: "group"}[in.ShareType]
		if strings.TrimSpace(in.ShareWith) == "" {
			errs = append(errs, fmt.Errorf("share_with is required for a %s share (share_type %d): give the %s id", what, in.ShareType, what))
		} else {
			errs = append(errs, checkShareWith(in.ShareWith))
		}
		if in.Password != "" {
			errs = append(errs, fmt.Errorf("password is only for public links (share_type 3); a %s share cannot have one", what))
		}
	case ncsharing.TypeLink:
		if in.ShareWith != "" {
			errs = append(errs, errors.New("share_with must be left out for a public link (share_type 3): anyone with the link can open it"))
		}
		errs = append(errs, checkPassword(in.Password))
	default:
		errs = append(errs, fmt.Errorf("share_type %d is not supported: use 0 (user), 1 (group) or 3 (public link)", in.ShareType))
	}
	if in.Permissions != nil {
		errs = append(errs, checkPermissions(*in.Permissions, in.ShareType))
	}
	if in.ExpireDate != "" {
		errs = append(errs, checkExpireDate(in.ExpireDate))
	}
	return errors.Join(errs...)
}

// Validate checks a share id argument.
func (in ShareIDInput) Validate() error { return checkShareID(in.ShareID) }

// Validate checks the arguments of nc_share_list.
func (in ListSharesInput) Validate() error {
	if in.Path == "" {
		return nil
	}
	return checkPath(in.Path)
}

// Validate checks the arguments of nc_share_update. The share's type is
// unknown before Nextcloud is asked, so permissions are checked against
// the rules every type shares; the handler checks a password against the
// share's type.
func (in UpdateShareInput) Validate() error {
	errs := []error{checkShareID(in.ShareID)}
	if in.Permissions == nil && in.ExpireDate == nil && in.Password == nil && in.Note == nil {
		errs = append(errs, errors.New("nothing to update: give at least one of permissions, expire_date, password or note"))
	}
	if in.Permissions != nil {
		errs = append(errs, checkPermissions(*in.Permissions, -1))
	}
	if in.ExpireDate != nil && *in.ExpireDate != "" {
		errs = append(errs, checkExpireDate(*in.ExpireDate))
	}
	if in.Password != nil {
		errs = append(errs, checkPassword(*in.Password))
	}
	if in.Note != nil {
		errs = append(errs, checkNote(*in.Note))
	}
	return errors.Join(errs...)
}

// ---- schemas ----

// inputSchema is T's inferred input schema with defaults (JSON text, which
// the SDK fills in for absent arguments) and one example value per
// property. The examples of a schema form one valid call together, so a
// client or a conformance probe that needs harmless arguments can take
// them as they are.
func inputSchema[T any](defaults map[string]string, examples map[string]any) *jsonschema.Schema {
	sch, err := jsonschema.For[T](nil)
	if err != nil {
		panic(fmt.Sprintf("sharing: input schema of %T: %v", *new(T), err))
	}
	for name, d := range defaults {
		sch.Properties[name].Default = json.RawMessage(d)
	}
	for name, ex := range examples {
		sch.Properties[name].Examples = []any{ex}
	}
	return sch
}

// ---- the tools ----

func shareTools() []tools.Tool {
	return []tools.Tool{
		tools.NC(mcp.Tool{
			Name:  ToolCreate,
			Title: "Create share",
			Description: "Share a file or folder: with a user (share_type 0, the default), a group (1), or by public link (3). " +
				"Returns the new share with its id (and, for a link, its url). Permissions default to read only.",
			InputSchema: inputSchema[CreateShareInput](map[string]string{"share_type": "0", "permissions": "1"},
				map[string]any{"path": "/Projects/example-report.md", "share_with": "bob", "share_type": 0, "permissions": 1, "note": "For your review"}),
			// A public link publishes the item beyond this Nextcloud.
			Annotations: &mcp.ToolAnnotations{DestructiveHint: tools.Ptr(false), OpenWorldHint: tools.Ptr(true)},
		}, createShare),
		tools.NC(mcp.Tool{
			Name:        ToolDelete,
			Title:       "Delete share",
			Description: "Delete a share you made (the recipients lose access), or remove a share made with you from your own files.",
			Annotations: &mcp.ToolAnnotations{DestructiveHint: tools.Ptr(true), IdempotentHint: true, OpenWorldHint: tools.Ptr(false)},
		}, deleteShare),
		tools.NC(mcp.Tool{
			Name:        ToolGet,
			Title:       "Get share",
			Description: "Read one share you made or received, by id: who, what, permissions, expiry, note and, for a link, its url.",
			Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: tools.Ptr(false)},
		}, getShare),
		tools.NC(mcp.Tool{
			Name:  ToolList,
			Title: "List shares",
			Description: "List the shares you made, or with shared_with_me the shares others made with you; " +
				"optionally only those of one file or folder.",
			Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: tools.Ptr(false)},
		}, listShares),
		tools.NC(mcp.Tool{
			Name:  ToolUpdate,
			Title: "Update share",
			Description: "Change a share you made: its permissions, expiry date, note, or a public link's password. " +
				"Fields left out stay as they are.",
			InputSchema: inputSchema[UpdateShareInput](nil, map[string]any{"permissions": 1, "note": "Read only from now on"}),
			// Removing a link's password or expiry widens who can open it.
			Annotations: &mcp.ToolAnnotations{DestructiveHint: tools.Ptr(true), IdempotentHint: true, OpenWorldHint: tools.Ptr(true)},
		}, updateShare),
	}
}

func createShare(ctx context.Context, c *nextcloud.Client, in CreateShareInput) (ShareResultOutput, error) {
	path, err := ncsharing.NormalizePath(in.Path)
	if err != nil {
		return ShareResultOutput{}, err
	}
	perms := ncsharing.PermRead
	if in.Permissions != nil {
		perms = *in.Permissions
	}
	sh, err := ncsharing.New(c).Create(ctx, ncsharing.NewShare{Path: path, Type: in.ShareType, ShareWith: strings.TrimSpace(in.ShareWith),
		Permissions: perms, Password: in.Password, ExpireDate: in.ExpireDate, Note: in.Note})
	if err != nil {
		return ShareResultOutput{}, err
	}
	return ShareResultOutput{Status: tools.OK(ctx), Share: shareOutput(sh)}, nil
}

func getShare(ctx context.Context, c *nextcloud.Client, in ShareIDInput) (ShareResultOutput, error) {
	sh, err := ncsharing.New(c).Get(ctx, in.ShareID)
	if err != nil {
		return ShareResultOutput{}, err
	}
	return ShareResultOutput{Status: tools.OK(ctx), Share: shareOutput(sh)}, nil
}

func listShares(ctx context.Context, c *nextcloud.Client, in ListSharesInput) (ListSharesOutput, error) {
	var path string
	if in.Path != "" {
		p, err := ncsharing.NormalizePath(in.Path)
		if err != nil {
			return ListSharesOutput{}, err
		}
		path = p
	}
	list, err := ncsharing.New(c).List(ctx, ncsharing.ListOptions{Path: path, SharedWithMe: in.SharedWithMe})
	if err != nil {
		return ListSharesOutput{}, err
	}
	out := ListSharesOutput{Status: tools.OK(ctx), Shares: make([]ShareOutput, 0, len(list)), SharedWithMe: in.SharedWithMe, Path: path}
	for i := range list {
		out.Shares = append(out.Shares, shareOutput(&list[i]))
	}
	out.Count = len(out.Shares)
	return out, nil
}

func updateShare(ctx context.Context, c *nextcloud.Client, in UpdateShareInput) (ShareResultOutput, error) {
	s := ncsharing.New(c)
	if in.Password != nil {
		// Nextcloud ignores a password for user and group shares without a
		// word (ShareAPIController::updateShare); say so instead.
		cur, err := s.Get(ctx, in.ShareID)
		if err != nil {
			return ShareResultOutput{}, err
		}
		if cur.ShareType != ncsharing.TypeLink {
			return ShareResultOutput{}, fmt.Errorf("share %d is a %s share: only public links (share_type 3) have a password", in.ShareID, typeNames[cur.ShareType])
		}
	}
	sh, err := s.Update(ctx, in.ShareID, ncsharing.Update{Permissions: in.Permissions, Password: in.Password, ExpireDate: in.ExpireDate, Note: in.Note})
	if err != nil {
		return ShareResultOutput{}, err
	}
	return ShareResultOutput{Status: tools.OK(ctx), Share: shareOutput(sh)}, nil
}

func deleteShare(ctx context.Context, c *nextcloud.Client, in ShareIDInput) (DeleteShareOutput, error) {
	if err := ncsharing.New(c).Delete(ctx, in.ShareID); err != nil {
		return DeleteShareOutput{}, err
	}
	return DeleteShareOutput{Status: tools.OK(ctx), ShareID: in.ShareID, Message: fmt.Sprintf("Share %d deleted", in.ShareID)}, nil
}

// ---- checks ----

func checkShareID(id int64) error {
	if id <= 0 {
		return fmt.Errorf("share_id must be a positive integer, got %d", id)
	}
	return nil
}

func checkPath(p string) error {
	if len(p) > MaxPathBytes {
		return fmt.Errorf("path is %d bytes long; at most %d are allowed", len(p), MaxPathBytes)
	}
	if _, err := ncsharing.NormalizePath(p); err != nil {
		// The client's sentinel prefix means nothing to a user.
		return errors.New(strings.TrimPrefix(err.Error(), ncsharing.ErrInvalidPath.Error()+" "))
	}
	return nil
}

func checkShareWith(s string) error {
	switch {
	case len(s) > MaxShareWithBytes:
		return fmt.Errorf("share_with is %d bytes long; at most %d are allowed", len(s), MaxShareWithBytes)
	case strings.ContainsFunc(s, unicode.IsControl):
		return errors.New("share_with must not contain control characters")
	}
	return nil
}

func checkPassword(pw string) error {
	switch {
	case len(pw) > MaxPasswordBytes:
		return fmt.Errorf("password is %d bytes long; at most %d are allowed", len(pw), MaxPasswordBytes)
	case strings.ContainsFunc(pw, unicode.IsControl):
		return errors.New("password must not contain control characters")
	}
	return nil
}

func checkNote(n string) error {
	if len(n) > MaxNoteBytes {
		return fmt.Errorf("note is %d bytes long; at most %d are allowed", len(n), MaxNoteBytes)
	}
	return nil
}

// checkPermissions applies Nextcloud's rules for shareType (-1: unknown,
// the rules every type shares): 1..31; user and group shares need read
// (Share20\Manager generalCreateChecks); a public link needs read, or
// create alone (a file drop), and update or delete need read
// (ShareAPIController::validateLinkSharePermissions).
func checkPermissions(p, shareType int) error {
	const (
		read, update, create, del = ncsharing.PermRead, ncsharing.PermUpdate, ncsharing.PermCreate, ncsharing.PermDelete
	)
	if p < 1 || p > ncsharing.PermAll {
		return fmt.Errorf("permissions %d is not a valid bitmask: combine 1 read, 2 update, 4 create, 8 delete, 16 share (1 to 31)", p)
	}
	switch {
	case shareType == ncsharing.TypeUser || shareType == ncsharing.TypeGroup:
		if p&read == 0 {
			return fmt.Errorf("permissions %d lacks read (1): user and group shares must include it", p)
		}
	case p&read == 0 && p&create == 0:
		return fmt.Errorf("permissions %d has neither read (1) nor create (4): a share needs one of them", p)
	case p&read == 0 && p&(update|del) != 0:
		return fmt.Errorf("permissions %d has update or delete without read (1): add read", p)
	}
	return nil
}

// checkExpireDate accepts YYYY-MM-DD after today (UTC): Nextcloud refuses
// a date that is not in the future ("Expiration date is in the past",
// Share20\Manager validateExpirationDate*).
func checkExpireDate(s string) error {
	d, err := time.Parse(dateLayout, s)
	if err != nil {
		return fmt.Errorf("expire_date %q is not a date in the form YYYY-MM-DD", s)
	}
	now := time.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if !d.After(today) {
		return fmt.Errorf("expire_date %s is not in the future: give a day after %s", s, today.Format(dateLayout))
	}
	return nil
}
