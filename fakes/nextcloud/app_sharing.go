package nextcloud

import (
	"strconv"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/davxml"
)

// sharingApp is files_sharing.
type sharingApp struct{}

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
