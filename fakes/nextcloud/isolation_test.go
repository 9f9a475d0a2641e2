package nextcloud_test

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
)

// bobSecret is content only bob's tree holds; it must never reach alice.
const bobSecret = "bob-only-secret-7f3a"

func seedBobSecret(t *testing.T, s *nctest.Server) {
	t.Helper()
	if err := s.SeedData(nextcloud.Seed{Files: []nextcloud.SeedFile{
		{Owner: "bob", Path: "private/secret.txt", Content: bobSecret},
	}, Notes: []nextcloud.SeedNote{{Owner: "bob", Title: "Bob secret", Content: bobSecret}}}); err != nil {
		t.Fatal(err)
	}
}

var etagRe = regexp.MustCompile(`<d:href>([^<]*)</d:href><d:propstat><d:prop>(?:<[^>]*>[^<]*</[^>]*>)*?<d:getetag>([^<]*)</d:getetag>`)

// treeFingerprint lists every href with its ETag in uid's tree.
func treeFingerprint(t *testing.T, s *nctest.Server, uid string) string {
	t.Helper()
	r := do(t, s, "PROPFIND", "/remote.php/dav/files/"+uid+"/", `<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>`,
		asUser(uid), hdr("Depth", "infinity"))
	if r.status != 207 {
		t.Fatalf("fingerprint: %s", r)
	}
	var rows []string
	for _, m := range etagRe.FindAllStringSubmatch(string(r.body), -1) {
		rows = append(rows, m[1]+"="+m[2])
	}
	sort.Strings(rows)
	return strings.Join(rows, "\n")
}

