// Package nextcloud is a fake Nextcloud server for tests: OCS (capabilities,
// users, groups, files sharing), the Notes API v1, WebDAV files with SEARCH,
// and the authentication and error dialects of the real server — HTTP Basic
// with passwords and app passwords, JWT bearer tokens validated like the
// user_oidc app, the CSRF and #[CORS] quirks — over one virtual file tree
// per user (package vfs).
//
// The fake copies Nextcloud's status codes, bodies and quirks on purpose: a
// fake kinder than the real server hides client bugs. Each behaviour's
// source in Nextcloud is cited in the contract tests. It is an independent
// implementation and imports nothing from the server it is used to test.
//
// The core — authentication, error dialects, the OCS envelope, routing,
// the state lock, persistence, the control API and a sabre-style DAV
// server — never names a Nextcloud app. Each app (files, dav,
// files_sharing, theming, notes) is a file of its own implementing the app
// interface (app.go), listed once in the registry (apps.go). Adding an app
// such as Deck is one file, its tests and one registry line; README.md,
// "Adding an app", walks through it.
//
// Use New for an http.Handler, nctest.Start in Go tests, or the
// fake-nextcloud binary.
package nextcloud

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/internal/fault"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/internal/reqlog"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/bearer"
)

// Modes of Config.BearerOnAppRoutes.
const (
	// BearerAccept behaves like a Nextcloud whose CORSMiddleware lets Bearer
	// requests through (nextcloud/server PR #55878, or the patch the MCP
	// project's docker stack applies).
	BearerAccept = "accept"
	// BearerReject behaves like stock Nextcloud: a Bearer request to a
	// #[CORS] app route without OCS-APIRequest gets 401 "CORS requires basic
	// auth" (nextcloud/server#44365).
	BearerReject = "reject"
)

// UID mappings for bearer tokens (Config.UIDMapping).
const (
	UIDFromSub               = "sub"
	UIDFromPreferredUsername = "preferred_username"
	// UIDHashed is user_oidc's default unique-uid mode:
	// sha256("<providerId>_0_<sub>") with provider id 1.
	UIDHashed = "hashed"
)

// Config configures a fake.
type Config struct {
	// OIDCIssuer enables bearer JWTs from this issuer (discovery at
	// OIDCIssuer/.well-known/openid-configuration). Empty: no JWT support
	// (app passwords still work as bearer tokens).
	OIDCIssuer string
	// OIDCClientID is the client id a token's aud must contain ("nextcloud").
	OIDCClientID string
	// SkipAudienceCheck switches the aud check off
	// (selfencoded_bearer_validation_audience_check = false).
	SkipAudienceCheck bool
	// UIDMapping maps token claims to a Nextcloud uid: "sub" (default),
	// "preferred_username" or "hashed".
	UIDMapping string
	// DisableAutoProvision refuses bearer tokens of unknown users instead of
	// creating them (user_oidc auto_provision = false).
	DisableAutoProvision bool
	// BearerOnAppRoutes is "accept" (default) or "reject"; see the constants.
	BearerOnAppRoutes string
	// DataDir persists the state (state.json) when set; in memory otherwise.
	DataDir string
	// ControlAPI serves /_fake/.
	ControlAPI bool
	// Seed replaces the default seed when non-nil.
	Seed *Seed
	// HTTPClient fetches OIDC discovery and JWKS; 10 s timeout when nil.
	HTTPClient *http.Client
	// Logger receives operational logs (never secrets); discarded when nil.
	Logger *slog.Logger
	// MaxBodyBytes caps request bodies (413 above); 64 MiB when zero.
	MaxBodyBytes int64
	// Version is the Nextcloud version reported ("32.0.14" when empty).
	Version string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// LogLimit caps the request log (oldest dropped); 10000 when zero.
	LogLimit int
	// UploadDir is where chunked uploads spool their chunks (a directory
	// of the fake's own is made inside it and removed by Close); the
	// system's temporary directory when empty.
	UploadDir string
	// UploadExpiry is how long a chunked upload may go without a write
	// before it is removed (Nextcloud's UploadCleanup job: 24 hours, the
	// default when zero). Measured on the Now clock.
	UploadExpiry time.Duration
	// MaxUploadsPerUser bounds a user's open chunked uploads (MKCOL gets
	// 507 beyond); 100 when zero.
	MaxUploadsPerUser int
	// MaxUploadBytes bounds the bytes a user's open chunked uploads hold,
	// and so the largest file one can assemble (507 beyond); 1 GiB when
	// zero. Each chunk is also a request body under MaxBodyBytes.
	MaxUploadBytes int64
}

