package nextcloud

import (
	"strconv"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/davxml"
)

// sharingApp is files_sharing.
type sharingApp struct{ baseApp }

func (sharingApp) id() string { return "files_sharing" }

func (sharingApp) dav() *davPlugin { return &davPlugin{prop: shareTypesProp} }

// shareTypesProp is SharesPlugin's oc:share-types on files: the types of
// the shares the viewer made of the node.
func shareTypesProp(d *davReq, node davNode, n davxml.Name) (string, bool) {
	e, ok := entryOf(node)
	if !ok || n != nOC("share-types") {
		return "", false
	}
	var b strings.Builder
	seen := map[int]bool{}
	for _, sh := range d.st().sortedShares() {
		if sh.NodeID == e.node.ID && sh.SharedBy == d.auth.uid && !seen[sh.Type] {
			seen[sh.Type] = true
			b.WriteString("<oc:share-type>" + strconv.Itoa(sh.Type) + "</oc:share-type>")
		}
	}
	return b.String(), true
}

// capabilities is files_sharing's Capabilities (public).
func (sharingApp) capabilities(*state, string) []capability {
	return []capability{{name: "files_sharing", public: true, value: obj{
		{"api_enabled", true},
		{"public", obj{{"enabled", true}, {"password", obj{{"enforced", false}, {"askForOptionalPassword", false}}},
			{"expire_date", obj{{"enabled", false}}}, {"multiple_links", true}, {"expire_date_internal", obj{{"enabled", false}}},
			{"expire_date_remote", obj{{"enabled", false}}}, {"send_mail", false}, {"upload", true}, {"upload_files_drop", true}}},
		{"resharing", true},
		{"user", obj{{"send_mail", false}, {"expire_date", obj{{"enabled", true}}}}},
		{"group_sharing", true},
		{"group", obj{{"enabled", true}, {"expire_date", obj{{"enabled", true}}}}},
		{"default_permissions", 31},
		{"federation", obj{{"outgoing", false}, {"incoming", false}, {"expire_date", obj{{"enabled", false}}}, {"expire_date_supported", obj{{"enabled", false}}}}},
		{"sharee", obj{{"query_lookup_default", false}, {"always_show_unique", true}}},
	}}}
}

// ocsRoutes are files_sharing's share API.
func (sharingApp) ocsRoutes() []ocsRoute {
	return []ocsRoute{
		{method: "GET", pattern: "/apps/files_sharing/api/v1/shares", h: ocsListShares},
		{method: "POST", pattern: "/apps/files_sharing/api/v1/shares", h: ocsCreateShare},
		{method: "GET", pattern: "/apps/files_sharing/api/v1/shares/{id}", h: ocsGetShare},
		{method: "PUT", pattern: "/apps/files_sharing/api/v1/shares/{id}", h: ocsUpdateShare},
		{method: "DELETE", pattern: "/apps/files_sharing/api/v1/shares/{id}", h: ocsDeleteShare},
	}
}
