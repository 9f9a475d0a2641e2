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
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/files"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/notes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools/sharing"
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
	AreaResource  = "MCP server as OAuth resource server"
	AreaTransport = "MCP transport and limits"
	AreaScopes    = "Soft scopes"
	AreaConsent   = "Progressive consent (Flow 2)"
	AreaModes     = "Token modes and their invariants"
	AreaModules   = "Modules (every registry module's tools through the server)"
	AreaOfficial  = "Official MCP conformance suite"
	AreaIdP       = "Identity provider (any issuer)"
	AreaNC        = "Nextcloud contract (any Nextcloud)"
)

// Areas lists the areas in report order.
var Areas = []string{AreaResource, AreaTransport, AreaScopes, AreaConsent, AreaModes, AreaModules, AreaOfficial, AreaIdP, AreaNC}

// Requirement is one graded statement.
type Requirement struct {
	ID        string
	Area      string
	Level     Level
	Source    string // normative source: spec version and section, RFC section, or docs/architecture.md section
	Statement string
	Check     grade.Func
	// Module is the registry id (server/modules) of the module whose
	// Nextcloud app the requirement is about, e.g. "notes" for the Notes
	// API contract; empty for requirements of the whole server. Reports
	// carry it, and a test keeps it in step with the registry.
	Module string
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
	mcpTr   = "MCP 2025-11-25 basic/transports"
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
		{ID: "MCP-AUTH-001", Area: AreaResource, Level: Must, Source: mcp1125 + " §Authorization Server Location; RFC 9728 §3, §3.2",
			Statement: "Protected Resource Metadata is served at the path-form well-known URI of the MCP endpoint as application/json with `resource` and at least one `authorization_servers` entry.", Check: mcpcheck.PRMPath},
		{ID: "RFC9728-001", Area: AreaResource, Level: Must, Source: "RFC 9728 §3.3",
			Statement: "The metadata's `resource` is identical to the MCP endpoint URL (clients compare byte for byte).", Check: mcpcheck.PRMExactResource},
		{ID: "SCOPE-4", Area: AreaResource, Level: Invariant, Source: arch + " §3; " + mcp1125 + " §Protected Resource Metadata Discovery Requirements",
			Statement: "The same metadata is served at the root well-known URI too: exact `resource`, `authorization_servers` = [issuer], `scopes_supported`.", Check: mcpcheck.PRMBothLocations},
		{ID: "MCP-AUTH-002", Area: AreaResource, Level: Must, Source: mcp1125 + " §Protected Resource Metadata Discovery Requirements; MCP 2025-06-18 §Authorization Server Location; RFC 9728 §5.1",
			Statement: "A request without a token gets 401 with `WWW-Authenticate: Bearer` whose `resource_metadata` URL serves this resource's metadata.", Check: mcpcheck.NoTokenChallenge},
		{ID: "RFC6750-001", Area: AreaResource, Level: Should, Source: "RFC 6750 §3.1",
			Statement: "A 401 for a request without credentials carries no `error` code.", Check: mcpcheck.NoTokenNoErrorCode},
		{ID: "MCP-AUTH-003", Area: AreaResource, Level: Should, Source: mcp1125 + " §Protected Resource Metadata Discovery Requirements (scope); RFC 6750 §3",
			Statement: "The 401 challenge carries a `scope` parameter.", Check: mcpcheck.ChallengeScope},
		{ID: "MCP-AUTH-004", Area: AreaResource, Level: Must, Source: mcp1125 + " §Token Handling",
			Statement: "An invalid (unparseable) token gets HTTP 401.", Check: mcpcheck.MalformedToken},
		{ID: "SCOPE-3", Area: AreaResource, Level: Invariant, Source: arch + " §3; RFC 6750 §3.1",
			Statement: "A 401 for a token that was sent carries `error=\"invalid_token\"`, `resource_metadata` and `scope`.", Check: mcpcheck.InvalidTokenChallenge},
		{ID: "RFC9068-001", Area: AreaResource, Level: Must, Source: "RFC 9068 §4; " + mcp1125 + " §Token Handling (OAuth 2.1 §5.2)",
			Statement: "A token whose `iss` is not the authorization server's issuer is refused with 401 invalid_token.", Check: mcpcheck.WrongIssuer},
		{ID: "RFC9068-002", Area: AreaResource, Level: Must, Source: "RFC 9068 §4; RFC 8707 §2; " + mcp1125 + " §Token Handling",
			Statement: "A token whose `aud` does not name this server is refused with 401 invalid_token.", Check: mcpcheck.WrongAudience},
		{ID: "MCP-AUTH-005", Area: AreaResource, Level: Must, Source: mcp1125 + " §Access Token Privilege Restriction",
			Statement: "A token issued for Nextcloud (what an exchange yields) is not accepted: the server accepts only tokens intended for itself.", Check: mcpcheck.NextcloudAudience},
		{ID: "RFC9068-003", Area: AreaResource, Level: Must, Source: "RFC 9068 §4; RFC 7515 §5.2",
			Statement: "A token signed by a key the issuer does not publish is refused with 401 invalid_token.", Check: mcpcheck.UnknownKey},
		{ID: "RFC9068-004", Area: AreaResource, Level: Must, Source: "RFC 9068 §4; RFC 7515 §5.2",
			Statement: "A valid token whose payload was altered after signing is refused with 401.", Check: mcpcheck.TamperedToken},
		{ID: "RFC9068-005", Area: AreaResource, Level: Must, Source: "RFC 9068 §4",
			Statement: "A token with `alg: none` is refused with 401 invalid_token.", Check: mcpcheck.AlgNone},
		{ID: "RFC8725-001", Area: AreaResource, Level: Must, Source: "RFC 8725 §2.1, §3.1; RFC 9068 §4",
			Statement: "An HS256 token keyed with the issuer's public key (algorithm confusion) is refused with 401 invalid_token.", Check: mcpcheck.HS256Confusion},
		{ID: "RFC9068-006", Area: AreaResource, Level: Must, Source: "RFC 9068 §4; " + mcp1125 + " §Token Handling",
			Statement: "An expired token is refused with 401 invalid_token.", Check: mcpcheck.Expired},
		{ID: "RFC7519-001", Area: AreaResource, Level: Must, Source: "RFC 7519 §4.1.5",
			Statement: "A token whose `nbf` lies in the future is refused with 401 invalid_token.", Check: mcpcheck.NotYetValid},
		{ID: "USER-1", Area: AreaResource, Level: Invariant, Source: arch + " §1.1 (tokens that name no user); RFC 9068 §2.2",
			Statement: "A token that names no user — a client-credentials grant (`sub` = its `client_id` or `azp`) or a Keycloak service account (`preferred_username` `service-account-…`) — is refused with 401 invalid_token.", Check: mcpcheck.UserlessToken},
		{ID: "MCP-AUTH-006", Area: AreaResource, Level: Must, Source: mcp1125 + " §Token Requirements",
			Statement: "A valid token in the URI query string does not authenticate (tokens only in the Authorization header).", Check: mcpcheck.QueryToken},
		{ID: "MCP-AUTH-007", Area: AreaResource, Level: Must, Source: mcp1125 + " §Token Requirements (authorization in every HTTP request); " + secBP + " §Session Hijacking",
			Statement: "Every request is authenticated: a valid Mcp-Session-Id without a token gets 401 (sessions are not authentication).", Check: mcpcheck.SessionNotAuthentication},
		{ID: "MCP-AUTH-008", Area: AreaResource, Level: Invariant, Source: secBP + " §Session Hijacking (bind sessions to the user); " + arch + " §4.2",
			Statement: "A session is bound to the token's subject: another user's token cannot use it.", Check: mcpcheck.SessionBoundToUser},

		// --- transport and limits ---
		{ID: "MCP-TRANS-001", Area: AreaTransport, Level: Must, Source: mcpTr + " §Security Warning (validate Origin; 403 when present and invalid); " + secBP + " §Local MCP Server Compromise",
			Statement: "A request whose `Origin` is present and not allowed (another site, `null`) gets HTTP 403, in every mode; the server's own origin and requests without `Origin` are served.", Check: mcpcheck.OriginValidation},

		// --- soft scopes ---
		{ID: "SCOPE-1", Area: AreaScopes, Level: Invariant, Source: arch + " §3",
			Statement: "`tools/list` shows only the tools whose scopes the token holds.", Check: mcpcheck.ListFiltering},
		{ID: "SCOPE-2", Area: AreaScopes, Level: Invariant, Source: arch + " §3, §6 (the upstream per-call check that allowed everything)",
			Statement: "`tools/call` of every tool whose scope is missing is refused before any Nextcloud request with 403 `insufficient_scope`, `scope` = granted ∪ required and `resource_metadata`; a token with the challenged scope passes.", Check: mcpcheck.CallTimeScope},
		{ID: "MCP-AUTH-009", Area: AreaScopes, Level: Should, Source: mcp1125 + " §Runtime Insufficient Scope Errors",
			Statement: "An insufficient-scope refusal is HTTP 403 with `WWW-Authenticate: Bearer error=\"insufficient_scope\"`, `scope` and `resource_metadata`.", Check: mcpcheck.InsufficientScopeShape},

		// --- progressive consent (before anything provisions the main user) ---
		{ID: "CONSENT-1", Area: AreaConsent, Level: Invariant, Source: arch + " §1.2, §6",
			Statement: "While progressive consent is on, every Nextcloud tool refuses an unprovisioned user with a tool error naming `provision_nextcloud_access` and carrying the authorization URL; Nextcloud sees nothing.", Check: mcpcheck.UnprovisionedRefused},
		{ID: "CONSENT-2", Area: AreaConsent, Level: Invariant, Source: arch + " §1.2 (Flow 2: state bound to the Flow 1 sub)",
			Statement: "The Flow 2 state is bound to the user who asked: a grant approved at the IdP by another account is refused and provisions nobody.", Check: mcpcheck.ForeignAccount},
		{ID: "CONSENT-3", Area: AreaConsent, Level: Must, Source: "RFC 6749 §10.12; RFC 9700 §4.7.1",
			Statement: "The callback refuses a state it never issued (4xx) without redeeming the code at the IdP.", Check: mcpcheck.ForeignState},
		{ID: "CONSENT-4", Area: AreaConsent, Level: Invariant, Source: arch + " §1.2; RFC 9700 §2.1.1; RFC 7636 §4.2",
			Statement: "The Flow 2 authorization request uses PKCE S256 and an unguessable state, both fresh per request, with the server's own client and callback and `offline_access`.", Check: mcpcheck.PKCEAndState},
		{ID: "CONSENT-5", Area: AreaConsent, Level: Invariant, Source: arch + " §1.2 (state single-use); RFC 9700 §4.7.1",
			Statement: "A state is single-use: replaying a completed callback is refused without a second code redemption.", Check: mcpcheck.CallbackReplay},
		{ID: "CONSENT-6", Area: AreaConsent, Level: Invariant, Source: arch + " §1.2, §2 invariant 4",
			Statement: "Refresh tokens are encrypted at rest: the token database (mode 0600) contains none of the refresh tokens issued to the server, no string the IdP considers a live token, and no JWT.", Check: mcpcheck.EncryptedAtRest},

		// --- token modes ---
		{ID: "MCP-AUTH-010", Area: AreaModes, Level: Must, Source: mcp1125 + " §Access Token Privilege Restriction; " + arch + " §2 invariant 3",
			Statement: "The server does not pass the client's token through to Nextcloud. Pass-through mode does exactly that: it is reported as WARN with the reason and the remedy (exchange mode).", Check: mcpcheck.NoTokenPassthrough},
		{ID: "MODE-1", Area: AreaModes, Level: Invariant, Source: arch + " §2.1 (mode table)",
			Statement: "Basic mode sends HTTP Basic with the app password to Nextcloud and never a bearer token.", Check: mcpcheck.BasicAuthOnly},
		{ID: "MODE-2", Area: AreaModes, Level: Invariant, Source: arch + " §2.1 (mode table); RFC 8693 §4.1",
			Statement: "Exchange mode sends Nextcloud an RFC 8693 result: `aud` = Nextcloud, `act.sub` = the server's client, the client's `sub`, never the client's token; the IdP logs the exchange.", Check: mcpcheck.ExchangedToken},
		{ID: "MODE-3", Area: AreaModes, Level: Invariant, Source: arch + " §2.1 (mode table: used for this call only, never cached)",
			Statement: "Exchange mode exchanges once per tool call and never reuses an exchanged token (a distinct jti per call).", Check: mcpcheck.ExchangePerCall},
		{ID: "INV-1", Area: AreaModes, Level: Invariant, Source: arch + " §2 invariant 1",
			Statement: "A Flow 2 refresh token never serves a tool call: while tool calls of a provisioned user run, the IdP sees no refresh grant.", Check: mcpcheck.NoRefreshDuringCalls},
		{ID: "INV-2", Area: AreaModes, Level: Invariant, Source: arch + " §2 invariant 2",
			Statement: "Exchange mode never silently degrades: with token exchange disabled at the IdP, or the token endpoint failing, the call fails with an error naming the exchange and Nextcloud sees nothing.", Check: mcpcheck.NoSilentFallback},
		{ID: "INV-3", Area: AreaModes, Level: Invariant, Source: arch + " §2 invariant 3",
			Statement: "Pass-through forwards exactly the validated token (same jti) and nothing else.", Check: mcpcheck.PassthroughExact},
		{ID: "INV-5", Area: AreaModes, Level: Invariant, Source: arch + " §2 invariant 5",
			Statement: "The Nextcloud user id comes from Nextcloud: every WebDAV path names the uid Nextcloud authenticated, also when it differs from the token's sub.", Check: mcpcheck.UIDFromNextcloud},
		// (reads need a provisioned user when consent is on; before CONSENT-7 revokes)
		{ID: "MOD-1", Area: AreaModules, Level: Must, Source: "MCP 2025-11-25 server/tools (tools/call); " + arch + " §4.6",
			Statement: "Every module of the registry whose tools the server lists answers one writing tool call and then one reading tool call that sees what was written (a row per module in conformance/mcpcheck/modules.go).", Check: mcpcheck.ModuleRoundTrip},
		{ID: "MCP-TRANS-002", Area: AreaTransport, Level: Should, Source: "MCP SEP-2549 (result caching: cacheScope \"private\" = only the requesting user's client may cache; absent means \"public\"); " + arch + " §3",
			Statement: "Results holding one user's data say `cacheScope: \"private\"`: every listed resource, read, in every mode, and in OAuth modes the token-filtered `tools/list` and `resources/list`.", Check: mcpcheck.PrivateResults},
		{ID: "CONSENT-7", Area: AreaConsent, Level: Invariant, Source: arch + " §1.2; RFC 7009 §2",
			Statement: "`revoke_nextcloud_access` revokes the grant at the IdP (the IdP logs the revocation; the refresh token is then inactive by introspection) and unprovisions the user.", Check: mcpcheck.RevokeAtIdP},
		{ID: "INV-4", Area: AreaModes, Level: Invariant, Source: arch + " §2 invariant 4",
			Statement: "Tokens, passwords, codes and refresh tokens never appear in the server's logs, errors or tool results.", Check: mcpcheck.NoSecretsLeak},

		// --- limits (last: they open and close many sessions) ---
		{ID: "LIMIT-1", Area: AreaTransport, Level: Should, Source: secBP + " (resource exhaustion); JSON-RPC 2.0 §6 (batch); " + arch + " §4.2",
			Statement: "A JSON-RPC batch is bounded: a batch of 100 pings (protocol 2025-03-26, the last revision with batches) is refused whole, not served message by message.", Check: mcpcheck.BatchCap},
		{ID: "LIMIT-2", Area: AreaTransport, Level: Should, Source: secBP + " §Session Hijacking (sessions bound to a user); " + arch + " §4.2",
			Statement: "Live sessions are bounded per user: after one user opens 120 sessions, some were refused or the oldest is closed.", Check: mcpcheck.SessionCap},

		// --- official suite ---
		{ID: "MCP-OFFICIAL-001", Area: AreaOfficial, Level: Must, Source: "@modelcontextprotocol/conformance " + official.Version + " (server scenarios, MCP 2025-06-18 and 2025-11-25)",
			Statement: "Every official server scenario passes, except those in conformance/official/baseline.yml, each of which needs the suite's own test_* fixtures.", Check: official.Check},
		{ID: "MCP-OFFICIAL-002", Area: AreaOfficial, Level: Must, Source: mcp1125 + " §Authorization Server Discovery, §Scope Challenge Handling; RFC 9728 §5.1; RFC 7591; RFC 8707",
			Statement: "The official TypeScript SDK's OAuth client (as used by the MCP Inspector) discovers, registers, authorizes with PKCE S256 and the resource, uses a read tool, and steps up to a write tool after the 403 challenge.", Check: official.TSClient},

		// --- identity provider ---
		{ID: "RFC8414-001", Area: AreaIdP, Level: Must, Source: "RFC 8414 §3.3",
			Statement: "Authorization server metadata is found at a well-known URL and its `issuer` is identical to the issuer.", Check: idpcheck.MetadataIssuer},
		{ID: "RFC8414-002", Area: AreaIdP, Level: Must, Source: "RFC 8414 §2",
			Statement: "The metadata has `authorization_endpoint`, `token_endpoint` and `response_types_supported` with `code`.", Check: idpcheck.MetadataRequired},
		{ID: "MCP-AS-001", Area: AreaIdP, Level: Must, Source: mcp1125 + " §Authorization Code Protection",
			Statement: "The metadata's `code_challenge_methods_supported` lists S256 (MCP clients must refuse an authorization server without it; OIDC providers MUST include it).", Check: idpcheck.MetadataS256},
		{ID: "RFC8414-003", Area: AreaIdP, Level: Should, Source: "RFC 8414 §2 (RECOMMENDED); RFC 7662 §4; RFC 7009 §2; RFC 7591 §3",
			Statement: "The metadata has `jwks_uri`, `scopes_supported`, `grant_types_supported`, `token_endpoint_auth_methods_supported` and the introspection, revocation and registration endpoints.", Check: idpcheck.MetadataRecommended},
		{ID: "RFC9700-001", Area: AreaIdP, Level: Should, Source: "RFC 9700 §2.1.1",
			Statement: "PKCE is S256 only: an authorization request with `code_challenge_method=plain` is refused.", Check: idpcheck.PlainRefused},
		{ID: "RFC9700-002", Area: AreaIdP, Level: Should, Source: "RFC 9700 §2.1.1; OAuth 2.1 §4.1.1",
			Statement: "A public client's authorization request without a code challenge is refused.", Check: idpcheck.PKCERequired},
		{ID: "RFC6749-001", Area: AreaIdP, Level: Must, Source: "RFC 6749 §5.2",
			Statement: "An unknown grant type is answered 400 `unsupported_grant_type`.", Check: idpcheck.UnsupportedGrant},
		{ID: "RFC8693-001", Area: AreaIdP, Level: Must, Source: "RFC 8693 §2.2.1",
			Statement: "A token exchange by an allowed client returns `access_token`, `issued_token_type` and `token_type`, and the token names the requested audience.", Check: idpcheck.ExchangeResponse},
		{ID: "RFC6749-002", Area: AreaIdP, Level: Must, Source: "RFC 6749 §5.1",
			Statement: "Successful token responses carry `Cache-Control: no-store`.", Check: idpcheck.NoStore},
		{ID: "RFC8693-002", Area: AreaIdP, Level: Should, Source: "RFC 8693 §2.2.2",
			Statement: "A token exchange for an audience the server will not issue for is refused with `invalid_target`.", Check: idpcheck.InvalidTarget},
		{ID: "RFC8693-003", Area: AreaIdP, Level: Must, Source: "RFC 8693 §2.2.2; RFC 6749 §5.2",
			Statement: "A token exchange with a wrong client secret in the Authorization header is 401 `invalid_client` with `WWW-Authenticate`.", Check: idpcheck.InvalidClient},
		{ID: "RFC8693-004", Area: AreaIdP, Level: Must, Source: "RFC 6749 §5.2; RFC 8414 §2 (grant_types_supported)",
			Statement: "Without token exchange the metadata does not list the grant and the grant is answered `unsupported_grant_type` (observed by switching it off where a control API allows).", Check: idpcheck.ExchangeUnsupported},
		{ID: "RFC7662-001", Area: AreaIdP, Level: Must, Source: "RFC 7662 §2.2",
			Statement: "Introspection says `active: true` for a live access token and `active: false` (and nothing else) for an unknown one.", Check: idpcheck.IntrospectionActive},
		{ID: "RFC7662-002", Area: AreaIdP, Level: Must, Source: "RFC 7662 §2.1",
			Statement: "The introspection endpoint refuses unauthenticated callers.", Check: idpcheck.IntrospectionAuth},
		{ID: "RFC9700-003", Area: AreaIdP, Level: Must, Source: mcp1125 + " §Token Theft; RFC 9700 §4.14.2",
			Statement: "A public client's refresh token is rotated on every use.", Check: idpcheck.RefreshRotation},
		{ID: "RFC9700-004", Area: AreaIdP, Level: Must, Source: "RFC 9700 §4.14.2",
			Statement: "Reusing a rotated refresh token is `invalid_grant` and revokes the active one too.", Check: idpcheck.RefreshReuse},

		// --- Nextcloud contract ---
		{ID: "NC-OCS-001", Area: AreaNC, Level: Must, Source: "Nextcloud OCS API (V2Response); " + ncDoc + " §2.1",
			Statement: "OCS v2 answers HTTP 200 with `ocs.meta` status ok / statuscode 200 and the user in `data`.", Check: nccheck.OCSv2},
		{ID: "NC-OCS-002", Area: AreaNC, Level: Must, Source: "Nextcloud OCS API (V1Response); " + ncDoc + " §2.1",
			Statement: "OCS v1 answers HTTP 200 with statuscode 100.", Check: nccheck.OCSv1},
		{ID: "NC-OCS-003", Area: AreaNC, Level: Must, Source: "Nextcloud OCS API (OCSController::RESPOND_UNAUTHORISED); " + ncDoc + " §2.1",
			Statement: "Without credentials OCS v1 and v2 answer HTTP 401 with a failure envelope, statuscode 997.", Check: nccheck.OCSUnauthorised},
		{ID: "NC-OCS-004", Area: AreaNC, Level: Must, Source: "Nextcloud OCS API (RESPOND_NOT_FOUND); " + ncDoc + " §2.1",
			Statement: "An unknown OCS route is statuscode 998: HTTP 404 on v2, HTTP 200 on v1.", Check: nccheck.OCSNotFound},
		{ID: "NC-NOTES-001", Area: AreaNC, Level: Must, Module: notes.ID, Source: "Nextcloud Notes API v1; " + ncDoc + " §4",
			Statement: "A created note has an etag, and GET answers it quoted in the `ETag` header.", Check: nccheck.NotesETag},
		{ID: "NC-NOTES-002", Area: AreaNC, Level: Must, Module: notes.ID, Source: "Nextcloud Notes API v1; " + ncDoc + " §4; RFC 9110 §13.1.1",
			Statement: "PUT with a stale `If-Match` is 412 with the current note as body, and changes nothing.", Check: nccheck.NotesPrecondition},
		{ID: "NC-NOTES-003", Area: AreaNC, Level: Must, Module: notes.ID, Source: "Nextcloud Notes API v1; " + ncDoc + " §4; RFC 9110 §13.1.1, §13.1.2",
			Statement: "PUT with the current `If-Match` succeeds with a new etag; GET with `If-None-Match` of it is 304.", Check: nccheck.NotesConditional},
		{ID: "NC-NOTES-004", Area: AreaNC, Level: Must, Module: notes.ID, Source: "Nextcloud Notes API v1; " + ncDoc + " §4",
			Statement: "DELETE answers 200; the note is then 404, and deleting it again is 404.", Check: nccheck.NotesDelete},
		{ID: "NC-SHARE-001", Area: AreaNC, Level: Must, Module: sharing.ID, Source: "Nextcloud files_sharing ShareAPIController; " + ncDoc + " §2.4",
			Statement: "A created share's `data` is the share with a string id; GET `/shares/{id}` answers a one-element list; DELETE answers 200 and the share is then 404.", Check: nccheck.SharesLifecycle},
		{ID: "NC-SHARE-002", Area: AreaNC, Level: Must, Module: sharing.ID, Source: "Nextcloud files_sharing ShareAPIController getShare; " + ncDoc + " §2.4",
			Statement: "An unknown share id is HTTP 404 on OCS v2, statuscode 404.", Check: nccheck.SharesUnknownID},
		{ID: "NC-DAV-001", Area: AreaNC, Level: Must, Module: files.ID, Source: "RFC 4918 §9.3.1; " + ncDoc + " §5.1",
			Statement: "MKCOL creates (201), refuses an existing resource (405) and a missing parent (409).", Check: nccheck.DAVMkcol},
		{ID: "NC-DAV-002", Area: AreaNC, Level: Must, Module: files.ID, Source: "RFC 9110 §9.3.4; RFC 4918 §9.7.1; " + ncDoc + " §5.1",
			Statement: "PUT creates (201), replaces (204/200) and refuses a missing parent (409).", Check: nccheck.DAVPut},
		{ID: "NC-DAV-003", Area: AreaNC, Level: Must, Module: files.ID, Source: "RFC 4918 §9.1; " + ncDoc + " §5.1",
			Statement: "PROPFIND answers 207 multistatus; a missing resource is 404.", Check: nccheck.DAVPropfind},
		{ID: "NC-DAV-004", Area: AreaNC, Level: Must, Module: files.ID, Source: "RFC 9110 §13.1.1, §13.1.2, §13.2.2; " + ncDoc + " §5.1",
			Statement: "A stale `If-Match` and `If-None-Match: *` on an existing resource are 412; GET with a matching `If-None-Match` is 304.", Check: nccheck.DAVPreconditions},
		{ID: "NC-DAV-006", Area: AreaNC, Level: Must, Module: files.ID, Source: "Nextcloud chunked upload v2 (apps/dav/lib/Upload/ChunkingV2Plugin.php); " + ncDoc + " §5.5",
			Statement: "Chunked upload: MKCOL of an upload folder with the target as `Destination`, numbered chunk PUTs (201), then MOVE of `.file` with `OC-Total-Length` assembles the target in chunk order (201) and removes the folder; a wrong total is 400 and writes nothing; DELETE aborts an upload (204).", Check: nccheck.DAVChunkedUpload},
		{ID: "NC-DAV-007", Area: AreaNC, Level: Should, Module: files.ID, Source: "Nextcloud apps/dav/lib/Connector/Sabre/FilesPlugin.php (oc:checksums); " + ncDoc + " §5.5",
			Statement: "The `OC-Checksum` sent with a PUT is answered as `oc:checksums` by PROPFIND.", Check: nccheck.DAVChecksums},
		{ID: "NC-DAV-005", Area: AreaNC, Level: Must, Module: files.ID, Source: "RFC 4918 §9.9.4, §9.6; " + ncDoc + " §5.1",
			Statement: "MOVE onto an existing destination with `Overwrite: F` is 412, to a new one 201; DELETE is 204, and 404 when missing.", Check: nccheck.DAVMoveDelete},
	}
}