// DefaultConfig returns the defaults: client id "nextcloud", uid = sub,
// Bearer accepted on app routes, in memory, default seed.
func DefaultConfig() Config {
	return Config{OIDCClientID: "nextcloud", UIDMapping: UIDFromSub, BearerOnAppRoutes: BearerAccept}
}

// Nextcloud is a running fake. It is an http.Handler.
type Nextcloud struct {
	// apps are the registered apps (apps.go) and, in tests, extra ones;
	// routes, ocs and dav are the index.php routes, OCS routes and DAV
	// tree they make, built once.
	apps   []app
	routes []appRoute
	ocs    []ocsRoute
	dav    *davServer

	cfg    Config
	logger *slog.Logger
	now    func() time.Time
	oidc   *bearer.Validator

	mu sync.Mutex // guards st, bearerMode and uploads
	st *state
	// uploads are the open chunked uploads (dav_uploads.go): like
	// Nextcloud's upload folders and distributed cache they are not part
	// of the persisted state.
	uploads *uploadStore
	mode    string
	seed    Seed
	store   *persister

	reqLog *reqlog.Log[LogEntry]
	faults fault.Queue[Fault]
}

// New builds a fake from cfg.
func New(cfg Config) (*Nextcloud, error) { return newWithApps(cfg) }

// newWithApps builds a fake serving the registered apps and extra ones
// (tests prove the app seam with apps of their own).
func newWithApps(cfg Config, extra ...app) (*Nextcloud, error) {
	if cfg.OIDCClientID == "" {
		cfg.OIDCClientID = "nextcloud"
	}
	switch cfg.UIDMapping {
	case "":
		cfg.UIDMapping = UIDFromSub
	case UIDFromSub, UIDFromPreferredUsername, UIDHashed:
	default:
		return nil, fmt.Errorf("nextcloud: unknown uid mapping %q (want sub, preferred_username or hashed)", cfg.UIDMapping)
	}
	if cfg.BearerOnAppRoutes == "" {
		cfg.BearerOnAppRoutes = BearerAccept
	}
	if err := checkMode(cfg.BearerOnAppRoutes); err != nil {
		return nil, err
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 20
	}
	if cfg.Version == "" {
		cfg.Version = "32.0.14"
	}
	if cfg.LogLimit <= 0 {
		cfg.LogLimit = 10000
	}
	if cfg.UploadExpiry <= 0 {
		cfg.UploadExpiry = 24 * time.Hour
	}
	if cfg.MaxUploadsPerUser <= 0 {
		cfg.MaxUploadsPerUser = 100
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 1 << 30
	}
	n := &Nextcloud{cfg: cfg, logger: cfg.Logger, now: cfg.Now, mode: cfg.BearerOnAppRoutes, reqLog: reqlog.New[LogEntry](cfg.LogLimit),
		uploads: newUploadStore(cfg.UploadDir)}
	n.apps = append(append([]app{}, apps...), extra...)
	if err := checkApps(n.apps); err != nil {
		return nil, err
	}
	dav, err := newDAVServer(n.apps)
	if err != nil {
		return nil, err
	}
	n.dav, n.routes, n.ocs = dav, indexRoutes(n.apps), n.ocsRoutes(n.apps)
	if n.logger == nil {
		n.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if n.now == nil {
		n.now = time.Now
	}
	if cfg.OIDCIssuer != "" {
		n.oidc = bearer.New(bearer.Config{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID,
			SkipAudienceCheck: cfg.SkipAudienceCheck, HTTPClient: cfg.HTTPClient, Now: n.now})
	}
	n.seed = defaultSeedFor(n.apps)
	if cfg.Seed != nil {
		n.seed = *cfg.Seed
	}
	if cfg.DataDir != "" {
		p, err := newPersister(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		n.store = p
		st, err := p.load(n.now, n.apps)
		if err != nil {
			return nil, err
		}
		if st != nil {
			n.st = st
			n.logger.Info("state loaded", "dir", cfg.DataDir)
			return n, nil
		}
	}
	st, err := n.freshState(n.seed)
	if err != nil {
		return nil, err
	}
	n.st = st
	if err := n.saveLocked(); err != nil {
		return nil, err
	}
	return n, nil
}

func checkMode(mode string) error {
	if mode != BearerAccept && mode != BearerReject {
		return fmt.Errorf("nextcloud: bearer-on-app-routes must be %q or %q, not %q", BearerAccept, BearerReject, mode)
	}
	return nil
}

func newInstanceID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [10]byte
	_, _ = rand.Read(b[:])
	out := []byte("oc")
	for _, c := range b {
		out = append(out, alphabet[int(c)%len(alphabet)])
	}
	return string(out)
}

func (n *Nextcloud) freshState(seed Seed) (*state, error) {
	st := newState(newInstanceID(), n.now, n.apps)
	if err := st.applySeed(seed); err != nil {
		return nil, err
	}
	return st, nil
}

// Close flushes the state to DataDir (if any) and removes the chunked
// uploads' spool.
func (n *Nextcloud) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return errors.Join(n.saveLocked(), n.uploads.clear())
}

