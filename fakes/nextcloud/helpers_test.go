package nextcloud_test

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/nctest"
)

var client = &http.Client{Timeout: 10 * time.Second}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r *resp) String() string { return strconv.Itoa(r.status) + " " + string(r.body) }

type reqOpt func(*http.Request)

func basic(user, pass string) reqOpt {
	return func(r *http.Request) { r.SetBasicAuth(user, pass) }
}

func asUser(uid string) reqOpt { return basic(uid, uid+"-password") }

func bearerTok(tok string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func hdr(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

func ocsHeader() reqOpt { return hdr("OCS-APIRequest", "true") }

func do(t testing.TB, s *nctest.Server, method, path, body string, opts ...reqOpt) *resp {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(req)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &resp{status: res.StatusCode, header: res.Header, body: b}
}

// jsonAt walks a decoded JSON document along a dotted path; list indexes
// are numbers ("ocs.data.0.id").
func jsonAt(t testing.TB, body []byte, path string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	if path == "" {
		return v
	}
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[p]; !ok {
				t.Fatalf("no %q in %s (path %s)", p, body, path)
			}
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(x) {
				t.Fatalf("bad index %q in %s (path %s)", p, body, path)
			}
			v = x[i]
		default:
			t.Fatalf("cannot descend into %T at %q (path %s)", v, p, path)
		}
	}
	return v
}

func startDefault(t testing.TB, mutate ...func(*nextcloud.Config)) *nctest.Server {
	return nctest.Start(t, mutate...)
}

func jsonEqual(got, want any) bool {
	if want == nil {
		return got == nil
	}
	return reflect.DeepEqual(got, want)
}

func jsonString(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	return ""
}

// hostHeader sends the request with another Host header (as a browser
// does after DNS rebinding).
func hostHeader(host string) reqOpt { return func(r *http.Request) { r.Host = host } }
