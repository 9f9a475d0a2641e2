package smoketest

import (
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// GrantTokenExchange is the RFC 8693 grant type.
const GrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"

// Evidence is what the fakes recorded while a step ran: the entries their
// request logs gained. With real images there is none (Available false).
type Evidence struct {
	Available bool
	IdP       []IdPLogEntry
	Nextcloud []NCLogEntry
}

// Failure is a step of a suite that did not do what it should. Message
// turns it into text a reader of a CI log can act on: what was called,
// what came back, what the IdP and Nextcloud saw meanwhile, and the likely
// cause in terms of the deployment's settings.
type Failure struct {
	Step string // what the suite was doing, e.g. "create a note"
	Tool string
	// Err is a protocol or transport error of the call.
	Err error
	// Result is the tool's answer when it was an error result.
	Result *mcp.CallToolResult
	// Rejection is the HTTP refusal of the call, if any.
	Rejection *Rejection
	// Want says what the step expected instead, when the call itself
	// succeeded but its outcome was wrong.
	Want     string
	Evidence Evidence
}

// Message renders the failure.
func (f Failure) Message() string {
	var b strings.Builder
	fmt.Fprintf(&b, "step %q failed: ", f.Step)
	switch {
	case f.Err != nil:
		fmt.Fprintf(&b, "%s could not be called: %v", f.Tool, f.Err)
	case f.Result != nil && f.Result.IsError:
		fmt.Fprintf(&b, "%s returned a tool error:\n%s", f.Tool, indent(ResultText(f.Result)))
	case f.Want != "":
		fmt.Fprintf(&b, "%s: %s", f.Tool, f.Want)
	default:
		fmt.Fprintf(&b, "%s did not succeed", f.Tool)
	}
	if f.Want != "" && (f.Err != nil || (f.Result != nil && f.Result.IsError)) {
		fmt.Fprintf(&b, "\nexpected: %s", f.Want)
	}
	if r := f.Rejection; r != nil {
		fmt.Fprintf(&b, "\nHTTP %d for %s, WWW-Authenticate: %q", r.Status, r.RPCMethod, r.WWWAuthenticate)
	}
	if f.Evidence.Available {
		b.WriteString("\nwhat the fakes recorded during the step:")
		if len(f.Evidence.IdP) == 0 {
			b.WriteString("\n    fake IdP: no request")
		}
		for _, e := range f.Evidence.IdP {
			b.WriteString("\n    fake IdP: " + describeIdP(e))
		}
		if len(f.Evidence.Nextcloud) == 0 {
			b.WriteString("\n    fake Nextcloud: no request")
		}
		for _, e := range f.Evidence.Nextcloud {
			b.WriteString("\n    fake Nextcloud: " + describeNC(e))
		}
	}
	if hints := Hints(f.Evidence, ResultText(f.Result)); len(hints) > 0 {
		b.WriteString("\nlikely cause:")
		for _, h := range hints {
			b.WriteString("\n  - " + h)
		}
	}
	return b.String()
}

func describeIdP(e IdPLogEntry) string {
	s := e.Method + " " + e.Endpoint
	if e.GrantType != "" {
		g := e.GrantType
		if g == GrantTokenExchange {
			g = "token-exchange"
		}
		s += " grant=" + g
	}
	if e.ClientID != "" {
		s += " client=" + e.ClientID
	}
	if e.Subject != "" {
		s += " sub=" + e.Subject
	}
	if len(e.Audience) > 0 {
		s += " aud=" + strings.Join(e.Audience, ",")
	}
	return fmt.Sprintf("%s → %d %s", s, e.Status, e.Outcome)
}

func describeNC(e NCLogEntry) string {
	s := fmt.Sprintf("%s %s auth=%s", e.Method, e.Path, e.AuthKind)
	if e.UID != "" {
		s += " uid=" + e.UID
	}
	if c := e.Claims; c != nil {
		s += " aud=" + strings.Join(c.Aud, ",")
		if a := c.ActSub(); a != "" {
			s += " act.sub=" + a
		}
	}
	s += fmt.Sprintf(" → %d", e.Status)
	if e.AuthError != "" {
		s += " (" + e.AuthError + ")"
	}
	return s
}

// Hints names likely causes from the evidence and the tool's error text.
// Each rule maps a symptom to the setting a deployment gets wrong.
func Hints(ev Evidence, toolText string) []string {
	var hints []string
	add := func(h string) {
		for _, x := range hints {
			if x == h {
				return
			}
		}
		hints = append(hints, h)
	}
	for _, e := range ev.IdP {
		if e.Endpoint != "token" || e.Status < 400 {
			continue
		}
		switch {
		case e.GrantType == GrantTokenExchange && e.Outcome == "invalid_target":
			add("the IdP refused the token exchange's audience (invalid_target): the server's NEXTCLOUD_OIDC_AUDIENCE must be Nextcloud's client id at the IdP, and the server's client (OIDC_CLIENT_ID) needs the token-exchange permission for that audience")
		case e.GrantType == GrantTokenExchange && e.Outcome == "invalid_request":
			add("the IdP refused the subject token of the exchange (invalid_request): the MCP client's token must name the server (its MCP URL as resource, or OIDC_CLIENT_ID) in aud")
		case e.GrantType == GrantTokenExchange && e.Outcome == "unauthorized_client":
			add("the server's client may not exchange tokens (unauthorized_client): grant it the token-exchange permission at the IdP")
		case e.GrantType == GrantTokenExchange && e.Outcome == "unsupported_grant_type":
			add("the IdP does not support RFC 8693 token exchange: enable it there or run the server with ENABLE_TOKEN_EXCHANGE=false")
		case e.Outcome == "invalid_client":
			add(fmt.Sprintf("the IdP refused client %q's credentials (invalid_client): check OIDC_CLIENT_ID and OIDC_CLIENT_SECRET", e.ClientID))
		case e.GrantType == "authorization_code" && e.Outcome == "invalid_grant":
			add("the IdP refused the authorization code (invalid_grant): the code was replayed, expired, or redeemed with another redirect_uri or PKCE verifier")
		}
	}
	for _, e := range ev.Nextcloud {
		if e.Status != 401 {
			continue
		}
		switch e.AuthKind {
		case "bearer":
			h := "Nextcloud refused the bearer token"
			if e.AuthError != "" {
				h += " (" + e.AuthError + ")"
			}
			if e.Claims != nil && !contains(e.Claims.Aud, "nextcloud") {
				h += fmt.Sprintf("; its aud %v lacks Nextcloud's client id: in pass-through mode the client's token must carry Nextcloud's audience (an audience mapper), in exchange mode NEXTCLOUD_OIDC_AUDIENCE must be that id", e.Claims.Aud)
			} else {
				h += ": check user_oidc's provider (issuer, client id, bearer validation) against the IdP"
			}
			add(h)
		case "basic":
			add("Nextcloud refused the Basic credentials: check NEXTCLOUD_USERNAME and NEXTCLOUD_PASSWORD (an app password)")
		}
	}
	if ev.Available && len(ev.Nextcloud) == 0 && toolText != "" && len(hints) == 0 {
		add("the call never reached Nextcloud: the server failed before it (see the tool error above)")
	}
	if strings.Contains(toolText, "provision_nextcloud_access") {
		add("progressive consent is on and the user has not provisioned access yet: call provision_nextcloud_access and follow its URL")
	}
	return hints
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
