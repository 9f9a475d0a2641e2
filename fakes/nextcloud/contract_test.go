package nextcloud_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
)

// contractCase is one row of the contract table: a request, what Nextcloud
// answers, and the Nextcloud source that answer comes from. Every row runs
// against a freshly seeded fake.
type contractCase struct {
	name   string
	source string
	setup  func(t *testing.T, s *nctest.Server)
	mode   string // bearer-on-app-routes, "" = default (accept)
	method string
	path   string
	opts   []reqOpt
	body   string

	status int
	// headers: exact value; "*" present; "!" absent; "~re" regexp match.
	headers  map[string]string
	contains []string
	absent   []string
	json     map[string]any // dotted path → value (JSON numbers are float64)
}

// Well-known sources, cited by the rows below.
const (
	srcSecurityMW = "nextcloud/server lib/private/AppFramework/Middleware/Security/SecurityMiddleware.php"
	srcOCSMW      = "nextcloud/server lib/private/AppFramework/Middleware/OCSMiddleware.php (afterController converts 401/403 only)"
	srcV1V2       = "nextcloud/server lib/private/AppFramework/OCS/{V1,V2}Response.php"
	srcAPIHelper  = "nextcloud/server lib/private/OCS/ApiHelper.php + ocs/v1.php (login before routing)"
	srcCSRF       = "nextcloud/server lib/private/AppFramework/Http/Request.php passesCSRFCheck + SecurityMiddleware isValidOCSRequest"
	srcCORS       = "nextcloud/server lib/private/AppFramework/Middleware/Security/CORSMiddleware.php; nextcloud/server#44365"
	srcIndexLogin = "nextcloud/server index.php (LoginException → 401 {\"message\":\"\"}), lib/base.php handleLogin"
	srcNotesCtl   = "nextcloud/notes lib/Controller/NotesApiController.php + Helper.php (handleErrorResponse, getNoteWithETagCheck)"
	srcNotesRoute = "nextcloud/notes appinfo/routes.php (api_version requirements, notes_api#fail catch-all)"
	srcNotesNote  = "nextcloud/notes lib/Service/Note.php getData, NoteUtil.php getSafeTitle/generateFileName"
	srcCore       = "sabre-io/dav lib/DAV/CorePlugin.php"
	srcServer     = "sabre-io/dav lib/DAV/Server.php"
	srcSabreAuth  = "sabre-io/dav lib/DAV/Auth/Plugin.php + nextcloud/server apps/dav/lib/Server.php (backends: public, basic, bearer, basic)"
	srcObjTree    = "nextcloud/server apps/dav/lib/Connector/Sabre/{ObjectTree,Directory}.php (File with name … could not be located)"
	srcFilesPl    = "nextcloud/server apps/dav/lib/Connector/Sabre/FilesPlugin.php"
	srcFilesRoot  = "nextcloud/server apps/dav/lib/Files/RootCollection.php (other user's home = empty SimpleCollection)"
	srcValidator  = "nextcloud/server lib/private/Files/FilenameValidator.php + Connector/Sabre/Exception/InvalidPath.php"
	srcSearchDAV  = "icewind1991/SearchDAV src/DAV/{SearchPlugin,SearchHandler}.php"
	srcShareAPI   = "nextcloud/server apps/files_sharing/lib/Controller/ShareAPIController.php"
	srcShareMgr   = "nextcloud/server lib/private/Share20/Manager.php generalCreateChecks"
	srcProvAPI    = "nextcloud/server apps/provisioning_api/lib/Controller/UsersController.php + Middleware/ProvisioningApiMiddleware.php"
	srcCaps       = "nextcloud/server core/Controller/OCSController.php getCapabilities (ETag md5(json_encode))"
	srcNotModMW   = "nextcloud/server lib/private/AppFramework/Middleware/NotModifiedMiddleware.php"
	srcDummyGet   = "nextcloud/server apps/dav/lib/Connector/Sabre/DummyGetResponsePlugin.php"
	srcCopyEtag   = "nextcloud/server apps/dav/lib/Connector/Sabre/CopyEtagHeaderPlugin.php"
	srcSabreNode  = "sabre-io/dav lib/DAV/{Node,Collection}.php (read-only nodes: Forbidden)"
)

var (
	bad   = basic("alice", "wrong")
	alice = asUser("alice")
	admin = asUser("admin")
	bob   = asUser("bob")
	fmtJS = hdr("Accept", "application/json")
)

func appPasswordBearer(uid string) reqOpt { return bearerTok(nextcloud.DefaultAppPassword(uid)) }

const propfindAll = `<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns">` +
	`<d:prop><d:getetag/><oc:fileid/><oc:permissions/><oc:size/><oc:favorite/><d:displayname/><d:getcontenttype/><x:nope xmlns:x="urn:x"/></d:prop></d:propfind>`

