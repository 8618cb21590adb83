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

// Post is a post as its readers see it.
type Post struct {
	ID         uuid.UUID
	AuthorID   uuid.UUID
	Body       string
	Visibility Visibility
	// Tags are the #hashtags of Body, lowercase without '#'.
	Tags []string
	// Mentions are the @usernames of Body, lowercase without '@'.
	Mentions     []string
	MediaIDs     []uuid.UUID
	CreatedAt    time.Time
	EditedAt     *time.Time
	Hidden       bool
	CommentCount int
}

// Key is the post's position in newest-first lists.
func (p Post) Key() page.Key { return page.Key{Time: p.CreatedAt, ID: p.ID} }

// Version is an earlier body of an edited post.
type Version struct {
	Body      string
	CreatedAt time.Time
}

func postOf(r store.Post) Post {
	return Post{ID: r.ID, AuthorID: r.AuthorID, Body: r.Body, Visibility: Visibility(r.Visibility), Tags: r.Tags,
		Mentions: r.Mentions, MediaIDs: r.MediaIDs, CreatedAt: r.CreatedAt, EditedAt: r.EditedAt,
		Hidden: r.HiddenAt != nil, CommentCount: r.CommentCount}
}

// CreatePostInput is createPost's input. An empty Visibility means PUBLIC.
type CreatePostInput struct {
	Body       string
	Visibility Visibility
	MediaIDs   []uuid.UUID
}

// CreatePost publishes a post by viewer and emits content.post.created.
func (s *Service) CreatePost(ctx context.Context, viewer uuid.UUID, in CreatePostInput) (Post, error) {
	if err := requireUser(viewer); err != nil {
		return Post{}, err
	}
	if err := checkText("body", in.Body, MaxPostBody); err != nil {
		return Post{}, err
	}
	switch in.Visibility {
	case "":
		in.Visibility = Public
	case Public, Followers:
	default:
		return Post{}, apperr.Invalid("visibility", "visibility must be PUBLIC or FOLLOWERS")
	}
	if in.MediaIDs == nil {
		in.MediaIDs = []uuid.UUID{}
	}
	if len(in.MediaIDs) > 0 {
		if s.media == nil {
			return Post{}, apperr.Invalid("mediaIds", "media attachments are not available")
		}
		if err := s.media.CheckAttachable(ctx, viewer, in.MediaIDs); err != nil {
			return Post{}, err
		}
	}
	id, err := newID()
	if err != nil {
		return Post{}, err
	}
	tags, mentions := textscan.Extract(in.Body)
	mentionIDs, err := s.mentionIDs(ctx, mentions)
	if err != nil {
		return Post{}, err
	}
	row := store.Post{ID: id, AuthorID: viewer, Body: in.Body, Visibility: string(in.Visibility), Tags: tags,
		Mentions: mentions, MediaIDs: in.MediaIDs, CreatedAt: s.now()}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if err := store.InsertPost(ctx, tx, row); err != nil {
			return err
		}
		readers, err := store.PostReaders(ctx, tx, id, mentionIDs)
		if err != nil {
			return err
		}
		return s.bus.Publish(ctx, tx, events.PostCreated{PostID: id, AuthorID: viewer, Body: in.Body,
			Visibility: row.Visibility, Tags: tags, Mentions: mentions, MediaIDs: in.MediaIDs, CreatedAt: row.CreatedAt,
			MentionIDs: readers})
	})
	if err != nil {
		return Post{}, err
	}
	return postOf(row), nil
}

