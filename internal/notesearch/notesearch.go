// Package notesearch ranks notes against a text query the way the upstream
// server's nc_notes_search_notes does, and keeps an in-memory per-user index
// of note snapshots that a background sync job fills.
//
// Ranking (upstream controllers/notes_search.py): the query is lower-cased
// and split on white space; tokens of one character are dropped. A note
// scores TitleWeight × (query tokens found among its title tokens ÷ query
// tokens) + ContentWeight × (the same for its content); notes scoring below
// MinScore are left out; the rest come best first. A query with no usable
// token matches every note, unscored.
//
// Two deliberate differences from upstream: tokens lose leading and
// trailing punctuation before they are compared ("milk," matches "milk"),
// unless that would leave fewer than two characters ("c#" stays "c#"); and
// equal scores are ordered by modification time (newest first), then id,
// so results do not depend on listing order.
package notesearch

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud/notes"
)

// Ranking parameters (upstream values).
const (
	TitleWeight   = 3.0
	ContentWeight = 1.0
	MinScore      = 0.5
)

// Note is what the ranking reads of a note.
type Note struct {
	ID       int64
	Title    string
	Category string
	Content  string
	Modified int64 // unix seconds
}

// Hit is a matching note. Score is nil when the query had no usable token
// (every note matches, unranked).
type Hit struct {
	ID       int64
	Title    string
	Category string
	Modified int64
	Score    *float64
}

// Results are the hits of one search: at most the requested limit, best
// first, and Total, the number of notes that matched before the limit.
// SyncedAt is when the searched snapshot was taken (Index only).
type Results struct {
	Hits     []Hit
	Total    int
	SyncedAt time.Time
}

// FromNextcloud converts client notes for ranking or indexing, skipping
// Pruned listing entries (they carry no text).
func FromNextcloud(ns []notes.Note) []Note {
	out := make([]Note, 0, len(ns))
	for _, n := range ns {
		if n.Pruned {
			continue
		}
		out = append(out, Note{ID: n.ID, Title: n.Title, Category: n.Category, Content: n.Content, Modified: n.Modified})
	}
	return out
}

// QueryTokens returns the normalised tokens of a query, duplicates kept
// (upstream counts a repeated token twice).
func QueryTokens(query string) []string {
	var out []string
	eachToken(strings.ToLower(query), func(tok string) {
		if utf8.RuneCountInString(tok) > 1 {
			out = append(out, tok)
		}
	})
	return out
}

// eachToken calls fn with every white-space separated token of s,
// normalised; s must already be lower-case. It does not allocate.
func eachToken(s string, fn func(string)) {
	start := -1
	for i, r := range s {
		if unicode.IsSpace(r) {
			if start >= 0 {
				fn(normalize(s[start:i]))
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		fn(normalize(s[start:]))
	}
}

// normalize trims surrounding punctuation unless that leaves fewer than
// two characters.
func normalize(tok string) string {
	t := strings.TrimFunc(tok, unicode.IsPunct)
	if utf8.RuneCountInString(t) < 2 {
		return tok
	}
	return t
}

// score computes the upstream score from match counts; ok=false when the
// note does not qualify.
func score(titleMatches, contentMatches, queryTokens int) (float64, bool) {
	if titleMatches == 0 && contentMatches == 0 {
		return 0, false
	}
	n := float64(queryTokens)
	s := TitleWeight*float64(titleMatches)/n + ContentWeight*float64(contentMatches)/n
	return s, s >= MinScore
}

// Rank scores notes against query and returns at most limit hits (limit <= 0
// means all). It tokenises every note on each call; Index keeps tokens
// ready for repeated searches.
func Rank(notes []Note, query string, limit int) Results {
	q := QueryTokens(query)
	if len(q) == 0 {
		return unranked(len(notes), func(i int) Hit { return hitOf(&notes[i]) }, limit)
	}
	inTitle := make([]bool, len(q))
	inContent := make([]bool, len(q))
	var hits []Hit
	for i := range notes {
		n := &notes[i]
		clear(inTitle)
		clear(inContent)
		markMatches(strings.ToLower(n.Title), q, inTitle)
		markMatches(strings.ToLower(n.Content), q, inContent)
		if s, ok := score(count(inTitle), count(inContent), len(q)); ok {
			h := hitOf(n)
			h.Score = new(float64) // allocated only for hits
			*h.Score = s
			hits = append(hits, h)
		}
	}
	return finish(hits, limit)
}

// markMatches sets matched[i] when q[i] is among the tokens of text.
func markMatches(text string, q []string, matched []bool) {
	eachToken(text, func(tok string) {
		for i, qt := range q {
			if !matched[i] && tok == qt {
				matched[i] = true
			}
		}
	})
}

func count(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

func hitOf(n *Note) Hit {
	return Hit{ID: n.ID, Title: n.Title, Category: n.Category, Modified: n.Modified}
}

// unranked returns every note, newest first, for a query without tokens.
func unranked(n int, at func(int) Hit, limit int) Results {
	hits := make([]Hit, n)
	for i := range n {
		hits[i] = at(i)
	}
	return finish(hits, limit)
}

// finish orders hits (score, then newest, then id) and applies the limit.
func finish(hits []Hit, limit int) Results {
	slices.SortFunc(hits, func(a, b Hit) int {
		if a.Score != nil && b.Score != nil && *a.Score != *b.Score {
			if *a.Score > *b.Score {
				return -1
			}
			return 1
		}
		if a.Modified != b.Modified {
			if a.Modified > b.Modified {
				return -1
			}
			return 1
		}
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	total := len(hits)
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit:limit]
	}
	return Results{Hits: hits, Total: total}
}
