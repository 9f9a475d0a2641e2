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

func openStore(t testing.TB, dir string, key Key) Store {
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

// TestSQLiteUpgradesUnversionedDatabases: a file written before the
// schema was versioned (no schema_migrations; an audit table without the
// count column) is migrated at Open and keeps its grants.
func TestSQLiteUpgradesUnversionedDatabases(t *testing.T) {
	dir := t.TempDir()
	key := testKey(t)
	ctx := context.Background()
	path := filepath.Join(dir, "tokens.db")
	s := openStore(t, dir, key)
	require.NoError(t, s.Save(ctx, Grant{Subject: "alice", RefreshToken: "rt-old"}))
	require.NoError(t, s.Close())
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	for _, q := range []string{`DROP TABLE schema_migrations`, `DROP TABLE consent_states`, `DROP TABLE refresh_attempts`, `ALTER TABLE audit DROP COLUMN repeats`} {
		_, err = db.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	require.NoError(t, db.Close())

	s2, err := Open(ctx, path, key, Options{})
	require.NoError(t, err)
	defer func() { assert.NoError(t, s2.Close()) }()
	g, err := s2.Get(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, "rt-old", g.RefreshToken)
	require.NoError(t, s2.Audit(ctx, "alice", "x", "y"))
	require.NoError(t, s2.Audit(ctx, "alice", "x", "y"))
	ev, err := s2.AuditEvents(ctx, "alice", 1)
	require.NoError(t, err)
	assert.Equal(t, 2, ev[0].Count)
	require.NoError(t, s2.AddState(ctx, "st", PendingState{Subject: "alice", ExpiresAt: time.Now().Add(time.Minute)}, time.Now(), 5, 10))
}