func contractCases() []contractCase {
	return []contractCase{
		// ---- OCS: envelopes, status mapping, failure dialect --------------
		{name: "ocs v2 anonymous is 997/401 JSON when Accept asks", source: srcSecurityMW + "; " + srcOCSMW + "; build/integration/features/auth.feature",
			method: "GET", path: "/ocs/v2.php/cloud/user", opts: []reqOpt{ocsHeader(), fmtJS},
			status: 401, headers: map[string]string{"Content-Type": "application/json; charset=utf-8", "WWW-Authenticate": "!"},
			json: map[string]any{"ocs.meta.status": "failure", "ocs.meta.statuscode": 997.0, "ocs.meta.message": "Current user is not logged in", "ocs.data": []any{}}},
		{name: "ocs v2 anonymous defaults to XML", source: srcOCSMW + " (format: param, else Accept, else xml)",
			method: "GET", path: "/ocs/v2.php/cloud/user", opts: []reqOpt{ocsHeader()},
			status: 401, headers: map[string]string{"Content-Type": "application/xml; charset=utf-8"},
			contains: []string{"<?xml version=\"1.0\"?>\n<ocs>\n <meta>\n  <status>failure</status>\n  <statuscode>997</statuscode>\n  <message>Current user is not logged in</message>\n </meta>\n <data/>\n</ocs>"}},
		{name: "ocs v1 anonymous is 401 too", source: srcV1V2 + " (V1Response::getStatus maps only 997 to 401)",
			method: "GET", path: "/ocs/v1.php/cloud/user?format=json", opts: []reqOpt{ocsHeader()},
			status: 401, json: map[string]any{"ocs.meta.statuscode": 997.0, "ocs.meta.totalitems": "", "ocs.meta.itemsperpage": ""}},
		{name: "ocs wrong basic: 997 Unauthorised, XML despite Accept json", source: srcAPIHelper,
			method: "GET", path: "/ocs/v2.php/cloud/user", opts: []reqOpt{bad, ocsHeader(), fmtJS},
			status: 401, headers: map[string]string{"WWW-Authenticate": `Basic realm="Authorisation Required"`, "Content-Type": "text/xml; charset=UTF-8"},
			contains: []string{"<statuscode>997</statuscode>", "<message>Unauthorised</message>"}},
		{name: "ocs wrong basic with format=json", source: srcAPIHelper,
			method: "GET", path: "/ocs/v2.php/cloud/user?format=json", opts: []reqOpt{bad, ocsHeader()},
			status: 401, json: map[string]any{"ocs.meta.statuscode": 997.0, "ocs.meta.message": "Unauthorised"}},
		{name: "ocs wrong basic from XHR gets DummyBasic", source: srcAPIHelper,
			method: "GET", path: "/ocs/v2.php/cloud/user", opts: []reqOpt{bad, ocsHeader(), hdr("X-Requested-With", "XMLHttpRequest")},
			status: 401, headers: map[string]string{"WWW-Authenticate": `DummyBasic realm="Authorisation Required"`}},
		{name: "ocs logged in without OCS-APIRequest is CSRF 412 plain JSON", source: srcCSRF + "; " + srcOCSMW,
			method: "GET", path: "/ocs/v2.php/cloud/user?format=json", opts: []reqOpt{alice},
			status: 412, headers: map[string]string{"Content-Type": "application/json; charset=utf-8"}, json: map[string]any{"message": "CSRF check failed"}},
		{name: "ocs any non-empty OCS-APIRequest passes CSRF", source: srcCSRF,
			method: "GET", path: "/ocs/v2.php/cloud/user?format=json", opts: []reqOpt{alice, hdr("OCS-APIRequest", "yes")},
			status: 200, json: map[string]any{"ocs.data.id": "alice"}},
		{name: "ocs bearer waives CSRF without the header", source: srcCSRF + " (str_starts_with Authorization 'Bearer ')",
			method: "GET", path: "/ocs/v2.php/cloud/user?format=json", opts: []reqOpt{appPasswordBearer("alice")},
			status: 200, json: map[string]any{"ocs.data.id": "alice", "ocs.meta.statuscode": 200.0}},
		{name: "ocs v2 unknown route is 998/404", source: srcAPIHelper + " (ResourceNotFoundException)",
			method: "GET", path: "/ocs/v2.php/cloud/nope", opts: []reqOpt{alice, ocsHeader()},
			status: 404, headers: map[string]string{"Content-Type": "text/xml; charset=UTF-8"},
			contains: []string{"<statuscode>998</statuscode>", "Invalid query, please check the syntax."}},
		{name: "ocs v1 unknown route is 998 with HTTP 200", source: srcV1V2,
			method: "GET", path: "/ocs/v1.php/cloud/nope?format=json", opts: []reqOpt{alice, ocsHeader()},
			status: 200, json: map[string]any{"ocs.meta.statuscode": 998.0, "ocs.meta.status": "failure"}},
		{name: "ocs wrong method is 405 with an empty body", source: "nextcloud/server ocs/v1.php (MethodNotAllowedException)",
			method: "DELETE", path: "/ocs/v2.php/cloud/capabilities", opts: []reqOpt{alice, ocsHeader()},
			status: 405, json: nil, absent: []string{"<ocs>"}},
		{name: "ocs v1 success is statuscode 100", source: srcV1V2,
			method: "GET", path: "/ocs/v1.php/cloud/user?format=json", opts: []reqOpt{alice, ocsHeader()},
			status: 200, json: map[string]any{"ocs.meta.status": "ok", "ocs.meta.statuscode": 100.0, "ocs.meta.message": "OK", "ocs.meta.totalitems": ""}},
		{name: "ocs JSON escapes like PHP (slashes)", source: "PHP json_encode(JSON_HEX_TAG) in BaseResponse::renderResult",
			method: "GET", path: "/ocs/v2.php/cloud/user?format=json", opts: []reqOpt{alice, ocsHeader()},
			status: 200, contains: []string{`"storageLocation":"\/var\/www\/html\/data\/alice"`}},
		{name: "capabilities with ETag and the notes block", source: srcCaps + "; nextcloud/notes lib/AppInfo/Capabilities.php",
			method: "GET", path: "/ocs/v2.php/cloud/capabilities?format=json", opts: []reqOpt{alice, ocsHeader()},
			status: 200, headers: map[string]string{"ETag": `~^"[0-9a-f]{32}"$`},
			json: map[string]any{"ocs.data.version.string": "32.0.14", "ocs.data.version.major": 32.0,
				"ocs.data.capabilities.notes.api_version": []any{"0.2", "1.3", "1.4"}, "ocs.data.capabilities.files_sharing.api_enabled": true}},
		{name: "capabilities anonymous are public only", source: srcCaps + " (getCapabilities(true) when not logged in)",
			method: "GET", path: "/ocs/v2.php/cloud/capabilities?format=json", opts: []reqOpt{ocsHeader()},
			status: 200, absent: []string{`"notes"`}, contains: []string{`"core"`}},
		{name: "capabilities anonymous without OCS-APIRequest fail CSRF", source: srcCSRF + " (#[PublicPage] without #[NoCSRFRequired])",
			method: "GET", path: "/ocs/v2.php/cloud/capabilities", status: 412},
		{name: "cloud/users needs a (sub)admin", source: srcProvAPI + " (NotSubAdminException → OCS 403)",
			method: "GET", path: "/ocs/v2.php/cloud/users?format=json", opts: []reqOpt{alice, ocsHeader()},
			status: 403, json: map[string]any{"ocs.meta.statuscode": 403.0, "ocs.meta.message": "Logged in account must be at least a sub admin"}},
		{name: "cloud/users v1 refusal is HTTP 200", source: srcV1V2,
			method: "GET", path: "/ocs/v1.php/cloud/users?format=json", opts: []reqOpt{alice, ocsHeader()},
			status: 200, json: map[string]any{"ocs.meta.statuscode": 403.0}},
		{name: "cloud/users as admin", source: srcProvAPI + " getUsers",
			method: "GET", path: "/ocs/v2.php/cloud/users?format=json", opts: []reqOpt{admin, ocsHeader()},
			status: 200, json: map[string]any{"ocs.data.users": []any{"admin", "alice", "bob"}}},
		{name: "cloud/users/{other} as non-admin is 998", source: srcProvAPI + " getUser (getUserData null → RESPOND_NOT_FOUND)",
			method: "GET", path: "/ocs/v2.php/cloud/users/bob?format=json", opts: []reqOpt{alice, ocsHeader()},
			status: 404, json: map[string]any{"ocs.meta.statuscode": 998.0, "ocs.meta.message": ""}},
		{name: "cloud/users/{missing} as admin", source: srcProvAPI,
			method: "GET", path: "/ocs/v2.php/cloud/users/nobody?format=json", opts: []reqOpt{admin, ocsHeader()},
			status: 404, json: map[string]any{"ocs.meta.statuscode": 404.0, "ocs.meta.message": "User does not exist"}},
		{name: "create an existing user is OCS 102 → HTTP 400", source: srcProvAPI + " addUser; " + srcV1V2,
			method: "POST", path: "/ocs/v2.php/cloud/users?format=json", opts: []reqOpt{admin, ocsHeader(), hdr("Content-Type", "application/x-www-form-urlencoded")},
			body: "userid=bob&password=x", status: 400, json: map[string]any{"ocs.meta.statuscode": 102.0, "ocs.meta.message": "User already exists"}},
		{name: "groups need a (sub)admin", source: srcProvAPI,
			method: "GET", path: "/ocs/v2.php/cloud/groups?format=json", opts: []reqOpt{bob, ocsHeader()}, status: 403},
		{name: "groups as admin", source: "nextcloud/server apps/provisioning_api/lib/Controller/GroupsController.php",
			method: "GET", path: "/ocs/v2.php/cloud/groups?format=json", opts: []reqOpt{admin, ocsHeader()},
			status: 200, json: map[string]any{"ocs.data.groups": []any{"admin", "users"}}},
		{name: "group members as admin", source: "nextcloud/server apps/provisioning_api/lib/Controller/GroupsController.php getGroupUsers",
			method: "GET", path: "/ocs/v2.php/cloud/groups/admin?format=json", opts: []reqOpt{admin, ocsHeader()},
			status: 200, json: map[string]any{"ocs.data.users": []any{"admin"}}},

		// ---- index.php app routes: Notes API v1 ----------------------------
		{name: "notes anonymous: CORS requires basic auth", source: srcCORS,
			method: "GET", path: "/index.php/apps/notes/api/v1/notes", status: 401,
			headers: map[string]string{"Content-Type": "application/json; charset=utf-8"}, json: map[string]any{"message": "CORS requires basic auth"}},
		{name: "notes wrong basic: empty message at the entry point", source: srcIndexLogin,
			method: "GET", path: "/index.php/apps/notes/api/v1/notes", opts: []reqOpt{bad}, status: 401, json: map[string]any{"message": ""}},
		{name: "notes anonymous with OCS-APIRequest reaches SecurityMiddleware", source: srcCORS + "; " + srcSecurityMW,
			method: "GET", path: "/index.php/apps/notes/api/v1/notes", opts: []reqOpt{ocsHeader()}, status: 401,
			json: map[string]any{"message": "Current user is not logged in"}},
		{name: "notes list", source: srcNotesCtl + "; " + srcNotesNote,
			method: "GET", path: "/index.php/apps/notes/api/v1/notes", opts: []reqOpt{alice}, status: 200,
			headers: map[string]string{"X-Notes-API-Versions": "0.2, 1.3, 1.4", "ETag": `~^"[0-9a-f]{32}"$`,
				"Last-Modified": `~^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$`, "Cache-Control": "no-cache, no-store, must-revalidate"},
			json: map[string]any{"0.title": "Welcome", "0.category": "", "0.readonly": false, "0.internalPath": "/Notes/Welcome.md",
				"1.category": "Personal", "1.favorite": true, "2.category": "Work/Projects", "0.error": false, "0.errorType": ""}},
		{name: "notes without /index.php", source: "nextcloud/server pretty URLs (/apps/… routed like /index.php/apps/…)",
			method: "GET", path: "/apps/notes/api/v1/notes?exclude=content", opts: []reqOpt{alice}, status: 200, absent: []string{`"content"`}},
		{name: "notes category filter", source: srcNotesCtl + " (category === getCategory())",
			method: "GET", path: "/index.php/apps/notes/api/v1/notes?category=Personal", opts: []reqOpt{alice}, status: 200,
			json: map[string]any{"0.title": "Shopping list"}},
		{name: "note not found", source: srcNotesCtl + " (errorType = get_class(NoteDoesNotExistException))",
			method: "GET", path: "/index.php/apps/notes/api/v1/notes/99999", opts: []reqOpt{alice}, status: 404,
			headers: map[string]string{"X-Notes-API-Versions": "0.2, 1.3, 1.4"}, json: map[string]any{"errorType": `OCA\Notes\Service\NoteDoesNotExistException`}},
		{name: "note id that is not a number hits the catch-all", source: srcNotesRoute,
			method: "GET", path: "/index.php/apps/notes/api/v1/notes/abc", opts: []reqOpt{alice}, status: 400, json: map[string]any{"": []any{}}},
		{name: "note PUT with a non-numeric id has no route", source: srcNotesRoute + " (router: method not allowed)",
			method: "PUT", path: "/index.php/apps/notes/api/v1/notes/abc", opts: []reqOpt{alice}, status: 405},
		{name: "note create is 200 with the sanitised title", source: srcNotesCtl + " create; " + srcNotesNote,
			method: "POST", path: "/index.php/apps/notes/api/v1/notes", opts: []reqOpt{alice, hdr("Content-Type", "application/json")},
			body: `{"title":"../a/b:c?\nsecond line","category":"x/../y","content":"hello"}`, status: 200,
			json: map[string]any{"title": "abc", "category": "x/y", "content": "hello", "favorite": false, "internalPath": "/Notes/x/y/abc.md"}},
		{name: "note create with malformed JSON is an empty note", source: "nextcloud/server lib/private/AppFramework/Http/Request.php decodeContent (json_decode failure ignored)",
			method: "POST", path: "/index.php/apps/notes/api/v1/notes", opts: []reqOpt{alice, hdr("Content-Type", "application/json")},
			body: `{"title":`, status: 200, json: map[string]any{"title": "New note", "content": ""}},
		{name: "note title collision gets (2)", source: srcNotesNote + " generateFileName",
			method: "POST", path: "/index.php/apps/notes/api/v1/notes", opts: []reqOpt{alice, hdr("Content-Type", "application/json")},
			body: `{"title":"Welcome"}`, status: 200, json: map[string]any{"title": "Welcome (2)"}},
		{name: "note update with a stale If-Match is 412 with the current note", source: srcNotesCtl,
			method: "PUT", path: "/index.php/apps/notes/api/v1/notes/" + "{welcome}", opts: []reqOpt{alice, hdr("If-Match", `"stale"`), hdr("Content-Type", "application/json")},
			body: `{"content":"new"}`, status: 412, json: map[string]any{"title": "Welcome", "content": "Welcome\n\nThis is your first note."}},
		{name: "note delete answers []", source: srcNotesCtl + " destroy",
			method: "DELETE", path: "/index.php/apps/notes/api/v1/notes/{welcome}", opts: []reqOpt{alice}, status: 200, json: map[string]any{"": []any{}}},
		{name: "notes settings", source: "nextcloud/notes lib/Service/SettingsService.php",
			method: "GET", path: "/index.php/apps/notes/api/v1/settings", opts: []reqOpt{alice}, status: 200,
			json: map[string]any{"notesPath": "Notes", "fileSuffix": ".md", "noteMode": "rich"}},
		{name: "notes settings are sanitised", source: "nextcloud/notes lib/Service/SettingsService.php (path traversal stripped, unknown suffix → default)",
			method: "PUT", path: "/index.php/apps/notes/api/v1/settings", opts: []reqOpt{alice, hdr("Content-Type", "application/json")},
			body: `{"notesPath":"../../etc/My:Notes","fileSuffix":".exe"}`, status: 200, json: map[string]any{"notesPath": "etc/MyNotes", "fileSuffix": ".md"}},
		{name: "bearer on notes, accept mode", source: srcCORS + " (patched: early return for Bearer; nextcloud/server PR #55878)",
			method: "GET", path: "/index.php/apps/notes/api/v1/notes", opts: []reqOpt{appPasswordBearer("alice")}, status: 200},
		{name: "bearer on notes, reject mode (stock)", source: srcCORS + " (session logout, no PHP_AUTH_USER)", mode: nextcloud.BearerReject,
			method: "GET", path: "/index.php/apps/notes/api/v1/notes", opts: []reqOpt{appPasswordBearer("alice")}, status: 401,
			json: map[string]any{"message": "CORS requires basic auth"}},
		{name: "bearer on notes, reject mode, with OCS-APIRequest", source: srcCORS + " (passesCSRFCheck first)", mode: nextcloud.BearerReject,
			method: "GET", path: "/index.php/apps/notes/api/v1/notes", opts: []reqOpt{appPasswordBearer("alice"), ocsHeader()}, status: 200},
		{name: "basic on notes, reject mode", source: srcCORS + " (logClientIn with PHP_AUTH_USER/PW)", mode: nextcloud.BearerReject,
			method: "GET", path: "/index.php/apps/notes/api/v1/notes", opts: []reqOpt{basic("alice", nextcloud.DefaultAppPassword("alice"))}, status: 200},
		{name: "unknown index.php route", source: "nextcloud/server index.php (ResourceNotFoundException → error page)",
			method: "GET", path: "/index.php/apps/nope/x", opts: []reqOpt{alice}, status: 404, headers: map[string]string{"Content-Type": "text/html; charset=UTF-8"}},

		// ---- WebDAV ---------------------------------------------------------
		{name: "dav anonymous", source: srcSabreAuth,
			method: "PROPFIND", path: "/remote.php/dav/files/alice/", status: 401,
			headers: map[string]string{"WWW-Authenticate": `Basic realm="Nextcloud", charset="UTF-8"`, "Content-Type": "application/xml; charset=utf-8"},
			contains: []string{`<s:exception>Sabre\DAV\Exception\NotAuthenticated</s:exception>`,
				"<s:message>No public access to this resource., No 'Authorization: Basic' header found. Either the client didn't send one, or the server is misconfigured, No 'Authorization: Bearer' header found. Either the client didn't send one, or the server is mis-configured, No 'Authorization: Basic' header found. Either the client didn't send one, or the server is misconfigured</s:message>"}},
		{name: "dav wrong basic", source: srcSabreAuth + " (AbstractBasic: Username or password was incorrect)",
			method: "PROPFIND", path: "/remote.php/dav/files/alice/", opts: []reqOpt{bad}, status: 401, contains: []string{"Username or password was incorrect"}},
		{name: "dav invalid bearer", source: srcSabreAuth + " (AbstractBearer: Bearer token was incorrect); apps/dav/lib/Connector/Sabre/BearerAuth.php (no Bearer challenge)",
			method: "PROPFIND", path: "/remote.php/dav/files/alice/", opts: []reqOpt{bearerTok("nope")}, status: 401,
			headers: map[string]string{"WWW-Authenticate": `Basic realm="Nextcloud", charset="UTF-8"`}, contains: []string{"Bearer token was incorrect"}},
		{name: "propfind depth 0", source: srcCore + " httpPropFind; " + srcFilesPl,
			method: "PROPFIND", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice, hdr("Depth", "0")}, body: propfindAll,
			status: 207, headers: map[string]string{"Content-Type": "application/xml; charset=utf-8", "Vary": "Brief,Prefer"},
			contains: []string{"<d:href>/remote.php/dav/files/alice/Readme.md</d:href>", "<oc:permissions>RGDNVW</oc:permissions>", "<oc:favorite>0</oc:favorite>",
				"<d:getcontenttype>text/markdown</d:getcontenttype>", "<d:displayname>Readme.md</d:displayname>",
				`<x1:nope xmlns:x1="urn:x"/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status>`}},
		{name: "propfind folder props", source: srcFilesPl + " (folders: no getcontentlength; oc:size recursive)",
			method: "PROPFIND", path: "/remote.php/dav/files/alice/Documents", opts: []reqOpt{alice, hdr("Depth", "0")},
			body:   `<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><d:getcontentlength/><oc:size/><oc:permissions/><d:resourcetype/></d:prop></d:propfind>`,
			status: 207, contains: []string{"<d:href>/remote.php/dav/files/alice/Documents/</d:href>", "<oc:permissions>RGDNVCK</oc:permissions>",
				"<d:resourcetype><d:collection/></d:resourcetype>", "<d:getcontentlength/></d:prop><d:status>HTTP/1.1 404 Not Found"}},
		{name: "propfind invalid Depth counts as 1", source: srcServer + " getHTTPDepth(1) (non-digit → default)",
			method: "PROPFIND", path: "/remote.php/dav/files/alice/Documents/", opts: []reqOpt{alice, hdr("Depth", "2x")},
			status: 207, contains: []string{"Documents/report.md", "Documents/todo.txt"}},
		{name: "propfind depth infinity", source: "nextcloud/server apps/dav/lib/Connector/Sabre/Server.php (enablePropfindDepthInfinity = true)",
			method: "PROPFIND", path: "/remote.php/dav/files/alice/", opts: []reqOpt{alice, hdr("Depth", "infinity")},
			status: 207, contains: []string{"/Notes/Work/Projects/Meeting%20notes.md</d:href>"}},
		{name: "propfind malformed body", source: srcCore + " (ParseException → BadRequest)",
			method: "PROPFIND", path: "/remote.php/dav/files/alice/", opts: []reqOpt{alice}, body: "<d:propfind xmlns:d=\"DAV:\">",
			status: 400, contains: []string{`<s:exception>Sabre\DAV\Exception\BadRequest</s:exception>`}},
		{name: "propfind missing", source: srcObjTree,
			method: "PROPFIND", path: "/remote.php/dav/files/alice/nope", opts: []reqOpt{alice}, status: 404,
			contains: []string{`<s:exception>Sabre\DAV\Exception\NotFound</s:exception>`, "<s:message>File with name /nope could not be located</s:message>"}},
		{name: "current-user-principal on the DAV root", source: "sabre-io/dav lib/DAVACL/Plugin.php",
			method: "PROPFIND", path: "/remote.php/dav/", opts: []reqOpt{alice, hdr("Depth", "0")},
			body:   `<d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop></d:propfind>`,
			status: 207, contains: []string{"<d:current-user-principal><d:href>/remote.php/dav/principals/users/alice/</d:href></d:current-user-principal>"}},
		{name: "GET a file", source: srcCore + " httpGet; " + srcFilesPl + " httpGet; " + srcCopyEtag,
			method: "GET", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice}, status: 200,
			headers: map[string]string{"ETag": `~^"[0-9a-f]{13}"$`, "OC-ETag": `~^"[0-9a-f]{13}"$`, "Content-Type": "text/markdown",
				"Content-Disposition": `attachment; filename*=UTF-8''Readme.md; filename="Readme.md"`, "Last-Modified": "~ GMT$", "Content-Length": "43"},
			contains: []string{"# Welcome"}},
		{name: "GET with Range", source: srcCore + " httpGet (Range → 206)",
			method: "GET", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice, hdr("Range", "bytes=2-8")}, status: 206,
			headers: map[string]string{"Content-Range": "bytes 2-8/43", "Content-Length": "7"}},
		{name: "GET with a suffix Range", source: srcCore + " httpGet",
			method: "GET", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice, hdr("Range", "bytes=-5")}, status: 206,
			headers: map[string]string{"Content-Range": "bytes 38-42/43"}},
		{name: "GET with an unsatisfiable Range", source: srcCore + " (RequestedRangeNotSatisfiable)",
			method: "GET", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice, hdr("Range", "bytes=100-")}, status: 416,
			contains: []string{"The start offset (100) exceeded the size of the entity (43)"}},
		{name: "GET a folder", source: srcDummyGet,
			method: "GET", path: "/remote.php/dav/files/alice/Documents", opts: []reqOpt{alice}, status: 200,
			contains: []string{"This is the WebDAV interface."}},
		{name: "GET If-None-Match match is 304", source: srcServer + " checkPreconditions",
			setup: nil, method: "GET", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice, hdr("If-None-Match", "*")}, status: 304},
		{name: "PUT new file", source: srcCore + " httpPut; " + srcFilesPl + " sendFileIdHeader",
			method: "PUT", path: "/remote.php/dav/files/alice/new.txt", opts: []reqOpt{alice}, body: "hi", status: 201,
			headers: map[string]string{"ETag": `~^"[0-9a-f]{13}"$`, "OC-ETag": "*", "OC-FileId": `~^\d{8}oc[a-z0-9]{10}$`}},
		{name: "PUT existing file", source: srcCore + " httpPut",
			method: "PUT", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice}, body: "x", status: 204, headers: map[string]string{"ETag": "*", "OC-FileId": "*"}},
		{name: "PUT without parent", source: srcServer + " createFile; litmus basic put_no_parent",
			method: "PUT", path: "/remote.php/dav/files/alice/nope/x.txt", opts: []reqOpt{alice}, body: "x", status: 409,
			contains: []string{`Sabre\DAV\Exception\Conflict`, "Files cannot be created in non-existent collections"}},
		{name: "PUT with AutoMkcol creates the parents", source: "nextcloud/server apps/dav/lib/Connector/Sabre/AutoMkcolPlugin.php",
			method: "PUT", path: "/remote.php/dav/files/alice/a/b/x.txt", opts: []reqOpt{alice, hdr("X-NC-WebDAV-AutoMkcol", "1")}, body: "x", status: 201},
		{name: "PUT on a collection", source: srcCore + " httpPut",
			method: "PUT", path: "/remote.php/dav/files/alice/Documents", opts: []reqOpt{alice}, body: "x", status: 409, contains: []string{"PUT is not allowed on non-files."}},
		{name: "PUT with Content-Range", source: srcCore + " httpPut (RFC 7231 §4.3.4)",
			method: "PUT", path: "/remote.php/dav/files/alice/r.txt", opts: []reqOpt{alice, hdr("Content-Range", "bytes 0-1/2")}, body: "xx", status: 400,
			contains: []string{"Content-Range on PUT requests are forbidden."}},
		{name: "PUT a forbidden file type", source: srcValidator,
			method: "PUT", path: "/remote.php/dav/files/alice/upload.part", opts: []reqOpt{alice}, body: "x", status: 400,
			contains: []string{`<s:exception>OCA\DAV\Connector\Sabre\Exception\InvalidPath</s:exception>`, `<o:retry xmlns:o="o:">false</o:retry>`, `".part" is a forbidden file type.`}},
		{name: "PUT .htaccess", source: srcValidator + " isForbidden (read-only verifyPath on lookup)",
			method: "PUT", path: "/remote.php/dav/files/alice/.htaccess", opts: []reqOpt{alice}, body: "x", status: 400, contains: []string{"Filename is a reserved word"}},
		{name: "PUT with X-OC-MTime", source: "nextcloud/server apps/dav/lib/Connector/Sabre/File.php (X-OC-MTime: accepted)",
			method: "PUT", path: "/remote.php/dav/files/alice/m.txt", opts: []reqOpt{alice, hdr("X-OC-MTime", "1600000000")}, body: "x", status: 201,
			headers: map[string]string{"X-OC-MTime": "accepted"}},
		{name: "PUT with a bad X-OC-MTime", source: "nextcloud/server apps/dav/lib/Connector/Sabre/MtimeSanitizer.php",
			method: "PUT", path: "/remote.php/dav/files/alice/m.txt", opts: []reqOpt{alice, hdr("X-OC-MTime", "yesterday")}, body: "x", status: 400},
		{name: "PUT create-only on an existing file", source: srcServer + " checkPreconditions (If-None-Match: *)",
			method: "PUT", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice, hdr("If-None-Match", "*")}, body: "x", status: 412,
			contains: []string{`Sabre\DAV\Exception\PreconditionFailed`, "<s:header>If-None-Match</s:header>"}},
		{name: "PUT with a stale If-Match", source: srcServer + " checkPreconditions",
			method: "PUT", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice, hdr("If-Match", `"stale"`)}, body: "x", status: 412,
			headers: map[string]string{"ETag": "*"}, contains: []string{"none of the specified ETags matched", "<s:header>If-Match</s:header>"}},
		{name: "PUT with If-Match * on a missing file", source: srcServer + " checkPreconditions",
			method: "PUT", path: "/remote.php/dav/files/alice/missing.txt", opts: []reqOpt{alice, hdr("If-Match", "*")}, body: "x", status: 412,
			contains: []string{"An If-Match header was specified and the resource did not exist"}},
		{name: "If-Match never matches a folder", source: srcServer + " checkPreconditions (only IFile has an ETag there)",
			method: "DELETE", path: "/remote.php/dav/files/alice/Documents", opts: []reqOpt{alice, hdr("If-Match", `"anything"`)}, status: 412},
		{name: "If header with a wrong etag", source: srcServer + " checkPreconditions (If: tagged list)",
			method: "DELETE", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice, hdr("If", `(["nope"])`)}, status: 412,
			contains: []string{"Failed to find a valid token/etag combination for files/alice/Readme.md"}},
		{name: "MKCOL", source: srcCore + " httpMkcol", method: "MKCOL", path: "/remote.php/dav/files/alice/NewDir", opts: []reqOpt{alice}, status: 201,
			headers: map[string]string{"OC-FileId": "*"}},
		{name: "MKCOL over an existing collection", source: srcServer + " createCollection (MethodNotAllowed)",
			method: "MKCOL", path: "/remote.php/dav/files/alice/Documents", opts: []reqOpt{alice}, status: 405,
			headers: map[string]string{"Allow": "~^OPTIONS, GET, HEAD, DELETE, PROPFIND, PUT, PROPPATCH, COPY, MOVE, REPORT$"}, contains: []string{"The resource you tried to create already exists"}},
		{name: "MKCOL without parent", source: srcServer + " createCollection",
			method: "MKCOL", path: "/remote.php/dav/files/alice/a/b", opts: []reqOpt{alice}, status: 409, contains: []string{"Parent node does not exist"}},
		{name: "MKCOL with a non-XML body", source: srcCore + " httpMkcol; litmus basic mkcol_with_body",
			method: "MKCOL", path: "/remote.php/dav/files/alice/x", opts: []reqOpt{alice, hdr("Content-Type", "text/plain")}, body: "junk", status: 415},
		{name: "DELETE", source: srcCore + " httpDelete", method: "DELETE", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice}, status: 204},
		{name: "DELETE missing", source: srcCore + "; litmus basic delete_null", method: "DELETE", path: "/remote.php/dav/files/alice/nope", opts: []reqOpt{alice}, status: 404},
		{name: "DELETE the home", source: "nextcloud/server apps/dav/lib/Files/FilesHome.php delete (Forbidden)",
			method: "DELETE", path: "/remote.php/dav/files/alice/", opts: []reqOpt{alice}, status: 403},
		{name: "MOVE without Destination", source: srcServer + " getCopyAndMoveInfo",
			method: "MOVE", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice}, status: 400, contains: []string{"The destination header was not supplied"}},
		{name: "MOVE with a bad Overwrite", source: srcServer + " getCopyAndMoveInfo",
			method: "MOVE", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice, hdr("Destination", "/remote.php/dav/files/alice/x.md"), hdr("Overwrite", "maybe")},
			status: 400, contains: []string{"The HTTP Overwrite header should be either T or F"}},
		{name: "MOVE into a missing parent", source: srcServer + " getCopyAndMoveInfo (destination parent first)",
			method: "MOVE", path: "/remote.php/dav/files/alice/nope", opts: []reqOpt{alice, hdr("Destination", "/remote.php/dav/files/alice/missing/x")},
			status: 409, contains: []string{"The destination node is not found"}},
		{name: "MOVE onto an existing file with Overwrite F", source: srcServer + " getCopyAndMoveInfo",
			method: "MOVE", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice, hdr("Destination", "/remote.php/dav/files/alice/Documents/todo.txt"), hdr("Overwrite", "F")},
			status: 412, contains: []string{"The destination node already exists, and the overwrite header is set to false", "<s:header>Overwrite</s:header>"}},
		{name: "MOVE onto itself", source: srcServer + " getCopyAndMoveInfo",
			method: "MOVE", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice, hdr("Destination", "/remote.php/dav/files/alice/Readme.md")},
			status: 403, contains: []string{"Source and destination uri are identical."}},
		{name: "MOVE into its own subtree", source: srcServer + " getCopyAndMoveInfo",
			method: "MOVE", path: "/remote.php/dav/files/alice/Documents", opts: []reqOpt{alice, hdr("Destination", "http://host/remote.php/dav/files/alice/Documents/sub")},
			status: 409, contains: []string{"The destination may not be part of the same subtree as the source path."}},
		{name: "MOVE out of the base URI", source: srcServer + " calculateUri",
			method: "MOVE", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice, hdr("Destination", "http://host/elsewhere/x")},
			status: 403, contains: []string{"is out of base uri"}},
		{name: "MOVE to a new name", source: srcCore + " httpMove; " + srcCopyEtag + " afterMove",
			method: "MOVE", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice, hdr("Destination", "/remote.php/dav/files/alice/Documents/Readme%20moved.md")},
			status: 201, headers: map[string]string{"OC-FileId": "*", "ETag": "*"}},
		{name: "MOVE over an existing file", source: srcCore + " httpMove (204 when overwritten)",
			method: "MOVE", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice, hdr("Destination", "/remote.php/dav/files/alice/Documents/todo.txt")},
			status: 204},
		{name: "MOVE to a forbidden name", source: srcFilesPl + " checkMove/checkCopy",
			method: "MOVE", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice, hdr("Destination", "/remote.php/dav/files/alice/x.part")},
			status: 400, contains: []string{"InvalidPath"}},
		{name: "COPY a folder", source: srcCore + " httpCopy",
			method: "COPY", path: "/remote.php/dav/files/alice/Documents", opts: []reqOpt{alice, hdr("Destination", "/remote.php/dav/files/alice/Docs2")}, status: 201},
		{name: "PROPPATCH favourite", source: "nextcloud/server apps/dav/lib/Connector/Sabre/TagsPlugin.php (oc:favorite)",
			method: "PROPPATCH", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice},
			body:   `<d:propertyupdate xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:set><d:prop><oc:favorite>1</oc:favorite></d:prop></d:set></d:propertyupdate>`,
			status: 207, contains: []string{"<oc:favorite/></d:prop><d:status>HTTP/1.1 200 OK</d:status>"}},
		{name: "PROPPATCH a protected property fails the whole request", source: srcCore + " propPatchProtectedPropertyCheck; sabre-io/dav lib/DAV/PropPatch.php (424)",
			method: "PROPPATCH", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice},
			body:   `<d:propertyupdate xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:set><d:prop><oc:fileid>1</oc:fileid><oc:favorite>1</oc:favorite></d:prop></d:set></d:propertyupdate>`,
			status: 207, contains: []string{"<oc:fileid/></d:prop><d:status>HTTP/1.1 403 Forbidden", "<oc:favorite/></d:prop><d:status>HTTP/1.1 424 Failed Dependency"}},
		{name: "OPTIONS", source: srcCore + " httpOptions; neon webdav_test (no class 2)",
			method: "OPTIONS", path: "/remote.php/dav/files/alice/", opts: []reqOpt{alice}, status: 200,
			headers: map[string]string{"DAV": "~^1, 3, extended-mkcol", "MS-Author-Via": "DAV"}, absent: []string{"x"}},
		{name: "REPORT unknown", source: srcCore + " httpReport (ReportNotSupported)",
			method: "REPORT", path: "/remote.php/dav/files/alice/", opts: []reqOpt{alice}, body: `<x:foo xmlns:x="urn:x"/>`, status: 415},
		{name: "unknown method", source: srcServer + " invokeMethod (NotImplemented)",
			method: "LOCK", path: "/remote.php/dav/files/alice/Readme.md", opts: []reqOpt{alice}, status: 501,
			contains: []string{"There was no plugin in the system that was willing to handle this LOCK method."}},
		{name: "legacy /remote.php/webdav", source: "nextcloud/server remote.php (webdav → legacy files endpoint)",
			method: "GET", path: "/remote.php/webdav/Documents/todo.txt", opts: []reqOpt{alice}, status: 200, contains: []string{"water plants"}},
		{name: "SEARCH needs an XML body", source: srcSearchDAV + " (other content types fall through → 501)",
			method: "SEARCH", path: "/remote.php/dav/", opts: []reqOpt{alice}, body: "x", status: 501},
		{name: "SEARCH parse error is plain text", source: srcSearchDAV + " searchHandler",
			method: "SEARCH", path: "/remote.php/dav/", opts: []reqOpt{alice, hdr("Content-Type", "text/xml")}, body: "<d:searchrequest", status: 400,
			headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"}, contains: []string{"Parse error: "}},
		{name: "SEARCH without where", source: srcSearchDAV + " SearchHandler",
			method: "SEARCH", path: "/remote.php/dav/", opts: []reqOpt{alice, hdr("Content-Type", "text/xml")},
			body:   `<d:searchrequest xmlns:d="DAV:"><d:basicsearch><d:select><d:allprop/></d:select></d:basicsearch></d:searchrequest>`,
			status: 400, contains: []string{"Parse error: Missing {DAV:}where from {DAV:}basicsearch"}},
		{name: "SEARCH like on displayname", source: srcSearchDAV + "; nextcloud/server apps/dav/lib/Files/FileSearchBackend.php; documentation WebDAV/search.rst",
			method: "SEARCH", path: "/remote.php/dav/", opts: []reqOpt{alice, hdr("Content-Type", "text/xml")},
			body: `<d:searchrequest xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:basicsearch><d:select><d:prop><d:displayname/><oc:fileid/></d:prop></d:select>` +
				`<d:from><d:scope><d:href>/files/alice</d:href><d:depth>infinity</d:depth></d:scope></d:from>` +
				`<d:where><d:like><d:prop><d:displayname/></d:prop><d:literal>%.TXT</d:literal></d:like></d:where></d:basicsearch></d:searchrequest>`,
			status: 207, headers: map[string]string{"Content-Type": `application/xml; charset="utf-8"`},
			contains: []string{"<d:href>/remote.php/dav/files/alice/Documents/todo.txt</d:href>"}, absent: []string{"report.md"}},
		{name: "SEARCH favourites", source: srcSearchDAV + "; documentation WebDAV/search.rst (oc:favorite eq)",
			method: "SEARCH", path: "/remote.php/dav/", opts: []reqOpt{alice, hdr("Content-Type", "application/xml")},
			body: `<d:searchrequest xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:basicsearch><d:select><d:prop><d:displayname/></d:prop></d:select>` +
				`<d:from><d:scope><d:href>/files/alice</d:href><d:depth>infinity</d:depth></d:scope></d:from>` +
				`<d:where><d:eq><d:prop><oc:favorite/></d:prop><d:literal>1</d:literal></d:eq></d:where></d:basicsearch></d:searchrequest>`,
			status: 207, contains: []string{"Documents/report.md", "Notes/Personal/Shopping%20list.md"}, absent: []string{"todo.txt"}},
		{name: "SEARCH like on getcontenttype", source: srcSearchDAV + "; documentation WebDAV/search.rst",
			method: "SEARCH", path: "/remote.php/dav/", opts: []reqOpt{alice, hdr("Content-Type", "text/xml")},
			body: `<d:searchrequest xmlns:d="DAV:"><d:basicsearch><d:select><d:prop><d:getcontenttype/></d:prop></d:select>` +
				`<d:from><d:scope><d:href>/files/alice/Documents</d:href><d:depth>1</d:depth></d:scope></d:from>` +
				`<d:where><d:like><d:prop><d:getcontenttype/></d:prop><d:literal>text/%</d:literal></d:like></d:where>` +
				`<d:orderby><d:order><d:prop><d:displayname/></d:prop><d:descending/></d:order></d:orderby><d:limit><d:nresults>1</d:nresults></d:limit></d:basicsearch></d:searchrequest>`,
			status: 207, contains: []string{"Documents/todo.txt", "<d:getcontenttype>text/plain</d:getcontenttype>"}, absent: []string{"report.md"}},
		{name: "principal", source: "sabre-io/dav lib/DAVACL/PrincipalCollection.php + nextcloud/server apps/dav/lib/Connector/Sabre/Principal.php",
			method: "PROPFIND", path: "/remote.php/dav/principals/users/alice/", opts: []reqOpt{alice, hdr("Depth", "0")},
			body:   `<d:propfind xmlns:d="DAV:"><d:prop><d:displayname/><d:resourcetype/><d:principal-URL/></d:prop></d:propfind>`,
			status: 207, contains: []string{"<d:displayname>Alice Doe</d:displayname>", "<d:resourcetype><d:principal/></d:resourcetype>",
				"<d:principal-URL><d:href>/remote.php/dav/principals/users/alice/</d:href></d:principal-URL>"}},
		{name: "PUT on a principal", source: srcCore + " httpPut",
			method: "PUT", path: "/remote.php/dav/principals/users/alice/", opts: []reqOpt{alice}, body: "x",
			status: 409, contains: []string{"<s:message>PUT is not allowed on non-files.</s:message>"}},
		{name: "PUT below a principal ignores X-OC-MTime", source: srcSabreNode + "; only apps/dav/lib/Connector/Sabre/File.php put reads X-OC-MTime",
			method: "PUT", path: "/remote.php/dav/principals/users/alice/x", opts: []reqOpt{alice, hdr("X-OC-MTime", "bad")}, body: "x",
			status: 403, contains: []string{"<s:message>Permission denied to create file (filename x)</s:message>"}},
		{name: "MKCOL below a principal", source: srcSabreNode + " createDirectory",
			method: "MKCOL", path: "/remote.php/dav/principals/users/alice/x", opts: []reqOpt{alice},
			status: 403, contains: []string{"<s:message>Permission denied to create directory</s:message>"}},
		{name: "DELETE a principal", source: srcSabreNode + " delete",
			method: "DELETE", path: "/remote.php/dav/principals/users/bob/", opts: []reqOpt{alice},
			status: 403, contains: []string{"<s:message>Permission denied to delete node</s:message>"}},
		{name: "MOVE a principal", source: srcSabreNode + " setName",
			method: "MOVE", path: "/remote.php/dav/principals/users/bob/", opts: []reqOpt{alice, hdr("Destination", "/remote.php/dav/files/alice/bob")},
			status: 403, contains: []string{"<s:message>Permission denied to rename file</s:message>"}},
		{name: "PROPPATCH a principal", source: srcCore + " httpPropPatch; " + srcSabreNode,
			method: "PROPPATCH", path: "/remote.php/dav/principals/users/alice/", opts: []reqOpt{alice},
			body:   `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>x</d:displayname><x:y xmlns:x="urn:x">v</x:y></d:prop></d:set></d:propertyupdate>`,
			status: 207, contains: []string{"<d:prop><d:displayname/><x2:y xmlns:x2=\"urn:x\"/></d:prop><d:status>HTTP/1.1 403 Forbidden</d:status>"}},
		{name: "SEARCH in another user's files", source: "nextcloud/server apps/dav/lib/Files/FileSearchBackend.php (scope must be the user's own files)",
			method: "SEARCH", path: "/remote.php/dav/", opts: []reqOpt{alice, hdr("Content-Type", "text/xml")},
			body:   `<d:searchrequest xmlns:d="DAV:"><d:basicsearch><d:select><d:allprop/></d:select><d:from><d:scope><d:href>/files/bob</d:href><d:depth>infinity</d:depth></d:scope></d:from><d:where><d:like><d:prop><d:displayname/></d:prop><d:literal>%</d:literal></d:like></d:where></d:basicsearch></d:searchrequest>`,
			status: 400},

		// ---- files_sharing OCS API -----------------------------------------
		{name: "share without path", source: srcShareAPI + " createShare",
			method: "POST", path: "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json", opts: []reqOpt{alice, ocsHeader()},
			status: 404, json: map[string]any{"ocs.meta.message": "Please specify a file or folder path"}},
		{name: "share a missing path", source: srcShareAPI + " createShare",
			method: "POST", path: "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json&path=/nope&shareType=0&shareWith=bob", opts: []reqOpt{alice, ocsHeader()},
			status: 404, json: map[string]any{"ocs.meta.message": "Wrong path, file/folder does not exist"}},
		{name: "share with an unknown type", source: srcShareAPI + " createShare (OCSBadRequestException)",
			method: "POST", path: "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json&path=/Readme.md", opts: []reqOpt{alice, ocsHeader()},
			status: 400, json: map[string]any{"ocs.meta.statuscode": 400.0, "ocs.meta.message": "Unknown share type"}},
		{name: "share with an unknown user", source: srcShareAPI + " createShare",
			method: "POST", path: "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json&path=/Readme.md&shareType=0&shareWith=nobody", opts: []reqOpt{alice, ocsHeader()},
			status: 404, json: map[string]any{"ocs.meta.message": "Please specify a valid account to share with"}},
		{name: "share with invalid permissions", source: srcShareMgr + " (InvalidArgumentException → OCSForbiddenException)",
			method: "POST", path: "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json&path=/Documents&shareType=0&shareWith=bob&permissions=32", opts: []reqOpt{alice, ocsHeader()},
			status: 403, json: map[string]any{"ocs.meta.message": "Valid permissions are required for sharing"}},
		{name: "share the root folder", source: srcShareMgr,
			method: "POST", path: "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json&path=/&shareType=0&shareWith=bob", opts: []reqOpt{alice, ocsHeader()},
			status: 403, json: map[string]any{"ocs.meta.message": "You cannot share your root folder"}},
		{name: "share a file strips create and delete", source: srcShareAPI + " createShare (single file shares)",
			method: "POST", path: "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json", opts: []reqOpt{alice, ocsHeader(), hdr("Content-Type", "application/x-www-form-urlencoded")},
			body: "path=/Readme.md&shareType=0&shareWith=bob&permissions=31", status: 200,
			json: map[string]any{"ocs.data.permissions": 19.0, "ocs.data.share_type": 0.0, "ocs.data.uid_owner": "alice", "ocs.data.share_with": "bob",
				"ocs.data.path": "/Readme.md", "ocs.data.item_type": "file", "ocs.data.file_target": "/Readme.md", "ocs.data.parent": nil}},
		{name: "public link", source: srcShareAPI + " createShare/formatShare (link)",
			method: "POST", path: "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json", opts: []reqOpt{alice, ocsHeader(), hdr("Content-Type", "application/json")},
			body: `{"path":"/Documents","shareType":3,"publicUpload":"true"}`, status: 200,
			json: map[string]any{"ocs.data.permissions": 15.0, "ocs.data.share_with_displayname": "(Shared link)", "ocs.data.item_type": "folder"}},
		{name: "unknown share id", source: srcShareAPI + " getShare",
			method: "GET", path: "/ocs/v2.php/apps/files_sharing/api/v1/shares/999?format=json", opts: []reqOpt{alice, ocsHeader()},
			status: 404, json: map[string]any{"ocs.meta.message": "Wrong share ID, share does not exist"}},
	}
}

