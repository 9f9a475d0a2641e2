package nextcloud_test

// Integration tests of the core client against the shared fake Nextcloud
// (fakes/nextcloud), which implements the wire formats of
// docs/nextcloud-contract.md independently of this client.

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

func fastRetry() nextcloud.Option {
	return nextcloud.WithRetry(3, time.Millisecond, 5*time.Millisecond)
}

func aliceClient(t testing.TB, srv *nctest.Server, opts ...nextcloud.Option) *nextcloud.Client {
	t.Helper()
	c, err := nextcloud.New(srv.URL, nextcloud.Basic("alice", "alice-password"), append([]nextcloud.Option{fastRetry()}, opts...)...)
	require.NoError(t, err)
	return c
}

// countRequests counts the fake's logged requests of a method whose path
// ends with suffix.
func countRequests(srv *nctest.Server, method, suffix string) int {
	n := 0
	for _, e := range srv.RequestLog() {
		if (method == "" || e.Method == method) && strings.HasSuffix(e.Path, suffix) {
			n++
		}
	}
	return n
}

func TestFakeCurrentUserAndCapabilities(t *testing.T) {
	srv := nctest.Start(t)
	ctx := context.Background()
	appPW, ok := srv.AppPassword("alice")
	require.True(t, ok, "no app password for alice")
	for name, creds := range map[string]nextcloud.Credentials{
		"password":            nextcloud.Basic("alice", "alice-password"),
		"app password":        nextcloud.Basic("alice", appPW),
		"app password bearer": nextcloud.Bearer(appPW),
	} {
		t.Run(name, func(t *testing.T) {
			u, err := aliceClient(t, srv).WithCredentials(creds).CurrentUser(ctx)
			require.NoError(t, err)
			assert.Equal(t, "alice", u.ID)
			assert.Equal(t, "Alice Doe", u.DisplayName)
			assert.Equal(t, "alice@example.com", u.Email)
		})
	}
	caps, err := aliceClient(t, srv).WithCredentials(nextcloud.Anonymous()).Capabilities(ctx)
	require.NoError(t, err)
	assert.NotZero(t, caps.Version.Major)
	assert.NotEmpty(t, caps.Version.String)
	authed, err := aliceClient(t, srv).Capabilities(ctx)
	require.NoError(t, err)
	var notes struct {
		APIVersion []string `json:"api_version"`
	}
	require.True(t, authed.App("notes", &notes))
	assert.Contains(t, notes.APIVersion, "1.4")

	_, err = aliceClient(t, srv).WithCredentials(nextcloud.Basic("alice", "wrong")).CurrentUser(ctx)
	assert.True(t, nextcloud.IsUnauthorized(err), "wrong password: %v", err)
	assert.ErrorContains(t, err, "rejected the Basic credentials")
	_, err = aliceClient(t, srv).WithCredentials(nextcloud.Anonymous()).CurrentUser(ctx)
	assert.True(t, nextcloud.IsUnauthorized(err), "anonymous: %v", err)
	assert.ErrorContains(t, err, "Current user is not logged in")
}

func TestFakeFilesFaultsRetriesAndTimeouts(t *testing.T) {
	srv := nctest.Start(t)
	ctx := context.Background()
	c := aliceClient(t, srv)

	srv.InjectFault(fakenc.Fault{Pattern: "/remote.php/dav/files/alice/Documents/", Method: "PROPFIND", Status: 503, Count: 2})
	files, err := c.ListFolder(ctx, "Documents")
	require.NoError(t, err, "PROPFIND should survive two 503s")
	assert.Len(t, files, 2)
	assert.Equal(t, 3, countRequests(srv, "PROPFIND", "/Documents/"), "PROPFIND attempts")

	srv.ResetLog()
	srv.InjectFault(fakenc.Fault{Pattern: "/remote.php/dav/files/alice/Readme.md", Method: "DELETE", Status: 503})
	err = c.DeleteFile(ctx, "Readme.md")
	assert.ErrorIs(t, err, nextcloud.ErrUnavailable)
	assert.ErrorContains(t, err, `Nextcloud could not delete "Readme.md": HTTP 503`)
	assert.Equal(t, 1, countRequests(srv, "DELETE", "/Readme.md"), "DELETE attempts")

	srv.InjectFault(fakenc.Fault{Pattern: "/ocs/v2.php/cloud/user", Delay: 2 * time.Second})
	slow := aliceClient(t, srv, nextcloud.WithTimeout(100*time.Millisecond))
	start := time.Now()
	_, err = slow.CurrentUser(ctx)
	assert.True(t, nextcloud.IsTimeout(err), "timeout: %v", err)
	assert.EqualError(t, err, "Nextcloud did not answer within 100ms while trying to read the current user")
	assert.Less(t, time.Since(start), time.Second)
	srv.ClearFaults()
}

