package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"slices"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/bearer"
)

// Defaults of the MCP endpoint's bounds (README: Limits).
const (
	DefaultMaxSessions        = 1000
	DefaultMaxSessionsPerUser = 20
	DefaultMaxBatch           = 10
	// DefaultMaxBodyBytes is go-sdk's own bound on a request body.
	DefaultMaxBodyBytes = mcp.DefaultMaxRequestBodyBytes
	// MaxFilesChunkSize bounds FILES_CHUNK_SIZE: one chunk is one request
	// to Nextcloud, held in memory and sent within NEXTCLOUD_HTTP_TIMEOUT.
	MaxFilesChunkSize = 1 << 30
)

// sessionLimiter bounds the live MCP sessions, in total and per user (the
// token's subject; basic mode has one user). A new session of a user at
// the per-user cap closes that user's oldest session: clients that never
// end their sessions (many do not) keep working, and one user cannot
// crowd out others. At the global cap new sessions are refused with 503:
// closing another user's session would let one user end everyone's.
type sessionLimiter struct {
	max, perUser int
	// live lists the server's sessions (mcp.Server.Sessions): sessions end
	// on their own (idle timeout, DELETE), and this is how the limiter
	// learns it.
	live   func() iter.Seq[*mcp.ServerSession]
	logger *slog.Logger

	mu      sync.Mutex
	owners  map[string]sessionOwner // by session id
	pending int                     // session-creating requests in flight
	seq     uint64
}

type sessionOwner struct {
	user string
	seq  uint64
}

func newSessionLimiter(max, perUser int, live func() iter.Seq[*mcp.ServerSession], logger *slog.Logger) *sessionLimiter {
	return &sessionLimiter{max: max, perUser: perUser, live: live, logger: logger, owners: map[string]sessionOwner{}}
}

// reserve makes room for a new session of user: it returns the sessions to
// close (the user's oldest beyond the per-user cap) and false when the
// global cap is reached.
func (l *sessionLimiter) reserve(user string) ([]*mcp.ServerSession, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	byID := map[string]*mcp.ServerSession{}
	for ss := range l.live() {
		byID[ss.ID()] = ss
	}
	var mine []string
	for id, o := range l.owners {
		if byID[id] == nil {
			delete(l.owners, id) // ended meanwhile
			continue
		}
		if o.user == user {
			mine = append(mine, id)
		}
	}
	var evict []*mcp.ServerSession
	if n := len(mine) - l.perUser + 1; n > 0 {
		slices.SortFunc(mine, func(a, b string) int { return int(l.owners[a].seq - l.owners[b].seq) })
		for _, id := range mine[:n] {
			evict = append(evict, byID[id])
			delete(l.owners, id)
		}
	}
	if len(l.owners)+l.pending >= l.max {
		return nil, false
	}
	l.pending++
	return evict, true
}

// done ends a reservation; id is the session the request created, if any.
func (l *sessionLimiter) done(id, user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending--
	if id != "" {
		l.seq++
		l.owners[id] = sessionOwner{user: user, seq: l.seq}
	}
}

// wrap applies the caps to requests that open a session (a POST without
// Mcp-Session-Id). It runs after authentication, so the user is the
// verified token's subject.
func (l *sessionLimiter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Mcp-Session-Id") != "" {
			next.ServeHTTP(w, r)
			return
		}
		user := ""
		if ti := auth.TokenInfoFromContext(r.Context()); ti != nil {
			user = ti.UserID
		}
		evict, ok := l.reserve(user)
		if !ok {
			l.logger.Warn("session refused: the server holds the maximum of live sessions (MCP_MAX_SESSIONS)", "sub", user, "max", l.max)
			w.Header().Set("Retry-After", "30")
			writeJSONRPCError(w, http.StatusServiceUnavailable, nil, &jsonrpc.Error{
				Code:    jsonrpc.CodeInternalError,
				Message: fmt.Sprintf("the server holds its maximum of %d live sessions; retry later", l.max),
			})
			return
		}
		for _, ss := range evict {
			l.logger.Info("session closed: its user opened more than MCP_MAX_SESSIONS_PER_USER", "sub", user, "session", ss.ID(), "max", l.perUser)
			// Closing an ended session reports that; nothing to do then.
			_ = ss.Close()
		}
		id := ""
		defer func() { l.done(id, user) }()
		next.ServeHTTP(w, r)
		// go-sdk has set the header of the session it created by now;
		// a request that created none (a failed initialize) has none.
		id = w.Header().Get("Mcp-Session-Id")
	})
}

// batchCap refuses a JSON-RPC batch of more than max messages as a whole,
// before any of them runs (protocol 2025-03-26 allows batches; every
// message of one may be a tool call, a token exchange and a Nextcloud
// request). It reads the body, bounded by maxBodyBytes as go-sdk bounds it.
func batchCap(max int, maxBodyBytes int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Body == nil {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
		_ = r.Body.Close() // read to the end or to the bound; nothing more to learn
		if err != nil {
			http.Error(w, "reading the request body failed", http.StatusBadRequest)
			return
		}
		if int64(len(body)) > maxBodyBytes {
			bearer.BodyTooLarge(w, maxBodyBytes)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if n := batchLen(body, max+1); n > max {
			writeJSONRPCError(w, http.StatusBadRequest, nil, &jsonrpc.Error{
				Code:    jsonrpc.CodeInvalidRequest,
				Message: fmt.Sprintf("Invalid Request: a JSON-RPC batch may hold at most %d messages (MCP_MAX_BATCH)", max),
			})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// batchLen counts the elements of a JSON array body, up to stop; 0 for a
// body that is not an array (the transport judges those).
func batchLen(body []byte, stop int) int {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return 0
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if _, err := dec.Token(); err != nil {
		return 0
	}
	n := 0
	for n < stop && dec.More() {
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			break
		}
		n++
	}
	return n
}
