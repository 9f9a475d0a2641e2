// Package sharing is the client of Nextcloud's files_sharing OCS API
// (docs/nextcloud-contract.md §2.4; nextcloud/server
// apps/files_sharing/lib/Controller/ShareAPIController.php): create, read,
// list, update and delete user, group and public link shares. It is built
// on the core client's OCS primitive, so every call gets the core's
// timeouts, retries (reads only), size limits and error mapping.
//
//	s := sharing.New(client) // cheap; per request is fine
//	sh, err := s.Create(ctx, sharing.NewShare{Path: "/Documents", Type: sharing.TypeUser, ShareWith: "bob", Permissions: sharing.PermRead})
package sharing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

// apiRoot is the share API on OCS v2, which maps failures onto HTTP
// statuses (docs/nextcloud-contract.md §2.1).
const apiRoot = "/ocs/v2.php/apps/files_sharing/api/v1/shares"

// Share types this client handles (OCP\Share\IShare::TYPE_*).
const (
	TypeUser  = 0
	TypeGroup = 1
	TypeLink  = 3
)

// Permission bits (OCP\Constants::PERMISSION_*).
const (
	PermRead   = 1
	PermUpdate = 2
	PermCreate = 4
	PermDelete = 8
	PermShare  = 16
	PermAll    = 31
)

// Client is the sharing client of one nextcloud.Client (and so of its
// credentials). It holds no state of its own.
type Client struct {
	nc *nextcloud.Client
}

// New returns the sharing client working through c.
func New(c *nextcloud.Client) *Client { return &Client{nc: c} }

// Share is a share as formatShare renders it for the caller. Link shares'
// password hash (Nextcloud sends it as share_with and password) is never
// kept: HasPassword says whether one is set.
type Share struct {
	ID                   int64
	ShareType            int
	UIDOwner             string // who created the share
	DisplayNameOwner     string
	UIDFileOwner         string // who owns the file
	DisplayNameFileOwner string
	Permissions          int  // what the recipients may do
	CanEdit              bool // whether the caller may change the share
	CanDelete            bool // whether the caller may delete the share
	STime                int64
	Expiration           string // "YYYY-MM-DD 00:00:00", or "" for none
	Token                string // link shares
	URL                  string // link shares
	Path                 string // as the caller sees it, relative to their files root
	ItemType             string // "file" or "folder"
	ItemPermissions      int    // the caller's permissions on the item
	MimeType             string
	ItemSource           int64 // file id
	FileTarget           string
	MountType            string
	IsMountRoot          bool
	ShareWith            string // user or group; "" for links
	ShareWithDisplayName string
	Note                 string
	Label                string
	HasPassword          bool
	HideDownload         bool
}

// wireShare is formatShare's output. PHP sends numbers as strings in some
// versions (id always), so the numeric fields accept both.
type wireShare struct {
	ID                   flexInt `json:"id"`
	ShareType            flexInt `json:"share_type"`
	UIDOwner             string  `json:"uid_owner"`
	DisplayNameOwner     string  `json:"displayname_owner"`
	UIDFileOwner         string  `json:"uid_file_owner"`
	DisplayNameFileOwner string  `json:"displayname_file_owner"`
	Permissions          flexInt `json:"permissions"`
	CanEdit              bool    `json:"can_edit"`
	CanDelete            bool    `json:"can_delete"`
	STime                flexInt `json:"stime"`
	Expiration           *string `json:"expiration"`
	Token                *string `json:"token"`
	URL                  string  `json:"url"`
	Path                 string  `json:"path"`
	ItemType             string  `json:"item_type"`
	ItemPermissions      flexInt `json:"item_permissions"`
	MimeType             string  `json:"mimetype"`
	ItemSource           flexInt `json:"item_source"`
	FileTarget           string  `json:"file_target"`
	MountType            string  `json:"mount-type"`
	IsMountRoot          bool    `json:"is-mount-root"`
	ShareWith            *string `json:"share_with"`
	ShareWithDisplayName *string `json:"share_with_displayname"`
	Note                 string  `json:"note"`
	Label                *string `json:"label"`
	Password             *string `json:"password"`
	HideDownload         flexInt `json:"hide_download"`
}

