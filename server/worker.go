package server

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/broker"
)

// Run is the background worker: until ctx ends it runs the modules'
// background work (tools.Background; the notes search index) for each user
// with background access (docs/architecture.md §1.3: background work is what
// offline grants are for). In basic mode that is the one configured
// account; with progressive consent every provisioned user, whose tokens
// come from the broker's refresh grants — the only place refresh grants
// happen. Without either, or without background work, Run only waits.
func (s *Server) Run(ctx context.Context) {
	if len(s.background) == 0 || (s.mode != ModeBasic && s.consent == nil) {
		<-ctx.Done()
		return
	}
	wctx := ctx
	var provisioned <-chan string
	if s.consent != nil {
		wctx = broker.WorkerContext(ctx)
		provisioned = s.consent.provisioned
	}
	ticker := time.NewTicker(s.cfg.SyncInterval)
	defer ticker.Stop()
	s.syncAll(wctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			s.syncAll(wctx)
		case sub := <-provisioned:
			s.syncUser(wctx, sub)
		case sub := <-s.resync:
			s.syncUser(wctx, sub)
		}
	}
}

// syncAll runs every user's background work once.
func (s *Server) syncAll(ctx context.Context) {
	if s.mode == ModeBasic {
		s.syncUser(ctx, "")
		return
	}
	subs, err := s.consent.broker.Subjects(ctx)
	if err != nil {
		s.logger.Warn("background sync: listing provisioned users failed", "err", err)
		return
	}
	for _, sub := range subs {
		if ctx.Err() != nil {
			return
		}
		s.syncUser(ctx, sub)
	}
}

// jobTimeout bounds one user's background work; a grant is held (and a
// revocation waits) at most this long (docs/architecture.md §1.4).
const jobTimeout = 2 * time.Minute

// syncUser runs each module's background work for one user. With
// progressive consent it holds the user's grant meanwhile: a revocation,
// on this replica or another, waits until the work is done, and work
// never starts on a revoked grant.
func (s *Server) syncUser(ctx context.Context, sub string) {
	ctx, cancel := context.WithTimeout(ctx, jobTimeout)
	defer cancel()
	client := s.nc
	if s.mode != ModeBasic {
		tok, release, err := s.consent.broker.Acquire(ctx, sub)
		if err != nil {
			if errors.Is(err, broker.ErrNotProvisioned) {
				s.forget(sub)
				s.logger.Info("background sync: user no longer provisioned; their data dropped", "sub", sub)
				return
			}
			s.logger.Warn("background sync: no token for user", "sub", sub, "err", err)
			return
		}
		defer release()
		client = s.nc.WithCredentials(nextcloud.BearerFor(sub, tok.AccessToken))
	}
	for _, id := range s.backgroundIDs() {
		start := time.Now()
		if err := s.background[id].Sync(ctx, client, sub); err != nil {
			s.logger.Warn("background sync failed", "module", id, "sub", sub, "err", err)
			continue
		}
		s.logger.Debug("background sync done", "module", id, "sub", sub, "took", time.Since(start))
	}
}

// backgroundIDs are the modules with background work, in a stable order.
func (s *Server) backgroundIDs() []string {
	var ids []string
	for id, bg := range s.background {
		if bg.Sync != nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// requestSync asks the worker to sync a user again soon (after a write
// through a tool invalidated their data). A full queue drops the request:
// the next interval syncs everyone anyway.
func (s *Server) requestSync(sub string) {
	select {
	case s.resync <- sub:
	default:
	}
}

// forget drops what every module keeps for a user whose access ended.
func (s *Server) forget(sub string) {
	for _, bg := range s.background {
		if bg.Forget != nil {
			bg.Forget(sub)
		}
	}
}
