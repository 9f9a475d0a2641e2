package nextcloud_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
)

func propOf(t *testing.T, s *nctest.Server, uid, path, prop string) string {
	t.Helper()
	r := do(t, s, "PROPFIND", "/remote.php/dav/files/"+uid+path,
		`<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns"><d:prop><`+prop+`/></d:prop></d:propfind>`,
		asUser(uid), hdr("Depth", "0"))
	if r.status != 207 {
		t.Fatalf("PROPFIND %s: %s", path, r)
	}
	m := regexp.MustCompile(`<` + regexp.QuoteMeta(prop) + `>([^<]*)</`).FindStringSubmatch(string(r.body))
	if m == nil {
		return ""
	}
	return m[1]
}

func TestETagsAndIDsOverDAV(t *testing.T) {
	s := startDefault(t)
	root := propOf(t, s, "alice", "/", "d:getetag")
	docs := propOf(t, s, "alice", "/Documents/", "d:getetag")
	photos := propOf(t, s, "alice", "/Photos/", "d:getetag")
	id := propOf(t, s, "alice", "/Documents/todo.txt", "oc:fileid")

	r := do(t, s, "PUT", "/remote.php/dav/files/alice/Documents/todo.txt", "changed", alice)
	if r.status != 204 {
		t.Fatal(r)
	}
	if got := propOf(t, s, "alice", "/Documents/todo.txt", "d:getetag"); `"`+strings.Trim(r.header.Get("ETag"), `"`)+`"` != strings.ReplaceAll(got, "&quot;", `"`) {
		t.Fatalf("PUT ETag %s differs from PROPFIND %s", r.header.Get("ETag"), got)
	}
	if propOf(t, s, "alice", "/", "d:getetag") == root || propOf(t, s, "alice", "/Documents/", "d:getetag") == docs {
		t.Fatal("folder ETags did not change after a write below them")
	}
	if propOf(t, s, "alice", "/Photos/", "d:getetag") != photos {
		t.Fatal("an unrelated folder's ETag changed")
	}
	// A move keeps the file id; a copy gets a new, larger one.
	if r := do(t, s, "MOVE", "/remote.php/dav/files/alice/Documents/todo.txt", "", alice, hdr("Destination", "/remote.php/dav/files/alice/Photos/todo.txt")); r.status != 201 {
		t.Fatal(r)
	}
	if got := propOf(t, s, "alice", "/Photos/todo.txt", "oc:fileid"); got != id {
		t.Fatalf("file id changed on move: %s → %s", id, got)
	}
	if r := do(t, s, "COPY", "/remote.php/dav/files/alice/Photos/todo.txt", "", alice, hdr("Destination", "/remote.php/dav/files/alice/copy.txt")); r.status != 201 {
		t.Fatal(r)
	}
	oldID, _ := strconv.Atoi(id)
	newID, _ := strconv.Atoi(propOf(t, s, "alice", "/copy.txt", "oc:fileid"))
	if newID <= oldID {
		t.Fatalf("copy id %d not above %d", newID, oldID)
	}
	if got := propOf(t, s, "alice", "/copy.txt", "oc:id"); got != fmt.Sprintf("%08d", newID)+got[8:] || !strings.HasPrefix(got[8:], "oc") {
		t.Fatalf("oc:id %q", got)
	}
	// Shallow copy (Depth: 0) copies the folder alone.
	if r := do(t, s, "COPY", "/remote.php/dav/files/alice/Photos/", "", alice, hdr("Destination", "/remote.php/dav/files/alice/Empty"), hdr("Depth", "0")); r.status != 201 {
		t.Fatal(r)
	}
	if r := do(t, s, "PROPFIND", "/remote.php/dav/files/alice/Empty/", "", alice, hdr("Depth", "1")); strings.Count(string(r.body), "<d:response>") != 1 {
		t.Fatalf("shallow copy has children:\n%s", r.body)
	}
}