// lockForEdit locks post id for an action by actor: NOT_FOUND when actor
// may not see it, FORBIDDEN unless actor is the author or (when
// moderatorsToo) a moderator.
func (s *Service) lockForEdit(ctx context.Context, tx pgx.Tx, actor Actor, id uuid.UUID, moderatorsToo bool) (store.Post, error) {
	p, err := store.LockPost(ctx, tx, id)
	if err != nil {
		return p, notFound(err, "post")
	}
	visible, err := store.PostVisible(ctx, tx, actor.ID, id)
	if err != nil {
		return p, err
	}
	if !visible && !(moderatorsToo && actor.IsModerator()) {
		return p, apperr.NewNotFound("post")
	}
	if p.AuthorID != actor.ID && !(moderatorsToo && actor.IsModerator()) {
		return p, apperr.NewForbidden("only the author may do this")
	}
	return p, nil
}

// UpdatePost replaces the body of viewer's post, keeping the previous body
// in the post's versions (at most MaxPostVersions), and emits
// content.post.updated. The same body again changes nothing.
func (s *Service) UpdatePost(ctx context.Context, viewer, id uuid.UUID, body string) (Post, error) {
	if err := requireUser(viewer); err != nil {
		return Post{}, err
	}
	if err := checkText("body", body, MaxPostBody); err != nil {
		return Post{}, err
	}
	vid, err := newID()
	if err != nil {
		return Post{}, err
	}
	tags, mentions := textscan.Extract(body)
	mentionIDs, err := s.mentionIDs(ctx, mentions)
	if err != nil {
		return Post{}, err
	}
	var out store.Post
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		p, err := s.lockForEdit(ctx, tx, Actor{ID: viewer}, id, false)
		if err != nil {
			return err
		}
		out = p
		if p.Body == body {
			// Nothing changed: no version, no editedAt, no event.
			return nil
		}
		// The post's lock orders its edits, but each reads the clock of its
		// own replica: keep every edit later than what it replaces, so that
		// editedAt and the versions follow the edits' order.
		at, last := s.now(), p.CreatedAt
		if p.EditedAt != nil {
			last = *p.EditedAt
		}
		if !at.After(last) {
			at = last.Add(time.Microsecond)
		}
		if err := store.EditPost(ctx, tx, p, vid, body, tags, mentions, at, MaxPostVersions); err != nil {
			return err
		}
		p.Body, p.Tags, p.Mentions, p.EditedAt = body, tags, mentions, &at
		out = p
		readers, err := store.PostReaders(ctx, tx, id, mentionIDs)
		if err != nil {
			return err
		}
		return s.bus.Publish(ctx, tx, events.PostUpdated{PostID: id, AuthorID: p.AuthorID, Body: body,
			Visibility: p.Visibility, Tags: tags, Mentions: mentions, EditedAt: at, MentionIDs: readers})
	})
	if err != nil {
		return Post{}, err
	}
	return postOf(out), nil
}

// DeletePost deletes a post (its author, or a moderator or admin; a
// moderator may delete a hidden post) and emits content.post.deleted.
func (s *Service) DeletePost(ctx context.Context, actor Actor, id uuid.UUID) error {
	if err := requireUser(actor.ID); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		p, err := s.lockForEdit(ctx, tx, actor, id, true)
		if err != nil {
			return err
		}
		if err := store.DeletePost(ctx, tx, p); err != nil {
			return err
		}
		return s.bus.Publish(ctx, tx, events.PostDeleted{PostID: id, AuthorID: p.AuthorID})
	})
}

// Post returns post id if viewer may see it, else NOT_FOUND (read it as null).
func (s *Service) Post(ctx context.Context, viewer, id uuid.UUID) (Post, error) {
	p, err := store.VisiblePost(ctx, s.pool, viewer, id)
	if err != nil {
		return Post{}, notFound(err, "post")
	}
	return postOf(p), nil
}

// PostsByIDs returns the posts among ids that viewer may see, keyed by id:
// an invisible or unknown id is simply absent. One query, for dataloaders.
func (s *Service) PostsByIDs(ctx context.Context, viewer uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]Post, error) {
	rows, err := store.VisiblePosts(ctx, s.pool, viewer, ids)
	if err != nil {
		return nil, err
	}
	return keyed(rows, func(r store.Post) (uuid.UUID, Post) { return r.ID, postOf(r) }), nil
}

