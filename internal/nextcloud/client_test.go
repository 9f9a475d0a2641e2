package nextcloud

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestNewValidatesBaseURL(t *testing.T) {
	tests := []struct {
		name, url, wantErr, wantBase string
	}{
		{name: "plain", url: "https://cloud.example.com", wantBase: "https://cloud.example.com"},
		{name: "trailing slash", url: "https://cloud.example.com/", wantBase: "https://cloud.example.com"},
		{name: "sub path", url: "http://127.0.0.1:8080/nextcloud/", wantBase: "http://127.0.0.1:8080/nextcloud"},
		{name: "credentials in URL", url: "https://alice:pw@cloud.example.com", wantErr: "must not contain credentials"},
		{name: "ftp", url: "ftp://cloud.example.com", wantErr: "must be http or https"},
		{name: "no host", url: "https://", wantErr: "has no host"},
		{name: "query", url: "https://cloud.example.com/?x=1", wantErr: "query"},
		{name: "garbage", url: "://", wantErr: "invalid base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.url, Basic("u", "pw"))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "pw@") {
					t.Fatalf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.BaseURL() != tt.wantBase {
				t.Fatalf("base = %q, want %q", c.BaseURL(), tt.wantBase)
			}
		})
	}
}

func TestCredentialsAreNeverPrinted(t *testing.T) {
	c, err := New("https://cloud.example.com", Basic(testUser, testPassword))
	if err != nil {
		t.Fatal(err)
	}
	bc := c.WithCredentials(Bearer(testToken))
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("x", "creds", Basic(testUser, testPassword), "tok", Bearer(testToken), "client", c, "bclient", bc)
	for _, s := range []string{
		fmt.Sprintf("%v %+v %#v %s", c, c, c, c),
		fmt.Sprintf("%v %+v %#v", bc, bc, bc),
		fmt.Sprintf("%v %+v %#v", Basic(testUser, testPassword), Basic(testUser, testPassword), Basic(testUser, testPassword)),
		fmt.Sprintf("%v %+v %#v", Bearer(testToken), Bearer(testToken), Bearer(testToken)),
		logs.String(),
	} {
		if strings.Contains(s, testPassword) || strings.Contains(s, testToken) {
			t.Fatalf("secret printed: %s", s)
		}
	}
}