func TestNotesAreFiles(t *testing.T) {
	s := startDefault(t)
	r := do(t, s, "POST", "/index.php/apps/notes/api/v1/notes", `{"title":"Plan","category":"Drafts","content":"v1"}`, alice, hdr("Content-Type", "application/json"))
	if r.status != 200 {
		t.Fatal(r)
	}
	id := jsonString(jsonAt(t, r.body, "id"))
	etag := jsonAt(t, r.body, "etag").(string)
	if got := propOf(t, s, "alice", "/Notes/Drafts/Plan.md", "oc:fileid"); got != id {
		t.Fatalf("note id %s, file id %s", id, got)
	}
	// GET sends the note's etag as the quoted ETag header.
	g := do(t, s, "GET", "/index.php/apps/notes/api/v1/notes/"+id, "", alice)
	if g.header.Get("ETag") != `"`+etag+`"` {
		t.Fatalf("ETag header %q, body etag %q", g.header.Get("ETag"), etag)
	}
	if r := do(t, s, "GET", "/index.php/apps/notes/api/v1/notes/"+id, "", alice, hdr("If-None-Match", `"`+etag+`"`)); r.status != 304 {
		t.Fatalf("If-None-Match: %s", r)
	}
	// A WebDAV write is a note change.
	if r := do(t, s, "PUT", "/remote.php/dav/files/alice/Notes/Drafts/Plan.md", "v2 via dav", alice); r.status != 204 {
		t.Fatal(r)
	}
	g = do(t, s, "GET", "/index.php/apps/notes/api/v1/notes/"+id, "", alice)
	if jsonAt(t, g.body, "content") != "v2 via dav" || jsonAt(t, g.body, "etag") == etag {
		t.Fatalf("note did not follow the file: %s", g)
	}
	etag = jsonAt(t, g.body, "etag").(string)
	// If-Match with the current etag succeeds; moving category renames
	// the file and removes the emptied category folder.
	u := do(t, s, "PUT", "/index.php/apps/notes/api/v1/notes/"+id, `{"category":"Archive/2026","title":"Plan B","favorite":true}`, alice,
		hdr("Content-Type", "application/json"), hdr("If-Match", `"`+etag+`"`))
	if u.status != 200 || jsonAt(t, u.body, "category") != "Archive/2026" || jsonAt(t, u.body, "title") != "Plan B" || jsonAt(t, u.body, "favorite") != true {
		t.Fatalf("update: %s", u)
	}
	if r := do(t, s, "PROPFIND", "/remote.php/dav/files/alice/Notes/Drafts/", "", alice); r.status != 404 {
		t.Fatalf("empty category folder kept: %s", r)
	}
	if got := propOf(t, s, "alice", "/Notes/Archive/2026/Plan%20B.md", "oc:favorite"); got != "1" {
		t.Fatalf("favourite is not the files favourite: %q", got)
	}
	// The old etag is now stale.
	if r := do(t, s, "PUT", "/index.php/apps/notes/api/v1/notes/"+id, `{"content":"x"}`, alice, hdr("Content-Type", "application/json"), hdr("If-Match", `"`+etag+`"`)); r.status != 412 {
		t.Fatalf("stale etag: %s", r)
	}
}

