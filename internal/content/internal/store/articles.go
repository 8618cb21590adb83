package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// InsertArticle stores a new article.
func InsertArticle(ctx context.Context, db DB, a Article) error {
	_, err := db.Exec(ctx, `INSERT INTO content.articles (id, author_id, title, body, status, created_at, published_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, a.ID, a.AuthorID, a.Title, a.Body, a.Status, a.CreatedAt, a.PublishedAt)
	if err != nil {
		return fmt.Errorf("insert article: %w", err)
	}
	return nil
}

// VisibleArticle returns article id if viewer may see it.
func VisibleArticle(ctx context.Context, db DB, viewer, id uuid.UUID) (Article, error) {
	a, err := scanArticle(db.QueryRow(ctx, `SELECT `+articleCols+` FROM content.articles a WHERE a.id = $2 AND`+articleVisible, viewer, id))
	return one(a, err, "get article")
}

// VisibleArticles returns the articles among ids that viewer may see.
func VisibleArticles(ctx context.Context, db DB, viewer uuid.UUID, ids []uuid.UUID) ([]Article, error) {
	rows, err := db.Query(ctx, `SELECT `+articleCols+` FROM content.articles a WHERE a.id = ANY($2) AND`+articleVisible, viewer, ids)
	return collect(rows, err, scanArticle, "get articles")
}

// LockVisibleArticle returns article id, locked, if viewer may see it.
func LockVisibleArticle(ctx context.Context, db DB, viewer, id uuid.UUID) (Article, error) {
	a, err := scanArticle(db.QueryRow(ctx, `SELECT `+articleCols+` FROM content.articles a WHERE a.id = $2 AND`+articleVisible+` FOR UPDATE OF a`, viewer, id))
	return one(a, err, "lock article")
}

// PublishArticle marks article id published at at.
func PublishArticle(ctx context.Context, db DB, id uuid.UUID, at time.Time) error {
	if _, err := db.Exec(ctx, `UPDATE content.articles SET status = 'PUBLISHED', published_at = $2 WHERE id = $1`, id, at); err != nil {
		return fmt.Errorf("publish article: %w", err)
	}
	return nil
}

// InsertReport records a report; a second report of the same item by the
// same reporter keeps the first.
func InsertReport(ctx context.Context, db DB, id, reporter, contentID uuid.UUID, kind, reason string) error {
	_, err := db.Exec(ctx, `INSERT INTO content.reports (id, reporter_id, content_id, content_type, reason)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (reporter_id, content_id) DO NOTHING`, id, reporter, contentID, kind, reason)
	if err != nil {
		return fmt.Errorf("insert report: %w", err)
	}
	return nil
}
