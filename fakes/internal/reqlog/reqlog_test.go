package reqlog_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/internal/reqlog"
)

func TestLogDropsOldest(t *testing.T) {
	tests := []struct {
		name   string
		limit  int
		append int
		want   []int
	}{
		{name: "below the limit", limit: 3, append: 2, want: []int{0, 1}},
		{name: "at the limit", limit: 3, append: 3, want: []int{0, 1, 2}},
		{name: "over the limit", limit: 3, append: 7, want: []int{4, 5, 6}},
		{name: "limit zero keeps one", limit: 0, append: 2, want: []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := reqlog.New[int](tt.limit)
			for i := range tt.append {
				l.Append(i)
			}
			assert.Equal(t, tt.want, l.Entries())
		})
	}
}

func TestLogEntriesIsACopyAndResetEmpties(t *testing.T) {
	l := reqlog.New[string](2)
	l.Append("a")
	got := l.Entries()
	got[0] = "changed"
	assert.Equal(t, []string{"a"}, l.Entries())

	l.Reset()
	assert.Empty(t, l.Entries())
	l.Append("b")
	assert.Equal(t, []string{"b"}, l.Entries())
}

func TestLogConcurrentAppends(t *testing.T) {
	l := reqlog.New[string](50)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				l.Append(strconv.Itoa(i) + "/" + strconv.Itoa(j))
				_ = l.Entries()
			}
		}()
	}
	wg.Wait()
	assert.Len(t, l.Entries(), 50)
}

func TestRecorderStatus(t *testing.T) {
	tests := []struct {
		name        string
		handler     func(w http.ResponseWriter)
		wantStatus  int
		wantWritten bool
	}{
		{name: "nothing written", handler: func(http.ResponseWriter) {}, wantStatus: 200, wantWritten: false},
		{name: "body only", handler: func(w http.ResponseWriter) { _, _ = w.Write([]byte("x")) }, wantStatus: 200, wantWritten: true},
		{name: "explicit status", handler: func(w http.ResponseWriter) { w.WriteHeader(http.StatusTeapot) }, wantStatus: 418, wantWritten: true},
		{name: "first status wins", handler: func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusNotFound)
			w.WriteHeader(http.StatusInternalServerError)
		}, wantStatus: 404, wantWritten: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rr := httptest.NewRecorder()
			rec := reqlog.NewRecorder(rr)
			tt.handler(rec)
			assert.Equal(t, tt.wantStatus, rec.Status())
			assert.Equal(t, tt.wantWritten, rec.Written())
			if tt.wantWritten {
				assert.Equal(t, tt.wantStatus, rr.Code)
			}
		})
	}
}

func TestRecorderUnwrap(t *testing.T) {
	rr := httptest.NewRecorder()
	rec := reqlog.NewRecorder(rr)
	require.Same(t, http.ResponseWriter(rr), rec.Unwrap())
	// http.ResponseController finds the flusher through Unwrap.
	require.NoError(t, http.NewResponseController(rec).Flush())
	assert.True(t, rr.Flushed)
}