func TestNotesChunking(t *testing.T) {
	clock := time.Unix(1_800_000_000, 0)
	s := nctest.Start(t, func(c *nextcloud.Config) { c.Now = func() time.Time { return clock } })
	for i := 0; i < 4; i++ {
		clock = clock.Add(time.Second)
		if r := do(t, s, "POST", "/index.php/apps/notes/api/v1/notes", fmt.Sprintf(`{"title":"n%d"}`, i), alice, hdr("Content-Type", "application/json")); r.status != 200 {
			t.Fatal(r)
		}
	}
	all := jsonAt(t, do(t, s, "GET", "/index.php/apps/notes/api/v1/notes", "", alice).body, "").([]any)
	total := len(all) // 3 seeded + 4 new

	full := map[string]bool{}
	cursor, chunks := "", 0
	for {
		path := "/index.php/apps/notes/api/v1/notes?chunkSize=2&exclude=content"
		if cursor != "" {
			path += "&chunkCursor=" + cursor
		}
		r := do(t, s, "GET", path, "", alice)
		if r.status != 200 {
			t.Fatal(r)
		}
		chunks++
		list := jsonAt(t, r.body, "").([]any)
		next := r.header.Get("X-Notes-Chunk-Cursor")
		for _, n := range list {
			m := n.(map[string]any)
			if _, hasTitle := m["title"]; hasTitle {
				full[jsonString(m["id"])] = true
			} else if next != "" {
				t.Fatal("id-only entries before the last chunk")
			}
		}
		if next == "" {
			if r.header.Get("X-Notes-Chunk-Pending") != "" {
				t.Fatal("pending header on the last chunk")
			}
			// The last chunk carries its full notes plus every other note's id.
			if len(list) != total {
				t.Fatalf("last chunk has %d entries, want %d", len(list), total)
			}
			break
		}
		if !regexp.MustCompile(`^\d+-\d+-\d+$`).MatchString(next) {
			t.Fatalf("cursor %q", next)
		}
		pending, _ := strconv.Atoi(r.header.Get("X-Notes-Chunk-Pending"))
		if pending != total-len(full) {
			t.Fatalf("pending %d, want %d", pending, total-len(full))
		}
		cursor = next
		if chunks > 10 {
			t.Fatal("no end of chunks")
		}
	}
	if len(full) != total || chunks != (total+1)/2 {
		t.Fatalf("%d full notes in %d chunks, want %d in %d", len(full), chunks, total, (total+1)/2)
	}

	// pruneBefore in the future reduces every note to its id.
	r := do(t, s, "GET", fmt.Sprintf("/index.php/apps/notes/api/v1/notes?pruneBefore=%d", clock.Unix()+10), "", alice)
	for _, n := range jsonAt(t, r.body, "").([]any) {
		if len(n.(map[string]any)) != 1 {
			t.Fatalf("pruned note with fields: %v", n)
		}
	}
	// The list ETag answers If-None-Match with 304.
	r = do(t, s, "GET", "/index.php/apps/notes/api/v1/notes", "", alice)
	if nm := do(t, s, "GET", "/index.php/apps/notes/api/v1/notes", "", alice, hdr("If-None-Match", r.header.Get("ETag"))); nm.status != 304 {
		t.Fatalf("list 304: %s", nm)
	}
}

func shareID(t *testing.T, r *resp) string {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("share: %s", r)
	}
	return jsonAt(t, r.body, "ocs.data.id").(string)
}

