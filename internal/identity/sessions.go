package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/identity/internal/store"
	"github.com/nova-social/nova/internal/identity/internal/token"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/pgcache"
)

func errBadAccess() error { return apperr.NewUnauthenticated("invalid or expired access token") }

func errBadRefresh() error { return apperr.NewUnauthenticated("invalid or expired refresh token") }

// Authenticate verifies an access token (signature, pinned algorithm, iss,
// aud, exp, type) and that its session is still live, so that logout takes
// effect at once. The session check is answered by the cache of live
// sessions while WatchSessions runs, else by one primary-key look-up.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (Principal, error) {
	userID, sessionID, err := s.tokens.Verify(accessToken)
	if err != nil {
		return Principal{}, errBadAccess()
	}
	now := time.Now()
	owner, gen, ok := s.live.Lookup(sessionID, now)
	if !ok {
		var left time.Duration
		owner, left, err = store.LiveSession(ctx, s.pool, sessionID)
		if errors.Is(err, store.ErrNotFound) {
			return Principal{}, errBadAccess()
		}
		if err != nil {
			return Principal{}, fmt.Errorf("authenticate: %w", err)
		}
		// The session's expiry is on the database's clock, and no
		// notification marks it: the entry ends what the session had left,
		// counted on this replica's monotonic clock from before the look-up,
		// so that neither a clock behind the database's nor one stepped back
		// keeps it live past its end.
		s.live.Store(gen, sessionID, owner, now.Add(left))
	}
	if owner != userID {
		return Principal{}, errBadAccess()
	}
	return Principal{UserID: userID, SessionID: sessionID}, nil
}

// Refresh exchanges a refresh token for a new pair. Every token is usable
// once; presenting one that was already exchanged means it leaked, so its
// whole family (the session) is revoked and identity.session.revoked is
// published.
func (s *Service) Refresh(ctx context.Context, refreshToken string, _ ClientInfo) (Tokens, error) {
	if refreshToken == "" {
		return Tokens{}, errBadRefresh()
	}
	oldHash := token.HashRefresh(refreshToken)
	var t Tokens
	var reused bool
	var ended []uuid.UUID
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		st, err := store.LockRefresh(ctx, tx, oldHash)
		if errors.Is(err, store.ErrNotFound) {
			reused = true
			ended, err = s.revokeForgotten(ctx, tx, refreshToken)
			return err
		}
		if err != nil {
			return err
		}
		if st.Rotated {
			reused = true
			ended, err = s.revokeOne(ctx, tx, st.UserID, st.SessionID, ReasonRefreshReuse)
			return err
		}
		if !st.Live {
			return errBadRefresh()
		}
		next, newHash, err := s.tokens.NewRefresh(st.SessionID)
		if err != nil {
			return err
		}
		if err := store.Rotate(ctx, tx, st.SessionID, oldHash, newHash); err != nil {
			return err
		}
		t, err = s.tokensFor(st.UserID, st.SessionID, next)
		return err
	})
	if err != nil {
		if _, ok := apperr.As(err); ok {
			return Tokens{}, err
		}
		return Tokens{}, fmt.Errorf("refresh: %w", err)
	}
	if reused {
		s.live.Forget(ended...)
		s.log.WarnContext(ctx, "rotated refresh token reused: session revoked")
		return Tokens{}, errBadRefresh()
	}
	return t, nil
}

// revokeForgotten handles a refresh token whose hash is not stored. One
// that this service made for a session is a rotated token the session has
// since forgotten (its current one is always stored), so it is a reuse and
// the session, if still live, is revoked: otherwise a thief could refresh a
// stolen token past the kept ones and its owner's copy would no longer
// betray him. Anything else is unknown. It returns the session it ended.
func (s *Service) revokeForgotten(ctx context.Context, tx pgx.Tx, refreshToken string) ([]uuid.UUID, error) {
	sessionID, ok := s.tokens.RefreshSession(refreshToken)
	if !ok {
		return nil, errBadRefresh()
	}
	owner, _, err := store.LiveSession(ctx, tx, sessionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errBadRefresh()
	}
	if err != nil {
		return nil, err
	}
	return s.revokeOne(ctx, tx, owner, sessionID, ReasonRefreshReuse)
}

