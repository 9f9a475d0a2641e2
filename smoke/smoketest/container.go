package smoketest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// ReadyLine is what every binary of this project prints on stdout once it
// accepts connections ({"ready":true,"url":...}).
const ReadyLine = `"ready":true`

// Spec describes one container of a deployment. Every container runs on
// the host network: with `--listen 127.0.0.1:<port>` the URLs (and so the
// issuer) are the same inside and outside the containers, and all traffic
// stays on loopback.
type Spec struct {
	// Role names the container in labels and messages: "fake-idp",
	// "fake-nextcloud", "nextcloud-mcp", or "idp"/"nextcloud" for real images.
	Role  string
	Image string
	// Cmd replaces the image's CMD (arguments after the entrypoint).
	Cmd []string
	Env map[string]string
	// Files copies host files into the container: container path → host
	// path (e.g. a realm to import).
	Files map[string]string
	// Wait says when the service is up; default: the ready line in its log.
	Wait wait.Strategy
	// ReadyTimeout bounds the wait; default 30 s.
	ReadyTimeout time.Duration
	// RunID labels the container for the end-of-run sweep.
	RunID string
}

// Container is one running service of a deployment.
type Container struct {
	Role string
	testcontainers.Container
}

// Start runs s and registers its termination with t.Cleanup before
// anything can fail, so the container goes away when the test ends, pass
// or fail. A container that does not become ready is reported with the
// tail of its log, and returned along with the error when it exists.
func Start(ctx context.Context, t testing.TB, s Spec) (*Container, error) {
	t.Helper()
	if stopping.Load() {
		return nil, fmt.Errorf("smoketest: %s not started: the run is shutting down", s.Role)
	}
	timeout := s.ReadyTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	strategy := s.Wait
	if strategy == nil {
		strategy = wait.ForLog(ReadyLine).WithPollInterval(50 * time.Millisecond)
	}
	opts := []testcontainers.ContainerCustomizer{
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) { hc.NetworkMode = "host" }),
		testcontainers.WithLabels(map[string]string{LabelSmoke: "true", LabelRun: s.RunID, LabelRole: s.Role}),
		testcontainers.WithWaitStrategyAndDeadline(timeout, strategy),
	}
	if len(s.Cmd) > 0 {
		opts = append(opts, testcontainers.WithCmd(s.Cmd...))
	}
	if len(s.Env) > 0 {
		opts = append(opts, testcontainers.WithEnv(s.Env))
	}
	for dst, src := range s.Files {
		// Keep the host file's permissions: hook scripts must stay executable.
		mode := int64(0o644)
		if fi, err := os.Stat(src); err == nil {
			mode = int64(fi.Mode().Perm())
		}
		opts = append(opts, testcontainers.WithFiles(testcontainers.ContainerFile{HostFilePath: src, ContainerFilePath: dst, FileMode: mode}))
	}
	ctr, err := testcontainers.Run(ctx, s.Image, opts...)
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		msg := fmt.Sprintf("smoketest: %s (%s) did not start: %v", s.Role, s.Image, err)
		if ctr == nil {
			return nil, errors.New(msg)
		}
		if tail, lerr := LogTail(ctx, ctr, 20); lerr == nil && tail != "" {
			msg += "\nlast lines of its log:\n" + indent(tail)
		}
		// The container is returned too: its log must still be scanned.
		return &Container{Role: s.Role, Container: ctr}, errors.New(msg)
	}
	return &Container{Role: s.Role, Container: ctr}, nil
}

// LogText returns everything the container wrote to stdout and stderr.
func LogText(ctx context.Context, c testcontainers.Container) (string, error) {
	rc, err := c.Logs(ctx)
	if err != nil {
		return "", err
	}
	// The log is read to the end below and that read's error is returned;
	// closing the stream afterwards has nothing to add.
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(rc)
	return string(b), err
}

// LogTail returns the last n lines of the container's log.
func LogTail(ctx context.Context, c testcontainers.Container, n int) (string, error) {
	text, err := LogText(ctx, c)
	if err != nil {
		return "", err
	}
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n"), nil
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// handedOut remembers every port FreePorts returned in this process, so
// parallel deployments never get the same port, even after the first
// one's listener was closed.
var (
	portsMu   sync.Mutex
	handedOut = map[int]bool{}
)

// FreePorts returns n distinct free TCP ports on 127.0.0.1 that this
// process has not handed out before. The listeners are held until all
// ports are chosen, then closed for the containers to bind; with host
// networking nothing else maps them.
func FreePorts(n int) ([]int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			// Closing only frees the port for a container to bind; a
			// failure would leave nothing for the caller to do.
			_ = ln.Close()
		}
	}()
	ports := make([]int, 0, n)
	for attempts := 0; len(ports) < n; attempts++ {
		if attempts > 100*n {
			return nil, fmt.Errorf("smoketest: no %d unused free ports", n)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("smoketest: no free port: %w", err)
		}
		lns = append(lns, ln)
		p := ln.Addr().(*net.TCPAddr).Port
		if handedOut[p] {
			continue
		}
		handedOut[p] = true
		ports = append(ports, p)
	}
	return ports, nil
}

// LoopbackURL is http://127.0.0.1:port.
func LoopbackURL(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) }

// HTTPReady is a wait strategy for images that print no ready line (real
// Nextcloud, Keycloak): it polls URL until it answers 200 and, when
// Contains is set, the body contains it. It stops early if the container
// exits.
type HTTPReady struct {
	URL      string
	Contains string
}

// WaitUntilReady implements wait.Strategy.
func (h HTTPReady) WaitUntilReady(ctx context.Context, target wait.StrategyTarget) error {
	hc := &http.Client{Timeout: 5 * time.Second}
	var last string
	for {
		if st, err := target.State(ctx); err == nil && !st.Running {
			return fmt.Errorf("the container stopped (status %s, exit code %d) before %s answered", st.Status, st.ExitCode, h.URL)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			_ = resp.Body.Close() // read above; closing only releases the connection
			if resp.StatusCode == http.StatusOK && strings.Contains(string(b), h.Contains) {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready (last answer: %s): %w", h.URL, last, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}
