package smoketest

import (
	"errors"
	"fmt"
	"strings"
)

// CallAuth is what must hold for how one tool call authenticated at
// Nextcloud and the IdP, per mode (docs/architecture.md §2.1).
type CallAuth struct {
	Mode Mode
	// User is the Nextcloud user (= the token's sub with the fakes).
	User string
	// ClientJTI is the jti of the MCP client's Flow 1 token (OAuth modes).
	ClientJTI string
	// ServerClientID is the server's client (act.sub of exchanged tokens).
	ServerClientID string
	// NextcloudAudience must be in the aud of tokens Nextcloud receives.
	NextcloudAudience string
	// Background allows requests of the server's background worker in the
	// window: Basic auth in basic mode, Flow 2 tokens (no act, azp = the
	// server's client) with progressive consent.
	Background bool
}

// Check verifies one call's evidence:
//   - basic: Nextcloud saw Basic auth for User, never a bearer token;
//   - passthrough: Nextcloud saw exactly the client's token (same jti);
//   - exchange: Nextcloud saw an exchanged token (act.sub = the server's
//     client, aud ∋ Nextcloud's client id, sub = User, a jti of its own),
//     never the client's token, and the IdP performed exactly one token
//     exchange for the call, by the server's client.
//
// Every violation is reported, each naming the request it concerns.
func (a CallAuth) Check(ev Evidence) error {
	if !ev.Available {
		return errors.New("no evidence: the fakes' request logs are not available")
	}
	var errs []error
	bad := func(e NCLogEntry, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s %s: %s", e.Method, e.Path, fmt.Sprintf(format, args...)))
	}
	ours := 0
	for _, e := range ev.Nextcloud {
		switch a.Mode {
		case ModeBasic:
			switch {
			case e.AuthKind != "basic":
				bad(e, "auth %s, want basic", e.AuthKind)
			case e.UID != a.User:
				bad(e, "uid %q, want %q", e.UID, a.User)
			default:
				ours++
			}
		case ModePassthrough:
			switch {
			case e.AuthKind != "bearer" || e.Claims == nil:
				bad(e, "auth %s, want the client's bearer token", e.AuthKind)
			case e.Claims.Jti != a.ClientJTI:
				bad(e, "a token with jti %q reached Nextcloud, not the client's token (jti %q)", e.Claims.Jti, a.ClientJTI)
			case e.Claims.Sub != a.User:
				bad(e, "token sub %q, want %q", e.Claims.Sub, a.User)
			default:
				ours++
			}
		case ModeExchange:
			c := e.Claims
			switch {
			case e.AuthKind != "bearer" || c == nil:
				bad(e, "auth %s, want an exchanged bearer token", e.AuthKind)
			case c.Jti == a.ClientJTI:
				bad(e, "the client's own token reached Nextcloud (exchange mode must never forward it)")
			case c.ActSub() == "" && a.Background && c.Azp == a.ServerClientID:
				// A Flow 2 token of the background worker (notes index sync).
			case c.ActSub() != a.ServerClientID:
				bad(e, "token act.sub %q, want %q (an RFC 8693 exchange by the server)", c.ActSub(), a.ServerClientID)
			case !contains(c.Aud, a.NextcloudAudience):
				bad(e, "token aud %v lacks %q", c.Aud, a.NextcloudAudience)
			case c.Sub != a.User:
				bad(e, "token sub %q, want %q", c.Sub, a.User)
			default:
				ours++
			}
		default:
			return fmt.Errorf("unknown mode %q", a.Mode)
		}
	}
	if ours == 0 {
		errs = append(errs, fmt.Errorf("no request of the call reached Nextcloud with the credentials %s mode sends", a.Mode))
	}
	if a.Mode == ModeExchange {
		n := 0
		for _, e := range ev.IdP {
			if e.Endpoint == "token" && e.GrantType == GrantTokenExchange {
				n++
				if e.ClientID != a.ServerClientID || e.Status != 200 {
					errs = append(errs, fmt.Errorf("token exchange by %q → %d %s, want an accepted exchange by %q", e.ClientID, e.Status, e.Outcome, a.ServerClientID))
				}
			}
		}
		if n != 1 {
			errs = append(errs, fmt.Errorf("the IdP saw %d token exchanges during the call, want exactly 1", n))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("%s mode: how the call authenticated is wrong:\n  - %s", a.Mode, strings.Join(msgs, "\n  - "))
}
