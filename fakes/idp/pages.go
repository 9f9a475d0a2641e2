package idp

import (
	"html/template"
	"net/http"
	"slices"
	"strings"
)

// The login, consent and error pages: plain HTML forms, no JavaScript, so
// tests can drive them with form posts and people with a browser.
var pages = template.Must(template.New("pages").Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} — fake IdP</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;padding:3rem 1rem}
main{max-width:26rem;margin:auto;background:#fff;border-radius:8px;padding:2rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem;margin-top:0} label{display:block;margin:.8rem 0 .3rem}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}
button{padding:.5rem 1.2rem;font-size:1rem;margin:1rem .5rem 0 0;cursor:pointer}
.error{color:#b00020} .scope{margin:.4rem 0} .hint{color:#666;font-size:.85rem}
code{background:#eee;padding:0 .2rem}
</style></head><body><main>{{end}}
{{define "foot"}}<p class="hint">Fake identity provider for tests and development.</p></main></body></html>{{end}}

{{define "login"}}{{template "head" .}}
<h1>Sign in to {{.ClientName}}</h1>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="req" value="{{.Req}}">
<label for="username">User name</label>
<input type="text" id="username" name="username" value="{{.LoginHint}}" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
{{if .Users}}<p class="hint">Users: {{range $i, $u := .Users}}{{if $i}}, {{end}}<code>{{$u}}</code>{{end}}</p>{{end}}
{{template "foot" .}}{{end}}

{{define "consent"}}{{template "head" .}}
<h1>{{.ClientName}} asks for access</h1>
<p>Signed in as <strong>{{.Username}}</strong>. Untick what you do not want to grant.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="req" value="{{.Req}}">
{{range .Scopes}}<div class="scope"><label><input type="checkbox" name="scope" value="{{.Name}}" checked> <code>{{.Name}}</code>{{if .Description}} — {{.Description}}{{end}}</label></div>
{{end}}{{if .Resources}}<p class="hint">For: {{range .Resources}}<code>{{.}}</code> {{end}}</p>{{end}}
<button type="submit" name="action" value="approve">Allow</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>
{{template "foot" .}}{{end}}

{{define "error"}}{{template "head" .}}
<h1>Request refused</h1>
<p class="error" role="alert">{{.Error}}</p>
{{template "foot" .}}{{end}}
`))

type pageData struct {
	Title      string
	ClientName string
	Error      string
	Action     string
	Req        string
	LoginHint  string
	Username   string
	Users      []string
	Scopes     []scopeItem
	Resources  []string
}

type scopeItem struct{ Name, Description string }

func (p *IdP) renderPage(w http.ResponseWriter, status int, name string, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, d); err != nil {
		p.log.Error("render page", "page", name, "err", err)
	}
}

func (p *IdP) htmlError(w http.ResponseWriter, status int, msg string) {
	p.renderPage(w, status, "error", pageData{Title: "Error", Error: msg})
}

func (p *IdP) endpointURL(name string) string { return p.Issuer() + endpointPaths[name] }

func clientName(c *Client) string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

func (p *IdP) renderLogin(w http.ResponseWriter, req *authRequest, msg string) {
	p.mu.Lock()
	users := make([]string, 0, len(p.users))
	for name := range p.users {
		users = append(users, name)
	}
	p.mu.Unlock()
	slices.Sort(users)
	p.renderPage(w, http.StatusOK, "login", pageData{
		Title: "Sign in", ClientName: clientName(req.client), Error: msg,
		Action: p.endpointURL(epLogin), Req: req.id, LoginHint: req.loginHint, Users: users,
	})
}

func (p *IdP) renderConsent(w http.ResponseWriter, req *authRequest) {
	items := make([]scopeItem, 0, len(req.scopes))
	for _, s := range req.scopes {
		d := scopeDescriptions[s]
		if d == "" {
			if app, op, ok := strings.Cut(s, ":"); ok {
				d = map[string]string{"read": "Read", "write": "Change"}[op] + " your " + app
			}
		}
		items = append(items, scopeItem{Name: s, Description: d})
	}
	p.renderPage(w, http.StatusOK, "consent", pageData{
		Title: "Consent", ClientName: clientName(req.client), Action: p.endpointURL(epConsent),
		Req: req.id, Username: req.username, Scopes: items, Resources: req.resources,
	})
}