func (n *Nextcloud) saveLocked() error {
	if n.store == nil {
		return nil
	}
	return n.store.save(n.st)
}

// SetBearerOnAppRoutes switches the #[CORS] behaviour at run time.
func (n *Nextcloud) SetBearerOnAppRoutes(mode string) error {
	if err := checkMode(mode); err != nil {
		return err
	}
	n.mu.Lock()
	n.mode = mode
	n.mu.Unlock()
	return nil
}

// BearerOnAppRoutes returns the current #[CORS] mode.
func (n *Nextcloud) BearerOnAppRoutes() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mode
}

// SeedData adds users, app passwords, files and notes to the running fake.
func (n *Nextcloud) SeedData(s Seed) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.st.applySeed(s); err != nil {
		return err
	}
	return n.saveLocked()
}

// Reset restores the initial seed: every user, file, share and note created
// since is gone, the request log and faults are cleared, and the #[CORS]
// mode returns to the configured one.
func (n *Nextcloud) Reset() error {
	st, err := n.freshState(n.seed)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.st = st
	n.mode = n.cfg.BearerOnAppRoutes
	err = errors.Join(n.saveLocked(), n.uploads.clear())
	n.mu.Unlock()
	if n.oidc != nil {
		n.oidc.Invalidate()
	}
	n.ResetLog()
	n.ClearFaults()
	return err
}

// AppPassword returns the first app password of uid (handy in tests).
func (n *Nextcloud) AppPassword(uid string) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	u := n.st.users[uid]
	if u == nil || len(u.AppPasswords) == 0 {
		return "", false
	}
	return u.AppPasswords[0], true
}

// dialect is how a route family reports errors.
type dialect int

const (
	dialectPlain dialect = iota
	dialectOCS
	dialectApp
	dialectDAV
)

func dialectOf(path string) dialect {
	switch {
	case strings.HasPrefix(path, "/ocs/"):
		return dialectOCS
	case strings.HasPrefix(path, "/index.php/") || strings.HasPrefix(path, "/apps/"):
		return dialectApp
	case strings.HasPrefix(path, "/remote.php/"):
		return dialectDAV
	}
	return dialectPlain
}

