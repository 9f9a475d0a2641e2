package nccheck

import (
	"context"
	"crypto/sha1" // #nosec G505 -- Nextcloud's OC-Checksum names SHA1; this is an integrity label, not security
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
)

// uploadsHome is the user's chunked-upload home: the files home with
// "files" swapped for "uploads" (Nextcloud apps/dav/lib/Upload/RootCollection.php).
func uploadsHome(files string) string {
	return strings.Replace(files, "/remote.php/dav/files/", "/remote.php/dav/uploads/", 1)
}

// DAVChunkedUpload: Nextcloud's chunked upload v2
// (apps/dav/lib/Upload/ChunkingV2Plugin.php, the protocol its desktop and
// mobile clients use for large files) — MKCOL of an upload folder with
// the target as Destination, numbered chunk PUTs, then MOVE of ".file"
// with Destination and OC-Total-Length assembles the target (201) and
// removes the upload folder; a wrong OC-Total-Length is 400 and writes
// nothing; DELETE of an upload folder aborts it (204).
func DAVChunkedUpload(ctx context.Context, t *grade.Target) grade.Outcome {
	files, work, o := needDAV(ctx, t)
	if o != nil {
		return *o
	}
	base := strings.TrimSuffix(t.Nextcloud.URL, "/")
	home := uploadsHome(files)
	up := home + "/conformance-" + random()
	target := work + "/assembled.txt"
	dest := map[string]string{"Destination": base + target}
	chunks := []string{"first chunk, ", "second chunk, ", "third"}
	whole := strings.Join(chunks, "")
	steps := []step{{method: "MKCOL", path: up, hdr: dest, want: []int{201}}}
	for i, c := range chunks {
		steps = append(steps, step{method: "PUT", path: fmt.Sprintf("%s/%d", up, i+1), hdr: dest, body: []byte(c), want: []int{201}})
	}
	steps = append(steps,
		step{method: "MOVE", path: up + "/.file", hdr: map[string]string{"Destination": base + target, "OC-Total-Length": fmt.Sprint(len(whole) + 1)}, want: []int{400}},
		step{method: "GET", path: target, want: []int{404}},
		step{method: "MOVE", path: up + "/.file", hdr: map[string]string{"Destination": base + target, "OC-Total-Length": fmt.Sprint(len(whole))}, want: []int{201}},
		step{method: "PROPFIND", path: up, hdr: map[string]string{"Depth": "0"}, want: []int{404}},
	)
	ev, o := runSteps(ctx, t, steps)
	if o != nil {
		return *o
	}
	a, err := do(ctx, t, http.MethodGet, target, nil, nil, true)
	if err != nil {
		return grade.Errorf("GET the assembled file", err)
	}
	if a.Status != http.StatusOK || string(a.Body) != whole {
		return grade.Failf("GET the assembled file: HTTP %d %.80q, want 200 %q", a.Status, a.Body, whole)
	}
	abort := home + "/conformance-" + random()
	ev2, o := runSteps(ctx, t, []step{
		{method: "MKCOL", path: abort, hdr: dest, want: []int{201}},
		{method: "PUT", path: abort + "/1", hdr: dest, body: []byte("abandoned"), want: []int{201}},
		{method: "DELETE", path: abort, want: []int{204}},
		{method: "PROPFIND", path: abort, hdr: map[string]string{"Depth": "0"}, want: []int{404}},
	})
	if o != nil {
		return *o
	}
	return grade.Passf("%s; GET the target → 200 with the %d chunks in order; abort: %s", ev, len(chunks), ev2)
}

const checksumPropfind = `<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><oc:checksums/></d:prop></d:propfind>`

// DAVChecksums: Nextcloud stores the OC-Checksum header of a PUT and
// answers it as oc:checksums (apps/dav/lib/Connector/Sabre/FilesPlugin.php),
// which sync clients (rclone's hash checks, the desktop client) compare.
func DAVChecksums(ctx context.Context, t *grade.Target) grade.Outcome {
	_, work, o := needDAV(ctx, t)
	if o != nil {
		return *o
	}
	body := []byte("checksummed by the conformance suite")
	sum := sha1.Sum(body) // #nosec G401 -- the label Nextcloud stores, not a security check
	want := "SHA1:" + hex.EncodeToString(sum[:])
	path := work + "/sum.txt"
	a, err := do(ctx, t, http.MethodPut, path, map[string]string{"OC-Checksum": want}, body, true)
	if err != nil {
		return grade.Errorf("PUT with OC-Checksum", err)
	}
	if a.Status != http.StatusCreated {
		return grade.Failf("PUT %s with OC-Checksum: HTTP %d", short(path), a.Status)
	}
	p, err := do(ctx, t, "PROPFIND", path, map[string]string{"Depth": "0", "Content-Type": "application/xml"}, []byte(checksumPropfind), true)
	if err != nil {
		return grade.Errorf("PROPFIND oc:checksums", err)
	}
	if p.Status != http.StatusMultiStatus {
		return grade.Failf("PROPFIND oc:checksums: HTTP %d", p.Status)
	}
	if !strings.Contains(string(p.Body), want) {
		return grade.Failf("PROPFIND oc:checksums does not answer %s: %.300s", want, p.Body)
	}
	return grade.Passf("PUT %s with OC-Checksum %s → 201; PROPFIND oc:checksums answers it", short(path), want)
}
