package social

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/page"
	"github.com/nova-social/nova/internal/social/internal/store"
)

// Edge is a user in a followers, following or requests list, with the time
// the relationship began (the list's sort key).
type Edge struct {
	UserID uuid.UUID
	At     time.Time
}

// Key is the edge's position in newest-first lists.
func (e Edge) Key() page.Key { return page.Key{Time: e.At, ID: e.UserID} }

// Follow makes viewer follow target, or request to when target is a private
// account, and returns the resulting state. Following again changes
// nothing, except that a request made while target was private follows once
// target is public.
// BAD_USER_INPUT (field userId) for oneself; FORBIDDEN when either blocks
// the other; NOT_FOUND for an unknown user.
func (s *Service) Follow(ctx context.Context, viewer, target uuid.UUID) (FollowState, error) {
	if err := requireUser(viewer); err != nil {
		return None, err
	}
	if viewer == target {
		return None, apperr.Invalid("userId", "you cannot follow yourself")
	}
	private, err := s.accounts.IsPrivate(ctx, target)
	if err != nil {
		return None, err
	}
	state := store.StateFollowing
	if private {
		state = store.StateRequested
	}
	var out string
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		at, err := store.LockPair(ctx, tx, viewer, target)
		if err != nil {
			return err
		}
		if err := s.refuseBlocked(ctx, tx, viewer, target); err != nil {
			return err
		}
		created, err := store.InsertRel(ctx, tx, viewer, target, state, at)
		if err != nil {
			return err
		}
		if !created {
			out, err = store.RelState(ctx, tx, viewer, target)
			if err != nil || out != store.StateRequested || state != store.StateFollowing {
				return err
			}
			// A request left from when the account was private: it is
			// public now, so this follow follows, as anyone else's would.
			// A banned requester's stays pending (see store.Approve), and
			// so is neither counted, back-filled nor published.
			approved, err := store.Approve(ctx, tx, viewer, target, at)
			if err != nil || !approved {
				return err
			}
		}
		out = state
		if state == store.StateFollowing {
			if err := s.startFollowing(ctx, tx, viewer, target); err != nil {
				return err
			}
		}
		return s.bus.Publish(ctx, tx, events.FollowCreated{FollowerID: viewer, FolloweeID: target, State: state, At: at})
	})
	if err != nil {
		return None, err
	}
	return stateOf(out), nil
}

// startFollowing counts a new follow and back-fills the follower's feed.
func (s *Service) startFollowing(ctx context.Context, tx pgx.Tx, follower, followee uuid.UUID) error {
	if err := store.AddUserStats(ctx, tx, map[uuid.UUID]store.StatDelta{
		follower: {Following: 1}, followee: {Followers: 1},
	}); err != nil {
		return err
	}
	if err := store.Backfill(ctx, tx, follower, followee, s.cfg.MaxEntriesPerUser); err != nil {
		return err
	}
	return store.TrimFeed(ctx, tx, follower, s.cfg.MaxEntriesPerUser)
}

// refuseBlocked is FORBIDDEN when a or b blocks the other.
func (s *Service) refuseBlocked(ctx context.Context, tx pgx.Tx, a, b uuid.UUID) error {
	for _, pair := range [][2]uuid.UUID{{b, a}, {a, b}} {
		blocked, err := store.Blocks(ctx, tx, pair[0], pair[1])
		if err != nil {
			return err
		}
		if blocked {
			return apperr.NewForbidden("you cannot follow this user")
		}
	}
	return nil
}

// Unfollow ends viewer's follow of target, or withdraws a pending request,
// and removes target's posts from viewer's feed. Idempotent.
func (s *Service) Unfollow(ctx context.Context, viewer, target uuid.UUID) error {
	if err := requireUser(viewer); err != nil {
		return err
	}
	if viewer == target {
		return apperr.Invalid("userId", "you cannot unfollow yourself")
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		at, err := store.LockPair(ctx, tx, viewer, target)
		if err != nil {
			return err
		}
		was, err := store.DeleteRel(ctx, tx, viewer, target, store.StateFollowing, store.StateRequested)
		if err != nil || was == "" {
			return err
		}
		return s.stopFollowing(ctx, tx, []store.Rel{{FollowerID: viewer, FolloweeID: target, State: was}}, at)
	})
}

