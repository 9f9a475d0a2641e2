package nextcloud

import "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/davxml"

// filesApp is the files app: the files collection (and remote.php/webdav),
// file search and the favourites report. The file store itself (vfs, the
// views, favourites) is core state every app builds on.
type filesApp struct{ baseApp }

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

// capabilities is the files app's Capabilities (logged-in users).
func (filesApp) capabilities(*state, string) []capability {
	return []capability{{name: "files", value: obj{{"bigfilechunking", true}, {"blacklisted_files", []any{".htaccess"}},
		{"forbidden_filenames", []any{".htaccess"}}, {"forbidden_filename_basenames", []any{}}, {"forbidden_filename_characters", []any{"\\", "/"}},
		{"forbidden_filename_extensions", []any{".filepart", ".part"}}, {"undelete", false}, {"versioning", false}}}}
}

func (filesApp) navigation() []navEntry { return []navEntry{{id: "files", name: "Files", order: 0}} }
