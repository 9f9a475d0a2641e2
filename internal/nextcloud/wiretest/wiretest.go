// Package wiretest serves Nextcloud wire bodies to the client's tests: an
// httptest server that records every request it receives, fixture files,
// and writers for the content types Nextcloud answers with. It imports
// testing, so only _test.go files import it.
package wiretest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// Request is one request as the Recorder received it.
type Request struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   string
}

// Recorder is an httptest server that records requests and answers them
// with a handler.
type Recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []Request
}

// NewRecorder starts a Recorder answering with h; t.Cleanup closes it.
func NewRecorder(t testing.TB, h http.HandlerFunc) *Recorder {
	t.Helper()
	rec := &Recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, Request{req.Method, req.URL.Path, req.URL.RawQuery, req.Header.Clone(), string(body)})
		rec.mu.Unlock()
		h(w, req)
	}))
	t.Cleanup(rec.Close)
	return rec
}

// Requests returns the requests received so far, oldest first.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}

// Fixture reads a recorded wire body.
func Fixture(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// WriteJSON answers with a JSON body the way Nextcloud's AppFramework does.
func WriteJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// WriteXML answers with an XML body, as sabre/dav does.
func WriteXML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
