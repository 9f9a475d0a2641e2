package nextcloud

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/upstream"
)

// getNote is an idempotent app-route read, as the Notes client makes it.
func getNote(id int) *Request {
	return &Request{Op: fmt.Sprintf("get note %d", id), Resource: fmt.Sprintf("Note %d", id),
		Method: http.MethodGet, Path: fmt.Sprintf("/index.php/apps/notes/api/v1/notes/%d", id), Idempotent: true, AppRoute: true}
}

// createNote is a POST: never retried.
func createNote() *Request {
	return &Request{Op: "create a note", Method: http.MethodPost, Path: "/index.php/apps/notes/api/v1/notes", AppRoute: true,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: strings.NewReader(`{"title":"x"}`)}
}

func callJSON(ctx context.Context, c *Client, r *Request) error {
	var out map[string]any
	_, err := c.JSON(ctx, r, &out)
	return err
}

func TestNewValidatesBaseURL(t *testing.T) {
	tests := []struct {
		name, url, wantErr, wantBase string
	}{
		{name: "plain", url: "https://cloud.example.com", wantBase: "https://cloud.example.com"},
		{name: "trailing slash", url: "https://cloud.example.com/", wantBase: "https://cloud.example.com"},
		{name: "sub path", url: "http://127.0.0.1:8080/nextcloud/", wantBase: "http://127.0.0.1:8080/nextcloud"},
		{name: "escaped sub path", url: "http://127.0.0.1:8080/my%20cloud/", wantBase: "http://127.0.0.1:8080/my%20cloud"},
		{name: "host case", url: "https://Cloud.Example.com", wantBase: "https://cloud.example.com"},
		{name: "credentials in URL", url: "https://alice:pw@cloud.example.com", wantErr: "must not contain credentials"},
		{name: "ftp", url: "ftp://cloud.example.com", wantErr: "must be http or https"},
		{name: "no host", url: "https://", wantErr: "has no host"},
		{name: "query", url: "https://cloud.example.com/?x=1", wantErr: "query"},
		{name: "dot segment", url: "https://cloud.example.com/a/../b", wantErr: "must not contain . or .. segments"},
		{name: "garbage", url: "://", wantErr: "invalid base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.url, Basic("u", "pw"))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.NotContains(t, err.Error(), "pw@", "error leaks the password")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantBase, c.BaseURL())
		})
	}
}

func TestCredentialsAreNeverPrinted(t *testing.T) {
	c, err := New("https://cloud.example.com", Basic(testUser, testPassword))
	require.NoError(t, err)
	bc := c.WithCredentials(Bearer(testToken))
	pc := c.WithCredentials(BearerFor("sub-1", testToken))
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("x", "creds", Basic(testUser, testPassword), "tok", Bearer(testToken), "ptok", BearerFor("sub-1", testToken),
		"client", c, "bclient", bc, "pclient", pc)
	for _, s := range []string{
		fmt.Sprintf("%v %+v %#v %s", c, c, c, c),
		fmt.Sprintf("%v %+v %#v", bc, bc, bc),
		fmt.Sprintf("%v %+v %#v", pc, pc, pc),
		fmt.Sprintf("%v %+v %#v", Basic(testUser, testPassword), Basic(testUser, testPassword), Basic(testUser, testPassword)),
		fmt.Sprintf("%v %+v %#v", Bearer(testToken), Bearer(testToken), Bearer(testToken)),
		fmt.Sprintf("%v %+v %#v", BearerFor("sub-1", testToken), BearerFor("sub-1", testToken), BearerFor("sub-1", testToken)),
		logs.String(),
	} {
		assert.NotContains(t, s, testPassword)
		assert.NotContains(t, s, testToken)
	}
}

