package asclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"
	"time"
)

func TestMetadataURLs(t *testing.T) {
	got, _ := MetadataURLs("https://auth.example.com/tenant1")
	want := []string{
		"https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
		"https://auth.example.com/.well-known/openid-configuration/tenant1",
		"https://auth.example.com/tenant1/.well-known/openid-configuration",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("with a path: %v", got)
	}
	got, _ = MetadataURLs("https://auth.example.com/")
	if !reflect.DeepEqual(got, []string{"https://auth.example.com/.well-known/oauth-authorization-server", "https://auth.example.com/.well-known/openid-configuration"}) {
		t.Errorf("without a path: %v", got)
	}
	if _, err := MetadataURLs("auth.example.com"); err == nil {
		t.Error("relative issuer: want an error")
	}
}

func TestDiscoverFallsBackAndPostAuthenticates(t *testing.T) {
	var hs *httptest.Server
	hs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"issuer":"` + hs.URL + `","token_endpoint":"` + hs.URL + `/token","introspection_endpoint":"` + hs.URL + `/introspect"}`)) // a failed write shows up as the client's error
		case "/introspect":
			id, secret, ok := r.BasicAuth()
			if !ok || id != "c+d" || secret != "s%2Bt" {
				w.WriteHeader(401)
				_, _ = w.Write([]byte(`{"error":"invalid_client"}`)) // a failed write shows up as the client's error
				return
			}
			_, _ = w.Write([]byte(`{"active":true}`)) // a failed write shows up as the client's error
		default:
			http.NotFound(w, r)
		}
	}))
	defer hs.Close()
	hc := &http.Client{Timeout: 5 * time.Second}
	m, err := Discover(context.Background(), hc, hs.URL)
	if err != nil || m.TokenEndpoint != hs.URL+"/token" || m.URL != hs.URL+"/.well-known/openid-configuration" {
		t.Fatalf("Discover = %+v, %v", m, err)
	}
	// RFC 6749 §2.3.1: id and secret are form-encoded before Basic.
	active, _, err := Introspect(context.Background(), hc, m.IntrospectionEndpoint, &Client{ID: "c d", Secret: "s t"}, "tok", "")
	if err == nil || active {
		t.Fatalf("wrong secret: %v %v", active, err)
	}
	active, _, err = Introspect(context.Background(), hc, m.IntrospectionEndpoint, &Client{ID: "c d", Secret: "s+t"}, "tok", "")
	if err != nil || !active {
		t.Fatalf("right secret: %v %v", active, err)
	}
	a, err := Post(context.Background(), hc, hs.URL+"/introspect", url.Values{}, nil)
	if err != nil || a.Status != 401 || a.Error() != "invalid_client" || a.Summary() != "HTTP 401 error=invalid_client" {
		t.Fatalf("unauthenticated: %+v %v", a, err)
	}
}