// stopFollowing uncounts removed relationships, clears the feeds they fed
// and publishes social.follow.deleted for each, as of at (from LockPair).
func (s *Service) stopFollowing(ctx context.Context, tx pgx.Tx, removed []store.Rel, at time.Time) error {
	deltas := map[uuid.UUID]store.StatDelta{}
	evs := make([]events.Event, 0, len(removed))
	for _, r := range removed {
		if r.State == store.StateFollowing {
			d := deltas[r.FollowerID]
			d.Following--
			deltas[r.FollowerID] = d
			d = deltas[r.FolloweeID]
			d.Followers--
			deltas[r.FolloweeID] = d
		}
		evs = append(evs, events.FollowDeleted{FollowerID: r.FollowerID, FolloweeID: r.FolloweeID, At: at})
	}
	// Lock order, as in startFollowing: counters, then feeds in follower id
	// order (the order fan-out locks feeds in).
	if err := store.AddUserStats(ctx, tx, deltas); err != nil {
		return err
	}
	slices.SortFunc(removed, func(a, b store.Rel) int { return bytes.Compare(a.FollowerID[:], b.FollowerID[:]) })
	for _, r := range removed {
		if r.State != store.StateFollowing {
			continue
		}
		if err := store.RemoveAuthorFromFeed(ctx, tx, r.FollowerID, r.FolloweeID); err != nil {
			return err
		}
	}
	return s.bus.Publish(ctx, tx, evs...)
}

// ApproveFollowRequest accepts requester's pending request to follow viewer.
// Approving an accepted follow changes nothing; NOT_FOUND without a request.
func (s *Service) ApproveFollowRequest(ctx context.Context, viewer, requester uuid.UUID) error {
	if err := requireUser(viewer); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		approved, err := s.approve(ctx, tx, viewer, requester)
		if err != nil || approved {
			return err
		}
		st, err := store.RelState(ctx, tx, requester, viewer)
		if err != nil {
			return err
		}
		if st == store.StateFollowing {
			return nil
		}
		return apperr.NewNotFound("follow request")
	})
}

// approve turns requester's pending request to follow owner into a follow,
// counted, back-filled and published; it reports whether there was one.
func (s *Service) approve(ctx context.Context, tx pgx.Tx, owner, requester uuid.UUID) (bool, error) {
	at, err := store.LockPair(ctx, tx, owner, requester)
	if err != nil {
		return false, err
	}
	approved, err := store.Approve(ctx, tx, requester, owner, at)
	if err != nil || !approved {
		return false, err
	}
	if err := s.startFollowing(ctx, tx, requester, owner); err != nil {
		return false, err
	}
	return true, s.bus.Publish(ctx, tx, events.FollowCreated{FollowerID: requester, FolloweeID: owner, State: store.StateFollowing, At: at})
}

// onSettingsUpdated approves every pending request of an account that went
// public, as its owner could one by one: a public account has followers,
// not requests. The setting is read again, since a later change may have
// made the account private again; a banned or unknown account is left.
func (s *Service) onSettingsUpdated(ctx context.Context, tx pgx.Tx, e events.SettingsUpdated) error {
	if e.IsPrivate {
		return nil
	}
	private, err := s.accounts.IsPrivate(ctx, e.UserID)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	if err != nil || private {
		return err
	}
	requesters, err := store.Requesters(ctx, tx, e.UserID)
	if err != nil {
		return err
	}
	for _, r := range requesters {
		if _, err := s.approve(ctx, tx, e.UserID, r); err != nil {
			return err
		}
	}
	return nil
}

// RejectFollowRequest declines requester's pending request; NOT_FOUND without one.
func (s *Service) RejectFollowRequest(ctx context.Context, viewer, requester uuid.UUID) error {
	if err := requireUser(viewer); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		at, err := store.LockPair(ctx, tx, viewer, requester)
		if err != nil {
			return err
		}
		was, err := store.DeleteRel(ctx, tx, requester, viewer, store.StateRequested)
		if err != nil {
			return err
		}
		if was == "" {
			return apperr.NewNotFound("follow request")
		}
		return s.stopFollowing(ctx, tx, []store.Rel{{FollowerID: requester, FolloweeID: viewer, State: was}}, at)
	})
}

