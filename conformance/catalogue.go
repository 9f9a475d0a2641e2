// Package conformance is the requirement catalogue of nextcloud-mcp-go's
// conformance suite and the runner that grades targets against it. Each
// requirement names its normative source (an MCP specification section, an
// RFC section, or a section of docs/architecture.md), its level and the check
// that proves it; conformance/REQUIREMENTS.md is generated from this catalogue
// (go generate ./conformance).
package conformance

//go:generate go run ./cmd/gen -o REQUIREMENTS.md

import (
	"reflect"
	"runtime"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/idpcheck"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/mcpcheck"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/nccheck"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/official"
)

// Level is how binding a requirement is. A FAIL of a MUST or an INVARIANT
// makes the run fail; a FAIL of a SHOULD is reported only.
type Level string

// Levels.
const (
	Must      Level = "MUST"
	Should    Level = "SHOULD"
	Invariant Level = "INVARIANT" // a promise of this project's architecture (docs/architecture.md)
)

// Areas group requirements in reports and REQUIREMENTS.md.
const (
	AreaResource = "MCP server as OAuth resource server"
	AreaScopes   = "Soft scopes"
	AreaConsent  = "Progressive consent (Flow 2)"
	AreaModes    = "Token modes and their invariants"
	AreaOfficial = "Official MCP conformance suite"
	AreaIdP      = "Identity provider (any issuer)"
	AreaNC       = "Nextcloud contract (any Nextcloud)"
)

// Areas lists the areas in report order.
var Areas = []string{AreaResource, AreaScopes, AreaConsent, AreaModes, AreaOfficial, AreaIdP, AreaNC}

// Requirement is one graded statement.
type Requirement struct {
	ID        string
	Area      string
	Level     Level
	Source    string // normative source: spec version and section, RFC section, or docs/architecture.md section
	Statement string
	Check     grade.Func
}

// CheckName is the check function's name, e.g. "mcpcheck.WrongAudience".
func (r Requirement) CheckName() string {
	name := runtime.FuncForPC(reflect.ValueOf(r.Check).Pointer()).Name()
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	return name
}

const (
	mcp1125 = "MCP 2025-11-25 basic/authorization"
	secBP   = "MCP 2025-11-25 Security Best Practices"
	arch    = "docs/architecture.md"
	ncDoc   = "docs/nextcloud-contract.md"
)

