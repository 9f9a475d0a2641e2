package nextcloud

// apps is the registry: every app the fake serves, one line each, in
// Nextcloud's load order (which orders their capabilities and DAV
// namespace prefixes). See README.md, "Adding an app".
var apps = []app{
	davApp{},
	filesApp{},
	sharingApp{},
	themingApp{},
	notesApp{},
}
