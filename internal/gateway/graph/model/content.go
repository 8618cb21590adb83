package model

import (
	"time"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/gateway/gid"
)

// Post is a post the viewer may see. Its author, counters and lists are
// resolved from the ids through the request's loaders.
type Post struct {
	PostID       uuid.UUID
	AuthorID     uuid.UUID
	Body         string
	Visibility   Visibility
	CreatedAt    time.Time
	EditedAt     *time.Time
	CommentCount int
}

// ID is the post's global id.
func (p *Post) ID() string { return gid.Encode(gid.Post, p.PostID) }

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