// Block makes viewer block target: follows both ways end (and leave both
// feeds), and target can no longer follow, like, share or comment on
// viewer's content. Blocking again changes nothing.
func (s *Service) Block(ctx context.Context, viewer, target uuid.UUID) error {
	if err := requireUser(viewer); err != nil {
		return err
	}
	if viewer == target {
		return apperr.Invalid("userId", "you cannot block yourself")
	}
	if _, err := s.accounts.IsPrivate(ctx, target); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		at, err := store.LockPair(ctx, tx, viewer, target)
		if err != nil {
			return err
		}
		created, err := store.InsertBlock(ctx, tx, viewer, target, at)
		if err != nil || !created {
			return err
		}
		removed, err := store.DeleteBetween(ctx, tx, viewer, target)
		if err != nil {
			return err
		}
		if err := s.stopFollowing(ctx, tx, removed, at); err != nil {
			return err
		}
		return s.bus.Publish(ctx, tx, events.BlockCreated{BlockerID: viewer, BlockedID: target, At: at})
	})
}

// Unblock lifts viewer's block of target; it restores no follow. Idempotent.
func (s *Service) Unblock(ctx context.Context, viewer, target uuid.UUID) error {
	if err := requireUser(viewer); err != nil {
		return err
	}
	if viewer == target {
		return apperr.Invalid("userId", "you cannot unblock yourself")
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		at, err := store.LockPair(ctx, tx, viewer, target)
		if err != nil {
			return err
		}
		removed, err := store.DeleteBlock(ctx, tx, viewer, target)
		if err != nil || !removed {
			return err
		}
		return s.bus.Publish(ctx, tx, events.BlockDeleted{BlockerID: viewer, BlockedID: target, At: at})
	})
}

// Blocked returns which of ids viewer blocks (for clients hiding them).
func (s *Service) Blocked(ctx context.Context, viewer uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]bool, error) {
	if viewer == uuid.Nil {
		return map[uuid.UUID]bool{}, nil
	}
	return store.BlockedByAny(ctx, s.pool, viewer, ids)
}

// FollowStates returns viewer's state towards each of ids (NONE when
// anonymous or unrelated): User.viewerFollowState and viewerIsFollowing.
func (s *Service) FollowStates(ctx context.Context, viewer uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]FollowState, error) {
	out := make(map[uuid.UUID]FollowState, len(ids))
	for _, id := range ids {
		out[id] = None
	}
	if viewer == uuid.Nil {
		return out, nil
	}
	m, err := store.States(ctx, s.pool, viewer, ids)
	if err != nil {
		return nil, err
	}
	for id, st := range m {
		out[id] = stateOf(st)
	}
	return out, nil
}

func stateOf(st string) FollowState {
	switch st {
	case store.StateFollowing:
		return Following
	case store.StateRequested:
		return Requested
	}
	return None
}

// Counts are a user's follow counters.
type Counts struct {
	Followers, Following int
}

// UserCounts returns followerCount and followingCount for each of ids.
func (s *Service) UserCounts(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]Counts, error) {
	m, err := store.UserStats(ctx, s.pool, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]Counts, len(ids))
	for _, id := range ids {
		out[id] = Counts{Followers: m[id][0], Following: m[id][1]}
	}
	return out, nil
}

func edgesPage(req page.Request, rows []store.Edge) page.Page[Edge] {
	out := make([]Edge, len(rows))
	for i, r := range rows {
		out[i] = Edge(r)
	}
	return page.Trim(req, out, Edge.Key)
}

func after(req page.Request) (time.Time, uuid.UUID) {
	if req.After == nil {
		return store.MaxTime, uuid.Max
	}
	return req.After.Time, req.After.ID
}

// Followers is User.followers: newest follow first.
func (s *Service) Followers(ctx context.Context, user uuid.UUID, req page.Request) (page.Page[Edge], error) {
	at, id := after(req)
	rows, err := store.Followers(ctx, s.pool, user, store.StateFollowing, at, id, req.Size+1)
	if err != nil {
		return page.Page[Edge]{}, err
	}
	return edgesPage(req, rows), nil
}

// Following is User.following: newest follow first.
func (s *Service) Following(ctx context.Context, user uuid.UUID, req page.Request) (page.Page[Edge], error) {
	at, id := after(req)
	rows, err := store.Following(ctx, s.pool, user, at, id, req.Size+1)
	if err != nil {
		return page.Page[Edge]{}, err
	}
	return edgesPage(req, rows), nil
}

// FollowRequests lists pending requests to viewer, newest first.
func (s *Service) FollowRequests(ctx context.Context, viewer uuid.UUID, req page.Request) (page.Page[Edge], error) {
	if err := requireUser(viewer); err != nil {
		return page.Page[Edge]{}, err
	}
	at, id := after(req)
	rows, err := store.Followers(ctx, s.pool, viewer, store.StateRequested, at, id, req.Size+1)
	if err != nil {
		return page.Page[Edge]{}, err
	}
	return edgesPage(req, rows), nil
}
