package content

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/content/internal/store"
	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/platform/apperr"
)

// ModerationAction is what moderatePost does.
type ModerationAction string

const (
	Hide    ModerationAction = "HIDE"
	Restore ModerationAction = "RESTORE"
)

// ReportContent records viewer's report of a post, comment or article that
// viewer can see (NOT_FOUND otherwise). Reporting twice keeps one report.
func (s *Service) ReportContent(ctx context.Context, viewer, contentID uuid.UUID, reason string) error {
	if err := requireUser(viewer); err != nil {
		return err
	}
	if err := checkText("reason", reason, MaxReportReason); err != nil {
		return err
	}
	kind, err := s.kindOf(ctx, viewer, contentID)
	if err != nil {
		return err
	}
	id, err := newID()
	if err != nil {
		return err
	}
	return store.InsertReport(ctx, s.pool, id, viewer, contentID, kind, reason)
}

// kindOf finds which kind of content id is, among what viewer may see.
func (s *Service) kindOf(ctx context.Context, viewer, id uuid.UUID) (string, error) {
	if _, err := store.VisiblePost(ctx, s.pool, viewer, id); !errors.Is(err, store.ErrNotFound) {
		return "POST", err
	}
	if _, err := store.VisibleComment(ctx, s.pool, viewer, id); !errors.Is(err, store.ErrNotFound) {
		return "COMMENT", err
	}
	if _, err := store.VisibleArticle(ctx, s.pool, viewer, id); !errors.Is(err, store.ErrNotFound) {
		return "ARTICLE", err
	}
	return "", apperr.NewNotFound("content")
}

// ModeratePost hides or restores a post (MODERATOR or ADMIN) and emits
// content.post.moderated. A hidden post disappears for everyone; it stays
// stored so that it can be restored. Repeating an action changes nothing.
// Nobody moderates their own post (FORBIDDEN): a moderator could otherwise
// restore what another one hid.
func (s *Service) ModeratePost(ctx context.Context, actor Actor, id uuid.UUID, action ModerationAction) (Post, error) {
	if err := requireUser(actor.ID); err != nil {
		return Post{}, err
	}
	if action != Hide && action != Restore {
		return Post{}, apperr.Invalid("action", "action must be HIDE or RESTORE")
	}
	if !actor.IsModerator() {
		if _, err := s.Post(ctx, actor.ID, id); err != nil {
			return Post{}, err
		}
		return Post{}, apperr.NewForbidden("only moderators and admins may moderate posts")
	}
	var out store.Post
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		p, err := store.LockPost(ctx, tx, id)
		if err != nil {
			return notFound(err, "post")
		}
		if p.AuthorID == actor.ID {
			return apperr.NewForbidden("moderators may not moderate their own posts")
		}
		out = p
		hide := action == Hide
		if hide == (p.HiddenAt != nil) {
			return nil
		}
		var at = s.now()
		hiddenAt := &at
		if !hide {
			hiddenAt = nil
		}
		if err := store.SetHidden(ctx, tx, p, hiddenAt, actor.ID); err != nil {
			return err
		}
		out.HiddenAt = hiddenAt
		return s.bus.Publish(ctx, tx, events.PostModerated{PostID: id, AuthorID: p.AuthorID, Hidden: hide, By: actor.ID})
	})
	if err != nil {
		return Post{}, err
	}
	return postOf(out), nil
}