func TestWithCredentialsSharesTransport(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, fixture(t, "ocs_user_v2.json"))
	})
	hc := &http.Client{Timeout: time.Second}
	base, err := New(rec.URL, Basic(testUser, testPassword), WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	other := base.WithCredentials(Bearer(testToken))
	if other.cfg != base.cfg || other.cfg.hc != hc {
		t.Fatal("WithCredentials did not share the configuration and transport")
	}
	anon := base.WithCredentials(nil)
	ctx := context.Background()
	for _, c := range []*Client{base, other, anon} {
		if _, err := c.CurrentUser(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"Basic " + base64.StdEncoding.EncodeToString([]byte(testUser+":"+testPassword)),
		"Bearer " + testToken,
		"",
	}
	reqs := rec.requests()
	for i := range want {
		if got := reqs[i].Header.Get("Authorization"); got != want[i] {
			t.Errorf("request %d Authorization = %q, want %q", i, got, want[i])
		}
	}
	if base.AuthKind() != AuthBasic || other.AuthKind() != AuthBearer || anon.AuthKind() != AuthNone {
		t.Fatal("AuthKind wrong")
	}
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
		{
			name: "GET retried until success", statuses: []int{503, 502, 200},
			call:         func(c *Client) error { _, err := c.GetNote(ctx, 76); return err },
			wantAttempts: 3,
		},
		{
			name: "GET gives up after max attempts", statuses: []int{503},
			call:         func(c *Client) error { _, err := c.GetNote(ctx, 76); return err },
			wantAttempts: 3, wantErr: "Nextcloud could not get note 76: HTTP 503 Service Unavailable",
		},
		{
			name: "GET 429 retried", statuses: []int{429, 200},
			call:         func(c *Client) error { _, err := c.GetNote(ctx, 76); return err },
			wantAttempts: 2,
		},
		{
			name: "GET 404 not retried", statuses: []int{404},
			call:         func(c *Client) error { _, err := c.GetNote(ctx, 76); return err },
			wantAttempts: 1, wantErr: "Note 76 not found",
		},
		{
			name: "POST never retried", statuses: []int{503, 200},
			call:         func(c *Client) error { _, err := c.CreateNote(ctx, NewNote{Title: "x"}); return err },
			wantAttempts: 1, wantErr: "Nextcloud could not create a note: HTTP 503",
		},
		{
			name: "conditional PUT never retried", statuses: []int{503, 200},
			call: func(c *Client) error {
				s := "x"
				_, err := c.UpdateNote(ctx, 76, "abc", NoteUpdate{Content: &s})
				return err
			},
			wantAttempts: 1, wantErr: "HTTP 503",
		},
		{
			name: "unconditional PUT retried", statuses: []int{500, 200},
			call: func(c *Client) error {
				s := "x"
				_, err := c.UpdateNote(ctx, 76, "", NoteUpdate{Content: &s})
				return err
			},
			wantAttempts: 2,
		},
		{
			name: "DELETE never retried", statuses: []int{502, 200},
			call:         func(c *Client) error { return c.DeleteNote(ctx, 76) },
			wantAttempts: 1, wantErr: "Nextcloud could not delete note 76: HTTP 502",
		},
		{
			name: "settings PUT retried", statuses: []int{504, 200},
			call: func(c *Client) error {
				_, err := c.UpdateNotesSettings(ctx, NotesSettings{FileSuffix: ".txt"})
				return err
			},
			wantAttempts: 2,
		},
		{
			name: "OCS GET retried", statuses: []int{503, 200},
			call:         func(c *Client) error { _, err := c.CurrentUser(ctx); return err },
			wantAttempts: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				st := tt.statuses[min(i, len(tt.statuses)-1)]
				if st != 200 {
					writeJSON(w, st, []byte(`{"message":""}`))
					return
				}
				switch {
				case strings.HasPrefix(r.URL.Path, "/ocs/"):
					writeJSON(w, 200, fixture(t, "ocs_user_v2.json"))
				case strings.HasSuffix(r.URL.Path, "/settings"):
					writeJSON(w, 200, fixture(t, "notes_settings.json"))
				case r.Method == http.MethodDelete:
					writeJSON(w, 200, []byte(`[]`))
				default:
					writeJSON(w, 200, fixture(t, "note_76.json"))
				}
			})
			c := newTestClient(t, rec)
			err := tt.call(c)
			if got := len(rec.requests()); got != tt.wantAttempts {
				t.Errorf("attempts = %d, want %d", got, tt.wantAttempts)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

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
						conn.Close()
					}
					return
				}
				writeJSON(w, 200, fixture(t, "note_76.json"))
			})
			c := newTestClient(t, rec)
			var err error
			if tt.post {
				_, err = c.CreateNote(context.Background(), NewNote{Title: "x"})
			} else {
				_, err = c.GetNote(context.Background(), 76)
			}
			if n.Load() != tt.wantAttempts {
				t.Fatalf("attempts = %d, want %d", n.Load(), tt.wantAttempts)
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				if !strings.HasPrefix(err.Error(), "could not reach Nextcloud to create a note: ") {
					t.Fatalf("message = %q", err)
				}
				if !errors.Is(err, ErrUnavailable) {
					t.Fatal("transport failure should match ErrUnavailable")
				}
				if strings.Contains(err.Error(), rec.URL) {
					t.Fatalf("message carries the URL: %q", err)
				}
			}
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
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetNote(context.Background(), 76); err != nil {
		t.Fatal(err)
	}
	if len(ns.delays) != 2 {
		t.Fatalf("delays = %v", ns.delays)
	}
	if ns.delays[0] != time.Second {
		t.Errorf("Retry-After not honoured: %v", ns.delays[0])
	}
	// Second retry: base<<1 = 200ms ± 20 %.
	if d := ns.delays[1]; d < 160*time.Millisecond || d > 240*time.Millisecond {
		t.Errorf("backoff = %v, want 200ms ± 20%%", d)
	}
}

