package stack

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTapRecordsRefreshTokensPerClient(t *testing.T) {
	tp := newTap()
	up := httptest.NewServer(tp.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/token" && r.FormValue("fail") == "" {
			_, _ = io.WriteString(w, `{"access_token":"a","refresh_token":"rt-`+r.FormValue("n")+`"}`) // a failed write shows up as the client's error
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"invalid_grant","refresh_token":"never"}`) // a failed write shows up as the client's error
	})))
	defer up.Close()
	post := func(path, body string, basic bool) string {
		req, _ := http.NewRequest("POST", up.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic {
			req.SetBasicAuth("srv%2Fx", "secret")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { assert.NoError(t, resp.Body.Close()) }()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := post("/token", "n=1", true); !strings.Contains(got, "rt-1") {
		t.Fatalf("the tap changed the answer: %s", got)
	}
	post("/token", "n=2", true)
	post("/token", "n=3&fail=1", true)
	post("/token", "n=4", false)
	post("/other", "n=5", true)
	if got := tp.RefreshTokens("srv/x"); strings.Join(got, ",") != "rt-1,rt-2" {
		t.Fatalf("RefreshTokens(srv/x) = %v", got)
	}
	if got := tp.RefreshTokens(""); strings.Join(got, ",") != "rt-4" {
		t.Fatalf("public client's tokens = %v", got)
	}
}
