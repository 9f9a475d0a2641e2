package notesearch

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud/notes"
)

var corpus = []Note{
	{ID: 1, Title: "Shopping list", Content: "milk, eggs and bread", Modified: 100},
	{ID: 2, Title: "Meeting notes", Category: "work", Content: "Discussed the shopping cart redesign", Modified: 200},
	{ID: 3, Title: "Recipes", Category: "home", Content: "Bread: flour, water, salt.", Modified: 300},
	{ID: 4, Title: "C# tips", Category: "dev", Content: "Use c# records", Modified: 400},
	{ID: 5, Title: "Empty", Modified: 50},
	{ID: 6, Title: "SHOPPING", Content: "", Modified: 100},
}

func ids(r Results) []int64 {
	out := []int64{}
	for _, h := range r.Hits {
		out = append(out, h.ID)
	}
	return out
}

func scores(r Results) []float64 {
	out := []float64{}
	for _, h := range r.Hits {
		if h.Score == nil {
			out = append(out, -1)
			continue
		}
		out = append(out, *h.Score)
	}
	return out
}

func TestRank(t *testing.T) {
	tests := []struct {
		name       string
		query      string
		limit      int
		wantIDs    []int64
		wantScores []float64 // -1 = unscored
		wantTotal  int
	}{
		{
			name: "title beats content", query: "shopping",
			// 1 and 6: title 3.0 (+0 content); 6 ties 1 on score and time, id
			// breaks the tie; 2: content only, 1.0.
			wantIDs: []int64{1, 6, 2}, wantScores: []float64{3, 3, 1}, wantTotal: 3,
		},
		{
			name: "case-insensitive", query: "SHOPPING List",
			// 1: title 2/2*3=3; 6: title 1/2*3=1.5; 2: content 1/2=0.5 (kept: >= 0.5).
			wantIDs: []int64{1, 6, 2}, wantScores: []float64{3, 1.5, 0.5}, wantTotal: 3,
		},
		{
			name: "below threshold dropped", query: "milk unicorn rainbow",
			// 1: content 1/3 = 0.33 < 0.5.
			wantIDs: []int64{}, wantScores: []float64{}, wantTotal: 0,
		},
		{
			name: "punctuation trimmed", query: "bread",
			// 3 "Bread:" and 1 "bread": content 1.0 each; newest first.
			wantIDs: []int64{3, 1}, wantScores: []float64{1, 1}, wantTotal: 2,
		},
		{
			name: "short punctuation tokens kept whole", query: "c#",
			wantIDs: []int64{4}, wantScores: []float64{4}, wantTotal: 1,
		},
		{
			name: "one-character tokens ignored", query: "a shopping b",
			wantIDs: []int64{1, 6, 2}, wantScores: []float64{3, 3, 1}, wantTotal: 3,
		},
		{
			name: "duplicate query tokens count twice", query: "eggs eggs salt",
			// 1: eggs,eggs in content = 2/3; 3: salt = 1/3 (dropped).
			wantIDs: []int64{1}, wantScores: []float64{2.0 / 3}, wantTotal: 1,
		},
		{
			name: "limit keeps the best, total counts all", query: "shopping", limit: 2,
			wantIDs: []int64{1, 6}, wantScores: []float64{3, 3}, wantTotal: 3,
		},
		{
			name: "no usable token lists everything newest first", query: " x ", limit: 3,
			wantIDs: []int64{4, 3, 2}, wantScores: []float64{-1, -1, -1}, wantTotal: 6,
		},
		{
			name: "empty query", query: "",
			wantIDs: []int64{4, 3, 2, 1, 6, 5}, wantScores: []float64{-1, -1, -1, -1, -1, -1}, wantTotal: 6,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, impl := range []struct {
				name string
				run  func() Results
			}{
				{"Rank", func() Results { return Rank(corpus, tt.query, tt.limit) }},
				{"Index", func() Results {
					x := NewIndex()
					x.Replace("alice", corpus, time.Unix(1, 0))
					r, ok := x.Search("alice", tt.query, tt.limit)
					if !ok {
						t.Fatal("not indexed")
					}
					return r
				}},
			} {
				got := impl.run()
				if !reflect.DeepEqual(ids(got), tt.wantIDs) {
					t.Errorf("%s ids = %v, want %v", impl.name, ids(got), tt.wantIDs)
				}
				if !reflect.DeepEqual(scores(got), tt.wantScores) {
					t.Errorf("%s scores = %v, want %v", impl.name, scores(got), tt.wantScores)
				}
				if got.Total != tt.wantTotal {
					t.Errorf("%s total = %d, want %d", impl.name, got.Total, tt.wantTotal)
				}
			}
		})
	}
}

func TestHitCarriesNoteFields(t *testing.T) {
	r := Rank(corpus, "recipes", 0)
	if len(r.Hits) != 1 {
		t.Fatal(r)
	}
	h := r.Hits[0]
	if h.ID != 3 || h.Title != "Recipes" || h.Category != "home" || h.Modified != 300 || *h.Score != 3 {
		t.Fatalf("hit = %+v", h)
	}
}

