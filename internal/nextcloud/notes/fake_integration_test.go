package notes_test

// Integration tests of the Notes client against the shared fake Nextcloud
// (fakes/nextcloud), which implements the wire formats of
// docs/nextcloud-contract.md independently of this client.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud/notes"
)

func fastRetry() nextcloud.Option {
	return nextcloud.WithRetry(3, time.Millisecond, 5*time.Millisecond)
}

func aliceCore(t *testing.T, srv *nctest.Server, opts ...nextcloud.Option) *nextcloud.Client {
	t.Helper()
	c, err := nextcloud.New(srv.URL, nextcloud.Basic("alice", "alice-password"), append([]nextcloud.Option{fastRetry()}, opts...)...)
	require.NoError(t, err)
	return c
}

func alice(t *testing.T, srv *nctest.Server, opts ...nextcloud.Option) *notes.Client {
	t.Helper()
	return notes.New(aliceCore(t, srv, opts...))
}

func TestFakeCapability(t *testing.T) {
	srv := nctest.Start(t)
	caps, err := aliceCore(t, srv).Capabilities(context.Background())
	require.NoError(t, err)
	n, ok := notes.CapabilityOf(caps)
	require.True(t, ok)
	assert.Contains(t, n.APIVersion, "1.4")
	assert.Equal(t, "Notes", n.NotesPath)
	_, ok = notes.CapabilityOf(&nextcloud.Capabilities{})
	assert.False(t, ok, "no notes block: not enabled")
}

func TestFakeCRUD(t *testing.T) {
	srv := nctest.Start(t)
	ctx := context.Background()
	c := alice(t, srv)

	all, err := c.List(ctx, notes.ListOptions{})
	require.NoError(t, err)
	titles := map[string]notes.Note{}
	for _, n := range all {
		titles[n.Title] = n
	}
	require.Len(t, all, 3)
	shop, ok := titles["Shopping list"]
	require.True(t, ok, "seeded notes = %+v", all)
	assert.Equal(t, "Personal", shop.Category)
	assert.True(t, shop.Favorite)
	assert.Contains(t, shop.Content, "milk")
	assert.NotEmpty(t, shop.ETag)

	// Chunks of one: every note once, full (the tail's {"id"} stubs merged).
	chunked, err := c.List(ctx, notes.ListOptions{ChunkSize: 1})
	require.NoError(t, err)
	assert.Len(t, chunked, 3)
	assert.False(t, slices.ContainsFunc(chunked, func(n notes.Note) bool { return n.Pruned || n.Title == "" }), "chunked = %+v", chunked)

	cat := "Work/Projects"
	work, err := c.List(ctx, notes.ListOptions{Category: &cat, Exclude: []string{"content"}})
	require.NoError(t, err)
	require.Len(t, work, 1)
	assert.Equal(t, "Meeting notes", work[0].Title)
	assert.Empty(t, work[0].Content)

	future := time.Now().Add(time.Hour).Unix()
	pruned, err := c.List(ctx, notes.ListOptions{PruneBefore: future})
	require.NoError(t, err)
	require.Len(t, pruned, 3)
	assert.True(t, pruned[0].Pruned)

	created, err := c.Create(ctx, notes.NewNote{Title: "Fake: test?", Content: "hello", Category: "Tests"})
	require.NoError(t, err)
	assert.Equal(t, "Fake test", created.Title, "Nextcloud sanitises titles")
	assert.Equal(t, "Tests", created.Category)
	assert.NotZero(t, created.ID)

	got, err := c.Get(ctx, created.ID)
	require.NoError(t, err)
	assert.Equal(t, created.ETag, got.ETag)
	assert.Equal(t, "hello", got.Content)

	content := "hello again"
	updated, err := c.Update(ctx, created.ID, created.ETag, notes.Update{Content: &content})
	require.NoError(t, err)
	assert.Equal(t, content, updated.Content)
	assert.NotEqual(t, created.ETag, updated.ETag)

	title := "stale"
	_, err = c.Update(ctx, created.ID, created.ETag, notes.Update{Title: &title})
	var e *nextcloud.Error
	require.True(t, nextcloud.IsPreconditionFailed(err), "stale update: %v", err)
	require.ErrorAs(t, err, &e)
	assert.Equal(t, updated.ETag, e.CurrentETag)
	assert.EqualError(t, err, fmt.Sprintf("Note %d changed since etag %s; fetch it again (current etag %s)", created.ID, created.ETag, updated.ETag))

	require.NoError(t, c.Delete(ctx, created.ID))
	_, err = c.Get(ctx, created.ID)
	assert.True(t, nextcloud.IsNotFound(err))
	assert.EqualError(t, err, fmt.Sprintf("Note %d not found", created.ID))
	assert.True(t, nextcloud.IsNotFound(c.Delete(ctx, created.ID)), "second delete")

	s, err := c.Settings(ctx)
	require.NoError(t, err)
	assert.Equal(t, "Notes", s.NotesPath)
	assert.Equal(t, ".md", s.FileSuffix)
	s2, err := c.UpdateSettings(ctx, notes.Settings{FileSuffix: ".txt"})
	require.NoError(t, err)
	assert.Equal(t, ".txt", s2.FileSuffix)
	assert.Equal(t, "Notes", s2.NotesPath)
}

