package nextcloud_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

// BenchmarkDAVCallPerRequestClient is the server's hot path in exchange
// mode: a Client per request (WithCredentials) with a fresh token for the
// same principal, then one WebDAV call (PROPFIND Depth 1) against the
// fake Nextcloud. With the uid cached per principal it costs one request,
// not two (GET /ocs/v2.php/cloud/user first). requests/op reports it.
func BenchmarkDAVCallPerRequestClient(b *testing.B) {
	srv := nctest.Start(b)
	tokens := []string{"alice-token-one", "alice-token-two"}
	require.NoError(b, srv.SeedData(fakenc.Seed{Users: []fakenc.SeedUser{{UID: "alice", Password: "alice-password", AppPasswords: tokens}}}))
	rt := &countingTransport{next: &http.Transport{}}
	base, err := nextcloud.New(srv.URL, nextcloud.Anonymous(), nextcloud.WithHTTPClient(&http.Client{Transport: rt}))
	require.NoError(b, err)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c := base.WithCredentials(nextcloud.BearerFor("sub-alice", tokens[i%2]))
		i++
		if _, err := c.ListFolder(ctx, "Documents"); err != nil {
			b.Fatal(err) // not require: the measured loop stays lean
		}
	}
	b.ReportMetric(float64(rt.n.Load())/float64(i), "requests/op")
}

// countingTransport counts the requests it carries.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(req)
}
