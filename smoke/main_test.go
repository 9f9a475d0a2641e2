//go:build smoke

package smoke

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/smoke/smoketest"
)

// Set once by TestMain for every suite.
var (
	images   smoketest.Images
	external smoketest.External
	runID    string
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	// Defensive: `make smoke` sets these too (Ryuk cannot be pulled here;
	// without the override testcontainers dials a private gateway address).
	if err := smoketest.SetEnvDefaults(); err != nil {
		fmt.Fprintln(os.Stderr, "smoke:", err)
		return 1
	}
	if os.Getenv("SMOKE_VERBOSE") == "" {
		// testcontainers narrates every container step; the suites report
		// what matters (failures carry the containers' log tails).
		tclog.SetDefault(tclog.NewNoopLogger())
	}
	ctx := context.Background()
	if err := smoketest.CheckEngine(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "smoke:", err)
		return 1
	}
	ext, err := smoketest.ExternalFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "smoke: the SMOKE_* settings for real images are wrong:\n%v\n", err)
		return 1
	}
	external = ext
	runID = smoketest.RunID()

	start := time.Now()
	var buildLog bytes.Buffer
	imgs, reports, err := smoketest.BuildImages(ctx, binDir(), smoketest.Binaries, &buildLog)
	if err != nil {
		fmt.Fprintf(os.Stderr, "smoke: %v\n%s", err, buildLog.String())
		return 1
	}
	images = imgs
	for _, r := range reports {
		what := "built"
		if r.Reused {
			what = "reused"
		}
		fmt.Printf("smoke: image %s %s in %.1fs\n", r.Ref, what, r.Took.Seconds())
	}
	fmt.Printf("smoke: images ready in %.1fs\n", time.Since(start).Seconds())

	// An interrupted run (Ctrl-C, SIGTERM from CI) skips t.Cleanup: remove
	// this run's containers before dying. (A -timeout panic cannot be
	// caught; make smoke's final check removes those containers.)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "smoke: %v: removing this run's containers\n", s)
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := smoketest.Shutdown(sctx, runID); err != nil {
			fmt.Fprintf(os.Stderr, "smoke: removing this run's containers: %v\n", err)
		}
		cancel()
		os.Exit(1)
	}()

	code := m.Run()

	// Backstop for t.Cleanup: nothing of this run may survive it.
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	n, err := smoketest.Sweep(sctx, runID)
	switch {
	case err != nil:
		fmt.Fprintf(os.Stderr, "smoke: sweeping this run's containers: %v\n", err)
		code = 1
	case n > 0:
		fmt.Fprintf(os.Stderr, "smoke: %d container(s) outlived their test and were removed by the sweep\n", n)
		code = 1
	}
	return code
}

// binDir is SMOKE_BIN, or bin/ at the repository root.
func binDir() string {
	if d := os.Getenv("SMOKE_BIN"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "bin")
}

// testContext bounds a suite.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// options are the deployment options every suite shares.
func options(mode smoketest.Mode, consent bool) smoketest.Options {
	return smoketest.Options{Mode: mode, ProgressiveConsent: consent, Images: images, External: external, RunID: runID}
}

// needFakes skips a check that needs a fake's control API when a real
// image stands in for it — the one case where a skip is acceptable.
func needFakes(t *testing.T, s *smoketest.Stack, what string) {
	t.Helper()
	if s.IdPControl == nil || s.NCControl == nil {
		t.Skipf("%s needs the fakes' control APIs (request logs, minting); a real image (SMOKE_IDP_IMAGE / SMOKE_NEXTCLOUD_IMAGE) stands in for a fake", what)
	}
}

// closeOnCleanup ends the MCP session when the test ends. A failed close is
// logged, not failed: the suite's verdict is about the calls it made, and
// the containers are removed right after.
func closeOnCleanup(t *testing.T, c *smoketest.Client) {
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Logf("closing the MCP session: %v", err)
		}
	})
}