// Catalogue returns every requirement in execution order: checks of one
// target run one after another in this order (later checks rely on
// earlier ones' side effects only through memoized probes, e.g. the
// progressive-consent checks that need a not-yet-provisioned user come
// before the first check that provisions one).
func Catalogue() []Requirement {
	return []Requirement{
		// --- resource server ---
		{"MCP-AUTH-001", AreaResource, Must, mcp1125 + " §Authorization Server Location; RFC 9728 §3, §3.2",
			"Protected Resource Metadata is served at the path-form well-known URI of the MCP endpoint as application/json with `resource` and at least one `authorization_servers` entry.", mcpcheck.PRMPath},
		{"RFC9728-001", AreaResource, Must, "RFC 9728 §3.3",
			"The metadata's `resource` is identical to the MCP endpoint URL (clients compare byte for byte).", mcpcheck.PRMExactResource},
		{"SCOPE-4", AreaResource, Invariant, arch + " §3; " + mcp1125 + " §Protected Resource Metadata Discovery Requirements",
			"The same metadata is served at the root well-known URI too: exact `resource`, `authorization_servers` = [issuer], `scopes_supported`.", mcpcheck.PRMBothLocations},
		{"MCP-AUTH-002", AreaResource, Must, mcp1125 + " §Protected Resource Metadata Discovery Requirements; MCP 2025-06-18 §Authorization Server Location; RFC 9728 §5.1",
			"A request without a token gets 401 with `WWW-Authenticate: Bearer` whose `resource_metadata` URL serves this resource's metadata.", mcpcheck.NoTokenChallenge},
		{"RFC6750-001", AreaResource, Should, "RFC 6750 §3.1",
			"A 401 for a request without credentials carries no `error` code.", mcpcheck.NoTokenNoErrorCode},
		{"MCP-AUTH-003", AreaResource, Should, mcp1125 + " §Protected Resource Metadata Discovery Requirements (scope); RFC 6750 §3",
			"The 401 challenge carries a `scope` parameter.", mcpcheck.ChallengeScope},
		{"MCP-AUTH-004", AreaResource, Must, mcp1125 + " §Token Handling",
			"An invalid (unparseable) token gets HTTP 401.", mcpcheck.MalformedToken},
		{"SCOPE-3", AreaResource, Invariant, arch + " §3; RFC 6750 §3.1",
			"A 401 for a token that was sent carries `error=\"invalid_token\"`, `resource_metadata` and `scope`.", mcpcheck.InvalidTokenChallenge},
		{"RFC9068-001", AreaResource, Must, "RFC 9068 §4; " + mcp1125 + " §Token Handling (OAuth 2.1 §5.2)",
			"A token whose `iss` is not the authorization server's issuer is refused with 401 invalid_token.", mcpcheck.WrongIssuer},
		{"RFC9068-002", AreaResource, Must, "RFC 9068 §4; RFC 8707 §2; " + mcp1125 + " §Token Handling",
			"A token whose `aud` does not name this server is refused with 401 invalid_token.", mcpcheck.WrongAudience},
		{"MCP-AUTH-005", AreaResource, Must, mcp1125 + " §Access Token Privilege Restriction",
			"A token issued for Nextcloud (what an exchange yields) is not accepted: the server accepts only tokens intended for itself.", mcpcheck.NextcloudAudience},
		{"RFC9068-003", AreaResource, Must, "RFC 9068 §4; RFC 7515 §5.2",
			"A token signed by a key the issuer does not publish is refused with 401 invalid_token.", mcpcheck.UnknownKey},
		{"RFC9068-004", AreaResource, Must, "RFC 9068 §4; RFC 7515 §5.2",
			"A valid token whose payload was altered after signing is refused with 401.", mcpcheck.TamperedToken},
		{"RFC9068-005", AreaResource, Must, "RFC 9068 §4",
			"A token with `alg: none` is refused with 401 invalid_token.", mcpcheck.AlgNone},
		{"RFC8725-001", AreaResource, Must, "RFC 8725 §2.1, §3.1; RFC 9068 §4",
			"An HS256 token keyed with the issuer's public key (algorithm confusion) is refused with 401 invalid_token.", mcpcheck.HS256Confusion},
		{"RFC9068-006", AreaResource, Must, "RFC 9068 §4; " + mcp1125 + " §Token Handling",
			"An expired token is refused with 401 invalid_token.", mcpcheck.Expired},
		{"RFC7519-001", AreaResource, Must, "RFC 7519 §4.1.5",
			"A token whose `nbf` lies in the future is refused with 401 invalid_token.", mcpcheck.NotYetValid},
		{"MCP-AUTH-006", AreaResource, Must, mcp1125 + " §Token Requirements",
			"A valid token in the URI query string does not authenticate (tokens only in the Authorization header).", mcpcheck.QueryToken},
		{"MCP-AUTH-007", AreaResource, Must, mcp1125 + " §Token Requirements (authorization in every HTTP request); " + secBP + " §Session Hijacking",
			"Every request is authenticated: a valid Mcp-Session-Id without a token gets 401 (sessions are not authentication).", mcpcheck.SessionNotAuthentication},
		{"MCP-AUTH-008", AreaResource, Invariant, secBP + " §Session Hijacking (bind sessions to the user); " + arch + " §4.2",
			"A session is bound to the token's subject: another user's token cannot use it.", mcpcheck.SessionBoundToUser},

		// --- soft scopes ---
		{"SCOPE-1", AreaScopes, Invariant, arch + " §3",
			"`tools/list` shows only the tools whose scopes the token holds.", mcpcheck.ListFiltering},
		{"SCOPE-2", AreaScopes, Invariant, arch + " §3, §6 (the upstream per-call check that allowed everything)",
			"`tools/call` of every tool whose scope is missing is refused before any Nextcloud request with 403 `insufficient_scope`, `scope` = granted ∪ required and `resource_metadata`; a token with the challenged scope passes.", mcpcheck.CallTimeScope},
		{"MCP-AUTH-009", AreaScopes, Should, mcp1125 + " §Runtime Insufficient Scope Errors",
			"An insufficient-scope refusal is HTTP 403 with `WWW-Authenticate: Bearer error=\"insufficient_scope\"`, `scope` and `resource_metadata`.", mcpcheck.InsufficientScopeShape},

		// --- progressive consent (before anything provisions the main user) ---
		{"CONSENT-1", AreaConsent, Invariant, arch + " §1.2, §6",
			"While progressive consent is on, every Nextcloud tool refuses an unprovisioned user with a tool error naming `provision_nextcloud_access` and carrying the authorization URL; Nextcloud sees nothing.", mcpcheck.UnprovisionedRefused},
		{"CONSENT-2", AreaConsent, Invariant, arch + " §1.2 (Flow 2: state bound to the Flow 1 sub)",
			"The Flow 2 state is bound to the user who asked: a grant approved at the IdP by another account is refused and provisions nobody.", mcpcheck.ForeignAccount},
		{"CONSENT-3", AreaConsent, Must, "RFC 6749 §10.12; RFC 9700 §4.7.1",
			"The callback refuses a state it never issued (4xx) without redeeming the code at the IdP.", mcpcheck.ForeignState},
		{"CONSENT-4", AreaConsent, Invariant, arch + " §1.2; RFC 9700 §2.1.1; RFC 7636 §4.2",
			"The Flow 2 authorization request uses PKCE S256 and an unguessable state, both fresh per request, with the server's own client and callback and `offline_access`.", mcpcheck.PKCEAndState},
		{"CONSENT-5", AreaConsent, Invariant, arch + " §1.2 (state single-use); RFC 9700 §4.7.1",
			"A state is single-use: replaying a completed callback is refused without a second code redemption.", mcpcheck.CallbackReplay},
		{"CONSENT-6", AreaConsent, Invariant, arch + " §1.2, §2 invariant 4",
			"Refresh tokens are encrypted at rest: the token database (mode 0600) contains none of the refresh tokens issued to the server, no string the IdP considers a live token, and no JWT.", mcpcheck.EncryptedAtRest},

		// --- token modes ---
		{"MCP-AUTH-010", AreaModes, Must, mcp1125 + " §Access Token Privilege Restriction; " + arch + " §2 invariant 3",
			"The server does not pass the client's token through to Nextcloud. Pass-through mode does exactly that: it is reported as WARN with the reason and the remedy (exchange mode).", mcpcheck.NoTokenPassthrough},
		{"MODE-1", AreaModes, Invariant, arch + " §2.1 (mode table)",
			"Basic mode sends HTTP Basic with the app password to Nextcloud and never a bearer token.", mcpcheck.BasicAuthOnly},
		{"MODE-2", AreaModes, Invariant, arch + " §2.1 (mode table); RFC 8693 §4.1",
			"Exchange mode sends Nextcloud an RFC 8693 result: `aud` = Nextcloud, `act.sub` = the server's client, the client's `sub`, never the client's token; the IdP logs the exchange.", mcpcheck.ExchangedToken},
		{"MODE-3", AreaModes, Invariant, arch + " §2.1 (mode table: used for this call only, never cached)",
			"Exchange mode exchanges once per tool call and never reuses an exchanged token (a distinct jti per call).", mcpcheck.ExchangePerCall},
		{"INV-1", AreaModes, Invariant, arch + " §2 invariant 1",
			"A Flow 2 refresh token never serves a tool call: while tool calls of a provisioned user run, the IdP sees no refresh grant.", mcpcheck.NoRefreshDuringCalls},
		{"INV-2", AreaModes, Invariant, arch + " §2 invariant 2",
			"Exchange mode never silently degrades: with token exchange disabled at the IdP, or the token endpoint failing, the call fails with an error naming the exchange and Nextcloud sees nothing.", mcpcheck.NoSilentFallback},
		{"INV-3", AreaModes, Invariant, arch + " §2 invariant 3",
			"Pass-through forwards exactly the validated token (same jti) and nothing else.", mcpcheck.PassthroughExact},
		{"INV-5", AreaModes, Invariant, arch + " §2 invariant 5",
			"The Nextcloud user id comes from Nextcloud: every WebDAV path names the uid Nextcloud authenticated, also when it differs from the token's sub.", mcpcheck.UIDFromNextcloud},
		{"CONSENT-7", AreaConsent, Invariant, arch + " §1.2; RFC 7009 §2",
			"`revoke_nextcloud_access` revokes the grant at the IdP (the IdP logs the revocation; the refresh token is then inactive by introspection) and unprovisions the user.", mcpcheck.RevokeAtIdP},
		{"INV-4", AreaModes, Invariant, arch + " §2 invariant 4",
			"Tokens, passwords, codes and refresh tokens never appear in the server's logs, errors or tool results.", mcpcheck.NoSecretsLeak},

		// --- official suite ---
		{"MCP-OFFICIAL-001", AreaOfficial, Must, "@modelcontextprotocol/conformance " + official.Version + " (server scenarios, MCP 2025-06-18 and 2025-11-25)",
			"Every official server scenario passes, except those in conformance/official/baseline.yml, each of which needs the suite's own test_* fixtures.", official.Check},
		{"MCP-OFFICIAL-002", AreaOfficial, Must, mcp1125 + " §Authorization Server Discovery, §Scope Challenge Handling; RFC 9728 §5.1; RFC 7591; RFC 8707",
			"The official TypeScript SDK's OAuth client (as used by the MCP Inspector) discovers, registers, authorizes with PKCE S256 and the resource, uses a read tool, and steps up to a write tool after the 403 challenge.", official.TSClient},

		// --- identity provider ---
		{"RFC8414-001", AreaIdP, Must, "RFC 8414 §3.3",
			"Authorization server metadata is found at a well-known URL and its `issuer` is identical to the issuer.", idpcheck.MetadataIssuer},
		{"RFC8414-002", AreaIdP, Must, "RFC 8414 §2",
			"The metadata has `authorization_endpoint`, `token_endpoint` and `response_types_supported` with `code`.", idpcheck.MetadataRequired},
		{"MCP-AS-001", AreaIdP, Must, mcp1125 + " §Authorization Code Protection",
			"The metadata's `code_challenge_methods_supported` lists S256 (MCP clients must refuse an authorization server without it; OIDC providers MUST include it).", idpcheck.MetadataS256},
		{"RFC8414-003", AreaIdP, Should, "RFC 8414 §2 (RECOMMENDED); RFC 7662 §4; RFC 7009 §2; RFC 7591 §3",
			"The metadata has `jwks_uri`, `scopes_supported`, `grant_types_supported`, `token_endpoint_auth_methods_supported` and the introspection, revocation and registration endpoints.", idpcheck.MetadataRecommended},
		{"RFC9700-001", AreaIdP, Should, "RFC 9700 §2.1.1",
			"PKCE is S256 only: an authorization request with `code_challenge_method=plain` is refused.", idpcheck.PlainRefused},
		{"RFC9700-002", AreaIdP, Should, "RFC 9700 §2.1.1; OAuth 2.1 §4.1.1",
			"A public client's authorization request without a code challenge is refused.", idpcheck.PKCERequired},
		{"RFC6749-001", AreaIdP, Must, "RFC 6749 §5.2",
			"An unknown grant type is answered 400 `unsupported_grant_type`.", idpcheck.UnsupportedGrant},
		{"RFC8693-001", AreaIdP, Must, "RFC 8693 §2.2.1",
			"A token exchange by an allowed client returns `access_token`, `issued_token_type` and `token_type`, and the token names the requested audience.", idpcheck.ExchangeResponse},
		{"RFC6749-002", AreaIdP, Must, "RFC 6749 §5.1",
			"Successful token responses carry `Cache-Control: no-store`.", idpcheck.NoStore},
		{"RFC8693-002", AreaIdP, Should, "RFC 8693 §2.2.2",
			"A token exchange for an audience the server will not issue for is refused with `invalid_target`.", idpcheck.InvalidTarget},
		{"RFC8693-003", AreaIdP, Must, "RFC 8693 §2.2.2; RFC 6749 §5.2",
			"A token exchange with a wrong client secret in the Authorization header is 401 `invalid_client` with `WWW-Authenticate`.", idpcheck.InvalidClient},
		{"RFC8693-004", AreaIdP, Must, "RFC 6749 §5.2; RFC 8414 §2 (grant_types_supported)",
			"Without token exchange the metadata does not list the grant and the grant is answered `unsupported_grant_type` (observed by switching it off where a control API allows).", idpcheck.ExchangeUnsupported},
		{"RFC7662-001", AreaIdP, Must, "RFC 7662 §2.2",
			"Introspection says `active: true` for a live access token and `active: false` (and nothing else) for an unknown one.", idpcheck.IntrospectionActive},
		{"RFC7662-002", AreaIdP, Must, "RFC 7662 §2.1",
			"The introspection endpoint refuses unauthenticated callers.", idpcheck.IntrospectionAuth},
		{"RFC9700-003", AreaIdP, Must, mcp1125 + " §Token Theft; RFC 9700 §4.14.2",
			"A public client's refresh token is rotated on every use.", idpcheck.RefreshRotation},
		{"RFC9700-004", AreaIdP, Must, "RFC 9700 §4.14.2",
			"Reusing a rotated refresh token is `invalid_grant` and revokes the active one too.", idpcheck.RefreshReuse},

		// --- Nextcloud contract ---
		{"NC-OCS-001", AreaNC, Must, "Nextcloud OCS API (V2Response); " + ncDoc + " §2.1",
			"OCS v2 answers HTTP 200 with `ocs.meta` status ok / statuscode 200 and the user in `data`.", nccheck.OCSv2},
		{"NC-OCS-002", AreaNC, Must, "Nextcloud OCS API (V1Response); " + ncDoc + " §2.1",
			"OCS v1 answers HTTP 200 with statuscode 100.", nccheck.OCSv1},
		{"NC-OCS-003", AreaNC, Must, "Nextcloud OCS API (OCSController::RESPOND_UNAUTHORISED); " + ncDoc + " §2.1",
			"Without credentials OCS v1 and v2 answer HTTP 401 with a failure envelope, statuscode 997.", nccheck.OCSUnauthorised},
		{"NC-OCS-004", AreaNC, Must, "Nextcloud OCS API (RESPOND_NOT_FOUND); " + ncDoc + " §2.1",
			"An unknown OCS route is statuscode 998: HTTP 404 on v2, HTTP 200 on v1.", nccheck.OCSNotFound},
		{"NC-NOTES-001", AreaNC, Must, "Nextcloud Notes API v1; " + ncDoc + " §4",
			"A created note has an etag, and GET answers it quoted in the `ETag` header.", nccheck.NotesETag},
		{"NC-NOTES-002", AreaNC, Must, "Nextcloud Notes API v1; " + ncDoc + " §4; RFC 9110 §13.1.1",
			"PUT with a stale `If-Match` is 412 with the current note as body, and changes nothing.", nccheck.NotesPrecondition},
		{"NC-NOTES-003", AreaNC, Must, "Nextcloud Notes API v1; " + ncDoc + " §4; RFC 9110 §13.1.1, §13.1.2",
			"PUT with the current `If-Match` succeeds with a new etag; GET with `If-None-Match` of it is 304.", nccheck.NotesConditional},
		{"NC-NOTES-004", AreaNC, Must, "Nextcloud Notes API v1; " + ncDoc + " §4",
			"DELETE answers 200; the note is then 404, and deleting it again is 404.", nccheck.NotesDelete},
		{"NC-DAV-001", AreaNC, Must, "RFC 4918 §9.3.1; " + ncDoc + " §5.1",
			"MKCOL creates (201), refuses an existing resource (405) and a missing parent (409).", nccheck.DAVMkcol},
		{"NC-DAV-002", AreaNC, Must, "RFC 9110 §9.3.4; RFC 4918 §9.7.1; " + ncDoc + " §5.1",
			"PUT creates (201), replaces (204/200) and refuses a missing parent (409).", nccheck.DAVPut},
		{"NC-DAV-003", AreaNC, Must, "RFC 4918 §9.1; " + ncDoc + " §5.1",
			"PROPFIND answers 207 multistatus; a missing resource is 404.", nccheck.DAVPropfind},
		{"NC-DAV-004", AreaNC, Must, "RFC 9110 §13.1.1, §13.1.2, §13.2.2; " + ncDoc + " §5.1",
			"A stale `If-Match` and `If-None-Match: *` on an existing resource are 412; GET with a matching `If-None-Match` is 304.", nccheck.DAVPreconditions},
		{"NC-DAV-005", AreaNC, Must, "RFC 4918 §9.9.4, §9.6; " + ncDoc + " §5.1",
			"MOVE onto an existing destination with `Overwrite: F` is 412, to a new one 201; DELETE is 204, and 404 when missing.", nccheck.DAVMoveDelete},
	}
}