func TestWithCredentialsSharesTransport(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, fixture(t, "ocs_user_v2.json"))
	})
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{}}
	base, err := New(rec.URL, Basic(testUser, testPassword), WithHTTPClient(hc))
	require.NoError(t, err)
	other := base.WithCredentials(Bearer(testToken))
	assert.Same(t, base.cfg, other.cfg, "configuration shared")
	assert.Same(t, base.uids, other.uids, "uid cache shared")
	assert.Same(t, hc.Transport, other.cfg.hc.Transport, "transport shared")
	assert.Equal(t, hc.Timeout, other.cfg.hc.Timeout)
	anon := base.WithCredentials(nil)
	ctx := context.Background()
	for _, c := range []*Client{base, other, anon} {
		_, err := c.CurrentUser(ctx)
		require.NoError(t, err)
	}
	want := []string{
		"Basic " + base64.StdEncoding.EncodeToString([]byte(testUser+":"+testPassword)),
		"Bearer " + testToken,
		"",
	}
	reqs := rec.Requests()
	for i := range want {
		assert.Equal(t, want[i], reqs[i].Header.Get("Authorization"), "request %d", i)
	}
	assert.Equal(t, AuthBasic, base.AuthKind())
	assert.Equal(t, AuthBearer, other.AuthKind())
	assert.Equal(t, AuthNone, anon.AuthKind())
}

func TestRetries(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name         string
		statuses     []int // answered in order; the last repeats
		call         func(*Client) error
		wantAttempts int
		wantErr      string
	}{
		{name: "GET retried until success", statuses: []int{503, 502, 200},
			call: func(c *Client) error { return callJSON(ctx, c, getNote(76)) }, wantAttempts: 3},
		{name: "GET gives up after max attempts", statuses: []int{503},
			call:         func(c *Client) error { return callJSON(ctx, c, getNote(76)) },
			wantAttempts: 3, wantErr: "Nextcloud could not get note 76: HTTP 503 Service Unavailable"},
		{name: "GET 429 retried", statuses: []int{429, 200},
			call: func(c *Client) error { return callJSON(ctx, c, getNote(76)) }, wantAttempts: 2},
		{name: "GET 404 not retried", statuses: []int{404},
			call:         func(c *Client) error { return callJSON(ctx, c, getNote(76)) },
			wantAttempts: 1, wantErr: "Note 76 not found"},
		{name: "POST never retried", statuses: []int{503, 200},
			call:         func(c *Client) error { return callJSON(ctx, c, createNote()) },
			wantAttempts: 1, wantErr: "Nextcloud could not create a note: HTTP 503"},
		{name: "idempotent PUT with a seekable body retried", statuses: []int{500, 200},
			call: func(c *Client) error {
				return callJSON(ctx, c, &Request{Op: "change the Notes settings", Method: http.MethodPut, Path: "/index.php/apps/notes/api/v1/settings",
					Idempotent: true, AppRoute: true, Body: bytes.NewReader([]byte(`{"fileSuffix":".txt"}`))})
			},
			wantAttempts: 2},
		{name: "idempotent PUT with GetBody retried", statuses: []int{504, 200},
			call: func(c *Client) error {
				return callJSON(ctx, c, &Request{Op: "change the Notes settings", Method: http.MethodPut, Path: "/index.php/apps/notes/api/v1/settings",
					Idempotent: true, AppRoute: true, Body: onlyReader(`{"fileSuffix":".txt"}`),
					GetBody: func() (io.Reader, error) { return onlyReader(`{"fileSuffix":".txt"}`), nil }})
			},
			wantAttempts: 2},
		{name: "idempotent PUT with a one-shot body not retried", statuses: []int{503, 200},
			call: func(c *Client) error {
				return callJSON(ctx, c, &Request{Op: "change the Notes settings", Method: http.MethodPut, Path: "/index.php/apps/notes/api/v1/settings",
					Idempotent: true, AppRoute: true, Body: onlyReader(`{"fileSuffix":".txt"}`)})
			},
			wantAttempts: 1, wantErr: "HTTP 503"},
		{name: "OCS GET retried", statuses: []int{503, 200},
			call:         func(c *Client) error { _, err := c.CurrentUser(ctx); return err },
			wantAttempts: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				st := tt.statuses[min(i, len(tt.statuses)-1)]
				switch {
				case st != 200:
					writeJSON(w, st, []byte(`{"message":""}`))
				case strings.HasPrefix(r.URL.Path, "/ocs/"):
					writeJSON(w, 200, fixture(t, "ocs_user_v2.json"))
				default:
					writeJSON(w, 200, fixture(t, "note_76.json"))
				}
			})
			err := tt.call(newTestClient(t, rec))
			reqs := rec.Requests()
			assert.Len(t, reqs, tt.wantAttempts, "attempts")
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tt.wantErr)
			}
			for _, r := range reqs[1:] {
				assert.Equal(t, reqs[0].Body, r.Body, "a retry sends the same body")
			}
		})
	}
}

