package grade

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"time"
)

// Recorder keeps the bodies of HTTP responses from chosen hosts, bounded
// in size, so checks can look for leaked secrets in everything a server
// answered.
type Recorder struct {
	mu    sync.Mutex
	hosts map[string]bool
	buf   bytes.Buffer
	limit int
}

// NewRecorder records responses from the given hosts ("127.0.0.1:8000"),
// keeping at most limit bytes.
func NewRecorder(limit int, hosts ...string) *Recorder {
	r := &Recorder{hosts: map[string]bool{}, limit: limit}
	for _, h := range hosts {
		r.hosts[h] = true
	}
	return r
}

// Bytes returns a copy of what was recorded.
func (r *Recorder) Bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.buf.Bytes())
}

func (r *Recorder) write(p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if room := r.limit - r.buf.Len(); room > 0 {
		if len(p) > room {
			p = p[:room]
		}
		r.buf.Write(p)
	}
}

type recordingTransport struct {
	base http.RoundTripper
	rec  *Recorder
}

func (t recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || !t.rec.hosts[req.URL.Host] {
		return resp, err
	}
	resp.Body = &teeBody{ReadCloser: resp.Body, rec: t.rec}
	return resp, nil
}

type teeBody struct {
	io.ReadCloser
	rec *Recorder
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.rec.write(p[:n])
	}
	return n, err
}

// NewRecordingClient is NewHTTPClient whose responses from rec's hosts are
// recorded (headers are not: challenges echo no secrets by design, and
// the leak check covers bodies and logs).
func NewRecordingClient(timeout time.Duration, rec *Recorder) *http.Client {
	c := NewHTTPClient(timeout)
	c.Transport = recordingTransport{base: http.DefaultTransport, rec: rec}
	return c
}