func TestSharingFlow(t *testing.T) {
	s := startDefault(t)
	form := hdr("Content-Type", "application/x-www-form-urlencoded")
	id := shareID(t, do(t, s, "POST", "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json", "path=/Documents&shareType=0&shareWith=bob&permissions=1", alice, ocsHeader(), form))

	// bob has a Documents folder of his own: the share is mounted as "Documents (2)".
	if got := propOf(t, s, "bob", "/Documents%20(2)/", "oc:permissions"); got != "SMGDNV" {
		t.Fatalf("mount permissions %q", got)
	}
	if r := do(t, s, "GET", "/remote.php/dav/files/bob/Documents%20(2)/todo.txt", "", bob); r.status != 200 || !strings.Contains(string(r.body), "water plants") {
		t.Fatalf("bob reads the shared file: %s", r)
	}
	if propOf(t, s, "bob", "/Documents%20(2)/todo.txt", "oc:fileid") != propOf(t, s, "alice", "/Documents/todo.txt", "oc:fileid") {
		t.Fatal("a shared file has another id for the recipient")
	}
	if got := propOf(t, s, "bob", "/Documents%20(2)/", "oc:owner-id"); got != "alice" {
		t.Fatalf("owner %q", got)
	}
	// Read-only: no create, no update.
	if r := do(t, s, "PUT", "/remote.php/dav/files/bob/Documents%20(2)/new.txt", "x", bob); r.status != 403 {
		t.Fatalf("create in read-only share: %s", r)
	}
	if r := do(t, s, "PUT", "/remote.php/dav/files/bob/Documents%20(2)/todo.txt", "x", bob); r.status != 403 {
		t.Fatalf("update in read-only share: %s", r)
	}
	// Recipients see it under shared_with_me, with their path.
	r := do(t, s, "GET", "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json&shared_with_me=true", "", bob, ocsHeader())
	if jsonAt(t, r.body, "ocs.data.0.id") != id || jsonAt(t, r.body, "ocs.data.0.path") != "/Documents (2)" || jsonAt(t, r.body, "ocs.data.0.can_edit") != false {
		t.Fatalf("shared_with_me: %s", r)
	}
	if r := do(t, s, "PUT", "/ocs/v2.php/apps/files_sharing/api/v1/shares/"+id+"?format=json", "permissions=31", bob, ocsHeader(), form); r.status != 403 ||
		jsonAt(t, r.body, "ocs.meta.message") != "You are not allowed to edit incoming shares" {
		t.Fatalf("recipient edits: %s", r)
	}
	if r := do(t, s, "PUT", "/ocs/v2.php/apps/files_sharing/api/v1/shares/"+id+"?format=json", "", alice, ocsHeader(), form); r.status != 400 ||
		jsonAt(t, r.body, "ocs.meta.message") != "Wrong or no update parameter given" {
		t.Fatalf("empty update: %s", r)
	}
	// The owner upgrades the share; bob's writes land in alice's tree.
	rootBefore := propOf(t, s, "bob", "/", "d:getetag")
	aliceDocs := propOf(t, s, "alice", "/Documents/", "d:getetag")
	if r := do(t, s, "PUT", "/ocs/v2.php/apps/files_sharing/api/v1/shares/"+id+"?format=json", "permissions=15&note=hi", alice, ocsHeader(), form); r.status != 200 ||
		jsonAt(t, r.body, "ocs.data.permissions") != 15.0 || jsonAt(t, r.body, "ocs.data.note") != "hi" {
		t.Fatalf("owner update: %s", r)
	}
	if r := do(t, s, "PUT", "/remote.php/dav/files/bob/Documents%20(2)/from-bob.txt", "hello alice", bob); r.status != 201 {
		t.Fatalf("create in writable share: %s", r)
	}
	if r := do(t, s, "GET", "/remote.php/dav/files/alice/Documents/from-bob.txt", "", alice); r.status != 200 || string(r.body) != "hello alice" {
		t.Fatalf("owner does not see the recipient's file: %s", r)
	}
	if propOf(t, s, "alice", "/Documents/from-bob.txt", "oc:owner-id") != "alice" {
		t.Fatal("a file written into a share belongs to the share owner")
	}
	if propOf(t, s, "bob", "/", "d:getetag") == rootBefore || propOf(t, s, "alice", "/Documents/", "d:getetag") == aliceDocs {
		t.Fatal("ETags did not propagate across the share")
	}
	// GET /shares/{id} is a one-element list.
	if r := do(t, s, "GET", "/ocs/v2.php/apps/files_sharing/api/v1/shares/"+id+"?format=json", "", bob, ocsHeader()); len(jsonAt(t, r.body, "ocs.data").([]any)) != 1 {
		t.Fatalf("get share: %s", r)
	}
	// Resharing beyond the received permissions is refused.
	if r := do(t, s, "POST", "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json", "path=/Documents (2)&shareType=0&shareWith=admin&permissions=31", bob, ocsHeader(), form); r.status != 404 {
		t.Fatalf("reshare without share permission: %s", r)
	}
	// The recipient leaves the share: gone from bob's tree, kept by alice.
	if r := do(t, s, "DELETE", "/remote.php/dav/files/bob/Documents%20(2)", "", bob); r.status != 204 {
		t.Fatalf("unshare from self: %s", r)
	}
	if r := do(t, s, "PROPFIND", "/remote.php/dav/files/bob/Documents%20(2)/", "", bob); r.status != 404 {
		t.Fatalf("mount still there: %s", r)
	}
	if r := do(t, s, "GET", "/remote.php/dav/files/alice/Documents/todo.txt", "", alice); r.status != 200 {
		t.Fatal("owner lost the folder")
	}
	if r := do(t, s, "GET", "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json", "", alice, ocsHeader()); len(jsonAt(t, r.body, "ocs.data").([]any)) != 0 {
		t.Fatalf("share survived: %s", r)
	}
}

