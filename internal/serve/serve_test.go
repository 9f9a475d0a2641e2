package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRunPrintsReadyLineAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			Addr: "127.0.0.1:0",
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, "ok") // a failed write shows up as the client's error
			}),
			Ready:  func(base string) map[string]any { return map[string]any{"issuer": base + "/x"} },
			Stdout: pw,
		})
		// Ends the reader below; closing a pipe writer never fails.
		_ = pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("read ready line: %v", err)
	}
	var got struct {
		Ready  bool   `json:"ready"`
		URL    string `json:"url"`
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("ready line %q is not JSON: %v", line, err)
	}
	if !got.Ready || !strings.HasPrefix(got.URL, "http://127.0.0.1:") || got.Issuer != got.URL+"/x" {
		t.Fatalf("ready line = %+v", got)
	}
	resp, err := http.Get(got.URL)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	require.NoError(t, resp.Body.Close())
	// Keep the pipe drained until Run closes it; there is nothing to check.
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v after cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestRunRejectsBadAddress(t *testing.T) {
	for _, addr := range []string{"", "not-an-address", "127.0.0.1:99999"} {
		if err := Run(context.Background(), Options{Addr: addr, Handler: http.NotFoundHandler(), Stdout: io.Discard}); err == nil {
			t.Errorf("Run(%q) succeeded", addr)
		}
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{flag.ErrHelp, 0},
		{fmt.Errorf("bad flag: %w", ErrUsage), 2},
		{errors.New("listen failed"), 1},
	} {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
