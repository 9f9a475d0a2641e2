package nextcloud

import (
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/davxml"
)

// principalsDAV is the principals collection: principals/users/{uid} for
// every account (apps/dav/lib/RootCollection.php with
// Connector\Sabre\Principal). Groups, circles and system principals are
// not served.
type principalsDAV struct{}

func (principalsDAV) name() string { return "principals" }

func (principalsDAV) resolve(d *davReq, rest []string) (davNode, *davError) {
	switch {
	case len(rest) == 0:
		return principalsRoot{}, nil
	case rest[0] != "users":
		return nil, errNotFound("File not found: " + rest[0] + " in 'principals'")
	case len(rest) == 1:
		return principalUsers{}, nil
	case d.st().users[rest[1]] == nil:
		return nil, errNotFound("Principal with name " + rest[1] + " not found")
	case len(rest) == 2:
		return principal{uid: rest[1]}, nil
	}
	return nil, errNotFound("File not found: " + rest[2] + " in '" + rest[1] + "'")
}

// serve leaves every method to the core: principals are read-only here.
func (principalsDAV) serve(*davReq) (bool, *davError)   { return false, nil }
func (principalsDAV) methods(*davReq, davNode) []string { return nil }

// principalHref is the href of uid's principal, whatever the endpoint.
func principalHref(uid string) string {
	return encodePath(davBase + "/principals/users/" + uid + "/")
}

// principalProp is sabre's ACL plugin property every node has:
// current-user-principal.
func principalProp(d *davReq, _ davNode, n davxml.Name) (string, bool) {
	if n == nDAV("current-user-principal") {
		return "<d:href>" + principalHref(d.auth.uid) + "</d:href>", true
	}
	return "", false
}

type principalsRoot struct{}

func (principalsRoot) davPath(*davReq) string                         { return "/principals/" }
func (principalsRoot) isCollection() bool                             { return true }
func (principalsRoot) children(*davReq) []davNode                     { return []davNode{principalUsers{}} }
func (principalsRoot) prop(*davReq, davxml.Name, bool) (string, bool) { return "", false }

type principalUsers struct{}

func (principalUsers) davPath(*davReq) string { return "/principals/users/" }
func (principalUsers) isCollection() bool     { return true }
func (principalUsers) children(d *davReq) []davNode {
	var out []davNode
	for _, uid := range d.st().sortedUIDs() {
		out = append(out, principal{uid: uid})
	}
	return out
}
func (principalUsers) prop(*davReq, davxml.Name, bool) (string, bool) { return "", false }

// principal is one user's principal (sabre's Principal node).
type principal struct{ uid string }

func (p principal) davPath(*davReq) string { return "/principals/users/" + p.uid + "/" }
func (principal) isCollection() bool       { return true }
func (principal) children(*davReq) []davNode {
	return nil
}

func (p principal) prop(d *davReq, n davxml.Name, _ bool) (string, bool) {
	u := d.st().users[p.uid]
	switch n {
	case nDAV("resourcetype"):
		return "<d:principal/>", true
	case nDAV("displayname"):
		return davxml.EscapeText(u.DisplayName), true
	case nDAV("principal-URL"):
		return "<d:href>" + principalHref(p.uid) + "</d:href>", true
	case davxml.Name{Space: davxml.NSSabre, Local: "email-address"}:
		if u.Email != "" {
			return davxml.EscapeText(u.Email), true
		}
	case nDAV("alternate-URI-set"):
		if u.Email != "" {
			return "<d:href>mailto:" + davxml.EscapeText(u.Email) + "</d:href>", true
		}
		return "", true
	}
	return "", false
}