func (w *wireShare) share() Share {
	s := Share{
		ID: int64(w.ID), ShareType: int(w.ShareType), UIDOwner: w.UIDOwner, DisplayNameOwner: w.DisplayNameOwner,
		UIDFileOwner: w.UIDFileOwner, DisplayNameFileOwner: w.DisplayNameFileOwner, Permissions: int(w.Permissions),
		CanEdit: w.CanEdit, CanDelete: w.CanDelete, STime: int64(w.STime), URL: w.URL, Path: w.Path, ItemType: w.ItemType,
		ItemPermissions: int(w.ItemPermissions), MimeType: w.MimeType, ItemSource: int64(w.ItemSource), FileTarget: w.FileTarget,
		MountType: w.MountType, IsMountRoot: w.IsMountRoot, Note: w.Note, HideDownload: w.HideDownload != 0,
	}
	if w.Expiration != nil {
		s.Expiration = *w.Expiration
	}
	if w.Token != nil {
		s.Token = *w.Token
	}
	if w.Label != nil {
		s.Label = *w.Label
	}
	if s.ShareType == TypeLink {
		// share_with of a link is its password hash: keep only whether
		// there is one.
		s.HasPassword = (w.Password != nil && *w.Password != "") || (w.ShareWith != nil && *w.ShareWith != "")
		s.ShareWithDisplayName = "(Shared link)"
		if w.ShareWithDisplayName != nil && !strings.HasPrefix(*w.ShareWithDisplayName, "$") {
			s.ShareWithDisplayName = *w.ShareWithDisplayName
		}
		return s
	}
	if w.ShareWith != nil {
		s.ShareWith = *w.ShareWith
	}
	if w.ShareWithDisplayName != nil {
		s.ShareWithDisplayName = *w.ShareWithDisplayName
	}
	return s
}

// flexInt decodes a JSON number, a numeric string or null.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not an integer: %s", b)
	}
	*f = flexInt(n)
	return nil
}

// NewShare is what Create sends. Path must already be normalised
// (NormalizePath); the zero values of the optional fields are not sent.
type NewShare struct {
	Path        string
	Type        int
	ShareWith   string // user or group id; empty for links
	Permissions int
	Password    string // links only
	ExpireDate  string // YYYY-MM-DD
	Note        string
}

// Update is what Update changes; nil fields are left as they are.
type Update struct {
	Permissions *int
	Password    *string // "" removes a link's password
	ExpireDate  *string // YYYY-MM-DD; "" removes the expiry
	Note        *string
}

// ListOptions filters List.
type ListOptions struct {
	// Path, when set (normalised), keeps the shares of that file or
	// folder.
	Path string
	// SharedWithMe lists the shares others made with the caller instead
	// of the caller's own.
	SharedWithMe bool
}

func shareResource(id int64) string { return "Share " + strconv.FormatInt(id, 10) }

func sharePath(id int64) string { return apiRoot + "/" + strconv.FormatInt(id, 10) }

// form is a form-encoded request body, as Nextcloud's own clients send
// the share API's parameters (never the query: a password would end up
// in access logs).
func form(v url.Values) (*strings.Reader, http.Header) {
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	return strings.NewReader(v.Encode()), h
}

