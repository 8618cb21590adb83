package social

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/text"
	"github.com/nova-social/nova/internal/social/internal/store"
)

// MaxShareComment bounds a share's comment, in code points.
const MaxShareComment = 2_000

// interactable returns post postID for viewer to like, unlike or share:
// NOT_FOUND when invisible to viewer (a FOLLOWERS post once viewer no longer
// follows its author included), FORBIDDEN when its author blocks the viewer.
func (s *Service) interactable(ctx context.Context, tx pgx.Tx, viewer, postID uuid.UUID) (content.Post, error) {
	p, err := s.content.PostForInteraction(ctx, viewer, postID)
	if err != nil {
		return p, err
	}
	// Content's block and follow projections may lag a block or unfollow
	// made a moment ago; social's own tables are authoritative. Content's
	// answer may also predate a deletion social has applied already: a like
	// or share written after it would outlive the post.
	followersOnly := p.Visibility == content.Followers && p.AuthorID != viewer
	blocked, deleted, unfollowed, err := store.InteractionState(ctx, tx, postID, p.AuthorID, viewer, followersOnly)
	if err != nil {
		return p, err
	}
	if deleted {
		return p, apperr.NewNotFound("post")
	}
	if blocked {
		return p, apperr.NewForbidden("you cannot interact with this user's content")
	}
	if unfollowed {
		return p, apperr.NewNotFound("post")
	}
	return p, nil
}

// LikePost makes viewer like a post they can see. Liking twice changes nothing.
func (s *Service) LikePost(ctx context.Context, viewer, postID uuid.UUID) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		p, err := s.interactable(ctx, tx, viewer, postID)
		if err != nil {
			return err
		}
		created, err := store.InsertLike(ctx, tx, postID, viewer)
		if err != nil || !created {
			return err
		}
		return s.bus.Publish(ctx, tx, events.LikeCreated{PostID: postID, PostAuthorID: p.AuthorID, UserID: viewer})
	})
}

// UnlikePost withdraws viewer's like of a post they can see. Idempotent.
// Like every interaction, it is FORBIDDEN on the content of a user who
// blocks the viewer, so that likePost and unlikePost answer alike.
func (s *Service) UnlikePost(ctx context.Context, viewer, postID uuid.UUID) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := s.interactable(ctx, tx, viewer, postID); err != nil {
			return err
		}
		removed, err := store.DeleteLike(ctx, tx, postID, viewer)
		if err != nil || !removed {
			return err
		}
		return s.bus.Publish(ctx, tx, events.LikeDeleted{PostID: postID, UserID: viewer})
	})
}

// PostStats are a post's social counters and whether the viewer likes it.
type PostStats struct {
	Likes, Shares int
	ViewerLiked   bool
}

// PostStats returns likeCount, shareCount and viewerHasLiked for each of
// postIDs, in one statement; viewer is uuid.Nil when signed out.
func (s *Service) PostStats(ctx context.Context, viewer uuid.UUID, postIDs []uuid.UUID) (map[uuid.UUID]PostStats, error) {
	m, err := store.PostStats(ctx, s.pool, viewer, postIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]PostStats, len(m))
	for id, r := range m {
		out[id] = PostStats(r)
	}
	return out, nil
}

// Share is a user's share of a post.
type Share struct {
	ID        uuid.UUID
	PostID    uuid.UUID
	UserID    uuid.UUID
	Comment   *string
	CreatedAt time.Time
}

// SharePost shares a post viewer can see, with an optional comment (at
// most 2,000 characters; blank means none), and emits social.share.created.
func (s *Service) SharePost(ctx context.Context, viewer, postID uuid.UUID, comment *string) (Share, error) {
	if err := requireUser(viewer); err != nil {
		return Share{}, err
	}
	if comment != nil && text.Blank(*comment) {
		comment = nil // an empty comment is no comment
	}
	if comment != nil {
		if !utf8.ValidString(*comment) || utf8.RuneCountInString(*comment) > MaxShareComment {
			return Share{}, apperr.Invalid("comment", "comment must be 1 to %d characters", MaxShareComment)
		}
		// Postgres text cannot store U+0000: refused as input, as posts
		// and comments refuse it, rather than failing the insert.
		if text.HasNUL(*comment) {
			return Share{}, apperr.Invalid("comment", "comment must not contain NUL characters")
		}
	}
	id, err := newID()
	if err != nil {
		return Share{}, err
	}
	sh := Share{ID: id, PostID: postID, UserID: viewer, Comment: comment, CreatedAt: s.now()}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		p, err := s.interactable(ctx, tx, viewer, postID)
		if err != nil {
			return err
		}
		if err := store.InsertShare(ctx, tx, store.Share(sh)); err != nil {
			return err
		}
		ev := events.ShareCreated{ShareID: id, PostID: postID, PostAuthorID: p.AuthorID, UserID: viewer}
		if comment != nil {
			ev.Comment = *comment
		}
		return s.bus.Publish(ctx, tx, ev)
	})
	if err != nil {
		return Share{}, err
	}
	return sh, nil
}

// SharesByIDs returns the shares among ids, keyed by id (node lookups); the
// gateway resolves Share.post through content, which applies visibility.
func (s *Service) SharesByIDs(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]Share, error) {
	rows, err := store.Shares(ctx, s.pool, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]Share, len(rows))
	for _, r := range rows {
		out[r.ID] = Share(r)
	}
	return out, nil
}

// VisibleShares is SharesByIDs without the shares viewer may not see as
// their sharer's content: those of banned users and of users who block
// viewer. The post shared is the caller's to check, through content.
func (s *Service) VisibleShares(ctx context.Context, viewer uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]Share, error) {
	shares, err := s.SharesByIDs(ctx, ids)
	if err != nil || len(shares) == 0 {
		return shares, err
	}
	sharers := make([]uuid.UUID, 0, len(shares))
	for _, sh := range shares {
		sharers = append(sharers, sh.UserID)
	}
	unseen, err := store.Unseen(ctx, s.pool, viewer, sharers)
	if err != nil {
		return nil, err
	}
	for id, sh := range shares {
		if unseen[sh.UserID] {
			delete(shares, id)
		}
	}
	return shares, nil
}
