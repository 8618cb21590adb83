package graph

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/gateway/dataload"
	"github.com/nova-social/nova/internal/gateway/gid"
	"github.com/nova-social/nova/internal/gateway/graph/model"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/page"
	"github.com/nova-social/nova/internal/social"
	"github.com/nova-social/nova/internal/user"
)

// This file holds the helpers of the content and social resolvers. They
// live outside the *.resolvers.go files, which gqlgen rewrites.

// actor is the viewer with their role, for the operations moderators may
// take on others' content. The role is read at once, not from the token, so
// a demotion applies immediately.
func (r *Resolver) actor(ctx context.Context) (content.Actor, error) {
	id := viewerID(ctx)
	u, found, err := r.viewerUser(ctx, id)
	if err != nil {
		return content.Actor{}, err
	}
	a := content.Actor{ID: id, Role: content.RoleUser}
	if found && !u.Banned {
		a.Role = string(u.Role)
	}
	return a, nil
}

// visiblePost returns a post the viewer may see through the request's
// loader; found is false when it is invisible or does not exist.
func (r *Resolver) visiblePost(ctx context.Context, id uuid.UUID) (p content.Post, found bool, err error) {
	p, found, err = r.loaders(ctx).Posts.Load(ctx, id)
	if err != nil {
		return p, false, fmt.Errorf("load post %s: %w", id, err)
	}
	return p, found, nil
}

// loadPost is visiblePost as the value of the current field: nil when
// invisible.
func (r *Resolver) loadPost(ctx context.Context, id uuid.UUID) (*model.Post, error) {
	p, found, err := r.visiblePost(ctx, id)
	if err != nil || !found {
		return nil, err
	}
	return r.postModel(ctx, p)
}

// mustLoadPost is loadPost for a non-null field: an invisible post is NOT_FOUND.
func (r *Resolver) mustLoadPost(ctx context.Context, id uuid.UUID) (*model.Post, error) {
	p, err := r.loadPost(ctx, id)
	if err == nil && p == nil {
		err = apperr.NewNotFound("post")
	}
	return p, err
}

// mustLoadUser loads a user for a non-null field.
func (r *Resolver) mustLoadUser(ctx context.Context, id uuid.UUID) (*model.User, error) {
	u, found, err := r.loadUser(ctx, id)
	if err == nil && !found {
		err = apperr.NewNotFound("user")
	}
	return u, err
}

// loaders returns the request's loaders, or fresh ones for a caller that
// came without (every transport of the gateway attaches them).
func (r *Resolver) loaders(ctx context.Context) *Loaders {
	if l := loadersFrom(ctx); l != nil {
		return l
	}
	return NewLoaders(r)
}

// postTypes are the type names a fragment may name on a post, its edge or
// its connection.
var postTypes = []string{"Post", "Node", "PostEdge", "PostConnection"}

// postExtras says which of model.PostExtras a query selects.
type postExtras struct{ author, counts, liked bool }

// selectedExtras reports the extras the query selects on the posts below
// the current field, reached through path (e.g. "edges", "node" from a
// connection), fragments and @skip/@include applied.
func selectedExtras(ctx context.Context, path ...string) postExtras {
	if graphql.GetFieldContext(ctx) == nil {
		return postExtras{author: true, counts: true, liked: true}
	}
	op := graphql.GetOperationContext(ctx)
	fields := graphql.CollectFieldsCtx(ctx, postTypes)
	for _, name := range path {
		var next []graphql.CollectedField
		for _, f := range fields {
			if f.Name == name {
				next = append(next, graphql.CollectFields(op, f.Selections, postTypes)...)
			}
		}
		fields = next
	}
	var e postExtras
	for _, f := range fields {
		switch f.Name {
		case "author":
			e.author = true
		case "likeCount", "shareCount":
			e.counts = true
		case "viewerHasLiked":
			e.liked = true
		}
	}
	return e
}

// postModel is postModels for the post that is the current field's value.
func (r *Resolver) postModel(ctx context.Context, p content.Post) (*model.Post, error) {
	posts, err := r.postModels(ctx, selectedExtras(ctx), []content.Post{p})
	if err != nil {
		return nil, err
	}
	return posts[0], nil
}