func TestContract(t *testing.T) {
	for _, tc := range contractCases() {
		t.Run(tc.name, func(t *testing.T) {
			if tc.source == "" {
				t.Fatal("contract row without a source")
			}
			s := nctest.Start(t, func(c *nextcloud.Config) {
				if tc.mode != "" {
					c.BearerOnAppRoutes = tc.mode
				}
			})
			if tc.setup != nil {
				tc.setup(t, s)
			}
			path := tc.path
			if strings.Contains(path, "{welcome}") {
				path = strings.ReplaceAll(path, "{welcome}", noteIDByTitle(t, s, "Welcome"))
			}
			r := do(t, s, tc.method, path, tc.body, tc.opts...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d (source: %s)\n%s", r.status, tc.status, tc.source, r.body)
			}
			for k, want := range tc.headers {
				got, present := r.header.Get(k), len(r.header.Values(k)) > 0
				switch {
				case want == "*":
					if !present {
						t.Errorf("header %s missing", k)
					}
				case want == "!":
					if present {
						t.Errorf("header %s present: %q", k, got)
					}
				case strings.HasPrefix(want, "~"):
					if !regexp.MustCompile(want[1:]).MatchString(got) {
						t.Errorf("header %s = %q, want match %s", k, got, want[1:])
					}
				default:
					if got != want {
						t.Errorf("header %s = %q, want %q", k, got, want)
					}
				}
			}
			for _, c := range tc.contains {
				if !strings.Contains(string(r.body), c) {
					t.Errorf("body lacks %q (source: %s)\n%s", c, tc.source, r.body)
				}
			}
			for _, c := range tc.absent {
				if strings.Contains(string(r.body), c) {
					t.Errorf("body has %q\n%s", c, r.body)
				}
			}
			for path, want := range tc.json {
				got := jsonAt(t, r.body, path)
				if !jsonEqual(got, want) {
					t.Errorf("%s = %#v, want %#v (source: %s)", path, got, want, tc.source)
				}
			}
		})
	}
}

func noteIDByTitle(t *testing.T, s *nctest.Server, title string) string {
	t.Helper()
	r := do(t, s, "GET", "/index.php/apps/notes/api/v1/notes?exclude=content", "", alice)
	list, _ := jsonAt(t, r.body, "").([]any)
	for _, n := range list {
		m := n.(map[string]any)
		if m["title"] == title {
			return strings.TrimSuffix(strings.TrimSuffix(jsonString(m["id"]), ".0"), "")
		}
	}
	t.Fatalf("no note %q", title)
	return ""
}
