package nextcloud

// app is one Nextcloud app the fake serves. The core (auth, dialects, OCS
// envelope, routing, locking, persistence, control API, the DAV server)
// never names an app: it iterates the registry (apps.go) and asks each app
// for its part.
type app interface {
	// id is the app id (appinfo/info.xml).
	id() string
	// dav is the app's DAV plugin; nil for none.
	dav() *davPlugin
}
