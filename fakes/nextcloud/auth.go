package nextcloud

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/bearer"
)

// Auth kinds of LogEntry.AuthKind.
const (
	authNone   = "none"
	authBasic  = "basic"
	authBearer = "bearer"
)

// authInfo is the outcome of Nextcloud's login sequence for one request.
type authInfo struct {
	kind string // credential presented: none, basic or bearer
	uid  string // logged-in uid; "" when not logged in
	// badBasic: Basic credentials were presented and are wrong. Nextcloud's
	// Session::tryBasicAuthLogin throws LoginException for that before any
	// routing ("If credentials were provided, they need to be valid").
	badBasic bool
	// basic: PHP_AUTH_USER/PHP_AUTH_PW are present (CORSMiddleware re-logs
	// the client in with them).
	basic bool
	// bearerHeader: Authorization starts with "Bearer " (the CSRF waiver for
	// OCS looks only at the header, not at the token's validity).
	bearerHeader bool
	appPassword  bool
	claims       *TokenClaims
	reason       string
}

func (a authInfo) loggedIn() bool { return a.uid != "" }

// authenticate runs Nextcloud's login order (lib/base.php handleLogin):
// an Apache backend (user_oidc: Bearer JWT), then tryTokenLogin (an app
// password as Bearer token), then HTTP Basic with password or app password.
// The outcome is recorded in the request log entry.
func (n *Nextcloud) authenticate(r *http.Request) authInfo {
	a := n.authenticate1(r)
	e := logEntryOf(r)
	e.AuthKind, e.UID, e.Token, e.AuthError = a.kind, a.uid, a.claims, a.reason
	return a
}

func (n *Nextcloud) authenticate1(r *http.Request) authInfo {
	h := r.Header.Get("Authorization")
	if h == "" {
		return authInfo{kind: authNone}
	}
	scheme, value, _ := strings.Cut(h, " ")
	value = strings.TrimSpace(value)
	switch {
	case scheme == "Bearer" || scheme == "bearer":
		a := authInfo{kind: authBearer, bearerHeader: scheme == "Bearer"}
		if value == "" {
			a.reason = "empty bearer token"
			return a
		}
		if n.oidc != nil && bearer.LooksLikeJWT(value) {
			claims, err := n.oidc.Validate(r.Context(), value)
			if err == nil {
				uid, reason := n.loginBearer(claims)
				if uid != "" {
					a.uid = uid
					a.claims = tokenClaims(claims)
					return a
				}
				a.reason = reason
				return a
			}
			if !errors.Is(err, bearer.ErrNotJWT) {
				a.reason = err.Error()
			}
		}
		// Session::tryTokenLogin: Nextcloud's own tokens (app passwords).
		if scheme == "Bearer" {
			n.mu.Lock()
			u := n.st.appPasswordOwner(value)
			if u != nil {
				u.LastLogin = n.unix()
			}
			n.mu.Unlock()
			if u != nil {
				a.uid, a.appPassword, a.reason = u.UID, true, ""
				return a
			}
		}
		if a.reason == "" {
			a.reason = "unknown bearer token"
		}
		return a
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			return authInfo{kind: authNone, reason: "undecodable Basic credentials"}
		}
		login, password, ok := strings.Cut(string(raw), ":")
		if !ok {
			return authInfo{kind: authNone, reason: "Basic credentials without a colon"}
		}
		a := authInfo{kind: authBasic, basic: true}
		n.mu.Lock()
		u, ok, viaApp := n.st.checkBasic(login, password)
		if ok {
			u.LastLogin = n.unix()
			if u.FirstLogin == 0 {
				u.FirstLogin = u.LastLogin
			}
			a.uid, a.appPassword = u.UID, viaApp
		}
		n.mu.Unlock()
		if !ok {
			a.badBasic = true
			a.reason = "wrong login name or password"
		}
		return a
	}
	return authInfo{kind: authNone, reason: "unsupported authorization scheme"}
}

// loginBearer maps validated claims to a uid and provisions the account on
// first use, as user_oidc does.
func (n *Nextcloud) loginBearer(c *bearer.Claims) (string, string) {
	var uid string
	switch n.cfg.UIDMapping {
	case UIDFromPreferredUsername:
		uid = c.PreferredUsername
	case UIDHashed:
		if c.Subject != "" {
			uid = hashedUID(c.Subject)
		}
	default:
		uid = c.Subject
	}
	if uid == "" {
		return "", "token lacks the claim the uid is mapped from (" + n.cfg.UIDMapping + ")"
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	u := n.st.users[uid]
	if u == nil {
		if n.cfg.DisableAutoProvision {
			return "", "unknown user and auto-provisioning is off"
		}
		u = &user{UID: uid, LoginName: uid, DisplayName: c.Name, Email: c.Email, Backend: "user_oidc", Enabled: true}
		if err := n.st.addUser(u); err != nil {
			return "", "cannot provision user: " + err.Error()
		}
		n.logger.Info("user provisioned from bearer token", "uid", uid)
		if err := n.saveLocked(); err != nil {
			n.logger.Error("saving state failed", "err", err)
		}
	}
	if !u.Enabled {
		return "", "user disabled"
	}
	u.LastLogin = n.unix()
	if u.FirstLogin == 0 {
		u.FirstLogin = u.LastLogin
	}
	return uid, ""
}

func tokenClaims(c *bearer.Claims) *TokenClaims {
	return &TokenClaims{Sub: c.Subject, Aud: append([]string(nil), c.Audience...), Azp: c.Azp, Act: c.Act, Scope: c.Scope, Jti: c.JTI}
}

// presentedSecret returns the password or token of the Authorization
// header, for revoking the app password in use. It is never logged.
func presentedSecret(r *http.Request) string {
	scheme, value, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	value = strings.TrimSpace(value)
	if strings.EqualFold(scheme, "Basic") {
		raw, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			return ""
		}
		_, pw, _ := strings.Cut(string(raw), ":")
		return pw
	}
	return value
}