// Create makes a share and returns it as Nextcloud stored it (file shares
// lose the create and delete bits, for instance).
func (c *Client) Create(ctx context.Context, s NewShare) (*Share, error) {
	if _, err := NormalizePath(s.Path); err != nil {
		return nil, err
	}
	v := url.Values{}
	v.Set("path", s.Path)
	v.Set("shareType", strconv.Itoa(s.Type))
	if s.ShareWith != "" {
		v.Set("shareWith", s.ShareWith)
	}
	v.Set("permissions", strconv.Itoa(s.Permissions))
	if s.Password != "" {
		v.Set("password", s.Password)
	}
	if s.ExpireDate != "" {
		v.Set("expireDate", s.ExpireDate)
	}
	if s.Note != "" {
		v.Set("note", s.Note)
	}
	body, h := form(v)
	op := fmt.Sprintf("share %q", s.Path)
	switch s.Type {
	case TypeUser:
		op += fmt.Sprintf(" with user %q", s.ShareWith)
	case TypeGroup:
		op += fmt.Sprintf(" with group %q", s.ShareWith)
	case TypeLink:
		op += " by public link"
	}
	r := &nextcloud.Request{Op: op, Method: http.MethodPost, Path: apiRoot, Body: body, Header: h}
	var w wireShare
	if err := c.nc.OCS(ctx, r, &w); err != nil {
		return nil, explain(err)
	}
	sh := w.share()
	return &sh, nil
}

// Get reads one share the caller made or received.
func (c *Client) Get(ctx context.Context, id int64) (*Share, error) {
	r := &nextcloud.Request{Op: fmt.Sprintf("get share %d", id), Resource: shareResource(id), Method: http.MethodGet, Path: sharePath(id), Idempotent: true}
	// GET /shares/{id} answers a one-element list.
	var list []wireShare
	if err := c.nc.OCS(ctx, r, &list); err != nil {
		return nil, explainID(err, id)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("share %d does not exist or you cannot see it (Nextcloud answered an empty list)", id)
	}
	sh := list[0].share()
	return &sh, nil
}

// List lists the caller's shares, or those shared with the caller.
func (c *Client) List(ctx context.Context, o ListOptions) ([]Share, error) {
	q := url.Values{}
	op := "list your shares"
	if o.SharedWithMe {
		q.Set("shared_with_me", "true")
		op = "list the shares shared with you"
	}
	if o.Path != "" {
		if _, err := NormalizePath(o.Path); err != nil {
			return nil, err
		}
		q.Set("path", o.Path)
		op += fmt.Sprintf(" of %q", o.Path)
	}
	r := &nextcloud.Request{Op: op, Method: http.MethodGet, Path: apiRoot, Query: q, Idempotent: true}
	var list []wireShare
	if err := c.nc.OCS(ctx, r, &list); err != nil {
		return nil, explain(err)
	}
	out := make([]Share, 0, len(list))
	for i := range list {
		out = append(out, list[i].share())
	}
	return out, nil
}

// Update changes a share the caller made and returns it as stored.
func (c *Client) Update(ctx context.Context, id int64, u Update) (*Share, error) {
	v := url.Values{}
	if u.Permissions != nil {
		v.Set("permissions", strconv.Itoa(*u.Permissions))
	}
	if u.Password != nil {
		v.Set("password", *u.Password)
	}
	if u.ExpireDate != nil {
		v.Set("expireDate", *u.ExpireDate)
	}
	if u.Note != nil {
		v.Set("note", *u.Note)
	}
	if len(v) == 0 {
		return nil, errors.New("nothing to update: give at least one of permissions, expire_date, password or note")
	}
	body, h := form(v)
	r := &nextcloud.Request{Op: fmt.Sprintf("update share %d", id), Resource: shareResource(id), Method: http.MethodPut, Path: sharePath(id), Body: body, Header: h}
	var w wireShare
	if err := c.nc.OCS(ctx, r, &w); err != nil {
		return nil, explainID(err, id)
	}
	sh := w.share()
	return &sh, nil
}

// Delete deletes a share the caller made; for a share the caller
// received, it removes it from their files (Nextcloud's unshare from
// self).
func (c *Client) Delete(ctx context.Context, id int64) error {
	r := &nextcloud.Request{Op: fmt.Sprintf("delete share %d", id), Resource: shareResource(id), Method: http.MethodDelete, Path: sharePath(id)}
	if err := c.nc.OCS(ctx, r, nil); err != nil {
		return explainID(err, id)
	}
	return nil
}