func TestFakeAttachments(t *testing.T) {
	srv := nctest.Start(t)
	ctx := context.Background()
	c := alice(t, srv)
	note, err := c.Create(ctx, notes.NewNote{Title: "Trip", Content: "![](photo 1.png)", Category: "Travel/2026"})
	require.NoError(t, err)
	dir := fmt.Sprintf("Notes/Travel/2026/.attachments.%d/", note.ID)
	require.NoError(t, srv.SeedData(fakenc.Seed{Files: []fakenc.SeedFile{
		{Owner: "alice", Path: dir + "photo 1.png", Content: "\x89PNG fake"},
		{Owner: "alice", Path: dir + "notes.txt", Content: "plain"},
	}}))
	f, err := c.Attachment(ctx, note, "photo 1.png")
	require.NoError(t, err)
	assert.Equal(t, "\x89PNG fake", string(f.Data))
	assert.NotEmpty(t, f.ETag)
	assert.True(t, strings.HasPrefix(f.ContentType, "image/png"), "content type %q", f.ContentType)

	files, err := c.Attachments(ctx, note)
	require.NoError(t, err)
	var names []string
	for _, fi := range files {
		names = append(names, fi.Name)
		assert.NotZero(t, fi.FileID, "props missing: %+v", fi)
		assert.NotEmpty(t, fi.ETag, "props missing: %+v", fi)
		assert.False(t, fi.LastModified.IsZero(), "props missing: %+v", fi)
	}
	slices.Sort(names)
	assert.Equal(t, []string{"notes.txt", "photo 1.png"}, names)

	_, err = c.Attachment(ctx, note, "missing.png")
	assert.True(t, nextcloud.IsNotFound(err))
	assert.EqualError(t, err, fmt.Sprintf(`Attachment "missing.png" of note %d not found`, note.ID))

	require.NoError(t, c.DeleteAttachments(ctx, note))
	files, err = c.Attachments(ctx, note)
	require.NoError(t, err)
	assert.Empty(t, files, "after delete")
	require.NoError(t, c.DeleteAttachments(ctx, note), "deleting a missing folder")
}

