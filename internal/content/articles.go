package content

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/content/internal/store"
	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/platform/apperr"
)

// ArticleStatus is DRAFT until the author publishes.
type ArticleStatus string

const (
	Draft     ArticleStatus = "DRAFT"
	Published ArticleStatus = "PUBLISHED"
)

// Article is a long-form piece; drafts are visible only to their author.
type Article struct {
	ID          uuid.UUID
	AuthorID    uuid.UUID
	Title       string
	Body        string
	Status      ArticleStatus
	CreatedAt   time.Time
	PublishedAt *time.Time
}

func articleOf(r store.Article) Article {
	return Article{ID: r.ID, AuthorID: r.AuthorID, Title: r.Title, Body: r.Body, Status: ArticleStatus(r.Status),
		CreatedAt: r.CreatedAt, PublishedAt: r.PublishedAt}
}

// CreateArticleInput is createArticle's input.
type CreateArticleInput struct {
	Title string
	Body  string
}

// CreateArticle stores a DRAFT article by viewer.
func (s *Service) CreateArticle(ctx context.Context, viewer uuid.UUID, in CreateArticleInput) (Article, error) {
	if err := requireUser(viewer); err != nil {
		return Article{}, err
	}
	if err := checkText("title", in.Title, MaxArticleTitle); err != nil {
		return Article{}, err
	}
	if err := checkText("body", in.Body, MaxArticleBody); err != nil {
		return Article{}, err
	}
	id, err := newID()
	if err != nil {
		return Article{}, err
	}
	row := store.Article{ID: id, AuthorID: viewer, Title: in.Title, Body: in.Body, Status: string(Draft), CreatedAt: s.now()}
	if err := store.InsertArticle(ctx, s.pool, row); err != nil {
		return Article{}, err
	}
	return articleOf(row), nil
}

// PublishArticle publishes viewer's draft and emits content.article.published;
// publishing a published article returns it unchanged.
func (s *Service) PublishArticle(ctx context.Context, viewer, id uuid.UUID) (Article, error) {
	if err := requireUser(viewer); err != nil {
		return Article{}, err
	}
	var out store.Article
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		a, err := store.LockVisibleArticle(ctx, tx, viewer, id)
		if err != nil {
			return notFound(err, "article")
		}
		if a.AuthorID != viewer {
			return apperr.NewForbidden("only the author may publish this article")
		}
		out = a
		if a.Status == string(Published) {
			return nil
		}
		at := s.now()
		if err := store.PublishArticle(ctx, tx, id, at); err != nil {
			return err
		}
		out.Status, out.PublishedAt = string(Published), &at
		return s.bus.Publish(ctx, tx, events.ArticlePublished{ArticleID: id, AuthorID: a.AuthorID, Title: a.Title,
			Body: a.Body, PublishedAt: at})
	})
	if err != nil {
		return Article{}, err
	}
	return articleOf(out), nil
}

// Article returns article id if viewer may see it, else NOT_FOUND.
func (s *Service) Article(ctx context.Context, viewer, id uuid.UUID) (Article, error) {
	a, err := store.VisibleArticle(ctx, s.pool, viewer, id)
	if err != nil {
		return Article{}, notFound(err, "article")
	}
	return articleOf(a), nil
}

// ArticlesByIDs returns the articles among ids that viewer may see, keyed by id.
func (s *Service) ArticlesByIDs(ctx context.Context, viewer uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]Article, error) {
	rows, err := store.VisibleArticles(ctx, s.pool, viewer, ids)
	if err != nil {
		return nil, err
	}
	return keyed(rows, func(r store.Article) (uuid.UUID, Article) { return r.ID, articleOf(r) }), nil
}