// postModels turns posts into the response's Post objects with the extras
// the query selects, the authors and the stats (counters and
// viewerHasLiked) each loaded for all posts at once, concurrently. The
// posts are primed in the request's post loader.
func (r *Resolver) postModels(ctx context.Context, want postExtras, posts []content.Post) ([]*model.Post, error) {
	l := r.loaders(ctx)
	out := make([]*model.Post, len(posts))
	ids := make([]uuid.UUID, len(posts))
	authors := make([]uuid.UUID, len(posts))
	for i, p := range posts {
		l.Posts.Prime(p.ID, p)
		out[i] = toPost(p)
		ids[i], authors[i] = p.ID, p.AuthorID
	}
	l.Versions.Hint(ids...)
	var (
		wg    sync.WaitGroup
		users map[uuid.UUID]user.User
		stats map[uuid.UUID]social.PostStats
		errs  [2]error
	)
	if want.author {
		wg.Go(func() { users, errs[0] = loadMany(ctx, l.Users, authors) })
	}
	if want.counts || want.liked {
		wg.Go(func() { stats, errs[1] = loadMany(ctx, l.PostStats, ids) })
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("load post fields: %w", err)
	}
	for _, p := range out {
		e := &p.Extras
		if u, ok := users[p.AuthorID]; ok {
			e.Author = toUser(u)
		}
		st := stats[p.PostID]
		e.AuthorLoaded, e.CountsLoaded, e.ViewerHasLikedLoaded = want.author, want.counts, want.liked
		e.LikeCount, e.ShareCount, e.ViewerHasLiked = st.Likes, st.Shares, st.ViewerLiked
	}
	return out, nil
}

// loadMany loads keys through l: a list's keys in one fetch at once, and a
// single key batched with the loads of concurrent resolvers (the post of
// every comment of a page).
func loadMany[V any](ctx context.Context, l *dataload.Loader[uuid.UUID, V], keys []uuid.UUID) (map[uuid.UUID]V, error) {
	if len(keys) != 1 {
		return l.LoadMany(ctx, keys)
	}
	v, found, err := l.Load(ctx, keys[0])
	if err != nil || !found {
		return nil, err
	}
	return map[uuid.UUID]V{keys[0]: v}, nil
}

// hintUsers tells the loaders which users a list holds, so that each of
// their counters costs one fetch for the whole list.
func hintUsers(ctx context.Context, ids []uuid.UUID) {
	if l := loadersFrom(ctx); l != nil {
		l.UserCounts.Hint(ids...)
		l.FollowStates.Hint(ids...)
		l.PostCounts.Hint(ids...)
	}
}

// forgetPost drops what the request knows of a post a mutation changed.
func forgetPost(ctx context.Context, id uuid.UUID) {
	if l := loadersFrom(ctx); l != nil {
		l.Posts.Forget(id)
		l.PostStats.Forget(id)
		l.Versions.Forget(id)
	}
}

// forgetPostCounts drops every postCount the request knows: creating,
// deleting, hiding or restoring a post changes its author's, and a deletion
// does not say whose post it was. Mutation fields run one after the other,
// so no resolver is using the loader it replaces.
func (r *Resolver) forgetPostCounts(ctx context.Context) {
	if l := loadersFrom(ctx); l != nil {
		l.PostCounts = newPostCounts(r)
	}
}

// forgetRelationship drops what the request knows of two users whose
// relationship a mutation changed.
func forgetRelationship(ctx context.Context, a, b uuid.UUID) {
	if l := loadersFrom(ctx); l != nil {
		for _, id := range []uuid.UUID{a, b} {
			l.FollowStates.Forget(id)
			l.UserCounts.Forget(id)
		}
	}
}

// pageInfo is the Relay page information of p.
func pageInfo[T any](p page.Page[T]) *model.PageInfo {
	pi := &model.PageInfo{HasNextPage: p.HasNext, HasPreviousPage: p.HasPrevious}
	if n := len(p.Keys); n > 0 {
		start, end := page.Encode(p.Keys[0]), page.Encode(p.Keys[n-1])
		pi.StartCursor, pi.EndCursor = &start, &end
	}
	return pi
}

// postConnection turns a page of posts into a connection.
func (r *Resolver) postConnection(ctx context.Context, p page.Page[content.Post]) (*model.PostConnection, error) {
	return r.connectionOf(ctx, p.Items, p.Keys, pageInfo(p))
}

// feedConnection loads the posts of a feed page in one query; their stats
// came with the page. Entries whose post became invisible since they were
// written are left out; the cursors still advance past them.
func (r *Resolver) feedConnection(ctx context.Context, p page.Page[social.FeedEntry]) (*model.PostConnection, error) {
	ids := make([]uuid.UUID, len(p.Items))
	for i, e := range p.Items {
		ids[i] = e.PostID
	}
	byID, err := r.Content.PostsByIDs(ctx, viewerID(ctx), ids)
	if err != nil {
		return nil, fmt.Errorf("load feed posts: %w", err)
	}
	l := r.loaders(ctx)
	for _, e := range p.Items {
		l.PostStats.Prime(e.PostID, e.Stats)
	}
	posts := make([]content.Post, 0, len(ids))
	keys := make([]page.Key, 0, len(ids))
	for i, id := range ids {
		if post, ok := byID[id]; ok {
			posts, keys = append(posts, post), append(keys, p.Keys[i])
		}
	}
	return r.connectionOf(ctx, posts, keys, pageInfo(p))
}