// ServeHTTP routes a request to the entry point it names.
func (n *Nextcloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/healthz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
		return
	case p == "/_fake" || strings.HasPrefix(p, "/_fake/"):
		if !n.cfg.ControlAPI {
			http.NotFound(w, r)
			return
		}
		n.serveControl(w, r)
		return
	}

	rec := reqlog.NewRecorder(w)
	entry := &LogEntry{Time: n.now().UTC(), Method: r.Method, Path: p, AuthKind: authNone,
		OCSAPIRequest: r.Header.Get("OCS-APIRequest") != ""}
	ctx := context.WithValue(r.Context(), entryKey{}, entry)
	r = r.WithContext(ctx)
	defer func() {
		if v := recover(); v != nil {
			n.logger.Error("handler panic", "method", r.Method, "path", p, "panic", fmt.Sprint(v))
			if !rec.Written() {
				writeServerError(rec, dialectOf(p))
			}
			entry.Status = http.StatusInternalServerError
			n.reqLog.Append(*entry)
			return
		}
		entry.Status = rec.Status()
		n.reqLog.Append(*entry)
	}()

	d := dialectOf(p)
	if f := n.takeFault(r); f != nil {
		if !fault.Wait(r.Context(), f.Delay) {
			return
		}
		if f.Status != 0 {
			writeFault(rec, d, f)
			return
		}
	}
	if r.ContentLength > n.cfg.MaxBodyBytes {
		writeTooLarge(rec)
		return
	}
	r.Body = http.MaxBytesReader(rec, r.Body, n.cfg.MaxBodyBytes)

	switch {
	case p == "/status.php":
		n.serveStatus(rec)
	case strings.HasPrefix(p, "/ocs/v1.php/") || strings.HasPrefix(p, "/ocs/v2.php/"):
		n.serveOCS(rec, r)
	case strings.HasPrefix(p, "/index.php/"):
		n.serveIndex(rec, r, strings.TrimPrefix(p, "/index.php"))
	case strings.HasPrefix(p, "/apps/"):
		// Pretty URLs: the same routes without /index.php.
		n.serveIndex(rec, r, p)
	case n.dav.serves(p):
		n.serveDAV(rec, r)
	default:
		writeNotFoundPage(rec)
	}
}

type entryKey struct{}

func logEntryOf(r *http.Request) *LogEntry {
	e, _ := r.Context().Value(entryKey{}).(*LogEntry)
	if e == nil {
		return &LogEntry{}
	}
	return e
}

// readBody reads a request body under the size cap; a body over the cap is
// errTooLarge.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errTooLarge
	}
	return b, err
}

var errTooLarge = errors.New("request body too large")

// writeTooLarge is what the web server in front of Nextcloud answers for a
// body over its limit (nginx client_max_body_size).
func writeTooLarge(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	_, _ = io.WriteString(w, "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n</body>\r\n</html>\r\n")
}

func writeServerError(w http.ResponseWriter, d dialect) {
	switch d {
	case dialectDAV:
		writeDAVError(w, &davError{status: 500, exception: "Exception", message: "Internal Server Error"})
	case dialectOCS, dialectApp:
		writeAppMessage(w, http.StatusInternalServerError, "Internal Server Error")
	default:
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
	}
}

func (n *Nextcloud) serveStatus(w http.ResponseWriter) {
	writeAppJSON(w, http.StatusOK, obj{
		{"installed", true}, {"maintenance", false}, {"needsDbUpgrade", false},
		{"version", n.cfg.Version + ".1"}, {"versionstring", n.cfg.Version}, {"edition", ""},
		{"productname", "Nextcloud"}, {"extendedSupport", false},
	})
}

// withState runs fn under the state lock and persists afterwards when fn
// reports a change.
func (n *Nextcloud) withState(fn func(st *state) (changed bool)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if fn(n.st) {
		if err := n.saveLocked(); err != nil {
			n.logger.Error("saving state failed", "err", err)
		}
	}
}

// unix is the fake's clock in unix seconds.
func (n *Nextcloud) unix() int64 { return n.now().Unix() }
