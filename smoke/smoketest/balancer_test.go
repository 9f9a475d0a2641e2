package smoketest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBalancer: requests go round-robin; a backend that refuses
// connections is skipped and the request, body included, reaches the next
// one; with every backend down the answer is 502.
func TestBalancer(t *testing.T) {
	var backends []*httptest.Server
	var urls []string
	for i := range 3 {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%d:%s:%s", i, r.Host, b)
		}))
		backends = append(backends, s)
		urls = append(urls, s.URL)
	}
	lb, err := StartBalancer("127.0.0.1:0", urls)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, lb.Close()) })
	post := func() (int, string) {
		resp, err := http.Post(lb.URL+"/mcp", "application/json", strings.NewReader("payload"))
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	host := strings.TrimPrefix(lb.URL, "http://")
	for i := range 6 {
		status, body := post()
		assert.Equal(t, http.StatusOK, status)
		assert.Equal(t, fmt.Sprintf("%d:%s:payload", i%3, host), body, "request %d", i)
	}
	backends[1].Close()
	var got []string
	for range 3 {
		_, body := post()
		got = append(got, body[:1])
	}
	assert.Equal(t, []string{"0", "2", "2"}, got, "the closed backend's turn goes to the next one")
	backends[0].Close()
	backends[2].Close()
	status, _ := post()
	assert.Equal(t, http.StatusBadGateway, status)
}

// TestBalancerRecordsBeforeAnswering: a hit is in Hits as soon as the
// client has the answer's headers, even while the body still streams
// (an SSE answer), so a test reading Hits right after its call finds it.
func TestBalancerRecordsBeforeAnswering(t *testing.T) {
	release := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-release // the body ends only once the test has looked
	}))
	t.Cleanup(backend.Close)
	lb, err := StartBalancer("127.0.0.1:0", []string{backend.URL})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, lb.Close()) })

	resp, err := http.Post(lb.URL+"/mcp", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	hits := lb.Hits()
	close(release)
	require.Len(t, hits, 1, "the hit must be recorded before the client has the answer")
	assert.Equal(t, Hit{Backend: 0, Method: "POST", Path: "/mcp", Status: http.StatusOK}, hits[0])
	_, _ = io.Copy(io.Discard, resp.Body)
}
