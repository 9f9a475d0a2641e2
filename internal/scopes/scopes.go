// Package scopes names the soft scopes of docs/architecture.md §3 and the set
// operations the server needs to enforce them. Nextcloud ignores these
// scopes; this server enforces them in OAuth modes.
package scopes

import (
	"slices"
	"strings"
)

// Soft scopes, colon style: read tools need "<app>:read", writing tools
// "<app>:write".
const (
	NotesRead     = "notes:read"
	NotesWrite    = "notes:write"
	CalendarRead  = "calendar:read"
	CalendarWrite = "calendar:write"
	TodoRead      = "todo:read"
	TodoWrite     = "todo:write"
	ContactsRead  = "contacts:read"
	ContactsWrite = "contacts:write"
	FilesRead     = "files:read"
	FilesWrite    = "files:write"
	SharingRead   = "sharing:read"
	SharingWrite  = "sharing:write"
	DeckRead      = "deck:read"
	DeckWrite     = "deck:write"
	CookbookRead  = "cookbook:read"
	CookbookWrite = "cookbook:write"
	TablesRead    = "tables:read"
	TablesWrite   = "tables:write"
	OpenID        = "openid"
	Profile       = "profile"
	Email         = "email"
	OfflineAccess = "offline_access"
)

// Soft lists every soft scope, in a stable order.
var Soft = []string{
	NotesRead, NotesWrite, CalendarRead, CalendarWrite, TodoRead, TodoWrite,
	ContactsRead, ContactsWrite, FilesRead, FilesWrite, SharingRead, SharingWrite,
	DeckRead, DeckWrite, CookbookRead, CookbookWrite, TablesRead, TablesWrite,
}

// Standard lists the OpenID Connect scopes every IdP here supports.
var Standard = []string{OpenID, Profile, Email, OfflineAccess}

// Parse splits a space-separated scope string (RFC 6749 §3.3), dropping
// empty entries and duplicates while keeping first-seen order.
func Parse(s string) []string {
	var out []string
	for _, f := range strings.Fields(s) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// Format joins scopes with single spaces.
func Format(s []string) string { return strings.Join(s, " ") }

// Missing returns the scopes of required that granted lacks, in the order
// of required.
func Missing(granted, required []string) []string {
	var out []string
	for _, r := range required {
		if !slices.Contains(granted, r) && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// HasAll reports whether granted holds every scope of required.
func HasAll(granted, required []string) bool { return len(Missing(granted, required)) == 0 }

// Union returns the sorted union of the given sets without duplicates, the
// form a step-up challenge's scope parameter takes (granted ∪ required).
func Union(sets ...[]string) []string {
	var out []string
	for _, s := range sets {
		for _, v := range s {
			if v != "" && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	slices.Sort(out)
	return out
}
