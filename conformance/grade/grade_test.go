package grade

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestStaticTokens(t *testing.T) {
	s := StaticTokens{Full: "full", ReadOnly: "read", Other: "other", Users: [2]string{"alice", "bob"}}
	tests := []struct {
		user   string
		scopes []string
		want   string
	}{
		{"alice", []string{"notes:read", "notes:write"}, "full"},
		{"alice", []string{"notes:read", "files:read"}, "read"},
		{"alice", []string{"openid"}, ""},
		{"bob", []string{"notes:read", "notes:write"}, "other"},
		{"bob", []string{"notes:read"}, ""},
	}
	for _, tt := range tests {
		got, err := s.Token(context.Background(), tt.user, tt.scopes)
		if tt.want == "" {
			if !errors.Is(err, ErrUnavailable) {
				t.Errorf("Token(%s, %v) = %q, %v; want ErrUnavailable", tt.user, tt.scopes, got, err)
			}
			continue
		}
		if got != tt.want || err != nil {
			t.Errorf("Token(%s, %v) = %q, %v; want %q", tt.user, tt.scopes, got, err, tt.want)
		}
	}
	if _, err := (StaticTokens{}).Token(context.Background(), "", []string{"a:write"}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("unconfigured: %v", err)
	}
}

func TestErrorfMapsUnavailableToNA(t *testing.T) {
	if o := Errorf("step", fmt.Errorf("x: %w", ErrUnavailable)); o.Status != NA {
		t.Errorf("%v", o)
	}
	if o := Errorf("step", errors.New("boom")); o.Status != Fail || !strings.Contains(o.Evidence, "step: boom") {
		t.Errorf("%v", o)
	}
	if o := Passf("a\n  b"); o.Evidence != "a b" {
		t.Errorf("evidence not one line: %q", o.Evidence)
	}
}

func TestMemoRunsOnce(t *testing.T) {
	var tg Target
	n := 0
	for i := 0; i < 3; i++ {
		v, _ := tg.Memo("k", func() (any, error) { n++; return n, nil })
		if v.(int) != 1 {
			t.Fatalf("memo returned %v", v)
		}
	}
	var order []int
	tg.Cleanup(func(context.Context) { order = append(order, 1) })
	tg.Cleanup(func(context.Context) { order = append(order, 2) })
	tg.RunCleanups(context.Background())
	tg.RunCleanups(context.Background())
	if fmt.Sprint(order) != "[2 1]" {
		t.Fatalf("cleanups ran %v", order)
	}
}

func TestRecorderKeepsOnlyChosenHosts(t *testing.T) {
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "from-a") // a failed write shows up as the client's error
	}))
	defer a.Close()
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "from-b") // a failed write shows up as the client's error
	}))
	defer b.Close()
	rec := NewRecorder(4, strings.TrimPrefix(a.URL, "http://"))
	c := NewRecordingClient(5*time.Second, rec)
	for _, u := range []string{a.URL, b.URL} {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		// Reading is what feeds the recorder.
		_, err = io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
	}
	if got := string(rec.Bytes()); got != "from" {
		t.Fatalf("recorded %q, want the first 4 bytes of a's answer only", got)
	}
}

func TestFakeIdPApprove(t *testing.T) {
	var cb string
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/authorize":
			if r.URL.Query().Get("login_hint") != "bob" {
				http.Error(w, "login_hint", 400)
				return
			}
			http.Redirect(w, r, "/authorize/consent?x=1", http.StatusFound)
		case "/authorize/consent":
			http.Redirect(w, r, cb+"?code=c&state=s", http.StatusFound)
		}
	}))
	defer idp.Close()
	cb = "http://127.0.0.1:1/oauth/callback"
	approve := FakeIdPApprove(NewHTTPClient(5 * time.Second))
	got, err := approve(context.Background(), idp.URL+"/authorize?redirect_uri="+cb+"&state=s&login_hint=alice", "bob")
	if err != nil || got != cb+"?code=c&state=s" {
		t.Fatalf("approve = %q, %v", got, err)
	}
	if _, err := approve(context.Background(), idp.URL+"/authorize?state=s", "bob"); err == nil {
		t.Fatal("no redirect_uri: want an error")
	}
}
