package nextcloud

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ctxTransport records the context of every request it carries.
type ctxTransport struct {
	mu   sync.Mutex
	ctxs []context.Context
}

func (c *ctxTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.ctxs = append(c.ctxs, req.Context())
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (c *ctxTransport) last() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ctxs[len(c.ctxs)-1]
}

func TestResponseBodyStreams(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write([]byte(strings.Repeat("a", 100)))
		w.(http.Flusher).Flush()
		if r.URL.Path == "/stall" {
			<-r.Context().Done() // the rest never comes
			return
		}
		_, _ = w.Write([]byte(strings.Repeat("b", 100)))
	})
	read := &Request{Op: "read the file", Method: http.MethodGet, Path: "/file", Idempotent: true}

	t.Run("the call's deadline covers reading the body", func(t *testing.T) {
		c := newTestClient(t, rec, WithTimeout(100*time.Millisecond))
		resp, err := c.Send(context.Background(), &Request{Op: "read the file", Method: http.MethodGet, Path: "/stall"})
		require.NoError(t, err, "the status and header arrive in time")
		defer func() { _ = resp.Body.Close() }()
		start := time.Now()
		b, err := io.ReadAll(resp.Body)
		assert.Len(t, b, 100)
		assert.True(t, IsTimeout(err), "err = %v", err)
		assert.EqualError(t, err, "Nextcloud did not answer within 100ms while trying to read the file")
		assert.Less(t, time.Since(start), 2*time.Second)
	})
	t.Run("Close ends the call's context", func(t *testing.T) {
		tr := &ctxTransport{}
		c := newTestClient(t, rec, WithHTTPClient(&http.Client{Transport: tr}))
		resp, err := c.Send(context.Background(), read)
		require.NoError(t, err)
		assert.NoError(t, tr.last().Err(), "the context lives while the body is read")
		require.NoError(t, resp.Body.Close())
		assert.ErrorIs(t, tr.last().Err(), context.Canceled, "Close releases the call's timer and context")
		require.NoError(t, resp.Body.Close(), "Close twice is harmless")
	})
	t.Run("a limit of exactly the body's size", func(t *testing.T) {
		c := newTestClient(t, rec)
		r := *read
		r.MaxResponseBytes = 200
		resp, err := c.Send(context.Background(), &r)
		require.NoError(t, err)
		b, err := ReadAll(resp)
		require.NoError(t, err)
		assert.Len(t, b, 200)
	})
	t.Run("a per-call limit one byte short", func(t *testing.T) {
		c := newTestClient(t, rec) // the client's default limit is 10 MiB
		r := *read
		r.MaxResponseBytes = 199
		resp, err := c.Send(context.Background(), &r)
		require.NoError(t, err)
		b, err := ReadAll(resp)
		assert.Len(t, b, 199, "everything up to the limit is delivered")
		require.ErrorIs(t, err, ErrResponseTooLarge)
		assert.EqualError(t, err, "could not read the file (HTTP 200): response body exceeds the 199 bytes limit")
		_, err = resp.Body.Read(make([]byte, 1))
		assert.ErrorIs(t, err, ErrResponseTooLarge, "the failure sticks")
	})
}

// seekBody is a caller's seekable body that records whether it was closed.
type seekBody struct {
	*strings.Reader
	closed bool
}

func (s *seekBody) Close() error { s.closed = true; return nil }

func TestRequestBodies(t *testing.T) {
	var mu sync.Mutex
	fails := 0
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	put := func(body io.Reader, getBody func() (io.Reader, error)) *Request {
		return &Request{Op: "write the file", Method: http.MethodPut, Path: "/f", Idempotent: true, Body: body, GetBody: getBody}
	}
	offset := strings.NewReader("skip:payload")
	_, _ = offset.Seek(5, io.SeekStart)
	tests := []struct {
		name       string
		r          *Request
		fails      int
		wantBodies []string
	}{
		{name: "a seekable body is rewound to where it started", r: put(offset, nil), fails: 2,
			wantBodies: []string{"payload", "payload", "payload"}},
		{name: "a caller's closable body is rewound, never closed", r: put(&seekBody{Reader: strings.NewReader("file")}, nil), fails: 1,
			wantBodies: []string{"file", "file"}},
		{name: "GetBody supplies each retry", r: put(onlyReader("first"), func() (io.Reader, error) { return onlyReader("first"), nil }), fails: 1,
			wantBodies: []string{"first", "first"}},
		{name: "a bytes.Buffer is snapshotted", r: put(bytes.NewBufferString("buf"), nil), fails: 1,
			wantBodies: []string{"buf", "buf"}},
		{name: "a one-shot body is sent once", r: put(onlyReader("once"), nil), fails: 1,
			wantBodies: []string{"once"}},
		{name: "an empty body is no body", r: put(strings.NewReader(""), nil),
			wantBodies: []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			fails = tt.fails
			mu.Unlock()
			before := len(rec.Requests())
			c := newTestClient(t, rec)
			resp, err := c.Send(context.Background(), tt.r)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			var bodies []string
			for _, s := range rec.Requests()[before:] {
				bodies = append(bodies, s.Body)
			}
			assert.Equal(t, tt.wantBodies, bodies)
			if sb, ok := tt.r.Body.(*seekBody); ok {
				assert.False(t, sb.closed, "Send never closes the caller's body")
			}
		})
	}
}

func TestRedirects(t *testing.T) {
	elsewhere := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/nc/away":
			http.Redirect(w, r, elsewhere.URL+"/steal", http.StatusFound)
		case "/nc/up":
			http.Redirect(w, r, "/outside", http.StatusFound)
		case "/nc/within":
			http.Redirect(w, r, "/nc/target", http.StatusFound)
		case "/nc/target":
			writeJSON(w, 200, []byte(`{}`))
		default:
			w.WriteHeader(404)
		}
	})
	c, err := New(rec.URL+"/nc", Bearer(testToken), WithRetry(1, 0, 0))
	require.NoError(t, err)
	tests := []struct {
		path       string
		wantStatus int
	}{
		{"/away", http.StatusFound},
		{"/up", http.StatusFound},
		{"/within", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := c.Send(context.Background(), &Request{Method: http.MethodGet, Path: tt.path})
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, tt.wantStatus, resp.Status, "a redirect off the base URL is not followed")
		})
	}
	assert.Empty(t, elsewhere.Requests(), "the token went to another server")
	for _, s := range rec.Requests() {
		assert.NotEqual(t, "/outside", s.Path, "the token went outside the base path")
	}
	last := rec.Requests()[len(rec.Requests())-1]
	assert.Equal(t, "/nc/target", last.Path)
	assert.Equal(t, "Bearer "+testToken, last.Header.Get("Authorization"), "a redirect within the base keeps the credentials")
}

func TestJSONDoesNotChangeTheRequest(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, []byte(`{"a":1}`)) })
	c := newTestClient(t, rec)
	h := http.Header{"X-Custom": {"1"}}
	r := &Request{Method: http.MethodGet, Path: "/x", Header: h}
	var out struct{ A int }
	resp, err := c.JSON(context.Background(), r, &out)
	require.NoError(t, err)
	assert.Equal(t, 1, out.A)
	assert.Equal(t, http.NoBody, resp.Body)
	assert.Equal(t, http.Header{"X-Custom": {"1"}}, h, "the caller's header is left alone")
	sent := rec.Requests()[0].Header
	assert.Equal(t, "application/json", sent.Get("Accept"))
	assert.Equal(t, "1", sent.Get("X-Custom"))
}
