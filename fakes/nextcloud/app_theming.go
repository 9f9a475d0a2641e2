package nextcloud

// themingApp is the theming app: only its public capability block.
type themingApp struct{ baseApp }

func (themingApp) id() string { return "theming" }

func (themingApp) capabilities(*state, string) []capability {
	return []capability{{name: "theming", public: true, value: obj{{"name", "Nextcloud"}, {"url", "https://nextcloud.com"},
		{"slogan", "a safe home for all your data"}, {"color", "#00679e"}}}}
}
