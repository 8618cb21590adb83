package model

import (
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/gateway/gid"
	"github.com/nova-social/nova/internal/platform/apperr"
)

// Post is a post the viewer may see. Its comments and versions are resolved
// through the request's loaders; its author, counters and viewerHasLiked
// come in Extras.
type Post struct {
	PostID       uuid.UUID
	AuthorID     uuid.UUID
	Body         string
	Visibility   Visibility
	CreatedAt    time.Time
	EditedAt     *time.Time
	CommentCount int
	Extras       PostExtras
}

// PostExtras are a post's fields that other domains own. The resolver that
// produces posts loads the ones the query selects, for all its posts at
// once, so gqlgen serves them as plain values: as resolvers it would run
// each on a goroutine of its own for every post of a page, which cost more
// CPU than the queries behind them.
type PostExtras struct {
	AuthorLoaded bool
	Author       *User // nil when loaded: the author does not exist

	CountsLoaded          bool
	LikeCount, ShareCount int

	ViewerHasLikedLoaded bool
	ViewerHasLiked       bool
}

// errNotLoaded is a resolver that produced a post without the extras the
// query selected: a bug, reported as an internal error.
var errNotLoaded = errors.New("post field not loaded by its resolver")

func (p *Post) Author() (*User, error) {
	switch {
	case !p.Extras.AuthorLoaded:
		return nil, errNotLoaded
	case p.Extras.Author == nil:
		return nil, apperr.NewNotFound("user")
	}
	return p.Extras.Author, nil
}

func (p *Post) LikeCount() (int, error) {
	if !p.Extras.CountsLoaded {
		return 0, errNotLoaded
	}
	return p.Extras.LikeCount, nil
}

func (p *Post) ShareCount() (int, error) {
	if !p.Extras.CountsLoaded {
		return 0, errNotLoaded
	}
	return p.Extras.ShareCount, nil
}

func (p *Post) ViewerHasLiked() (bool, error) {
	if !p.Extras.ViewerHasLikedLoaded {
		return false, errNotLoaded
	}
	return p.Extras.ViewerHasLiked, nil
}

// ID is the post's global id.
func (p *Post) ID() string { return gid.Encode(gid.Post, p.PostID) }

// Media is the post's attachments: none, since createPost refuses every
// media id until a media domain can vouch for it.
func (p *Post) Media() []Media { return nil }

// IsNode marks Post as a Node.
func (*Post) IsNode() {}

// Comment is a comment on a post the viewer may see.
type Comment struct {
	CommentID uuid.UUID
	PostID    uuid.UUID
	AuthorID  uuid.UUID
	ParentID  *uuid.UUID
	Body      string
	CreatedAt time.Time
}

// ID is the comment's global id.
func (c *Comment) ID() string { return gid.Encode(gid.Comment, c.CommentID) }

// IsNode marks Comment as a Node.
func (*Comment) IsNode() {}

// Article is a long-form piece.
type Article struct {
	ArticleID   uuid.UUID
	AuthorID    uuid.UUID
	Title       string
	Body        string
	Status      ArticleStatus
	PublishedAt *time.Time
}

// ID is the article's global id.
func (a *Article) ID() string { return gid.Encode(gid.Article, a.ArticleID) }

// IsNode marks Article as a Node.
func (*Article) IsNode() {}

// Share is a user's share of a post.
type Share struct {
	ShareID   uuid.UUID
	PostID    uuid.UUID
	UserID    uuid.UUID
	Comment   *string
	CreatedAt time.Time
}

// ID is the share's global id.
func (s *Share) ID() string { return gid.Encode(gid.Share, s.ShareID) }

// IsNode marks Share as a Node.
func (*Share) IsNode() {}
