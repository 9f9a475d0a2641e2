package files

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

// Search bounds.
const (
	DefaultSearchLimit = 50
	MaxSearchLimit     = 500
)

// Query is a DASL search of the user's files (RFC 5323 basicsearch, as
// Nextcloud's FileSearchBackend understands it: apps/dav/lib/Files/
// FileSearchBackend.php). Conditions are combined with AND; none at all
// matches everything below the scope.
type Query struct {
	// Scope is the folder searched, recursively ("" for all files).
	Scope string
	// NamePattern matches names with SQL LIKE, case-insensitively: "%"
	// any run of characters, "_" one character.
	NamePattern string
	// MIMEType is an exact media type ("application/pdf") or, ending with
	// "/", a prefix ("image/").
	MIMEType string
	// Favorites keeps only the user's favourites.
	Favorites bool
	// Limit bounds the results (0: DefaultSearchLimit).
	Limit int
}

// SearchResult is what a search found.
type SearchResult struct {
	Results []Info
	// Truncated is set when Nextcloud returned as many results as asked
	// for: there may be more.
	Truncated bool
}

// Search runs q with SEARCH on the DAV root. Results come in Nextcloud's
// order (most recently modified first).
func (c *Client) Search(ctx context.Context, q Query) (*SearchResult, error) {
	scope, err := Clean(q.Scope)
	if err != nil {
		return nil, fmt.Errorf("scope: %w", err)
	}
	limit := q.Limit
	if limit == 0 {
		limit = DefaultSearchLimit
	}
	if limit < 1 || limit > MaxSearchLimit {
		return nil, fmt.Errorf("limit must be between 1 and %d, got %d", MaxSearchLimit, limit)
	}
	uid, err := c.nc.UserID(ctx)
	if err != nil {
		return nil, err
	}
	href := "/files/" + url.PathEscape(uid)
	if scope != "" {
		for _, s := range strings.Split(scope, "/") {
			href += "/" + url.PathEscape(s)
		}
	}
	body := searchBody(href, q, limit)
	r := &nextcloud.Request{Op: "search files in " + strconv.Quote("/"+scope), Resource: describe("Folder", scope),
		Method: "SEARCH", Path: "/remote.php/dav/", Idempotent: true,
		Header: http.Header{"Content-Type": {"text/xml; charset=utf-8"}}, Body: strings.NewReader(body)}
	resp, err := c.nc.WebDAV(ctx, r)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.Status != http.StatusMultiStatus {
		return nil, c.nc.ResponseError(r, resp, nil, nextcloud.Unexpected(resp, "SEARCH answered without a multistatus"))
	}
	infos, err := c.parse(ctx, r, resp)
	if err != nil {
		return nil, err
	}
	truncated := len(infos) >= limit
	// The scope folder itself is never a result.
	infos = slices.DeleteFunc(infos, func(fi Info) bool { return fi.Path == scope })
	return &SearchResult{Results: infos, Truncated: truncated}, nil
}

// searchBody writes the searchrequest. Nextcloud's "and" needs two
// operands or more, and an empty <d:where> matches nothing
// (docs/nextcloud-contract.md §5.4): one condition goes alone, none
// becomes displayname LIKE '%'.
func searchBody(scopeHref string, q Query, limit int) string {
	var conds []string
	prop := func(p string) string { return "<d:prop>" + p + "</d:prop>" }
	lit := func(s string) string { return "<d:literal>" + escapeXML(s) + "</d:literal>" }
	if q.NamePattern != "" {
		conds = append(conds, "<d:like>"+prop("<d:displayname/>")+lit(q.NamePattern)+"</d:like>")
	}
	if q.MIMEType != "" {
		if strings.HasSuffix(q.MIMEType, "/") {
			conds = append(conds, "<d:like>"+prop("<d:getcontenttype/>")+lit(q.MIMEType+"%")+"</d:like>")
		} else {
			conds = append(conds, "<d:eq>"+prop("<d:getcontenttype/>")+lit(q.MIMEType)+"</d:eq>")
		}
	}
	if q.Favorites {
		conds = append(conds, "<d:eq>"+prop("<oc:favorite/>")+lit("1")+"</d:eq>")
	}
	var where string
	switch len(conds) {
	case 0:
		where = "<d:like>" + prop("<d:displayname/>") + lit("%") + "</d:like>"
	case 1:
		where = conds[0]
	default:
		where = "<d:and>" + strings.Join(conds, "") + "</d:and>"
	}
	return `<?xml version="1.0" encoding="UTF-8"?>
<d:searchrequest xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns">
 <d:basicsearch>
  <d:select><d:prop><d:resourcetype/><d:getcontentlength/><d:getcontenttype/><d:getetag/><d:getlastmodified/><oc:fileid/><oc:size/><oc:favorite/></d:prop></d:select>
  <d:from><d:scope><d:href>` + escapeXML(scopeHref) + `</d:href><d:depth>infinity</d:depth></d:scope></d:from>
  <d:where>` + where + `</d:where>
  <d:orderby><d:order><d:prop><d:getlastmodified/></d:prop><d:descending/></d:order></d:orderby>
  <d:limit><d:nresults>` + strconv.Itoa(limit) + `</d:nresults></d:limit>
 </d:basicsearch>
</d:searchrequest>`
}

func escapeXML(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// sortInfos orders a listing: folders first, then by name, ignoring case.
func sortInfos(infos []Info) {
	slices.SortStableFunc(infos, func(a, b Info) int {
		if a.IsDir != b.IsDir {
			if a.IsDir {
				return -1
			}
			return 1
		}
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}
