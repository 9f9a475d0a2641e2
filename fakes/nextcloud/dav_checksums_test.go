package nextcloud_test

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
)

const propfindChecksums = `<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><oc:checksums/><d:getetag/><oc:fileid/></d:prop></d:propfind>`

func TestChecksums(t *testing.T) {
	s := nctest.Start(t)
	t.Logf("source: nextcloud/server apps/dav/lib/Connector/Sabre/{File.php put,FilesPlugin.php,ChecksumList.php}")
	alice := asUser("alice")
	checksums := regexp.MustCompile(`<oc:checksums>(.*?)</oc:checksums>`)
	propChecksums := func(path string) string {
		t.Helper()
		r := do(t, s, "PROPFIND", "/remote.php/dav/files/alice/"+path, propfindChecksums, alice, hdr("Depth", "0"))
		require.Equal(t, http.StatusMultiStatus, r.status, r.String())
		m := checksums.FindSubmatch(r.body)
		if m == nil {
			assert.Contains(t, string(r.body), "<oc:checksums/>", "an unset checksum is in the 404 propstat")
			return ""
		}
		return string(m[1])
	}
	const sums = "SHA1:a9993e364706816aba3e25717850c26c9cd0d89d MD5:900150983cd24fb0d6963f7d28e17f72"
	r := do(t, s, http.MethodPut, "/remote.php/dav/files/alice/c.txt", "abc", alice, hdr("OC-Checksum", "  "+sums+" "))
	require.Equal(t, http.StatusCreated, r.status)
	assert.Equal(t, "<oc:checksum>"+sums+"</oc:checksum>", propChecksums("c.txt"), "stored trimmed, one oc:checksum per comma-separated entry")

	require.Equal(t, http.StatusCreated, do(t, s, "COPY", "/remote.php/dav/files/alice/c.txt", "", alice,
		hdr("Destination", s.URL+"/remote.php/dav/files/alice/copy.txt")).status)
	assert.Equal(t, "<oc:checksum>"+sums+"</oc:checksum>", propChecksums("copy.txt"), "a copy keeps the checksum")
	require.Equal(t, http.StatusCreated, do(t, s, "MOVE", "/remote.php/dav/files/alice/copy.txt", "", alice,
		hdr("Destination", s.URL+"/remote.php/dav/files/alice/moved.txt")).status)
	assert.Equal(t, "<oc:checksum>"+sums+"</oc:checksum>", propChecksums("moved.txt"), "a move keeps the checksum")

	r = do(t, s, http.MethodPut, "/remote.php/dav/files/alice/multi.txt", "x", alice, hdr("OC-Checksum", "SHA1:1,MD5:2"))
	require.Equal(t, http.StatusCreated, r.status)
	assert.Equal(t, "<oc:checksum>SHA1:1</oc:checksum><oc:checksum>MD5:2</oc:checksum>", propChecksums("multi.txt"))

	r = do(t, s, http.MethodPut, "/remote.php/dav/files/alice/c.txt", "abcd", alice)
	require.Equal(t, http.StatusNoContent, r.status)
	assert.Equal(t, "", propChecksums("c.txt"), "a PUT without OC-Checksum clears it")
	assert.Empty(t, get(t, s, "alice", "c.txt").header.Get("OC-Checksum"))
	assert.Equal(t, "<oc:checksum>"+sums+"</oc:checksum>", propChecksums("moved.txt"), "other files keep theirs")
	assert.Equal(t, "", propChecksums("Documents"), "folders have none")
}
