package smoketest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Labels on every container the suites start. LabelRun carries the run id
// so the end-of-run sweep and `make smoke`'s final check touch only this
// run's containers, never those of another run on the same engine.
const (
	LabelSmoke = "nextcloud-mcp-go.smoke"
	LabelRun   = "nextcloud-mcp-go.smoke.run"
	LabelRole  = "nextcloud-mcp-go.smoke.role"
)

// SetEnvDefaults prepares the testcontainers settings the suites need.
// Ryuk is always disabled: its image cannot be pulled here, and the suites
// terminate every container themselves (t.Cleanup, then Sweep).
// TESTCONTAINERS_HOST_OVERRIDE defaults to the loopback address (otherwise
// testcontainers dials a private gateway address); a value the caller set
// is kept, for engines on other hosts.
func SetEnvDefaults() error {
	err := os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	if _, ok := os.LookupEnv("TESTCONTAINERS_HOST_OVERRIDE"); !ok {
		err = errors.Join(err, os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1"))
	}
	if err != nil {
		return fmt.Errorf("smoketest: setting the testcontainers environment: %w", err)
	}
	return nil
}

// RunID identifies this run's containers: SMOKE_RUN_ID when set (make
// smoke sets it and checks for leftovers with it), otherwise one derived
// from the process.
func RunID() string {
	if id := os.Getenv("SMOKE_RUN_ID"); id != "" {
		return id
	}
	return strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.Itoa(os.Getpid())
}

// ErrNoEngine is returned by CheckEngine when no Docker engine answers.
var ErrNoEngine = errors.New("no Docker engine reachable")

// CheckEngine pings the Docker engine testcontainers would use and says
// clearly what to do when there is none.
func CheckEngine(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err == nil {
		defer closeDocker(c)
		_, err = c.Ping(ctx, client.PingOptions{})
	}
	if err != nil {
		return fmt.Errorf("%w (%v): the smoke suites run every binary in its own container. "+
			"Start a Docker engine (CI: `bash .ci/run` installs and starts dockerd) or point DOCKER_HOST at one", ErrNoEngine, err)
	}
	return nil
}

// closeDocker releases a Docker client's connections. Its error is dropped
// on purpose: the answers the caller needed have arrived (or their errors
// are reported), and a client that fails to close holds nothing of value.
func closeDocker(c io.Closer) { _ = c.Close() }

// Sweep force-removes every container labelled with this run id and
// returns how many there were. TestMain calls it after the suites as a
// backstop for t.Cleanup; a non-zero count means a cleanup was missed.
func Sweep(ctx context.Context, runID string) (int, error) {
	c, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return 0, err
	}
	defer closeDocker(c)
	list, err := c.ContainerList(ctx, client.ContainerListOptions{All: true,
		Filters: make(client.Filters).Add("label", LabelRun+"="+runID)})
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, ctr := range list.Items {
		_, err := c.ContainerRemove(ctx, ctr.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		// Gone already, or being removed by a concurrent cleanup: fine.
		if err != nil && !errdefs.IsNotFound(err) && !errdefs.IsConflict(err) {
			errs = append(errs, err)
		}
	}
	return len(list.Items), errors.Join(errs...)
}

// stopping is set by Shutdown: no new container may start.
var stopping atomic.Bool

// Shutdown is for an interrupted run: it stops Start from creating
// containers, then sweeps this run's containers until none has appeared
// for a moment — containers that were being created when it began show
// up a little later.
func Shutdown(ctx context.Context, runID string) error {
	stopping.Store(true)
	for quiet := 0; quiet < 3; {
		n, err := Sweep(ctx, runID)
		if err != nil {
			return err
		}
		if n == 0 {
			quiet++
		} else {
			quiet = 0
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
	return nil
}

// Kill sends SIGKILL to a container: a replica that dies at once, without
// a graceful shutdown. The container stays (its log can still be read)
// until the test's cleanup removes it.
func Kill(ctx context.Context, c *Container) error {
	dc, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return err
	}
	defer closeDocker(dc)
	_, err = dc.ContainerKill(ctx, c.GetContainerID(), client.ContainerKillOptions{Signal: "KILL"})
	return err
}
