package server

import (
	"context"
	"log/slog"
	"net/http"
	"sync"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/exchange"
)

// This file holds deliberately broken behaviours that only a test or the
// conformance self-test can select (Config.brokenVariant), so that the
// checks of the behaviour they break are shown to notice it.

// brokenSessionIdentityCache is the "session-identity-cache" variant: the
// token of a session's first successful request is remembered and
// replaces the token of every later request on that session — identity
// cached per session, which lets another user's token act as the
// session's owner.
func brokenSessionIdentityCache(next http.Handler) http.Handler {
	var (
		mu     sync.Mutex
		tokens = map[string]string{}
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sid := r.Header.Get("Mcp-Session-Id")
		if sid == "" {
			next.ServeHTTP(w, r)
			return
		}
		mu.Lock()
		cached, ok := tokens[sid]
		mu.Unlock()
		if ok {
			r.Header.Set("Authorization", cached)
			next.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if rec.status < 300 {
			mu.Lock()
			tokens[sid] = r.Header.Get("Authorization")
			mu.Unlock()
		}
	})
}

// statusRecorder notes the status a handler wrote; it keeps streaming
// (Flush) working through Unwrap.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Flush() { _ = http.NewResponseController(s.ResponseWriter).Flush() }

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// leakyExchanger is half of the "log-issued-tokens" variant: it logs every
// exchanged token (invariant 4 forbids it); the consent callback logs the
// refresh token it stores.
type leakyExchanger struct {
	next   tokenExchanger
	logger *slog.Logger
}

func (l leakyExchanger) Exchange(ctx context.Context, subjectToken, subject string) (*exchange.Token, error) {
	tok, err := l.next.Exchange(ctx, subjectToken, subject)
	if err == nil {
		l.logger.Debug("exchanged a token", "sub", subject, "token", tok.AccessToken)
	}
	return tok, err
}