// PostsByAuthor is User.posts: author's posts that viewer may see, newest first.
func (s *Service) PostsByAuthor(ctx context.Context, viewer, author uuid.UUID, req page.Request) (page.Page[Post], error) {
	at, after := store.MaxTime, uuid.Max
	if req.After != nil {
		at, after = req.After.Time, req.After.ID
	}
	rows, err := store.PostsByAuthor(ctx, s.pool, viewer, author, at, after, req.Size+1)
	if err != nil {
		return page.Page[Post]{}, err
	}
	posts := make([]Post, len(rows))
	for i, r := range rows {
		posts[i] = postOf(r)
	}
	return page.Trim(req, posts, Post.Key), nil
}

// Versions returns the earlier bodies of the posts among ids that viewer may
// see, newest first, keyed by post id (Post.versions; one query).
func (s *Service) Versions(ctx context.Context, viewer uuid.UUID, ids []uuid.UUID) (map[uuid.UUID][]Version, error) {
	rows, err := store.Versions(ctx, s.pool, viewer, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID][]Version, len(ids))
	for _, r := range rows {
		out[r.PostID] = append(out[r.PostID], Version{Body: r.Body, CreatedAt: r.CreatedAt})
	}
	return out, nil
}

// CommentCounts returns Post.commentCount for each existing post among ids
// (missing ids count 0). It does not check visibility: callers count posts
// they already loaded through PostsByIDs.
func (s *Service) CommentCounts(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]int, error) {
	return store.CommentCounts(ctx, s.pool, ids)
}

// PostCounts returns User.postCount (posts neither deleted nor hidden) for
// each user among ids (missing ids count 0).
func (s *Service) PostCounts(ctx context.Context, userIDs []uuid.UUID) (map[uuid.UUID]int, error) {
	return store.PostCounts(ctx, s.pool, userIDs)
}

// PostForInteraction returns post id for viewer to like, share or comment
// on: UNAUTHENTICATED when anonymous, FORBIDDEN when its author blocks the
// viewer, NOT_FOUND when the viewer may not see it.
func (s *Service) PostForInteraction(ctx context.Context, viewer, id uuid.UUID) (Post, error) {
	if err := requireUser(viewer); err != nil {
		return Post{}, err
	}
	p, err := store.VisiblePost(ctx, s.pool, viewer, id)
	if err == nil {
		return postOf(p), nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return Post{}, err
	}
	return Post{}, s.whyInvisible(ctx, s.pool, viewer, id)
}

// whyInvisible explains why post id is invisible to viewer: FORBIDDEN when
// its author blocks the viewer (interactions are refused, as the API
// requires), NOT_FOUND otherwise.
func (s *Service) whyInvisible(ctx context.Context, db store.DB, viewer, id uuid.UUID) error {
	author, err := store.LiveAuthor(ctx, db, id)
	return refuseInvisible(ctx, db, viewer, author, err, "post")
}

// whyCommentInvisible is whyInvisible for comment id, the parent of a reply.
func (s *Service) whyCommentInvisible(ctx context.Context, db store.DB, viewer, id uuid.UUID) error {
	author, err := store.LiveCommentAuthor(ctx, db, id)
	return refuseInvisible(ctx, db, viewer, author, err, "comment")
}

// refuseInvisible answers an interaction with content (what) invisible to
// viewer, whose author was looked up with err: FORBIDDEN when the author
// blocks the viewer, NOT_FOUND otherwise.
func refuseInvisible(ctx context.Context, db store.DB, viewer, author uuid.UUID, err error, what string) error {
	if err != nil {
		return notFound(err, what)
	}
	blocked, err := store.Blocks(ctx, db, author, viewer)
	if err != nil {
		return err
	}
	if blocked {
		return apperr.NewForbidden("you cannot interact with this user's content")
	}
	return apperr.NewNotFound(what)
}
