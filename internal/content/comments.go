package content

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/content/internal/store"
	"github.com/nova-social/nova/internal/content/internal/textscan"
	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/page"
)

// Comment is a comment on a post; ParentID is set on replies.
type Comment struct {
	ID        uuid.UUID
	PostID    uuid.UUID
	AuthorID  uuid.UUID
	ParentID  *uuid.UUID
	Body      string
	Mentions  []string
	CreatedAt time.Time
}

// Key is the comment's position in oldest-first lists.
func (c Comment) Key() page.Key { return page.Key{Time: c.CreatedAt, ID: c.ID} }

// CreateCommentInput is createComment's input.
type CreateCommentInput struct {
	PostID   uuid.UUID
	Body     string
	ParentID *uuid.UUID
}

// CreateComment adds viewer's comment (a reply when ParentID is set) to a
// post viewer may see and emits content.comment.created. A viewer blocked
// by the post's author, or by the author of the comment replied to, gets
// FORBIDDEN; a parent the viewer may not see otherwise is NOT_FOUND.
func (s *Service) CreateComment(ctx context.Context, viewer uuid.UUID, in CreateCommentInput) (Comment, error) {
	if err := requireUser(viewer); err != nil {
		return Comment{}, err
	}
	if err := checkText("body", in.Body, MaxCommentBody); err != nil {
		return Comment{}, err
	}
	id, err := newID()
	if err != nil {
		return Comment{}, err
	}
	_, mentions := textscan.Extract(in.Body)
	mentionIDs, err := s.mentionIDs(ctx, mentions)
	if err != nil {
		return Comment{}, err
	}
	row := store.Comment{ID: id, PostID: in.PostID, AuthorID: viewer, ParentID: in.ParentID, Body: in.Body,
		Mentions: mentions, CreatedAt: s.now()}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// Lock the post before reading it and the parent: deleting the
		// post or a comment on it, and hiding the post, lock it first, so
		// a racing one is seen done (NOT_FOUND) instead of failing the
		// insert's foreign key.
		if _, err := store.LockPost(ctx, tx, in.PostID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		p, err := store.VisiblePost(ctx, tx, viewer, in.PostID)
		if errors.Is(err, store.ErrNotFound) {
			return s.whyInvisible(ctx, tx, viewer, in.PostID)
		}
		if err != nil {
			return err
		}
		if in.ParentID != nil {
			parent, err := store.VisibleComment(ctx, tx, viewer, *in.ParentID)
			if errors.Is(err, store.ErrNotFound) {
				return s.whyCommentInvisible(ctx, tx, viewer, *in.ParentID)
			}
			if err != nil {
				return err
			}
			if parent.PostID != in.PostID {
				return apperr.Invalid("parentId", "parentId must be a comment on the same post")
			}
		}
		at, err := store.InsertComment(ctx, tx, row)
		if err != nil {
			return err
		}
		row.CreatedAt = at
		readers, err := store.CommentReaders(ctx, tx, id, mentionIDs)
		if err != nil {
			return err
		}
		return s.bus.Publish(ctx, tx, events.CommentCreated{CommentID: id, PostID: p.ID, PostAuthorID: p.AuthorID,
			AuthorID: viewer, ParentID: in.ParentID, Body: in.Body, Mentions: mentions, CreatedAt: row.CreatedAt,
			MentionIDs: readers})
	})
	if err != nil {
		return Comment{}, err
	}
	return Comment(row), nil
}

// DeleteComment deletes a comment and its replies. Allowed to the comment's
// author, the post's author, moderators and admins; emits
// content.comment.deleted for each comment removed.
func (s *Service) DeleteComment(ctx context.Context, actor Actor, id uuid.UUID) error {
	if err := requireUser(actor.ID); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		post, err := store.LockPostOfComment(ctx, tx, id)
		if err != nil {
			return notFound(err, "comment")
		}
		c, err := store.LockComment(ctx, tx, id)
		if err != nil {
			return notFound(err, "comment")
		}
		if !actor.IsModerator() {
			if err := s.mayDeleteComment(ctx, tx, actor.ID, post, c); err != nil {
				return err
			}
		}
		removed, err := store.DeleteCommentTree(ctx, tx, c)
		if err != nil {
			return err
		}
		evs := make([]events.Event, len(removed))
		for i, rid := range removed {
			evs[i] = events.CommentDeleted{CommentID: rid, PostID: c.PostID}
		}
		return s.bus.Publish(ctx, tx, evs...)
	})
}

// mayDeleteComment lets viewer, who is no moderator, delete comment c on
// post: NOT_FOUND when viewer may not see it, FORBIDDEN when it is neither
// theirs nor on their post. The post's author may delete any comment on a
// post they see, also one hidden from them because its author blocks them:
// it is on their post for everyone else to read.
func (s *Service) mayDeleteComment(ctx context.Context, tx pgx.Tx, viewer uuid.UUID, post store.Post, c store.Comment) error {
	if post.AuthorID == viewer {
		visible, err := store.PostVisible(ctx, tx, viewer, post.ID)
		if err != nil || visible {
			return err
		}
		return apperr.NewNotFound("comment")
	}
	if _, err := store.VisibleComment(ctx, tx, viewer, c.ID); err != nil {
		return notFound(err, "comment")
	}
	if c.AuthorID != viewer {
		return apperr.NewForbidden("only the comment's author, the post's author or a moderator may delete it")
	}
	return nil
}

// Comment returns comment id if viewer may see it, else NOT_FOUND.
func (s *Service) Comment(ctx context.Context, viewer, id uuid.UUID) (Comment, error) {
	c, err := store.VisibleComment(ctx, s.pool, viewer, id)
	if err != nil {
		return Comment{}, notFound(err, "comment")
	}
	return Comment(c), nil
}

// CommentsByIDs returns the comments among ids that viewer may see, keyed by id.
func (s *Service) CommentsByIDs(ctx context.Context, viewer uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]Comment, error) {
	rows, err := store.VisibleComments(ctx, s.pool, viewer, ids)
	if err != nil {
		return nil, err
	}
	return keyed(rows, func(r store.Comment) (uuid.UUID, Comment) { return r.ID, Comment(r) }), nil
}

// Comments is Post.comments: the comments of post viewer may see, oldest
// first (empty when the post itself is invisible).
func (s *Service) Comments(ctx context.Context, viewer, post uuid.UUID, req page.Request) (page.Page[Comment], error) {
	at, after := time.Time{}, uuid.Nil
	if req.After != nil {
		at, after = req.After.Time, req.After.ID
	}
	rows, err := store.CommentsOfPost(ctx, s.pool, viewer, post, at, after, req.Size+1)
	if err != nil {
		return page.Page[Comment]{}, err
	}
	out := make([]Comment, len(rows))
	for i, r := range rows {
		out[i] = Comment(r)
	}
	return page.Trim(req, out, Comment.Key), nil
}
