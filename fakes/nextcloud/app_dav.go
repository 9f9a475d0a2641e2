package nextcloud

// davApp is Nextcloud's dav app as far as it is not files: the principals
// collection, sabre's ACL plugin property current-user-principal, and the
// dav capabilities (apps/dav/lib/Capabilities.php).
type davApp struct{ baseApp }

func (davApp) id() string { return "dav" }

func (davApp) dav() *davPlugin {
	return &davPlugin{collections: []davCollection{principalsDAV{}}, prop: principalProp}
}

func (davApp) capabilities(*state, string) []capability {
	return []capability{{name: "dav", value: obj{{"chunking", "1.0"}, {"bulkupload", "1.0"},
		{"search_supports_creation_time", true}, {"search_supports_upload_time", true}}}}
}