func TestRetryAfterBeyondDeadlineGivesUp(t *testing.T) {
	var n atomic.Int32
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Retry-After", "120")
		writeJSON(w, 503, []byte(`{"message":"maintenance"}`))
	})
	c := newTestClient(t, rec, WithTimeout(200*time.Millisecond), WithRetry(3, time.Millisecond, time.Hour))
	_, err := c.GetNote(context.Background(), 76)
	if n.Load() != 1 {
		t.Fatalf("attempts = %d, want 1 (no time left to wait)", n.Load())
	}
	if err == nil || !strings.Contains(err.Error(), "HTTP 503 Service Unavailable: maintenance") {
		t.Fatalf("err = %v", err)
	}
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
		_, err := c.GetNote(context.Background(), 76)
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("took %v", el)
		}
		if !IsTimeout(err) {
			t.Fatalf("err = %v, want timeout", err)
		}
		if want := "Nextcloud did not answer within 50ms while trying to get note 76"; err.Error() != want {
			t.Fatalf("message = %q, want %q", err, want)
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		c := newTestClient(t, rec)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(20 * time.Millisecond); cancel() }()
		_, err := c.CurrentUser(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if IsTimeout(err) {
			t.Fatal("a cancellation is not a timeout")
		}
		if want := "the request to read the current user was canceled"; err.Error() != want {
			t.Fatalf("message = %q", err)
		}
	})
	t.Run("caller deadline", func(t *testing.T) {
		c := newTestClient(t, rec)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		_, err := c.ListNotes(ctx, ListOptions{})
		if !IsTimeout(err) || !strings.Contains(err.Error(), "list notes ran out of time") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("already canceled sends nothing", func(t *testing.T) {
		before := len(rec.requests())
		c := newTestClient(t, rec)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.GetNote(ctx, 1); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		if len(rec.requests()) != before {
			t.Fatal("a request went out on a canceled context")
		}
	})
}

func TestResponseSizeLimit(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, bytes.Repeat([]byte("x"), 4096))
	})
	c := newTestClient(t, rec, WithMaxResponseBytes(1024))
	_, err := c.GetNote(context.Background(), 76)
	if err == nil || !strings.Contains(err.Error(), "response body exceeds the 1 KiB limit") {
		t.Fatalf("err = %v", err)
	}
	if len(rec.requests()) != 1 {
		t.Fatal("an oversized answer must not be retried")
	}
}

func TestUnreachableServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ns := &noSleep{}
	c, err := New("http://"+addr, Bearer(testToken), withSleep(ns.sleep))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetNote(context.Background(), 1)
	if !errors.Is(err, ErrUnavailable) || !strings.HasPrefix(err.Error(), "could not reach Nextcloud to get note 1: ") {
		t.Fatalf("err = %v", err)
	}
	if len(ns.delays) != DefaultMaxAttempts-1 {
		t.Fatalf("retries = %d", len(ns.delays))
	}
	if strings.Contains(err.Error(), testToken) {
		t.Fatal("token in error")
	}
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
		c.GetNote(context.Background(), 1) // times out
		c.GetNote(context.Background(), 2) // 503 ×3
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		c.GetNote(ctx, 1) // canceled before sending
	}
	hc.CloseIdleConnections()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > base+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		hc.CloseIdleConnections()
	}
	if n := runtime.NumGoroutine(); n > base+2 {
		t.Fatalf("goroutines: %d before, %d after", base, n)
	}
}
