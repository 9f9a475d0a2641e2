package nextcloud

// davApp is Nextcloud's dav app as far as it is not files: the principals
// collection, the uploads collection (chunked upload, dav_uploads.go),
// sabre's ACL plugin property current-user-principal, and the dav
// capabilities (apps/dav/lib/Capabilities.php).
type davApp struct{ baseApp }

func (davApp) id() string { return "dav" }

func (davApp) dav() *davPlugin {
	return &davPlugin{collections: []davCollection{principalsDAV{}, uploadsDAV{}}, prop: principalProp}
}

func (davApp) capabilities(*state, string) []capability {
	// bulkupload is left out: Capabilities.php only adds it when bulk
	// upload is enabled, and the fake does not serve POST
	// /remote.php/dav/bulk.
	return []capability{{name: "dav", value: obj{{"chunking", "1.0"},
		{"search_supports_creation_time", true}, {"search_supports_upload_time", true}}}}
}