func TestIsolation(t *testing.T) {
	s := startDefault(t)
	seedBobSecret(t, s)
	before := treeFingerprint(t, s, "bob")
	bobNote := noteIDByTitleAs(t, s, "bob", "Bob secret")

	attempts := []struct {
		name   string
		method string
		path   string
		body   string
		opts   []reqOpt
		status int
	}{
		{"list bob's home", "PROPFIND", "/remote.php/dav/files/bob/", "", []reqOpt{hdr("Depth", "infinity")}, 207},
		{"read bob's file", "GET", "/remote.php/dav/files/bob/private/secret.txt", "", nil, 404},
		{"write into bob's home", "PUT", "/remote.php/dav/files/bob/x.txt", "x", nil, 403},
		// sabre: the node does not exist in bob's (empty) home for alice, and
		// neither does its parent: Server::createFile's 409.
		{"overwrite bob's file", "PUT", "/remote.php/dav/files/bob/private/secret.txt", "x", nil, 409},
		{"mkcol in bob's home", "MKCOL", "/remote.php/dav/files/bob/newdir", "", nil, 403},
		{"delete bob's file", "DELETE", "/remote.php/dav/files/bob/private/secret.txt", "", nil, 404},
		{"delete bob's home", "DELETE", "/remote.php/dav/files/bob/", "", nil, 403},
		{"proppatch bob's home", "PROPPATCH", "/remote.php/dav/files/bob/",
			`<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><x:p xmlns:x="urn:x">v</x:p></d:prop></d:set></d:propertyupdate>`, nil, 207},
		{"move own file into bob's home", "MOVE", "/remote.php/dav/files/alice/Readme.md", "", []reqOpt{hdr("Destination", "/remote.php/dav/files/bob/stolen.md")}, 403},
		{"copy own file into bob's home", "COPY", "/remote.php/dav/files/alice/Readme.md", "", []reqOpt{hdr("Destination", "/remote.php/dav/files/bob/stolen.md")}, 403},
		{"move bob's file to alice", "MOVE", "/remote.php/dav/files/bob/private/secret.txt", "", []reqOpt{hdr("Destination", "/remote.php/dav/files/alice/got.txt")}, 404},
		{"dot-dot", "GET", "/remote.php/dav/files/alice/../bob/private/secret.txt", "", nil, 404},
		{"encoded dot-dot", "GET", "/remote.php/dav/files/alice/%2e%2e/bob/private/secret.txt", "", nil, 404},
		{"encoded slashes", "GET", "/remote.php/dav/files/alice%2F..%2Fbob%2Fprivate%2Fsecret.txt", "", nil, 404},
		{"dot-dot in Destination", "COPY", "/remote.php/dav/files/alice/Readme.md", "", []reqOpt{hdr("Destination", "/remote.php/dav/files/alice/%2e%2e/bob/x.md")}, 409},
		{"legacy endpoint dot-dot", "GET", "/remote.php/webdav/../../dav/files/bob/private/secret.txt", "", nil, 404},
		{"bob's note", "GET", "/index.php/apps/notes/api/v1/notes/" + bobNote, "", nil, 404},
		{"update bob's note", "PUT", "/index.php/apps/notes/api/v1/notes/" + bobNote, `{"content":"x"}`, []reqOpt{hdr("Content-Type", "application/json")}, 404},
		{"delete bob's note", "DELETE", "/index.php/apps/notes/api/v1/notes/" + bobNote, "", nil, 404},
		{"bob's user details", "GET", "/ocs/v2.php/cloud/users/bob?format=json", "", []reqOpt{ocsHeader()}, 404},
		{"share bob's file", "POST", "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json&path=/private/secret.txt&shareType=0&shareWith=alice", "", []reqOpt{ocsHeader()}, 404},
		{"search bob's files", "SEARCH", "/remote.php/dav/", `<d:searchrequest xmlns:d="DAV:"><d:basicsearch><d:select><d:allprop/></d:select><d:from><d:scope><d:href>/files/bob</d:href><d:depth>infinity</d:depth></d:scope></d:from><d:where><d:like><d:prop><d:displayname/></d:prop><d:literal>%</d:literal></d:like></d:where></d:basicsearch></d:searchrequest>`,
			[]reqOpt{hdr("Content-Type", "text/xml")}, 400},
	}
	for _, a := range attempts {
		t.Run(a.name, func(t *testing.T) {
			r := do(t, s, a.method, a.path, a.body, append([]reqOpt{alice}, a.opts...)...)
			if r.status != a.status {
				t.Errorf("status %d, want %d\n%s", r.status, a.status, r.body)
			}
			if strings.Contains(string(r.body), bobSecret) {
				t.Errorf("bob's data leaked:\n%s", r.body)
			}
		})
	}
	t.Run("bob's home looks empty to alice", func(t *testing.T) {
		r := do(t, s, "PROPFIND", "/remote.php/dav/files/bob/", "", alice, hdr("Depth", "1"))
		if n := strings.Count(string(r.body), "<d:response>"); n != 1 {
			t.Fatalf("%d responses, want only the collection itself\n%s", n, r.body)
		}
	})
	t.Run("bob's tree unchanged", func(t *testing.T) {
		if after := treeFingerprint(t, s, "bob"); after != before {
			t.Fatalf("bob's tree changed:\n%s\n---\n%s", before, after)
		}
		if r := do(t, s, "GET", "/remote.php/dav/files/bob/private/secret.txt", "", bob); r.status != 200 || string(r.body) != bobSecret {
			t.Fatalf("bob lost his file: %s", r)
		}
	})
	t.Run("unknown principal", func(t *testing.T) {
		r := do(t, s, "PROPFIND", "/remote.php/dav/files/nobody/", "", alice)
		if r.status != 404 || !strings.Contains(string(r.body), "Principal with name nobody not found") {
			t.Fatalf("%s", r)
		}
	})
}

func noteIDByTitleAs(t *testing.T, s *nctest.Server, uid, title string) string {
	t.Helper()
	r := do(t, s, "GET", "/index.php/apps/notes/api/v1/notes?exclude=content", "", asUser(uid))
	if r.status != http.StatusOK {
		t.Fatalf("%s", r)
	}
	for _, n := range jsonAt(t, r.body, "").([]any) {
		m := n.(map[string]any)
		if m["title"] == title {
			return jsonString(m["id"])
		}
	}
	t.Fatalf("no note %q for %s", title, uid)
	return ""
}