// revokeOne revokes a session and publishes the revocation if it was live;
// it returns the session if it ended it.
func (s *Service) revokeOne(ctx context.Context, tx pgx.Tx, userID, sessionID uuid.UUID, reason string) ([]uuid.UUID, error) {
	revoked, err := store.RevokeSession(ctx, tx, userID, sessionID, reason)
	if err != nil || !revoked {
		return nil, err
	}
	ended := []uuid.UUID{sessionID}
	return ended, s.bus.Publish(ctx, tx, events.SessionRevoked{UserID: userID, SessionIDs: ended, Reason: reason})
}

// revokeAll revokes every live session of the user, publishes the
// revocation and returns the sessions it ended.
func (s *Service) revokeAll(ctx context.Context, tx pgx.Tx, userID uuid.UUID, reason string) ([]uuid.UUID, error) {
	ids, err := store.RevokeAll(ctx, tx, userID, uuid.Nil, reason)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	return ids, s.bus.Publish(ctx, tx, events.SessionRevoked{UserID: userID, SessionIDs: ids, Reason: reason})
}

// endSessions runs revoke in a transaction and, once it has committed, has
// this replica's cache forget the sessions it ended, so that their tokens'
// next request here is refused; other replicas hear of them from the
// sessions trigger's notification.
func (s *Service) endSessions(ctx context.Context, revoke func(tx pgx.Tx) ([]uuid.UUID, error)) error {
	var ended []uuid.UUID
	err := s.inTx(ctx, func(tx pgx.Tx) (err error) {
		ended, err = revoke(tx)
		return err
	})
	if err != nil {
		return err
	}
	s.live.Forget(ended...)
	return nil
}

// Logout ends the caller's session: its access and refresh tokens stop
// working immediately.
func (s *Service) Logout(ctx context.Context, p Principal) error {
	if err := s.endSessions(ctx, func(tx pgx.Tx) ([]uuid.UUID, error) {
		return s.revokeOne(ctx, tx, p.UserID, p.SessionID, ReasonLogout)
	}); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// LogoutAll ends every session of the user.
func (s *Service) LogoutAll(ctx context.Context, userID uuid.UUID) error {
	if err := s.endSessions(ctx, func(tx pgx.Tx) ([]uuid.UUID, error) {
		return s.revokeAll(ctx, tx, userID, ReasonLogoutAll)
	}); err != nil {
		return fmt.Errorf("logout all: %w", err)
	}
	return nil
}

// Sessions lists the user's live sessions, most recently used first.
// LastUsedAt moves on login and on every refresh.
func (s *Service) Sessions(ctx context.Context, userID uuid.UUID) ([]Session, error) {
	rows, err := store.LiveSessions(ctx, s.pool, userID)
	if err != nil {
		return nil, err
	}
	out := make([]Session, len(rows))
	for i, r := range rows {
		out[i] = Session(r)
	}
	return out, nil
}

// Subscribe consumes user.banned: identity records the ban in its own
// schema, so later logins are refused, and revokes every session at once.
func (s *Service) Subscribe(b *events.Bus) {
	events.Subscribe(b, events.Subscriber{Domain: domains.Identity, Pool: s.pool}, "identity.bans",
		func(ctx context.Context, tx pgx.Tx, m events.Meta, e events.UserBanned) error {
			if _, err := store.MarkBanned(ctx, tx, e.UserID, m.OccurredAt); err != nil {
				return err
			}
			_, err := s.revokeAll(ctx, tx, e.UserID, ReasonBanned)
			return err
		})
}

// sessionEnded is the channel on which a trigger on identity.sessions
// (migrations identity/00007 and 00008) announces every session that ends.
const sessionEnded = "identity.session_ended"

// maxLiveSessions bounds the cache of live sessions (under 100 bytes an
// entry).
const maxLiveSessions = 100_000

// sessionCacheMetrics name the metrics of the cache of live sessions.
var sessionCacheMetrics = pgcache.Metrics{
	Reads: prometheus.CounterOpts{
		Name: "nova_identity_session_checks_total",
		Help: "Session checks of authenticated requests, by where the answer came from (cache or database).",
	},
	Heard: prometheus.CounterOpts{
		Name: "nova_identity_sessions_ended_heard_total",
		Help: "Notifications of ended sessions this replica heard (from any replica, itself included).",
	},
	Listening: prometheus.GaugeOpts{
		Name: "nova_identity_session_cache_listening",
		Help: "1 while this replica hears ended sessions and so may answer session checks from its cache.",
	},
	Entries: prometheus.GaugeOpts{
		Name: "nova_identity_session_cache_entries",
		Help: "Live sessions this replica remembers.",
	},
}
