package tokenstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testKey(t testing.TB) Key {
	t.Helper()
	s, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func openStore(t testing.TB, dir string, key Key) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(dir, "tokens.db"), key, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

func TestParseKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb}, 32) // encodes differently in std and URL alphabets
	cases := []struct {
		name, in string
		want     string
	}{
		{"std padded", base64.StdEncoding.EncodeToString(raw), ""},
		{"std raw", base64.RawStdEncoding.EncodeToString(raw), ""},
		{"url padded (Fernet style)", base64.URLEncoding.EncodeToString(raw), ""},
		{"url raw", base64.RawURLEncoding.EncodeToString(raw), ""},
		{"surrounding whitespace", "  " + base64.StdEncoding.EncodeToString(raw) + "\n", ""},
		{"empty", "", "is empty"},
		{"not base64", "this is not base64 !!", "not base64"},
		{"16 bytes", base64.StdEncoding.EncodeToString(raw[:16]), "decodes to 16 bytes, want 32"},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(raw, 1)), "decodes to 33 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseKey(tc.in)
			if tc.want == "" {
				if err != nil || !bytes.Equal(k.b[:], raw) {
					t.Fatalf("%v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if tc.in != "" && strings.Contains(err.Error(), strings.TrimSpace(tc.in)) {
				t.Fatal("error echoes the key")
			}
		})
	}
}

func TestGenerateKey(t *testing.T) {
	a, _ := GenerateKey()
	b, _ := GenerateKey()
	if a == b || len(a) != 44 {
		t.Fatalf("keys %q %q", a, b)
	}
	k, err := ParseKey(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{k.String(), fmt.Sprint(k), fmt.Sprintf("%#v", k), fmt.Sprintf("%+v", k)} {
		if strings.Contains(s, a) || strings.Contains(s, fmt.Sprint(k.b[0])) && strings.Contains(s, "[") {
			t.Fatalf("key printed: %s", s)
		}
	}
}

func TestSealOpen(t *testing.T) {
	k := testKey(t)
	ct1, _ := k.seal([]byte("secret"), aad("refresh_token", "alice"))
	ct2, _ := k.seal([]byte("secret"), aad("refresh_token", "alice"))
	if bytes.Equal(ct1, ct2) {
		t.Fatal("same nonce twice")
	}
	if pt, err := k.open(ct1, aad("refresh_token", "alice")); err != nil || string(pt) != "secret" {
		t.Fatal(pt, err)
	}
	cases := map[string]func() ([]byte, []byte, Key){
		"other user":    func() ([]byte, []byte, Key) { return ct1, aad("refresh_token", "bob"), k },
		"other purpose": func() ([]byte, []byte, Key) { return ct1, aad("key_check", "alice"), k },
		"other key":     func() ([]byte, []byte, Key) { return ct1, aad("refresh_token", "alice"), testKey(t) },
		"flipped bit": func() ([]byte, []byte, Key) {
			c := bytes.Clone(ct1)
			c[len(c)-1] ^= 1
			return c, aad("refresh_token", "alice"), k
		},
		"truncated": func() ([]byte, []byte, Key) { return ct1[:10], aad("refresh_token", "alice"), k },
		"unknown format": func() ([]byte, []byte, Key) {
			c := bytes.Clone(ct1)
			c[0] = 9
			return c, aad("refresh_token", "alice"), k
		},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			ct, ad, key := f()
			if _, err := key.open(ct, ad); !errors.Is(err, errOpen) {
				t.Fatalf("opened: %v", err)
			}
		})
	}
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "sub")
	s := openStore(t, dir, testKey(t))
	if err := s.Save(context.Background(), Grant{Subject: "alice", RefreshToken: "rt"}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v %v", st.Mode().Perm(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) == 0 {
		t.Fatal("no files")
	}
	for _, e := range entries {
		info, _ := e.Info()
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v", e.Name(), info.Mode().Perm())
		}
	}
}

func TestOpenNarrowsWideMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	require.NoError(t, os.Chmod(path, 0o644)) // umask-proof
	var logs bytes.Buffer
	s, err := Open(context.Background(), path, testKey(t), Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { assert.NoError(t, s.Close()) }()
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode().Perm())
	}
	if !strings.Contains(logs.String(), "narrowed to 0600") {
		t.Fatalf("not reported: %q", logs.String())
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	k := testKey(t)
	cases := map[string]struct {
		path string
		key  Key
		want string
	}{
		"memory":     {":memory:", k, "file path"},
		"empty path": {"", k, "file path"},
		"query":      {filepath.Join(dir, "x.db?mode=ro"), k, "file path"},
		"zero key":   {filepath.Join(dir, "y.db"), Key{}, "no encryption key"},
		"directory":  {dir, k, "not a regular file"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := Open(context.Background(), tc.path, tc.key, Options{})
			if err == nil {
				assert.NoError(t, s.Close())
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestWrongKey(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, testKey(t))
	if err := s.Save(context.Background(), Grant{Subject: "alice", RefreshToken: "rt"}); err != nil {
		t.Fatal(err)
	}
	require.NoError(t, s.Close())
	_, err := Open(context.Background(), filepath.Join(dir, "tokens.db"), testKey(t), Options{})
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("err = %v", err)
	}
}

func TestGrantLifecycle(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	dir := t.TempDir()
	s, err := Open(ctx, filepath.Join(dir, "t.db"), testKey(t), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { assert.NoError(t, s.Close()) }()
	if _, err := s.Get(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty store: %v", err)
	}
	exp := now.Add(30 * 24 * time.Hour)
	g := Grant{Subject: "alice", RefreshToken: "rt-1", Scopes: []string{"offline_access", "notes:read"}, ClientID: "srv", RefreshExpiresAt: exp}
	if err := s.Save(ctx, g); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "alice")
	if err != nil || got.RefreshToken != "rt-1" || got.ClientID != "srv" || fmt.Sprint(got.Scopes) != "[offline_access notes:read]" ||
		!got.RefreshExpiresAt.Equal(exp) || !got.CreatedAt.Equal(now) {
		t.Fatalf("%+v %v", got, err)
	}
	if has, _ := s.Has(ctx, "alice"); !has {
		t.Fatal("Has = false")
	}
	if in, err := s.Info(ctx, "alice"); err != nil || in.ClientID != "srv" || !in.CreatedAt.Equal(now) || len(in.Scopes) != 2 {
		t.Fatalf("Info = %+v %v", in, err)
	}
	if _, err := s.Info(ctx, "bob"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Info(bob) = %v", err)
	}
	if has, _ := s.Has(ctx, "bob"); has {
		t.Fatal("Has(bob) = true")
	}
	// Re-provisioning replaces and keeps created_at.
	now = now.Add(time.Hour)
	if err := s.Save(ctx, Grant{Subject: "alice", RefreshToken: "rt-2", ClientID: "srv"}); err != nil {
		t.Fatal(err)
	}
	got2, _ := s.Get(ctx, "alice")
	if got2.RefreshToken != "rt-2" || !got2.CreatedAt.Equal(got.CreatedAt) || !got2.UpdatedAt.Equal(now) {
		t.Fatalf("%+v", got2)
	}
	// A rotation based on the stale read conflicts; on the fresh one works.
	if err := s.Rotate(ctx, got, "rt-x", time.Time{}); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale rotate: %v", err)
	}
	if err := s.Rotate(ctx, got2, "rt-3", time.Time{}); err != nil || got2.RefreshToken != "rt-3" {
		t.Fatalf("rotate: %v", err)
	}
	if err := s.Rotate(ctx, got2, "rt-4", time.Time{}); err != nil {
		t.Fatalf("second rotate on the updated grant: %v", err)
	}
	if g, _ := s.Get(ctx, "alice"); g.RefreshToken != "rt-4" {
		t.Fatalf("after rotation %q", g.RefreshToken)
	}
	if err := s.Save(ctx, Grant{Subject: "bob", RefreshToken: "rt-b"}); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 || list[0].Subject != "alice" || list[1].Subject != "bob" {
		t.Fatalf("%+v %v", list, err)
	}
	deleted, err := s.Delete(ctx, "alice", "revoked by the user")
	if err != nil || !deleted {
		t.Fatal(deleted, err)
	}
	if deleted, _ := s.Delete(ctx, "alice", "again"); deleted {
		t.Fatal("deleted twice")
	}
	if err := s.Rotate(ctx, got2, "rt-5", time.Time{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rotate after delete must not resurrect: %v", err)
	}
	if _, err := s.Get(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	events, err := s.AuditEvents(ctx, "alice", 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range events {
		names = append(names, fmt.Sprintf("%s×%d", e.Event, e.Count))
	}
	// The two rotations in a row are one row counted twice.
	want := "[grant_deleted×1 refresh_token_rotated×2 grant_stored×1 grant_stored×1]"
	if fmt.Sprint(names) != want {
		t.Fatalf("audit %v, want %v", names, want)
	}
	if events[0].Detail != "revoked by the user" || events[0].Time.IsZero() {
		t.Fatalf("%+v", events[0])
	}
	if all, _ := s.AuditEvents(ctx, "", 2); len(all) != 2 || all[0].Subject != "bob" && all[0].Subject != "alice" {
		t.Fatalf("limit: %+v", all)
	}
	if err := s.Save(ctx, Grant{Subject: "", RefreshToken: "x"}); err == nil {
		t.Fatal("saved without subject")
	}
	if err := s.Save(ctx, Grant{Subject: "x"}); err == nil {
		t.Fatal("saved without token")
	}
}

// TestNoPlaintextAtRest is the acceptance check: the database (and
// its WAL) never holds a token in plaintext, nor in base64.
func TestNoPlaintextAtRest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir, testKey(t))
	var secrets []string
	for i, user := range []string{"alice", "bob", "carol"} {
		tok := fmt.Sprintf("refresh-token-PLAINTEXT-MARKER-%d-eyJhbGciOi", i)
		secrets = append(secrets, tok)
		if err := s.Save(ctx, Grant{Subject: user, RefreshToken: tok, Scopes: []string{"offline_access"}}); err != nil {
			t.Fatal(err)
		}
	}
	g, _ := s.Get(ctx, "alice")
	rotated := "rotated-PLAINTEXT-MARKER-xyz"
	secrets = append(secrets, rotated)
	if err := s.Rotate(ctx, g, rotated, time.Time{}); err != nil {
		t.Fatal(err)
	}
	require.NoError(t, s.Audit(ctx, "bob", "note", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlLXNpZw leaked by a careless caller"))
	check := func(stage string) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			for _, sec := range secrets {
				for _, form := range []string{sec, base64.StdEncoding.EncodeToString([]byte(sec)), base64.RawURLEncoding.EncodeToString([]byte(sec))} {
					if bytes.Contains(b, []byte(form)) {
						t.Fatalf("%s: %s contains a token in plaintext", stage, e.Name())
					}
				}
			}
			if bytes.Contains(b, []byte("PLAINTEXT-MARKER")) || bytes.Contains(b, []byte("eyJzdWIiOiJib2IifQ")) {
				t.Fatalf("%s: %s contains secret bytes", stage, e.Name())
			}
		}
	}
	check("open")
	if _, err := s.Delete(ctx, "carol", "test"); err != nil {
		t.Fatal(err)
	}
	require.NoError(t, s.Close())
	check("closed")
}

func TestRowsCannotBeSwapped(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir, testKey(t))
	require.NoError(t, s.Save(ctx, Grant{Subject: "alice", RefreshToken: "alice-token"}))
	require.NoError(t, s.Save(ctx, Grant{Subject: "mallory", RefreshToken: "mallory-token"}))
	// Someone with write access to the file copies alice's ciphertext onto
	// mallory's row.
	if _, err := s.db.ExecContext(ctx, `UPDATE grants SET refresh_token = (SELECT refresh_token FROM grants WHERE subject = 'alice') WHERE subject = 'mallory'`); err != nil {
		t.Fatal(err)
	}
	_, err := s.Get(ctx, "mallory")
	if err == nil || !strings.Contains(err.Error(), "cannot be decrypted") || strings.Contains(err.Error(), "alice-token") {
		t.Fatalf("err = %v", err)
	}
	ev, _ := s.AuditEvents(ctx, "mallory", 1)
	if len(ev) != 1 || ev[0].Event != EventDecryptFailed {
		t.Fatalf("not audited: %+v", ev)
	}
	if g, err := s.Get(ctx, "alice"); err != nil || g.RefreshToken != "alice-token" {
		t.Fatal(err)
	}
}

func TestAuditRedactsAndBounds(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir(), testKey(t))
	jwtish := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl"
	require.NoError(t, s.Audit(ctx, "alice", "x", "token was "+jwtish))
	require.NoError(t, s.Audit(ctx, "alice", "y", strings.Repeat("é", 800)))
	ev, _ := s.AuditEvents(ctx, "alice", 10)
	if strings.Contains(ev[1].Detail, jwtish) || !strings.Contains(ev[1].Detail, "[redacted]") {
		t.Fatalf("detail %q", ev[1].Detail)
	}
	if n := len([]rune(ev[0].Detail)); n != 501 {
		t.Fatalf("detail length %d", n)
	}
}