// onlyReader hides every method but Read: a body that cannot be rewound.
func onlyReader(s string) io.Reader { return struct{ io.Reader }{strings.NewReader(s)} }

func TestRetryTransportErrors(t *testing.T) {
	// A server that drops the first connection without answering: an
	// idempotent GET survives it, a POST reports it.
	for _, tt := range []struct {
		name         string
		post         bool
		wantAttempts int32
		wantErr      bool
	}{
		{name: "GET", wantAttempts: 2},
		{name: "POST", post: true, wantAttempts: 1, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					conn, _, err := w.(http.Hijacker).Hijack()
					if err == nil {
						_ = conn.Close()
					}
					return
				}
				writeJSON(w, 200, fixture(t, "note_76.json"))
			})
			c := newTestClient(t, rec)
			r := getNote(76)
			if tt.post {
				r = createNote()
			}
			err := callJSON(context.Background(), c, r)
			require.Equal(t, tt.wantAttempts, n.Load(), "attempts")
			if !tt.wantErr {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "could not reach Nextcloud to create a note: "), "message = %q", err)
			assert.ErrorIs(t, err, ErrUnavailable, "transport failure should match ErrUnavailable")
			assert.NotContains(t, err.Error(), rec.URL, "message carries the URL")
		})
	}
}

func TestRetryBackoffAndRetryAfter(t *testing.T) {
	var n atomic.Int32
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "1")
			writeJSON(w, 429, []byte(`{"message":""}`))
		case 2:
			writeJSON(w, 503, []byte(`{"message":""}`))
		default:
			writeJSON(w, 200, fixture(t, "note_76.json"))
		}
	})
	ns := &noSleep{}
	c, err := New(rec.URL, Basic(testUser, testPassword), withSleep(ns.sleep),
		WithRetry(4, 100*time.Millisecond, 2*time.Second))
	require.NoError(t, err)
	require.NoError(t, callJSON(context.Background(), c, getNote(76)))
	require.Len(t, ns.delays, 2)
	assert.Equal(t, time.Second, ns.delays[0], "Retry-After not honoured")
	// Second retry: base<<1 = 200ms ± 20 %.
	assert.InDelta(t, 200*time.Millisecond, ns.delays[1], float64(40*time.Millisecond), "backoff")
}

func TestRetryAfterBeyondDeadlineGivesUp(t *testing.T) {
	var n atomic.Int32
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Retry-After", "120")
		writeJSON(w, 503, []byte(`{"message":"maintenance"}`))
	})
	c := newTestClient(t, rec, WithTimeout(200*time.Millisecond), WithRetry(3, time.Millisecond, time.Hour))
	err := callJSON(context.Background(), c, getNote(76))
	assert.Equal(t, int32(1), n.Load(), "attempts (no time left to wait)")
	assert.ErrorContains(t, err, "HTTP 503 Service Unavailable: maintenance")
}

func TestTimeoutsAndCancellation(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Run("per-call timeout", func(t *testing.T) {
		c := newTestClient(t, rec, WithTimeout(50*time.Millisecond))
		start := time.Now()
		err := callJSON(context.Background(), c, getNote(76))
		assert.Less(t, time.Since(start), 2*time.Second)
		assert.True(t, IsTimeout(err), "err = %v", err)
		assert.EqualError(t, err, "Nextcloud did not answer within 50ms while trying to get note 76")
	})
	t.Run("caller cancels", func(t *testing.T) {
		c := newTestClient(t, rec)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(20 * time.Millisecond); cancel() }()
		_, err := c.CurrentUser(ctx)
		require.ErrorIs(t, err, context.Canceled)
		assert.False(t, IsTimeout(err), "a cancellation is not a timeout")
		assert.EqualError(t, err, "the request to read the current user was canceled")
	})
	t.Run("caller deadline", func(t *testing.T) {
		c := newTestClient(t, rec)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		err := callJSON(ctx, c, &Request{Op: "list notes", Method: http.MethodGet, Path: "/index.php/apps/notes/api/v1/notes", Idempotent: true})
		assert.True(t, IsTimeout(err), "err = %v", err)
		assert.ErrorContains(t, err, "list notes ran out of time")
	})
	t.Run("already canceled sends nothing", func(t *testing.T) {
		before := len(rec.Requests())
		c := newTestClient(t, rec)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		require.ErrorIs(t, callJSON(ctx, c, getNote(1)), context.Canceled)
		assert.Len(t, rec.Requests(), before, "a request went out on a canceled context")
	})
}