func TestQueryTokens(t *testing.T) {
	tests := map[string][]string{
		"":                       nil,
		"Hello, World!":          {"hello", "world"},
		"  a  bb\tc\nddd ":       {"bb", "ddd"},
		"(note-taking) “quotes”": {"note-taking", "quotes"},
		"Ünïcödé ÉTÉ":            {"ünïcödé", "été"},
		"c# c++ ...":             {"c#", "c++", "..."},
	}
	for in, want := range tests {
		if got := QueryTokens(in); !reflect.DeepEqual(got, want) {
			t.Errorf("QueryTokens(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFromNextcloudSkipsPruned(t *testing.T) {
	got := FromNextcloud([]notes.Note{
		{ID: 1, Title: "a", Content: "b", Category: "c", Modified: 9},
		{ID: 2, Pruned: true},
	})
	want := []Note{{ID: 1, Title: "a", Content: "b", Category: "c", Modified: 9}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
}

func TestIndexLifecycle(t *testing.T) {
	x := NewIndex()
	if _, ok := x.Search("alice", "milk", 10); ok {
		t.Fatal("unknown key reported as indexed")
	}
	notes := []Note{{ID: 1, Title: "milk"}}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	x.Replace("alice", notes, at)
	notes[0].Title = "changed after Replace"
	r, ok := x.Search("alice", "milk", 10)
	if !ok || len(r.Hits) != 1 || r.Hits[0].Title != "milk" || !r.SyncedAt.Equal(at) {
		t.Fatalf("r=%+v ok=%v (the index must not alias the caller's slice)", r, ok)
	}
	if _, ok := x.Search("bob", "milk", 10); ok {
		t.Fatal("bob sees alice's index")
	}
	if got, n, ok := x.SyncedAt("alice"); !ok || n != 1 || !got.Equal(at) {
		t.Fatalf("SyncedAt = %v %d %v", got, n, ok)
	}
	x.Replace("alice", nil, at.Add(time.Minute))
	if r, ok := x.Search("alice", "milk", 10); !ok || r.Total != 0 {
		t.Fatalf("after an empty Replace: %+v %v (an empty snapshot is still indexed)", r, ok)
	}
	x.Remove("alice")
	if _, ok := x.Search("alice", "milk", 10); ok {
		t.Fatal("Remove did not forget")
	}
	if _, _, ok := x.SyncedAt("alice"); ok {
		t.Fatal("SyncedAt after Remove")
	}
}

// TestIndexMatchesRank checks the index ranks exactly like Rank on random
// corpora and queries.
func TestIndexMatchesRank(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"alpha", "Beta", "gamma,", "delta.", "épée", "c#", "x", "milk", "MILK", "(note)", "to-do", "a"}
	phrase := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteString([]string{" ", "  ", "\n", "\t"}[rng.IntN(4)])
			}
			b.WriteString(words[rng.IntN(len(words))])
		}
		return b.String()
	}
	for round := range 50 {
		notes := make([]Note, 40)
		for i := range notes {
			notes[i] = Note{ID: int64(i + 1), Title: phrase(rng.IntN(4)), Content: phrase(rng.IntN(30)), Modified: int64(rng.IntN(5))}
		}
		x := NewIndex()
		x.Replace("k", notes, time.Time{})
		for range 20 {
			q := phrase(rng.IntN(4))
			limit := rng.IntN(10)
			want := Rank(notes, q, limit)
			got, _ := x.Search("k", q, limit)
			if !reflect.DeepEqual(ids(got), ids(want)) || !reflect.DeepEqual(scores(got), scores(want)) || got.Total != want.Total {
				t.Fatalf("round %d query %q: index %v %v, rank %v %v", round, q, ids(got), scores(got), ids(want), scores(want))
			}
		}
	}
}

func TestIndexConcurrentUse(t *testing.T) {
	x := NewIndex()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 200 {
				x.Replace(fmt.Sprint("user", w), []Note{{ID: int64(i), Title: "milk"}}, time.Now())
				if i%50 == 0 {
					x.Remove(fmt.Sprint("user", w))
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range 200 {
				if r, ok := x.Search(fmt.Sprint("user", w), "milk", 5); ok && r.Total != 1 {
					t.Errorf("torn snapshot: %+v", r)
				}
				x.SyncedAt(fmt.Sprint("user", w))
			}
		}()
	}
	wg.Wait()
}

// benchCorpus builds n notes of about 200 words each.
func benchCorpus(n int) []Note {
	rng := rand.New(rand.NewPCG(7, 7))
	vocab := make([]string, 5000)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("word%d", i)
	}
	notes := make([]Note, n)
	for i := range notes {
		var b strings.Builder
		for j := range 200 {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(vocab[rng.IntN(len(vocab))])
			if j%12 == 11 {
				b.WriteString(".")
			}
		}
		notes[i] = Note{ID: int64(i + 1), Title: vocab[rng.IntN(len(vocab))] + " " + vocab[rng.IntN(len(vocab))], Content: b.String(), Modified: int64(rng.IntN(1e6))}
	}
	return notes
}

func BenchmarkRank1000(b *testing.B) {
	notes := benchCorpus(1000)
	b.ReportAllocs()
	for b.Loop() {
		Rank(notes, "word42 Word4711 word7", 50)
	}
}

func BenchmarkIndexSearch1000(b *testing.B) {
	x := NewIndex()
	x.Replace("alice", benchCorpus(1000), time.Now())
	b.ReportAllocs()
	for b.Loop() {
		x.Search("alice", "word42 Word4711 word7", 50)
	}
}

func BenchmarkIndexReplace1000(b *testing.B) {
	notes := benchCorpus(1000)
	x := NewIndex()
	b.ReportAllocs()
	for b.Loop() {
		x.Replace("alice", notes, time.Now())
	}
}
