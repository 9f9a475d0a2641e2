package nextcloud

import "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/davxml"

// filesApp is the files app: the files collection (and remote.php/webdav),
// file search and the favourites report. The file store itself (vfs, the
// views, favourites) is core state every app builds on.
type filesApp struct{}

func (filesApp) id() string { return "files" }

func (filesApp) dav() *davPlugin {
	return &davPlugin{
		collections: []davCollection{filesDAV{}},
		// FilesPlugin declares oc and nc; the share permission properties
		// it serves use ocs and ocm.
		namespaces: davxml.Namespaces{{Prefix: "oc", URI: davxml.NSOwnCloud}, {Prefix: "nc", URI: davxml.NSNextcloud},
			{Prefix: "ocs", URI: davxml.NSOCS}, {Prefix: "ocm", URI: davxml.NSOCM}},
		report: filesReport,
		search: filesSearch,
	}
}
