package sharing_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud/sharing"
)

// as returns the sharing client of uid on srv (the fake's default seed
// gives every user the password uid + "-password"), with retries too short
// to slow tests down.
func as(t *testing.T, srv *nctest.Server, uid string) *sharing.Client {
	t.Helper()
	c, err := nextcloud.New(srv.URL, nextcloud.Basic(uid, uid+"-password"), nextcloud.WithRetry(2, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	return sharing.New(c)
}

func TestShareLifecycle(t *testing.T) {
	srv := nctest.Start(t)
	ctx := context.Background()
	alice, bob := as(t, srv, "alice"), as(t, srv, "bob")

	created, err := alice.Create(ctx, sharing.NewShare{Path: "/Documents", Type: sharing.TypeUser, ShareWith: "bob",
		Permissions: sharing.PermRead | sharing.PermUpdate, Note: "for the review", ExpireDate: time.Now().AddDate(0, 1, 0).Format("2006-01-02")})
	require.NoError(t, err)
	assert.Positive(t, created.ID)
	assert.Equal(t, sharing.TypeUser, created.ShareType)
	assert.Equal(t, "alice", created.UIDOwner)
	assert.Equal(t, "bob", created.ShareWith)
	assert.Equal(t, 3, created.Permissions)
	assert.Equal(t, "/Documents", created.Path)
	assert.Equal(t, "folder", created.ItemType)
	assert.Equal(t, "for the review", created.Note)
	assert.True(t, strings.HasSuffix(created.Expiration, " 00:00:00"), created.Expiration)
	assert.True(t, created.CanEdit)

	got, err := alice.Get(ctx, created.ID)
	require.NoError(t, err)
	assert.Equal(t, *created, *got)

	mine, err := alice.List(ctx, sharing.ListOptions{Path: "/Documents"})
	require.NoError(t, err)
	require.Len(t, mine, 1)
	assert.Equal(t, created.ID, mine[0].ID)
	none, err := alice.List(ctx, sharing.ListOptions{Path: "/Readme.md"})
	require.NoError(t, err)
	assert.Empty(t, none)
	assert.NotNil(t, none, "an empty listing is [], not nil")

	// bob sees it among the shares shared with him, under his mount name.
	received, err := bob.List(ctx, sharing.ListOptions{SharedWithMe: true})
	require.NoError(t, err)
	require.Len(t, received, 1)
	assert.Equal(t, created.ID, received[0].ID)
	assert.Equal(t, "/Documents (2)", received[0].Path, "bob has a Documents folder of his own")
	assert.True(t, received[0].CanDelete)
	assert.False(t, received[0].CanEdit)
	assert.Equal(t, 3|sharing.PermDelete, received[0].ItemPermissions)

	perms, note := 1, ""
	upd, err := alice.Update(ctx, created.ID, sharing.Update{Permissions: &perms, Note: &note})
	require.NoError(t, err)
	assert.Equal(t, 1, upd.Permissions)
	assert.Empty(t, upd.Note)

	require.NoError(t, alice.Delete(ctx, created.ID))
	_, err = alice.Get(ctx, created.ID)
	assert.True(t, nextcloud.IsNotFound(err), "%v", err)
}

// urlRecorder serves the fake behind a handler that records every
// request URL (path and query), which the fake's own log leaves out.
type urlRecorder struct {
	mu   sync.Mutex
	urls []string
}

func (u *urlRecorder) start(t *testing.T) *nctest.Server {
	t.Helper()
	fake, err := fakenc.New(fakenc.DefaultConfig())
	require.NoError(t, err)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.urls = append(u.urls, r.URL.String())
		u.mu.Unlock()
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		hs.Close()
		assert.NoError(t, fake.Close())
	})
	return &nctest.Server{Nextcloud: fake, URL: hs.URL, HTTP: hs}
}

func (u *urlRecorder) all() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return strings.Join(u.urls, "\n")
}

// TestLinkShareHidesPasswordHash: a link's password travels only in
// request bodies, and the hash Nextcloud sends back (as share_with and
// password) is never kept.
func TestLinkShareHidesPasswordHash(t *testing.T) {
	rec := &urlRecorder{}
	srv := rec.start(t)
	ctx := context.Background()
	alice := as(t, srv, "alice")
	const secret = "correct-horse-battery"
	link, err := alice.Create(ctx, sharing.NewShare{Path: "/Photos", Type: sharing.TypeLink, Permissions: sharing.PermRead, Password: secret})
	require.NoError(t, err)
	assert.True(t, link.HasPassword)
	assert.Empty(t, link.ShareWith, "a link's share_with is its password hash")
	assert.Equal(t, "(Shared link)", link.ShareWithDisplayName)
	assert.NotEmpty(t, link.Token)
	assert.Equal(t, srv.URL+"/index.php/s/"+link.Token, link.URL)
	pw := secret + "-2"
	_, err = alice.Update(ctx, link.ID, sharing.Update{Password: &pw})
	require.NoError(t, err)
	got, err := alice.Get(ctx, link.ID)
	require.NoError(t, err)
	assert.True(t, got.HasPassword)
	assert.Empty(t, got.ShareWith)
	assert.NotEmpty(t, rec.all())
	assert.NotContains(t, rec.all(), "correct-horse", "the password travelled in a URL")
	open, err := alice.Create(ctx, sharing.NewShare{Path: "/Readme.md", Type: sharing.TypeLink, Permissions: sharing.PermRead})
	require.NoError(t, err)
	assert.False(t, open.HasPassword)
}

