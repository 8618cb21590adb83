// Package store holds the content domain's SQL. Every read that a viewer
// makes goes through the visibility predicates below, so invisible content
// cannot leak through a forgotten filter.
package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/platform/postgres"
)

// DB is a pool or a transaction.
type DB = postgres.Querier

// ErrNotFound means no row matched (or none the viewer may see).
var ErrNotFound = errors.New("not found")

// Post is a post row.
type Post struct {
	ID           uuid.UUID
	AuthorID     uuid.UUID
	Body         string
	Visibility   string
	Tags         []string
	Mentions     []string
	MediaIDs     []uuid.UUID
	CreatedAt    time.Time
	EditedAt     *time.Time
	HiddenAt     *time.Time
	CommentCount int
}

// Version is an earlier body of a post.
type Version struct {
	PostID    uuid.UUID
	Body      string
	CreatedAt time.Time
}

// Comment is a comment row.
type Comment struct {
	ID        uuid.UUID
	PostID    uuid.UUID
	AuthorID  uuid.UUID
	ParentID  *uuid.UUID
	Body      string
	Mentions  []string
	CreatedAt time.Time
}

// Article is an article row.
type Article struct {
	ID          uuid.UUID
	AuthorID    uuid.UUID
	Title       string
	Body        string
	Status      string
	CreatedAt   time.Time
	PublishedAt *time.Time
}

// Visibility predicates; $1 is always the viewer (uuid.Nil when anonymous,
// which matches no follow and no author).
const (
	// postVisible: not hidden, author not banned and not blocking the
	// viewer, and PUBLIC or the viewer's own or followed.
	postVisible = ` p.hidden_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM content.banned_users b WHERE b.user_id = p.author_id)
  AND NOT EXISTS (SELECT 1 FROM content.blocks k WHERE k.blocker_id = p.author_id AND k.blocked_id = $1 AND k.blocked)
  AND (p.visibility = 'PUBLIC' OR p.author_id = $1
       OR EXISTS (SELECT 1 FROM content.follows f WHERE f.follower_id = $1 AND f.followee_id = p.author_id AND f.following))`

	// commentVisible: on a visible post, by an author neither banned nor blocking the viewer.
	commentVisible = postVisible + `
  AND NOT EXISTS (SELECT 1 FROM content.banned_users cb WHERE cb.user_id = c.author_id)
  AND NOT EXISTS (SELECT 1 FROM content.blocks ck WHERE ck.blocker_id = c.author_id AND ck.blocked_id = $1 AND ck.blocked)`

	// authorSeen: author $2 neither banned nor blocking the viewer; the
	// author-level part of postVisible, for reads of one author's posts.
	authorSeen = ` NOT EXISTS (SELECT 1 FROM content.banned_users ab WHERE ab.user_id = $2)
  AND NOT EXISTS (SELECT 1 FROM content.blocks ak WHERE ak.blocker_id = $2 AND ak.blocked_id = $1 AND ak.blocked)`

	// authorFollowed: the viewer is author $2 or follows them, and so sees
	// their FOLLOWERS posts; the follow part of postVisible, for reads of
	// one author's posts.
	authorFollowed = ` ($1 = $2 OR EXISTS (SELECT 1 FROM content.follows af WHERE af.follower_id = $1 AND af.followee_id = $2 AND af.following))`

	articleVisible = ` (a.status = 'PUBLISHED' OR a.author_id = $1)
  AND NOT EXISTS (SELECT 1 FROM content.banned_users b WHERE b.user_id = a.author_id)
  AND NOT EXISTS (SELECT 1 FROM content.blocks k WHERE k.blocker_id = a.author_id AND k.blocked_id = $1 AND k.blocked)`

	postCols    = `p.id, p.author_id, p.body, p.visibility, p.tags, p.mentions, p.media_ids, p.created_at, p.edited_at, p.hidden_at, p.comment_count`
	commentCols = `c.id, c.post_id, c.author_id, c.parent_id, c.body, c.mentions, c.created_at`
	articleCols = `a.id, a.author_id, a.title, a.body, a.status, a.created_at, a.published_at`
)

func scanPost(row pgx.Row) (Post, error) {
	var p Post
	err := row.Scan(&p.ID, &p.AuthorID, &p.Body, &p.Visibility, &p.Tags, &p.Mentions, &p.MediaIDs, &p.CreatedAt, &p.EditedAt, &p.HiddenAt, &p.CommentCount)
	return p, err
}

func scanComment(row pgx.Row) (Comment, error) {
	var c Comment
	err := row.Scan(&c.ID, &c.PostID, &c.AuthorID, &c.ParentID, &c.Body, &c.Mentions, &c.CreatedAt)
	return c, err
}

func scanArticle(row pgx.Row) (Article, error) {
	var a Article
	err := row.Scan(&a.ID, &a.AuthorID, &a.Title, &a.Body, &a.Status, &a.CreatedAt, &a.PublishedAt)
	return a, err
}

// one maps pgx.ErrNoRows to ErrNotFound and wraps anything else.
func one[T any](v T, err error, what string) (T, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return v, ErrNotFound
	}
	if err != nil {
		return v, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

func collect[T any](rows pgx.Rows, err error, scan func(pgx.Row) (T, error), what string) ([]T, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: scan: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
