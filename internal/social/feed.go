package social

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/platform/page"
	"github.com/nova-social/nova/internal/social/internal/store"
)

// FeedEntry is one post of a home feed, with the post's stats as seen by
// the feed's reader. The gateway loads the posts through
// content.PostsByIDs, which also drops any that became invisible meanwhile.
type FeedEntry struct {
	PostID    uuid.UUID
	AuthorID  uuid.UUID
	CreatedAt time.Time
	Stats     PostStats
}

// Key is the entry's cursor position: post time, then post id.
func (e FeedEntry) Key() page.Key { return page.Key{Time: e.CreatedAt, ID: e.PostID} }

// Feed is the viewer's home feed: their own posts and those of authors they
// follow, newest first. Cursors are positions (post time, post id), so
// posts arriving meanwhile neither repeat nor shift later pages. One query.
func (s *Service) Feed(ctx context.Context, viewer uuid.UUID, req page.Request) (page.Page[FeedEntry], error) {
	if err := requireUser(viewer); err != nil {
		return page.Page[FeedEntry]{}, err
	}
	at, id := after(req)
	rows, err := store.Feed(ctx, s.pool, viewer, at, id, req.Size+1)
	if err != nil {
		return page.Page[FeedEntry]{}, err
	}
	out := make([]FeedEntry, len(rows))
	for i, r := range rows {
		out[i] = FeedEntry{PostID: r.PostID, AuthorID: r.AuthorID, CreatedAt: r.CreatedAt, Stats: PostStats(r.Stats)}
	}
	return page.Trim(req, out, FeedEntry.Key), nil
}

// onPostCreated projects a new post and fans it out to the feeds of its
// author and followers, unless the author has more followers than the
// threshold: then the post is merged into feeds at read time. A redelivered,
// already deleted or already hidden post is not fanned out.
func (s *Service) onPostCreated(ctx context.Context, tx pgx.Tx, e events.PostCreated) error {
	p, visible, err := store.ProjectNewPost(ctx, tx, e.PostID, e.AuthorID, e.CreatedAt, s.cfg.FanoutMaxFollowers)
	if err != nil || !visible || !p.FannedOut {
		return err
	}
	return s.fanOut(ctx, tx, p)
}

func (s *Service) fanOut(ctx context.Context, tx pgx.Tx, p store.PostProjection) error {
	over, excess, err := store.FanOut(ctx, tx, p, s.cfg.MaxEntriesPerUser)
	if err != nil {
		return err
	}
	return store.TrimFeeds(ctx, tx, over, excess)
}

// onPostDeleted removes the post from every feed and drops its likes and
// shares; the projection keeps a tombstone. It holds the author's audience
// lock, so a follow cannot back-fill the post meanwhile.
func (s *Service) onPostDeleted(ctx context.Context, tx pgx.Tx, e events.PostDeleted) error {
	if err := store.LockAudience(ctx, tx, e.AuthorID); err != nil {
		return err
	}
	if err := store.TombstonePost(ctx, tx, e.PostID, e.AuthorID); err != nil {
		return err
	}
	if err := store.RemovePostFromFeeds(ctx, tx, e.PostID); err != nil {
		return err
	}
	return store.DeletePostInteractions(ctx, tx, e.PostID)
}

// onPostModerated removes a hidden post from feeds, and fans a restored one
// out again. Moderation events apply in the order they occurred, also when
// they arrive before the post's creation. It holds the author's audience
// lock, so a follow cannot back-fill a post being hidden.
func (s *Service) onPostModerated(ctx context.Context, tx pgx.Tx, at time.Time, e events.PostModerated) error {
	if err := store.LockAudience(ctx, tx, e.AuthorID); err != nil {
		return err
	}
	p, changed, err := store.SetHidden(ctx, tx, e.PostID, e.AuthorID, e.Hidden, at)
	if err != nil || !changed {
		return err
	}
	if e.Hidden {
		return store.RemovePostFromFeeds(ctx, tx, e.PostID)
	}
	if !p.FannedOut {
		return nil
	}
	return s.fanOut(ctx, tx, p)
}

// onUserBanned removes the banned user's posts from every feed. It holds
// the user's audience lock, so a follow cannot back-fill their posts
// meanwhile.
func (s *Service) onUserBanned(ctx context.Context, tx pgx.Tx, at time.Time, e events.UserBanned) error {
	if err := store.LockAudience(ctx, tx, e.UserID); err != nil {
		return err
	}
	if err := store.RemoveAuthorFromAllFeeds(ctx, tx, e.UserID); err != nil {
		return err
	}
	return store.Ban(ctx, tx, e.UserID, at)
}
