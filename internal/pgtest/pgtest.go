// Package pgtest starts throw-away PostgreSQL servers for tests: initdb
// into a test's temporary directory, a free loopback port, password
// authentication, stopped when the test ends. It needs the server binaries
// (Debian's postgresql package; `bash .ci/deps` installs it) and fails the
// test, naming that script, when they are missing: a store suite that
// silently skipped PostgreSQL would prove nothing. Run as root, the server
// runs as the postgres user (PostgreSQL refuses root).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is one running throw-away PostgreSQL server.
type Server struct {
	Port     int
	User     string
	Password string

	dir, data, logPath string
	bin                string
	cred               *syscall.Credential
	mu                 sync.Mutex
	cmd                *exec.Cmd
	exited             chan struct{}
	dbs                int
}

// MissingHint is the failure text when the binaries are absent.
const MissingHint = "PostgreSQL server binaries (initdb, postgres) not found: install them with `bash .ci/deps` (Debian's postgresql package), or set PG_BIN to their directory"

// BinDir finds the directory holding initdb and postgres: $PG_BIN, then
// Debian's /usr/lib/postgresql/<newest>/bin, then $PATH.
func BinDir() (string, error) {
	if d := os.Getenv("PG_BIN"); d != "" {
		return d, check(d)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if check(d) == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if d := filepath.Dir(p); check(d) == nil {
			return d, nil
		}
	}
	return "", errors.New(MissingHint)
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func check(dir string) error {
	for _, b := range []string{"initdb", "postgres"} {
		if st, err := os.Stat(filepath.Join(dir, b)); err != nil || st.Mode()&0o111 == 0 {
			return errors.New(MissingHint)
		}
	}
	return nil
}

// Start starts a server for t and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("pgtest: stopping PostgreSQL: %v", err)
		}
	})
	return s
}

// New initialises a cluster in dir and starts it. The caller must Stop it.
func New(dir string) (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	pw := make([]byte, 16)
	if _, err := rand.Read(pw); err != nil {
		return nil, err
	}
	s := &Server{User: "mcptest", Password: hex.EncodeToString(pw), dir: dir, bin: bin,
		data: filepath.Join(dir, "pgdata"), logPath: filepath.Join(dir, "postgres.log")}
	if os.Geteuid() == 0 {
		if err := s.dropRoot(); err != nil {
			return nil, err
		}
	}
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(s.Password+"\n"), 0o600); err != nil {
		return nil, err
	}
	if err := s.own(pwfile); err != nil {
		return nil, err
	}
	defer func() { _ = os.Remove(pwfile) }() // read by initdb only
	out, err := s.command(filepath.Join(bin, "initdb"), "-D", s.data, "-U", s.User, "--auth=scram-sha-256",
		"--pwfile="+pwfile, "--no-sync", "--encoding=UTF8", "--locale=C").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	if err := s.Restart(); err != nil {
		return nil, err
	}
	return s, nil
}

// dropRoot prepares running the server as the postgres user: the
// directory becomes traversable and owned by it.
func (s *Server) dropRoot() error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("pgtest: running as root needs the postgres user (Debian's postgresql package creates it; `bash .ci/deps`): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	// t.TempDir's directories are 0700 root: let the postgres user through.
	for d := s.dir; d != "/" && d != "." && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o711); err != nil {
			return err
		}
	}
	return s.own(s.dir)
}

func (s *Server) own(path string) error {
	if s.cred == nil {
		return nil
	}
	return os.Chown(path, int(s.cred.Uid), int(s.cred.Gid))
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	return cmd
}

// Restart starts the server again after Stop (on a new free port only if
// the old one is taken).
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("pgtest: already running")
	}
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		if s.Port == 0 || attempt > 0 {
			p, err := freePort()
			if err != nil {
				return err
			}
			s.Port = p
		}
		if last = s.start(); last == nil {
			return nil
		}
	}
	return last
}

func (s *Server) start() error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer func() { _ = logf.Close() }() // the child has its own descriptor
	cmd := s.command(filepath.Join(s.bin, "postgres"), "-D", s.data,
		"-p", strconv.Itoa(s.Port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=32MB")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: starting postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }() // the exit is observed through exited
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := pgx.Connect(ctx, s.URL("postgres"))
		if err == nil {
			_ = c.Close(ctx)
			cancel()
			s.cmd, s.exited = cmd, exited
			return nil
		}
		cancel()
		select {
		case <-exited:
			return fmt.Errorf("pgtest: postgres exited at start:\n%s", s.LogTail())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("pgtest: postgres did not accept connections within 30 s: %v\n%s", err, s.LogTail())
		}
	}
}

// Stop shuts the server down (fast shutdown; killed after 10 s).
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	// A paused server must run to shut down.
	for _, child := range children(s.cmd.Process.Pid) {
		_ = syscall.Kill(child, syscall.SIGCONT) // best effort, as in signal
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
	_ = s.cmd.Process.Signal(syscall.SIGINT) // fast shutdown; the wait below tells
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
	return nil
}

// Pause stops the server process (SIGSTOP): it accepts connections but
// answers nothing, like a database that hangs. Resume continues it.
func (s *Server) Pause() error  { return s.signal(syscall.SIGSTOP) }
func (s *Server) Resume() error { return s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return errors.New("pgtest: not running")
	}
	// Every backend is a child of the postmaster in a session of its own
	// (PostgreSQL calls setsid), so signal each child, then the postmaster.
	pid := s.cmd.Process.Pid
	for _, child := range children(pid) {
		_ = syscall.Kill(child, sig) // a backend that just exited needs nothing
	}
	return syscall.Kill(pid, sig)
}

// children lists the processes whose parent is pid (Linux /proc).
func children(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so split after ")".
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			if c, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// URL is the connection URL of database db.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", s.User, s.Password, s.Port, db)
}

// NewDatabase creates a fresh database and returns its URL.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	s.mu.Lock()
	s.dbs++
	name := fmt.Sprintf("t%d", s.dbs)
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer func() { _ = c.Close(ctx) }()
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: creating a database: %v", err)
	}
	return s.URL(name)
}

// Exec runs sql on database db as the test user (test set-up and faults).
func (s *Server) Exec(ctx context.Context, db, sql string, args ...any) error {
	c, err := pgx.Connect(ctx, s.URL(db))
	if err != nil {
		return err
	}
	defer func() { _ = c.Close(ctx) }()
	_, err = c.Exec(ctx, sql, args...)
	return err
}

// DataDir is the cluster's data directory (tests scan it for plaintext).
func (s *Server) DataDir() string { return s.data }

// LogTail is the end of the server's log.
func (s *Server) LogTail() string {
	b, _ := os.ReadFile(s.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = ln.Close() }() // frees the port for postgres
	return ln.Addr().(*net.TCPAddr).Port, nil
}