func TestGrantNeverPrinted(t *testing.T) {
	g := &Grant{Subject: "alice", RefreshToken: "rt-SECRET", ClientID: "srv"}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "grant", g)
	for _, s := range []string{fmt.Sprint(g), fmt.Sprintf("%+v", g), fmt.Sprintf("%#v", g), buf.String()} {
		if strings.Contains(s, "rt-SECRET") || !strings.Contains(s, "alice") {
			t.Fatalf("printed: %s", s)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir(), testKey(t))
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sub := fmt.Sprint("user", i%5)
			if err := s.Save(ctx, Grant{Subject: sub, RefreshToken: fmt.Sprint("t", i)}); err != nil {
				t.Error(err)
			}
			if _, err := s.Get(ctx, sub); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if l, _ := s.List(ctx); len(l) != 5 {
		t.Fatalf("%d grants", len(l))
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	k := testKey(t)
	s := openStore(t, dir, k)
	require.NoError(t, s.Save(ctx, Grant{Subject: "alice", RefreshToken: "rt"}))
	require.NoError(t, s.Close())
	s2 := openStore(t, dir, k)
	if g, err := s2.Get(ctx, "alice"); err != nil || g.RefreshToken != "rt" {
		t.Fatal(err)
	}
	// The schema is plain SQLite: other tools can read the metadata.
	db, err := sql.Open("sqlite", filepath.Join(dir, "tokens.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { assert.NoError(t, db.Close()) }()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM audit`).Scan(&n); err != nil || n == 0 {
		t.Fatal(n, err)
	}
}