// TestRefusals: Nextcloud's refusals come back in plain words that name
// the attempt and quote Nextcloud's reason.
func TestRefusals(t *testing.T) {
	srv := nctest.Start(t)
	ctx := context.Background()
	alice, bob := as(t, srv, "alice"), as(t, srv, "bob")
	own, err := alice.Create(ctx, sharing.NewShare{Path: "/Readme.md", Type: sharing.TypeUser, ShareWith: "admin", Permissions: 1})
	require.NoError(t, err)
	toBob, err := alice.Create(ctx, sharing.NewShare{Path: "/Photos", Type: sharing.TypeUser, ShareWith: "bob", Permissions: 1})
	require.NoError(t, err)
	one := 1
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"unknown user", func() error {
			_, err := alice.Create(ctx, sharing.NewShare{Path: "/Documents", Type: sharing.TypeUser, ShareWith: "nobody", Permissions: 1})
			return err
		}, `Nextcloud refused to share "/Documents" with user "nobody" (HTTP 404): Please specify a valid account to share with`},
		{"unknown group", func() error {
			_, err := alice.Create(ctx, sharing.NewShare{Path: "/Documents", Type: sharing.TypeGroup, ShareWith: "nobody", Permissions: 1})
			return err
		}, `Nextcloud refused to share "/Documents" with group "nobody" (HTTP 404): Please specify a valid group`},
		{"missing path", func() error {
			_, err := alice.Create(ctx, sharing.NewShare{Path: "/nope", Type: sharing.TypeUser, ShareWith: "bob", Permissions: 1})
			return err
		}, `Nextcloud refused to share "/nope" with user "bob" (HTTP 404): Wrong path, file/folder does not exist`},
		{"share id that does not exist", func() error { _, err := alice.Get(ctx, 999); return err },
			`share 999 does not exist, or it is neither yours nor shared with you (Nextcloud: HTTP 404 "Wrong share ID, share does not exist")`},
		{"someone else's share", func() error { _, err := bob.Get(ctx, own.ID); return err },
			"does not exist, or it is neither yours nor shared with you"},
		{"delete someone else's share", func() error { return bob.Delete(ctx, own.ID) },
			"does not exist, or it is neither yours nor shared with you"},
		{"recipient edits", func() error { _, err := bob.Update(ctx, toBob.ID, sharing.Update{Permissions: &one}); return err },
			"Nextcloud refused to update share " + strconv.FormatInt(toBob.ID, 10) + " (HTTP 403): You are not allowed to edit incoming shares"},
		{"reshare beyond permissions", func() error {
			_, err := bob.Create(ctx, sharing.NewShare{Path: "/Photos", Type: sharing.TypeUser, ShareWith: "admin", Permissions: 31})
			return err
		}, `Nextcloud refused to share "/Photos" with user "admin" (HTTP 404): You are not allowed to share Photos`},
		{"nothing to update", func() error { _, err := alice.Update(ctx, own.ID, sharing.Update{}); return err },
			"nothing to update"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestServerFailuresKeepCoreText: a 503 is no refusal with a reason; the
// core's text (what the server explains per token mode) stays.
func TestServerFailuresKeepCoreText(t *testing.T) {
	srv := nctest.Start(t)
	srv.InjectFault(fakenc.Fault{Pattern: "*/apps/files_sharing/api/v1/shares", Status: http.StatusServiceUnavailable, Count: 5})
	_, err := as(t, srv, "alice").List(context.Background(), sharing.ListOptions{})
	require.Error(t, err)
	var se *sharing.Error
	assert.NotErrorAs(t, err, &se)
	assert.Contains(t, err.Error(), "HTTP 503")
}

// TestBadPathsSendNothing: the client refuses a path it would not send.
func TestBadPathsSendNothing(t *testing.T) {
	srv := nctest.Start(t)
	srv.ResetLog()
	_, err := as(t, srv, "alice").Create(context.Background(), sharing.NewShare{Path: "/a/../../etc", Type: sharing.TypeUser, ShareWith: "bob", Permissions: 1})
	assert.ErrorIs(t, err, sharing.ErrInvalidPath)
	_, err = as(t, srv, "alice").List(context.Background(), sharing.ListOptions{Path: "x\x00y"})
	assert.ErrorIs(t, err, sharing.ErrInvalidPath)
	assert.Empty(t, srv.RequestLog())
}

func TestNormalizePath(t *testing.T) {
	good := map[string]string{
		"Documents":            "/Documents",
		"/Documents/":          "/Documents",
		"//Documents//a.md":    "/Documents/a.md",
		"./Documents/./a.md":   "/Documents/a.md",
		"Meeting: notes.md":    "/Meeting: notes.md",
		"Photos/100% real.jpg": "/Photos/100% real.jpg",
	}
	for in, want := range good {
		got, err := sharing.NormalizePath(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got, in)
		}
	}
	bad := map[string]string{
		"":                    "empty",
		"   ":                 "empty",
		"/":                   "root folder",
		"..":                  `".." segments`,
		"/a/../b":             `".." segments`,
		"a\x00b":              "control characters",
		"a\nb":                "control characters",
		`a\b`:                 "backslashes",
		"a%2Fb":               "percent-encoded",
		"a%2fb":               "percent-encoded",
		"%2e%2e/x":            "percent-encoded",
		"http://evil/x":       "not a URL",
		"https://cloud/x":     "not a URL",
		"file:/etc/passwd":    "not a URL",
		"javascript:alert(1)": "not a URL",
	}
	for in, why := range bad {
		_, err := sharing.NormalizePath(in)
		if assert.ErrorIs(t, err, sharing.ErrInvalidPath, "%q", in) {
			assert.Contains(t, err.Error(), why, "%q", in)
		}
	}
}
