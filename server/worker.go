package server

import (
	"context"
	"errors"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	ncnotes "github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud/notes"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/notesearch"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/broker"
)

// Run is the background worker: until ctx ends it keeps each user's notes
// index fresh (docs/architecture.md §1: background work is what offline grants are
// for). In basic mode it indexes the one configured account; with
// progressive consent it indexes every provisioned user, obtaining their
// tokens through the broker's refresh grants — the only place refresh
// grants happen. Without either there is no background access, and Run
// only waits.
func (s *Server) Run(ctx context.Context) {
	if s.mode != ModeBasic && s.consent == nil {
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

// syncAll refreshes every user's index once.
func (s *Server) syncAll(ctx context.Context) {
	if s.mode == ModeBasic {
		s.syncUser(ctx, "")
		return
	}
	subs, err := s.consent.broker.Subjects(ctx)
	if err != nil {
		s.logger.Warn("notes sync: listing provisioned users failed", "err", err)
		return
	}
	for _, sub := range subs {
		if ctx.Err() != nil {
			return
		}
		s.syncUser(ctx, sub)
	}
}

// syncUser rebuilds one user's notes index.
func (s *Server) syncUser(ctx context.Context, sub string) {
	client := s.nc
	if s.mode != ModeBasic {
		tok, err := s.consent.broker.TokenFor(ctx, sub)
		if err != nil {
			if errors.Is(err, broker.ErrNotProvisioned) {
				s.index.Remove(sub)
				s.logger.Info("notes sync: user no longer provisioned; index dropped", "sub", sub)
				return
			}
			s.logger.Warn("notes sync: no token for user", "sub", sub, "err", err)
			return
		}
		client = s.nc.WithCredentials(nextcloud.BearerFor(sub, tok.AccessToken))
	}
	start := time.Now()
	notes, err := ncnotes.New(client).List(ctx, ncnotes.ListOptions{})
	if err != nil {
		s.logger.Warn("notes sync failed", "sub", sub, "err", err)
		return
	}
	s.index.Replace(sub, notesearch.FromNextcloud(notes), start)
	s.logger.Debug("notes index synced", "sub", sub, "notes", len(notes), "took", time.Since(start))
}

// invalidate drops a user's index after a write through a tool, so that
// searches go live until the worker has re-read the notes.
func (s *Server) invalidate(sub string) {
	s.index.Remove(sub)
	select {
	case s.resync <- sub:
	default:
	}
}