// TestFakeUIDDiffersFromLogin checks the DAV paths use the uid Nextcloud
// reports, not the login name.
func TestFakeUIDDiffersFromLogin(t *testing.T) {
	srv := nctest.Start(t)
	require.NoError(t, srv.SeedData(fakenc.Seed{
		Users: []fakenc.SeedUser{{UID: "u-4711", LoginName: "carol", DisplayName: "Carol", Password: "carol-pw"}},
		Files: []fakenc.SeedFile{{Owner: "u-4711", Path: "a.txt", Content: "A"}},
	}))
	c, err := nextcloud.New(srv.URL, nextcloud.Basic("carol", "carol-pw"), fastRetry())
	require.NoError(t, err)
	uid, err := c.UserID(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "u-4711", uid)
	f, err := c.DownloadFile(context.Background(), "a.txt")
	require.NoError(t, err)
	assert.Equal(t, "A", string(f.Data))
}

// TestFakeUIDCachedPerPrincipal: in exchange mode every call carries a new
// token for the same user; the uid is asked for once per principal.
func TestFakeUIDCachedPerPrincipal(t *testing.T) {
	srv := nctest.Start(t)
	require.NoError(t, srv.SeedData(fakenc.Seed{Users: []fakenc.SeedUser{
		{UID: "u-carol", LoginName: "carol", Password: "carol-pw", AppPasswords: []string{"carol-token-one", "carol-token-two"}},
		{UID: "u-dave", LoginName: "dave", Password: "dave-pw", AppPasswords: []string{"dave-token"}},
	}, Files: []fakenc.SeedFile{
		{Owner: "u-carol", Path: "c.txt", Content: "carol's"},
		{Owner: "u-dave", Path: "c.txt", Content: "dave's"},
	}}))
	base, err := nextcloud.New(srv.URL, nextcloud.Anonymous(), fastRetry())
	require.NoError(t, err)
	ctx := context.Background()
	read := func(creds nextcloud.Credentials) string {
		t.Helper()
		f, err := base.WithCredentials(creds).DownloadFile(ctx, "c.txt")
		require.NoError(t, err)
		return string(f.Data)
	}
	userLookups := func() int { return countRequests(srv, http.MethodGet, "/ocs/v2.php/cloud/user") }

	tests := []struct {
		name        string
		creds       nextcloud.Credentials
		want        string
		wantLookups int // cumulative
	}{
		{name: "first token of carol's principal asks", creds: nextcloud.BearerFor("sub-carol", "carol-token-one"), want: "carol's", wantLookups: 1},
		{name: "another token of the same principal does not", creds: nextcloud.BearerFor("sub-carol", "carol-token-two"), want: "carol's", wantLookups: 1},
		{name: "another principal asks for its own uid", creds: nextcloud.BearerFor("sub-dave", "dave-token"), want: "dave's", wantLookups: 2},
		{name: "and never gets carol's", creds: nextcloud.BearerFor("sub-dave", "dave-token"), want: "dave's", wantLookups: 2},
		{name: "a bare token keys on the token", creds: nextcloud.Bearer("carol-token-one"), want: "carol's", wantLookups: 3},
		{name: "the same bare token again", creds: nextcloud.Bearer("carol-token-one"), want: "carol's", wantLookups: 3},
		{name: "a different bare token asks", creds: nextcloud.Bearer("carol-token-two"), want: "carol's", wantLookups: 4},
		{name: "Basic keys on the login name", creds: nextcloud.Basic("carol", "carol-pw"), want: "carol's", wantLookups: 5},
		{name: "Basic with an app password shares it", creds: nextcloud.Basic("carol", "carol-token-two"), want: "carol's", wantLookups: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, read(tt.creds))
			assert.Equal(t, tt.wantLookups, userLookups(), "GET /ocs/v2.php/cloud/user so far")
		})
	}
}

func TestFakeListFolderFiltersOtherUsers(t *testing.T) {
	srv := nctest.Start(t)
	files, err := aliceClient(t, srv).ListFolder(context.Background(), "")
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	assert.Subset(t, names, []string{"Documents", "Photos", "Readme.md"})
	assert.False(t, errors.Is(err, nextcloud.ErrNotFound))
}