func TestFakeBearerOnAppRoutes(t *testing.T) {
	srv := nctest.Start(t, func(cfg *fakenc.Config) { cfg.BearerOnAppRoutes = fakenc.BearerReject })
	ctx := context.Background()
	appPW, _ := srv.AppPassword("alice")

	// Default: the client sends OCS-APIRequest, which passes stock CORS.
	c := notes.New(aliceCore(t, srv).WithCredentials(nextcloud.Bearer(appPW)))
	_, err := c.List(ctx, notes.ListOptions{})
	require.NoError(t, err, "bearer with OCS-APIRequest on a stock server")

	// Without the header (like upstream), stock CORS refuses the bearer.
	bare := notes.New(aliceCore(t, srv, nextcloud.WithAppRouteOCSHeader(false)).WithCredentials(nextcloud.Bearer(appPW)))
	_, err = bare.Get(ctx, 1)
	require.True(t, nextcloud.IsBearerRejectedOnAppRoute(err), "err = %v", err)
	assert.True(t, nextcloud.IsUnauthorized(err))
	assert.True(t, strings.HasPrefix(err.Error(), "Nextcloud refused a bearer token on this app route (GET /index.php/apps/notes/api/v1/notes/1)"), "message = %q", err)
	assert.NotContains(t, err.Error(), appPW, "token in error")
	// Basic still works without the header (CORS re-login).
	_, err = alice(t, srv, nextcloud.WithAppRouteOCSHeader(false)).List(ctx, notes.ListOptions{})
	require.NoError(t, err)
	// And accept mode takes the bare bearer.
	require.NoError(t, srv.SetBearerOnAppRoutes(fakenc.BearerAccept))
	_, err = bare.List(ctx, notes.ListOptions{})
	require.NoError(t, err)

	var sawHeader, sawBare bool
	for _, e := range srv.RequestLog() {
		if e.AuthKind == "bearer" && strings.Contains(e.Path, "/apps/notes/") {
			sawHeader = sawHeader || e.OCSAPIRequest
			sawBare = sawBare || !e.OCSAPIRequest
		}
	}
	assert.True(t, sawHeader && sawBare, "request log does not show both header variants")
}

func TestFakeFaultsRetriesAndTimeouts(t *testing.T) {
	srv := nctest.Start(t)
	ctx := context.Background()
	c := alice(t, srv)
	count := func(method, suffix string) int {
		n := 0
		for _, e := range srv.RequestLog() {
			if e.Method == method && strings.HasSuffix(e.Path, suffix) {
				n++
			}
		}
		return n
	}

	srv.InjectFault(fakenc.Fault{Pattern: "*/apps/notes/api/v1/notes", Method: "GET", Status: 503, Count: 2})
	_, err := c.List(ctx, notes.ListOptions{})
	require.NoError(t, err, "GET should survive two 503s")
	assert.Equal(t, 3, count("GET", "/apps/notes/api/v1/notes"), "GET attempts")

	srv.ResetLog()
	srv.InjectFault(fakenc.Fault{Pattern: "*/apps/notes/api/v1/notes", Method: "POST", Status: 503})
	_, err = c.Create(ctx, notes.NewNote{Title: "once"})
	assert.ErrorIs(t, err, nextcloud.ErrUnavailable)
	assert.ErrorContains(t, err, "Nextcloud could not create a note: HTTP 503")
	assert.Equal(t, 1, count("POST", "/apps/notes/api/v1/notes"), "POST attempts")

	srv.InjectFault(fakenc.Fault{Pattern: "*/apps/notes/api/v1/notes/*", Delay: 2 * time.Second})
	slow := alice(t, srv, nextcloud.WithTimeout(100*time.Millisecond))
	start := time.Now()
	_, err = slow.Get(ctx, 1)
	assert.True(t, nextcloud.IsTimeout(err), "timeout: %v", err)
	assert.EqualError(t, err, "Nextcloud did not answer within 100ms while trying to get note 1")
	assert.Less(t, time.Since(start), time.Second)
	srv.ClearFaults()
}

// TestFakeUIDDiffersFromLogin checks the DAV paths use the uid Nextcloud
// reports, not the login name.
func TestFakeUIDDiffersFromLogin(t *testing.T) {
	srv := nctest.Start(t)
	require.NoError(t, srv.SeedData(fakenc.Seed{Users: []fakenc.SeedUser{{UID: "u-4711", LoginName: "carol", DisplayName: "Carol", Password: "carol-pw"}}}))
	ctx := context.Background()
	nc, err := nextcloud.New(srv.URL, nextcloud.Basic("carol", "carol-pw"), fastRetry())
	require.NoError(t, err)
	c := notes.New(nc)
	note, err := c.Create(ctx, notes.NewNote{Title: "Carol's"})
	require.NoError(t, err)
	require.NoError(t, srv.SeedData(fakenc.Seed{Files: []fakenc.SeedFile{{Owner: "u-4711", Path: fmt.Sprintf("Notes/.attachments.%d/a.txt", note.ID), Content: "A"}}}))
	f, err := c.Attachment(ctx, note, "a.txt")
	require.NoError(t, err)
	assert.Equal(t, "A", string(f.Data))
}
