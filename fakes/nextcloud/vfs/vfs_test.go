package vfs

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func newTestFS() *FS {
	t0 := time.Unix(1_700_000_000, 0)
	return New("ocinstance", func() time.Time { return t0 })
}

func TestIDsAreMonotonicAcrossUsers(t *testing.T) {
	fs := newTestFS()
	a := fs.EnsureHome("alice")
	b := fs.EnsureHome("bob")
	f1, _ := fs.CreateFile(a, "x.txt", []byte("1"), 0)
	f2, _ := fs.CreateFile(b, "y.txt", []byte("2"), 0)
	d, _ := fs.Mkdir(a, "dir")
	ids := []int64{a.ID, b.ID, f1.ID, f2.ID, d.ID}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("ids not increasing: %v", ids)
		}
	}
	// A deleted id is never reused.
	if err := fs.Delete(f1); err != nil {
		t.Fatal(err)
	}
	f3, _ := fs.CreateFile(a, "x.txt", nil, 0)
	if f3.ID <= d.ID {
		t.Fatalf("id %d reused or smaller than %d", f3.ID, d.ID)
	}
}

func TestETagPropagation(t *testing.T) {
	fs := newTestFS()
	home := fs.EnsureHome("alice")
	docs, _ := fs.Mkdir(home, "Docs")
	sub, _ := fs.Mkdir(docs, "Sub")
	other, _ := fs.Mkdir(home, "Other")
	f, _ := fs.CreateFile(sub, "a.md", []byte("a"), 0)

	snap := func() map[string]string {
		return map[string]string{"home": home.ETag, "docs": docs.ETag, "sub": sub.ETag, "other": other.ETag, "f": f.ETag}
	}
	tests := []struct {
		name      string
		op        func()
		changed   []string
		unchanged []string
	}{
		{"write", func() { _ = fs.WriteFile(f, []byte("b"), 0) }, []string{"f", "sub", "docs", "home"}, []string{"other"}},
		{"touch", func() { fs.Touch(f, 42) }, []string{"f", "sub", "docs", "home"}, []string{"other"}},
		{"new child", func() { _, _ = fs.CreateFile(other, "n.txt", nil, 0) }, []string{"other", "home"}, []string{"f", "sub", "docs"}},
		{"dead prop", func() { v := "x"; fs.SetProp(f, "{ns}p", &v) }, nil, []string{"f", "sub", "docs", "home", "other"}},
		{"move", func() { _ = fs.Move(f, other, "moved.md") }, []string{"sub", "docs", "other", "home"}, []string{"f"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := snap()
			tc.op()
			after := snap()
			for _, k := range tc.changed {
				if before[k] == after[k] {
					t.Errorf("%s ETag did not change", k)
				}
			}
			for _, k := range tc.unchanged {
				if before[k] != after[k] {
					t.Errorf("%s ETag changed", k)
				}
			}
		})
	}
}

func TestETagFormat(t *testing.T) {
	fs := newTestFS()
	h := fs.EnsureHome("u")
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		f, err := fs.CreateFile(h, strings.Repeat("x", i+1), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.ETag) != 13 || strings.Trim(f.ETag, "0123456789abcdef") != "" {
			t.Fatalf("etag %q is not 13 hex chars", f.ETag)
		}
		if seen[f.ETag] {
			t.Fatalf("etag %q repeated", f.ETag)
		}
		seen[f.ETag] = true
	}
}

