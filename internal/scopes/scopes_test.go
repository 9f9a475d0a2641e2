package scopes

import (
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  notes:read   notes:write ", []string{"notes:read", "notes:write"}},
		{"a b a", []string{"a", "b"}},
		{"a\tb", []string{"a", "b"}},
	}
	for _, tt := range tests {
		if got := Parse(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMissingAndUnion(t *testing.T) {
	granted := []string{NotesRead, OpenID}
	required := []string{NotesRead, NotesWrite}
	if got := Missing(granted, required); !slices.Equal(got, []string{NotesWrite}) {
		t.Errorf("Missing = %q", got)
	}
	if HasAll(granted, required) || !HasAll(granted, []string{NotesRead}) || !HasAll(nil, nil) {
		t.Error("HasAll wrong")
	}
	if got := Union(granted, required); !slices.Equal(got, []string{NotesRead, NotesWrite, OpenID}) {
		t.Errorf("Union = %q", got)
	}
	if got := Format(Union(nil, []string{"b", "", "a"})); got != "a b" {
		t.Errorf("Format(Union) = %q", got)
	}
}

func TestSoftScopesAreReadWritePairs(t *testing.T) {
	if len(Soft) != 18 {
		t.Fatalf("%d soft scopes, want 18", len(Soft))
	}
	for i := 0; i < len(Soft); i += 2 {
		r, w := Soft[i], Soft[i+1]
		if r[:len(r)-len("read")] != w[:len(w)-len("write")] {
			t.Errorf("%s and %s are not a pair", r, w)
		}
	}
}