func TestGroupAndLinkShares(t *testing.T) {
	s := startDefault(t)
	form := hdr("Content-Type", "application/x-www-form-urlencoded")
	shareID(t, do(t, s, "POST", "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json", "path=/Photos&shareType=1&shareWith=users", alice, ocsHeader(), form))
	for _, uid := range []string{"bob", "admin"} {
		if r := do(t, s, "PROPFIND", "/remote.php/dav/files/"+uid+"/Photos/", "", asUser(uid), hdr("Depth", "0")); r.status != 207 {
			t.Fatalf("%s does not see the group share: %s", uid, r)
		}
	}
	if r := do(t, s, "PROPFIND", "/remote.php/dav/files/alice/", "", alice, hdr("Depth", "1")); strings.Count(string(r.body), "/Photos/</d:href>") != 1 {
		t.Fatal("the owner sees her own folder twice")
	}
	// The same group again is refused.
	if r := do(t, s, "POST", "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json", "path=/Photos&shareType=1&shareWith=users", alice, ocsHeader(), form); r.status != 403 ||
		jsonAt(t, r.body, "ocs.meta.message") != "Path is already shared with this group" {
		t.Fatalf("duplicate group share: %s", r)
	}
	link := do(t, s, "POST", "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json", "path=/Readme.md&shareType=3&password=s3cret&expireDate=2999-01-01", alice, ocsHeader(), form)
	if link.status != 200 {
		t.Fatal(link)
	}
	tok := jsonAt(t, link.body, "ocs.data.token").(string)
	if !regexp.MustCompile(`^[A-Za-z0-9]{15}$`).MatchString(tok) || jsonAt(t, link.body, "ocs.data.url") != s.URL+"/index.php/s/"+tok ||
		jsonAt(t, link.body, "ocs.data.expiration") != "2999-01-01 00:00:00" || jsonAt(t, link.body, "ocs.data.permissions") != 1.0 {
		t.Fatalf("link share: %s", link.body)
	}
	if strings.Contains(string(link.body), "s3cret") {
		t.Fatal("the link password is echoed")
	}
	if r := do(t, s, "POST", "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json", "path=/Readme.md&shareType=3&expireDate=2000-01-01", alice, ocsHeader(), form); r.status != 404 ||
		jsonAt(t, r.body, "ocs.meta.message") != "Expiration date is in the past" {
		t.Fatalf("past expiry: %s", r)
	}
	if r := do(t, s, "POST", "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json", "path=/Readme.md&shareType=3&publicUpload=true", alice, ocsHeader(), form); r.status != 400 {
		t.Fatalf("public upload on a file: %s", r)
	}
	// share-types on the shared node, for the sharer.
	r := do(t, s, "PROPFIND", "/remote.php/dav/files/alice/Photos/", `<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><oc:share-types/></d:prop></d:propfind>`, alice, hdr("Depth", "0"))
	if !strings.Contains(string(r.body), "<oc:share-types><oc:share-type>1</oc:share-type></oc:share-types>") {
		t.Fatalf("share-types: %s", r.body)
	}
}

func TestDAVConditionalWrites(t *testing.T) {
	s := startDefault(t)
	g := do(t, s, "GET", "/remote.php/dav/files/alice/Readme.md", "", alice)
	etag := g.header.Get("ETag")
	if r := do(t, s, "PUT", "/remote.php/dav/files/alice/Readme.md", "v2", alice, hdr("If-Match", etag)); r.status != 204 {
		t.Fatalf("If-Match current: %s", r)
	}
	if r := do(t, s, "PUT", "/remote.php/dav/files/alice/Readme.md", "v3", alice, hdr("If-Match", etag)); r.status != 412 {
		t.Fatalf("If-Match stale: %s", r)
	}
	if r := do(t, s, "PUT", "/remote.php/dav/files/alice/fresh.txt", "x", alice, hdr("If-None-Match", "*")); r.status != 201 {
		t.Fatalf("If-None-Match * on a new file: %s", r)
	}
	// The If header guards a MOVE destination as the MCP client uses it.
	cur := do(t, s, "GET", "/remote.php/dav/files/alice/fresh.txt", "", alice).header.Get("ETag")
	ifHdr := fmt.Sprintf("<%s/remote.php/dav/files/alice/fresh.txt> ([%s])", s.URL, cur)
	if r := do(t, s, "MOVE", "/remote.php/dav/files/alice/Readme.md", "", alice, hdr("Destination", "/remote.php/dav/files/alice/fresh.txt"), hdr("If", ifHdr)); r.status != 204 {
		t.Fatalf("tagged If with the current etag: %s", r)
	}
	if r := do(t, s, "COPY", "/remote.php/dav/files/alice/fresh.txt", "", alice, hdr("Destination", "/remote.php/dav/files/alice/x.txt"), hdr("If", ifHdr)); r.status != 412 {
		t.Fatalf("tagged If with a stale etag: %s", r)
	}
	if r := do(t, s, "GET", "/remote.php/dav/files/alice/fresh.txt", "", alice, hdr("If-None-Match", do(t, s, "HEAD", "/remote.php/dav/files/alice/fresh.txt", "", alice).header.Get("ETag"))); r.status != http.StatusNotModified {
		t.Fatalf("GET If-None-Match: %s", r)
	}
}