func TestMoveAndCopy(t *testing.T) {
	fs := newTestFS()
	h := fs.EnsureHome("alice")
	bob := fs.EnsureHome("bob")
	d, _ := fs.Mkdir(h, "d")
	inner, _ := fs.Mkdir(d, "inner")
	f, _ := fs.CreateFile(inner, "f.txt", []byte("hello"), 0)
	v := "<x/>"
	fs.SetProp(f, "{urn:x}p", &v)

	if err := fs.Move(d, inner, "loop"); !errors.Is(err, ErrCycle) {
		t.Fatalf("move into own subtree: %v", err)
	}
	if err := fs.Move(h, d, "x"); !errors.Is(err, ErrIsHome) {
		t.Fatalf("move home: %v", err)
	}
	c, err := fs.Copy(d, h, "copy", true)
	if err != nil {
		t.Fatal(err)
	}
	cf, _, err := LookupFrom(c, []string{"inner", "f.txt"})
	if err != nil || string(cf.Content) != "hello" || cf.ID == f.ID || cf.Props["{urn:x}p"] != "<x/>" {
		t.Fatalf("deep copy wrong: %+v %v", cf, err)
	}
	s, _ := fs.Copy(d, h, "shallow", false)
	if len(s.Children()) != 0 {
		t.Fatal("shallow copy has children")
	}
	// Moving into another user's tree hands the subtree over.
	if err := fs.Move(c, bob, "fromalice"); err != nil {
		t.Fatal(err)
	}
	got, _, err := fs.Lookup("bob", []string{"fromalice", "inner", "f.txt"})
	if err != nil || got.Owner != "bob" {
		t.Fatalf("cross-owner move: %+v %v", got, err)
	}
	if _, _, err := fs.Lookup("alice", []string{"copy"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("source still there: %v", err)
	}
}

func TestLookupErrors(t *testing.T) {
	fs := newTestFS()
	h := fs.EnsureHome("alice")
	_, _ = fs.CreateFile(h, "f", nil, 0)
	if _, n, err := fs.Lookup("alice", []string{"f", "x"}); !errors.Is(err, ErrNotDir) || n != 1 {
		t.Fatalf("lookup below file: %d %v", n, err)
	}
	if _, n, err := fs.Lookup("alice", []string{"nope", "x"}); !errors.Is(err, ErrNotFound) || n != 0 {
		t.Fatalf("lookup missing: %d %v", n, err)
	}
	if _, _, err := fs.Lookup("nobody", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("lookup missing home: %v", err)
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"ok", "report.md", ""},
		{"unicode ok", "Über café ☕.txt", ""},
		{"empty", "", "Empty filename is not allowed"},
		{"spaces", "   ", "Empty filename is not allowed"},
		{"dot", ".", "Dot files are not allowed"},
		{"dotdot", "..", "Dot files are not allowed"},
		{"htaccess", ".HTACCESS", `".HTACCESS" is a forbidden file or folder name.`},
		{"part", "upload.part", `".part" is a forbidden file type.`},
		{"filepart", "x.FilePart", `".filepart" is a forbidden file type.`},
		{"backslash", `a\b`, `"\" is not allowed inside a file or folder name.`},
		{"slash", "a/b", `"/" is not allowed inside a file or folder name.`},
		{"control", "a\x01b", "Filename contains at least one invalid character"},
		{"nul", "a\x00", "Filename contains at least one invalid character"},
		{"bad utf8", "a\xffb", "Filename contains at least one invalid character"},
		{"long", strings.Repeat("a", 251), "Filename is too long"},
		{"max", strings.Repeat("a", 250), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateName(tc.in)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Fatalf("ValidateName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	fs := newTestFS()
	h := fs.EnsureHome("alice")
	d, _ := fs.Mkdir(h, "d")
	f, _ := fs.CreateFile(d, "f.md", []byte("x"), 0)
	v := "val"
	fs.SetProp(f, "{a}b", &v)
	fs.EnsureHome("bob")
	snap := fs.Snapshot()

	fs2 := newTestFS()
	if err := fs2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	g, _, err := fs2.Lookup("alice", []string{"d", "f.md"})
	if err != nil || g.ID != f.ID || g.ETag != f.ETag || string(g.Content) != "x" || g.Props["{a}b"] != "val" || g.MimeType != "text/markdown" {
		t.Fatalf("restored node differs: %+v %v", g, err)
	}
	n, _ := fs2.CreateFile(h2(fs2), "new", nil, 0)
	if n.ID <= f.ID {
		t.Fatalf("ids restart after restore: %d", n.ID)
	}
	if n.ETag == f.ETag || n.ETag == d.ETag {
		t.Fatal("etag sequence restarted")
	}

	bad := Snapshot{Nodes: []NodeRecord{{ID: 2, ParentID: 9, Owner: "x"}}}
	if err := newTestFS().Restore(bad); err == nil {
		t.Fatal("orphan node accepted")
	}
}

func h2(fs *FS) *Node { return fs.Home("alice") }

func TestSizeAndPath(t *testing.T) {
	fs := newTestFS()
	h := fs.EnsureHome("alice")
	d, _ := fs.Mkdir(h, "d")
	_, _ = fs.CreateFile(d, "a", []byte("12345"), 0)
	f, _ := fs.CreateFile(h, "b", []byte("12"), 0)
	if h.Size() != 7 || d.Size() != 5 || f.Size() != 2 {
		t.Fatalf("sizes %d %d %d", h.Size(), d.Size(), f.Size())
	}
	if f.Path() != "/b" || h.Path() != "" {
		t.Fatalf("paths %q %q", f.Path(), h.Path())
	}
}

func TestChecksumFollowsContent(t *testing.T) {
	fs := newTestFS()
	home := fs.EnsureHome("alice")
	f, _ := fs.CreateFile(home, "a.txt", []byte("abc"), 0)
	f.Checksum = "SHA1:a9993e364706816aba3e25717850c26c9cd0d89d"
	c, err := fs.Copy(f, home, "b.txt", true)
	if err != nil || c.Checksum != f.Checksum {
		t.Fatalf("copy: %v, checksum %q", err, c.Checksum)
	}
	if err := fs.Move(c, home, "c.txt"); err != nil || c.Checksum != f.Checksum {
		t.Fatalf("move: %v, checksum %q", err, c.Checksum)
	}
	snap := fs.Snapshot()
	restored := newTestFS()
	if err := restored.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if got := restored.ByID(f.ID).Checksum; got != f.Checksum {
		t.Fatalf("restored checksum %q", got)
	}
	if err := fs.WriteFile(f, []byte("abcd"), 0); err != nil || f.Checksum != "" {
		t.Fatalf("a write keeps the checksum %q (%v)", f.Checksum, err)
	}
}

func TestNoCopyTakesOwnership(t *testing.T) {
	fs := newTestFS()
	home := fs.EnsureHome("alice")
	buf := []byte("abc")
	f, err := fs.CreateFileNoCopy(home, "a.txt", buf, 0)
	if err != nil || &f.Content[0] != &buf[0] {
		t.Fatalf("CreateFileNoCopy copied (%v)", err)
	}
	buf2 := []byte("xyz")
	if err := fs.WriteFileNoCopy(f, buf2, 0); err != nil || &f.Content[0] != &buf2[0] {
		t.Fatalf("WriteFileNoCopy copied (%v)", err)
	}
	if err := fs.WriteFileNoCopy(home, buf2, 0); !errors.Is(err, ErrIsDir) {
		t.Fatalf("WriteFileNoCopy on a folder: %v", err)
	}
}