func TestResponseSizeLimit(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, bytes.Repeat([]byte("x"), 4096))
	})
	c := newTestClient(t, rec, WithMaxResponseBytes(1024))
	err := callJSON(context.Background(), c, getNote(76))
	assert.ErrorContains(t, err, "response body exceeds the 1 KiB limit")
	assert.ErrorIs(t, err, ErrResponseTooLarge)
	assert.Len(t, rec.Requests(), 1, "an oversized answer must not be retried")
}

func TestUnreachableServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	ns := &noSleep{}
	c, err := New("http://"+addr, Bearer(testToken), withSleep(ns.sleep))
	require.NoError(t, err)
	err = callJSON(context.Background(), c, getNote(1))
	require.ErrorIs(t, err, ErrUnavailable)
	assert.True(t, strings.HasPrefix(err.Error(), "could not reach Nextcloud to get note 1: "), "err = %v", err)
	assert.Len(t, ns.delays, DefaultMaxAttempts-1, "retries")
	assert.NotContains(t, err.Error(), testToken)
}

func TestNoGoroutineLeakAfterFailures(t *testing.T) {
	release := make(chan struct{})
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("slow") != "" || strings.HasSuffix(r.URL.Path, "/1") {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		writeJSON(w, 503, []byte(`{"message":""}`))
	})
	defer close(release)
	hc := &http.Client{Transport: &http.Transport{}}
	c := newTestClient(t, rec, WithHTTPClient(hc), WithTimeout(30*time.Millisecond))
	base := runtime.NumGoroutine()
	for range 10 {
		_ = callJSON(context.Background(), c, getNote(1)) // times out
		_ = callJSON(context.Background(), c, getNote(2)) // 503 ×3
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = callJSON(ctx, c, getNote(1)) // canceled before sending
	}
	hc.CloseIdleConnections()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > base+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		hc.CloseIdleConnections()
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), base+2, "goroutines before: %d", base)
}

// TestClientsShareOneTunedTransport: a Client built without
// WithHTTPClient gets the tuned upstream transport, and every copy made by
// WithCredentials (one per call in the OAuth modes) shares it, so they
// share its kept-alive connections.
func TestClientsShareOneTunedTransport(t *testing.T) {
	c, err := New("http://127.0.0.1:1", Basic("alice", "pw"))
	require.NoError(t, err)
	tr, ok := c.cfg.hc.Transport.(*http.Transport)
	require.True(t, ok, "transport %T", c.cfg.hc.Transport)
	assert.Equal(t, upstream.DefaultMaxConns, tr.MaxIdleConnsPerHost)
	assert.Equal(t, DefaultTimeout, c.cfg.hc.Timeout)

	cp := c.WithCredentials(BearerFor("bob", "token"))
	assert.Same(t, c.cfg.hc, cp.cfg.hc)
	cp.CloseIdleConnections() // harmless, and the base keeps working

	other, err := New("http://127.0.0.1:1", Anonymous())
	require.NoError(t, err)
	assert.NotSame(t, tr, other.cfg.hc.Transport, "each base Client is one upstream's transport")

	own := &http.Client{Transport: &http.Transport{}}
	withOwn, err := New("http://127.0.0.1:1", Anonymous(), WithHTTPClient(own))
	require.NoError(t, err)
	assert.Same(t, own.Transport, withOwn.cfg.hc.Transport, "WithHTTPClient's transport is kept")
}