// connectionOf is the connection of posts, keys their cursors.
func (r *Resolver) connectionOf(ctx context.Context, posts []content.Post, keys []page.Key, info *model.PageInfo) (*model.PostConnection, error) {
	nodes, err := r.postModels(ctx, selectedExtras(ctx, "edges", "node"), posts)
	if err != nil {
		return nil, err
	}
	c := &model.PostConnection{Edges: make([]model.PostEdge, len(nodes)), PageInfo: info}
	for i, n := range nodes {
		c.Edges[i] = model.PostEdge{Cursor: page.Encode(keys[i]), Node: n}
	}
	return c, nil
}

// userConnection loads the users of a followers, following or requests
// page in one query; users gone since (none are deleted today) are left out.
func (r *Resolver) userConnection(ctx context.Context, p page.Page[social.Edge]) (*model.UserConnection, error) {
	ids := make([]uuid.UUID, len(p.Items))
	for i, e := range p.Items {
		ids[i] = e.UserID
	}
	users, err := r.Users.GetMany(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("load users: %w", err)
	}
	hintUsers(ctx, ids)
	c := &model.UserConnection{Edges: make([]model.UserEdge, 0, len(ids)), PageInfo: pageInfo(p)}
	for i, id := range ids {
		u, ok := users[id]
		if !ok {
			continue
		}
		primeUser(ctx, u)
		c.Edges = append(c.Edges, model.UserEdge{Cursor: page.Encode(p.Keys[i]), Node: toUser(u)})
	}
	return c, nil
}

// parseContentID decodes the id of a post, comment or article.
func parseContentID(field, s string) (uuid.UUID, error) {
	typ, id, ok := gid.Decode(s)
	if !ok || (typ != gid.Post && typ != gid.Comment && typ != gid.Article) {
		return uuid.Nil, apperr.Invalid(field, "%s is not the id of a post, comment or article", field)
	}
	return id, nil
}

func toPost(p content.Post) *model.Post {
	return &model.Post{PostID: p.ID, AuthorID: p.AuthorID, Body: p.Body, Visibility: model.Visibility(p.Visibility),
		CreatedAt: p.CreatedAt, EditedAt: p.EditedAt, CommentCount: p.CommentCount}
}

func toComment(c content.Comment) *model.Comment {
	return &model.Comment{CommentID: c.ID, PostID: c.PostID, AuthorID: c.AuthorID, ParentID: c.ParentID,
		Body: c.Body, CreatedAt: c.CreatedAt}
}

func toArticle(a content.Article) *model.Article {
	return &model.Article{ArticleID: a.ID, AuthorID: a.AuthorID, Title: a.Title, Body: a.Body,
		Status: model.ArticleStatus(a.Status), PublishedAt: a.PublishedAt}
}

func toShare(s social.Share) *model.Share {
	return &model.Share{ShareID: s.ID, PostID: s.PostID, UserID: s.UserID, Comment: s.Comment, CreatedAt: s.CreatedAt}
}

// followState is the viewer's state towards user: NONE when anonymous or
// towards oneself, without a query.
func (r *Resolver) followState(ctx context.Context, user uuid.UUID) (social.FollowState, error) {
	viewer := viewerID(ctx)
	if viewer == uuid.Nil || viewer == user {
		return social.None, nil
	}
	st, found, err := r.loaders(ctx).FollowStates.Load(ctx, user)
	if err != nil || !found {
		return social.None, err
	}
	return st, nil
}

// contentNode is Query.node for the content and social types: null for
// what does not exist or the viewer may not see (a share of an invisible
// post included, and one by a banned user or a user blocking the viewer).
func (r *Resolver) contentNode(ctx context.Context, typ string, id uuid.UUID) (model.Node, error) {
	l := r.loaders(ctx)
	switch typ {
	case gid.Post:
		if p, err := r.loadPost(ctx, id); p != nil || err != nil {
			return p, err
		}
	case gid.Comment:
		c, found, err := l.Comments.Load(ctx, id)
		if found || err != nil {
			return toComment(c), err
		}
	case gid.Article:
		a, err := r.Content.Article(ctx, viewerID(ctx), id)
		if err == nil {
			return toArticle(a), nil
		}
		if !apperr.Is(err, apperr.NotFound) {
			return nil, err
		}
	case gid.Share:
		shares, err := r.Social.VisibleShares(ctx, viewerID(ctx), []uuid.UUID{id})
		if err != nil {
			return nil, err
		}
		s, found := shares[id]
		if !found {
			return nil, nil
		}
		if _, found, err := r.visiblePost(ctx, s.PostID); !found || err != nil {
			return nil, err
		}
		return toShare(s), nil
	}
	return nil, nil
}
