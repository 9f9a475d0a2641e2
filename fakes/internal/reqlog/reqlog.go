// Package reqlog is the request log the fakes keep for tests: a bounded,
// oldest-first log of entries whose shape each fake chooses, and a response
// writer that captures the status the handler sent.
package reqlog

import (
	"net/http"
	"sync"
)

// Log is a bounded log of entries: when it is full, appending drops the
// oldest entry. It is safe for concurrent use.
type Log[E any] struct {
	mu    sync.Mutex
	limit int
	buf   []E // ring of at most limit entries
	start int // index of the oldest entry in buf
}

// New returns an empty log that keeps at most limit entries (1 if limit is
// smaller).
func New[E any](limit int) *Log[E] {
	return &Log[E]{limit: max(limit, 1)}
}

// Append adds e as the newest entry, dropping the oldest one when the log
// is full.
func (l *Log[E]) Append(e E) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) < l.limit {
		l.buf = append(l.buf, e)
		return
	}
	l.buf[l.start] = e
	l.start = (l.start + 1) % len(l.buf)
}

// Entries returns a copy of the entries, oldest first. The copy is shallow:
// entries holding slices or maps share them with the log.
func (l *Log[E]) Entries() []E {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]E, 0, len(l.buf))
	out = append(out, l.buf[l.start:]...)
	return append(out, l.buf[:l.start]...)
}

// Reset empties the log.
func (l *Log[E]) Reset() {
	l.mu.Lock()
	l.buf, l.start = nil, 0
	l.mu.Unlock()
}

// Recorder is an http.ResponseWriter that remembers the first status
// written. A handler that writes a body without a status has sent 200, as
// net/http does.
type Recorder struct {
	http.ResponseWriter
	status int
}

// NewRecorder wraps w.
func NewRecorder(w http.ResponseWriter) *Recorder { return &Recorder{ResponseWriter: w} }

// WriteHeader records the first status and passes every call on.
func (r *Recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write sends the implicit 200 first when no status was written.
func (r *Recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Written reports whether the status line has been sent.
func (r *Recorder) Written() bool { return r.status != 0 }

// Status is the status sent; 200 when the handler sent nothing, which is
// what net/http answers then.
func (r *Recorder) Status() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}
