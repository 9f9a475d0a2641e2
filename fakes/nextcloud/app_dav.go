package nextcloud

// davApp is Nextcloud's dav app as far as it is not files: the principals
// collection and sabre's ACL plugin property current-user-principal.
type davApp struct{}

func (davApp) id() string { return "dav" }

func (davApp) dav() *davPlugin {
	return &davPlugin{collections: []davCollection{principalsDAV{}}, prop: principalProp}
}
