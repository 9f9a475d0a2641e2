package nextcloud_test

// Integration tests of the client against the shared fake Nextcloud
// (fakes/nextcloud), which implements the wire formats of
// nextcloud-wire.md independently of this client.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	fakenc "github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
)

func fastRetry() nextcloud.Option {
	return nextcloud.WithRetry(3, time.Millisecond, 5*time.Millisecond)
}

func aliceClient(t *testing.T, srv *nctest.Server, opts ...nextcloud.Option) *nextcloud.Client {
	t.Helper()
	c, err := nextcloud.New(srv.URL, nextcloud.Basic("alice", "alice-password"), append([]nextcloud.Option{fastRetry()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFakeCurrentUserAndCapabilities(t *testing.T) {
	srv := nctest.Start(t)
	ctx := context.Background()
	appPW, ok := srv.AppPassword("alice")
	if !ok {
		t.Fatal("no app password for alice")
	}
	for name, creds := range map[string]nextcloud.Credentials{
		"password":            nextcloud.Basic("alice", "alice-password"),
		"app password":        nextcloud.Basic("alice", appPW),
		"app password bearer": nextcloud.Bearer(appPW),
	} {
		t.Run(name, func(t *testing.T) {
			c := aliceClient(t, srv).WithCredentials(creds)
			u, err := c.CurrentUser(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if u.ID != "alice" || u.DisplayName != "Alice Doe" || u.Email != "alice@example.com" {
				t.Fatalf("user = %+v", u)
			}
		})
	}
	caps, err := aliceClient(t, srv).WithCredentials(nextcloud.Anonymous()).Capabilities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if caps.Version.Major == 0 || caps.Version.String == "" {
		t.Fatalf("version = %+v", caps.Version)
	}
	authed, err := aliceClient(t, srv).Capabilities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := authed.Notes(); !ok || !slices.Contains(n.APIVersion, "1.4") {
		t.Fatalf("notes capability = %+v %v", n, ok)
	}

	_, err = aliceClient(t, srv).WithCredentials(nextcloud.Basic("alice", "wrong")).CurrentUser(ctx)
	if !nextcloud.IsUnauthorized(err) || !strings.Contains(err.Error(), "rejected the Basic credentials") {
		t.Fatalf("wrong password: %v", err)
	}
	_, err = aliceClient(t, srv).WithCredentials(nextcloud.Anonymous()).CurrentUser(ctx)
	if !nextcloud.IsUnauthorized(err) || !strings.Contains(err.Error(), "Current user is not logged in") {
		t.Fatalf("anonymous: %v", err)
	}
}

func TestFakeNotesCRUD(t *testing.T) {
	srv := nctest.Start(t)
	ctx := context.Background()
	c := aliceClient(t, srv)

	all, err := c.ListNotes(ctx, nextcloud.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	titles := map[string]nextcloud.Note{}
	for _, n := range all {
		titles[n.Title] = n
	}
	shop, ok := titles["Shopping list"]
	if len(all) != 3 || !ok || shop.Category != "Personal" || !shop.Favorite || !strings.Contains(shop.Content, "milk") || shop.ETag == "" {
		t.Fatalf("seeded notes = %+v", all)
	}

	// Chunks of one: every note once, full (the tail's {"id"} stubs merged).
	chunked, err := c.ListNotes(ctx, nextcloud.ListOptions{ChunkSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(chunked) != 3 || slices.ContainsFunc(chunked, func(n nextcloud.Note) bool { return n.Pruned || n.Title == "" }) {
		t.Fatalf("chunked = %+v", chunked)
	}

	cat := "Work/Projects"
	work, err := c.ListNotes(ctx, nextcloud.ListOptions{Category: &cat, Exclude: []string{"content"}})
	if err != nil || len(work) != 1 || work[0].Title != "Meeting notes" || work[0].Content != "" {
		t.Fatalf("category filter: %+v %v", work, err)
	}

	future := time.Now().Add(time.Hour).Unix()
	pruned, err := c.ListNotes(ctx, nextcloud.ListOptions{PruneBefore: future})
	if err != nil || len(pruned) != 3 || !pruned[0].Pruned {
		t.Fatalf("pruneBefore: %+v %v", pruned, err)
	}

	created, err := c.CreateNote(ctx, nextcloud.NewNote{Title: "Fake: test?", Content: "hello", Category: "Tests"})
	if err != nil {
		t.Fatal(err)
	}
	if created.Title != "Fake test" || created.Category != "Tests" || created.ID == 0 {
		t.Fatalf("created = %+v (Nextcloud sanitises titles)", created)
	}

	got, err := c.GetNote(ctx, created.ID)
	if err != nil || got.ETag != created.ETag || got.Content != "hello" {
		t.Fatalf("get = %+v %v", got, err)
	}

	content := "hello again"
	updated, err := c.UpdateNote(ctx, created.ID, created.ETag, nextcloud.NoteUpdate{Content: &content})
	if err != nil || updated.Content != content || updated.ETag == created.ETag {
		t.Fatalf("update = %+v %v", updated, err)
	}

	title := "stale"
	_, err = c.UpdateNote(ctx, created.ID, created.ETag, nextcloud.NoteUpdate{Title: &title})
	var e *nextcloud.Error
	if !nextcloud.IsPreconditionFailed(err) || !errors.As(err, &e) || e.CurrentETag != updated.ETag {
		t.Fatalf("stale update: %v", err)
	}
	want := fmt.Sprintf("Note %d changed since etag %s; fetch it again (current etag %s)", created.ID, created.ETag, updated.ETag)
	if err.Error() != want {
		t.Fatalf("message = %q\nwant      %q", err, want)
	}

	if err := c.DeleteNote(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetNote(ctx, created.ID)
	if !nextcloud.IsNotFound(err) || err.Error() != fmt.Sprintf("Note %d not found", created.ID) {
		t.Fatalf("after delete: %v", err)
	}
	if err := c.DeleteNote(ctx, created.ID); !nextcloud.IsNotFound(err) {
		t.Fatalf("second delete: %v", err)
	}

	s, err := c.NotesSettings(ctx)
	if err != nil || s.NotesPath != "Notes" || s.FileSuffix != ".md" {
		t.Fatalf("settings = %+v %v", s, err)
	}
	s2, err := c.UpdateNotesSettings(ctx, nextcloud.NotesSettings{FileSuffix: ".txt"})
	if err != nil || s2.FileSuffix != ".txt" || s2.NotesPath != "Notes" {
		t.Fatalf("settings put = %+v %v", s2, err)
	}
}

func TestFakeNoteAttachments(t *testing.T) {
	srv := nctest.Start(t)
	ctx := context.Background()
	c := aliceClient(t, srv)
	note, err := c.CreateNote(ctx, nextcloud.NewNote{Title: "Trip", Content: "![](photo 1.png)", Category: "Travel/2026"})
	if err != nil {
		t.Fatal(err)
	}
	dir := fmt.Sprintf("Notes/Travel/2026/.attachments.%d/", note.ID)
	if err := srv.SeedData(fakenc.Seed{Files: []fakenc.SeedFile{
		{Owner: "alice", Path: dir + "photo 1.png", Content: "\x89PNG fake"},
		{Owner: "alice", Path: dir + "notes.txt", Content: "plain"},
	}}); err != nil {
		t.Fatal(err)
	}
	f, err := c.NoteAttachment(ctx, note, "photo 1.png")
	if err != nil {
		t.Fatal(err)
	}
	if string(f.Data) != "\x89PNG fake" || f.ETag == "" || !strings.HasPrefix(f.ContentType, "image/png") {
		t.Fatalf("attachment = %+v", f)
	}
	files, err := c.NoteAttachments(ctx, note)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fi := range files {
		names = append(names, fi.Name)
		if fi.FileID == 0 || fi.ETag == "" || fi.LastModified.IsZero() {
			t.Errorf("props missing: %+v", fi)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"notes.txt", "photo 1.png"}) {
		t.Fatalf("names = %v", names)
	}
	_, err = c.NoteAttachment(ctx, note, "missing.png")
	if !nextcloud.IsNotFound(err) || err.Error() != fmt.Sprintf(`Attachment "missing.png" of note %d not found`, note.ID) {
		t.Fatalf("missing: %v", err)
	}
	if err := c.DeleteNoteAttachments(ctx, note); err != nil {
		t.Fatal(err)
	}
	if files, err := c.NoteAttachments(ctx, note); err != nil || len(files) != 0 {
		t.Fatalf("after delete: %v %v", files, err)
	}
	if err := c.DeleteNoteAttachments(ctx, note); err != nil {
		t.Fatalf("deleting a missing folder: %v", err)
	}
}

func TestFakeBearerOnAppRoutes(t *testing.T) {
	srv := nctest.Start(t, func(cfg *fakenc.Config) { cfg.BearerOnAppRoutes = fakenc.BearerReject })
	ctx := context.Background()
	appPW, _ := srv.AppPassword("alice")

	// Default: the client sends OCS-APIRequest, which passes stock CORS.
	c := aliceClient(t, srv).WithCredentials(nextcloud.Bearer(appPW))
	if _, err := c.ListNotes(ctx, nextcloud.ListOptions{}); err != nil {
		t.Fatalf("bearer with OCS-APIRequest on a stock server: %v", err)
	}

	// Without the header (like upstream), stock CORS refuses the bearer.
	bare := aliceClient(t, srv, nextcloud.WithAppRouteOCSHeader(false)).WithCredentials(nextcloud.Bearer(appPW))
	_, err := bare.GetNote(ctx, 1)
	if !nextcloud.IsBearerRejectedOnAppRoute(err) || !nextcloud.IsUnauthorized(err) {
		t.Fatalf("err = %v", err)
	}
	if !strings.HasPrefix(err.Error(), "Nextcloud refused a bearer token on this app route (GET /index.php/apps/notes/api/v1/notes/1)") {
		t.Fatalf("message = %q", err)
	}
	if strings.Contains(err.Error(), appPW) {
		t.Fatal("token in error")
	}
	// Basic still works without the header (CORS re-login).
	if _, err := aliceClient(t, srv, nextcloud.WithAppRouteOCSHeader(false)).ListNotes(ctx, nextcloud.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	// And accept mode takes the bare bearer.
	if err := srv.SetBearerOnAppRoutes(fakenc.BearerAccept); err != nil {
		t.Fatal(err)
	}
	if _, err := bare.ListNotes(ctx, nextcloud.ListOptions{}); err != nil {
		t.Fatal(err)
	}

	log := srv.RequestLog()
	var sawHeader, sawBare bool
	for _, e := range log {
		if e.AuthKind == "bearer" && strings.Contains(e.Path, "/apps/notes/") {
			sawHeader = sawHeader || e.OCSAPIRequest
			sawBare = sawBare || !e.OCSAPIRequest
		}
	}
	if !sawHeader || !sawBare {
		t.Fatalf("request log does not show both header variants: %+v", log)
	}
}

func TestFakeFaultsRetriesAndTimeouts(t *testing.T) {
	srv := nctest.Start(t)
	ctx := context.Background()
	c := aliceClient(t, srv)
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
	if _, err := c.ListNotes(ctx, nextcloud.ListOptions{}); err != nil {
		t.Fatalf("GET should survive two 503s: %v", err)
	}
	if n := count("GET", "/apps/notes/api/v1/notes"); n != 3 {
		t.Fatalf("GET attempts = %d, want 3", n)
	}

	srv.ResetLog()
	srv.InjectFault(fakenc.Fault{Pattern: "*/apps/notes/api/v1/notes", Method: "POST", Status: 503})
	_, err := c.CreateNote(ctx, nextcloud.NewNote{Title: "once"})
	if !errors.Is(err, nextcloud.ErrUnavailable) || !strings.Contains(err.Error(), "Nextcloud could not create a note: HTTP 503") {
		t.Fatalf("POST: %v", err)
	}
	if n := count("POST", "/apps/notes/api/v1/notes"); n != 1 {
		t.Fatalf("POST attempts = %d, want 1", n)
	}

	srv.InjectFault(fakenc.Fault{Pattern: "/ocs/v2.php/cloud/user", Delay: 2 * time.Second})
	slow := aliceClient(t, srv, nextcloud.WithTimeout(100*time.Millisecond))
	start := time.Now()
	_, err = slow.CurrentUser(ctx)
	if !nextcloud.IsTimeout(err) || err.Error() != "Nextcloud did not answer within 100ms while trying to read the current user" {
		t.Fatalf("timeout: %v", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("timeout took %v", el)
	}
	srv.ClearFaults()
}

// TestFakeUIDDiffersFromLogin checks the DAV paths use the uid Nextcloud
// reports, not the login name.
func TestFakeUIDDiffersFromLogin(t *testing.T) {
	srv := nctest.Start(t)
	if err := srv.SeedData(fakenc.Seed{Users: []fakenc.SeedUser{{UID: "u-4711", LoginName: "carol", DisplayName: "Carol", Password: "carol-pw"}}}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := nextcloud.New(srv.URL, nextcloud.Basic("carol", "carol-pw"), fastRetry())
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.CurrentUser(ctx)
	if err != nil || u.ID != "u-4711" {
		t.Fatalf("user = %+v %v", u, err)
	}
	note, err := c.CreateNote(ctx, nextcloud.NewNote{Title: "Carol's"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.SeedData(fakenc.Seed{Files: []fakenc.SeedFile{{Owner: "u-4711", Path: fmt.Sprintf("Notes/.attachments.%d/a.txt", note.ID), Content: "A"}}}); err != nil {
		t.Fatal(err)
	}
	f, err := c.NoteAttachment(ctx, note, "a.txt")
	if err != nil || string(f.Data) != "A" {
		t.Fatalf("attachment = %+v %v", f, err)
	}
}
