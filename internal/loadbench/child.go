package loadbench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// readyTimeout bounds how long a component may take to print its ready
// line (the server discovers the IdP first).
const readyTimeout = 30 * time.Second

// stopTimeout bounds a component's graceful shutdown after SIGTERM.
const stopTimeout = 10 * time.Second

// child is one component running in its own process. Every binary of
// this repository prints one JSON ready line on stdout once it accepts
// connections (docs/architecture.md §4.1); its fields are Ready.
type child struct {
	name  string
	cmd   *exec.Cmd
	log   string // the file that receives its stderr
	Ready map[string]any
	done  chan struct{}
	err   error // Wait's result, once done is closed
}

// startChild runs path with args and exactly env (nothing inherited, so
// the caller's NEXTCLOUD_* variables cannot change a server's mode), sends
// its stderr to a file in logDir and waits for its ready line.
func startChild(ctx context.Context, logDir, name, path string, args, env []string) (*child, error) {
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stderr = logFile
	cmd.SysProcAttr = childAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, errors.Join(err, logFile.Close())
	}
	if err := cmd.Start(); err != nil {
		return nil, errors.Join(fmt.Errorf("starting %s: %w", name, err), logFile.Close())
	}
	// The child has its own copy of the file; ours is not needed.
	_ = logFile.Close()
	c := &child{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdout)
		line, err := br.ReadString('\n')
		if err == nil {
			lines <- line
		}
		close(lines)
		// Keep draining (the dev stack prints a banner after its ready
		// line) so the child never blocks on a full pipe.
		_, _ = io.Copy(io.Discard, br)
	}()
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	select {
	case line, ok := <-lines:
		if ok {
			if err := json.Unmarshal([]byte(line), &c.Ready); err == nil && c.Ready["ready"] == true {
				return c, nil
			}
		}
		err = fmt.Errorf("%s printed no ready line", name)
	case <-c.done:
		err = fmt.Errorf("%s exited before it was ready: %v", name, c.err)
	case <-timer.C:
		err = fmt.Errorf("%s was not ready within %s", name, readyTimeout)
	case <-ctx.Done():
		err = ctx.Err()
	}
	return nil, errors.Join(err, c.stop(), c.logTail())
}

// Pid is the child's process id.
func (c *child) Pid() int { return c.cmd.Process.Pid }

// URL returns a string field of the ready line ("url", "mcp_url", ...).
func (c *child) URL(field string) string {
	s, _ := c.Ready[field].(string)
	return s
}

// stop sends SIGTERM to this child (by its pid) and waits for it to exit,
// killing it if it does not within stopTimeout.
func (c *child) stop() error {
	select {
	case <-c.done:
		return nil
	default:
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("stopping %s: %w", c.name, err)
	}
	select {
	case <-c.done:
		return nil
	case <-time.After(stopTimeout):
		_ = c.cmd.Process.Kill() // it ignored SIGTERM; Wait reports the kill
		<-c.done
		return fmt.Errorf("%s did not stop within %s of SIGTERM and was killed", c.name, stopTimeout)
	}
}

// logTail returns the end of the child's log as an error, for a failure
// report (nil when the log is empty).
func (c *child) logTail() error {
	b, err := os.ReadFile(c.log)
	if err != nil || len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return fmt.Errorf("last lines of the %s log:\n  %s", c.name, strings.Join(lines, "\n  "))
}
