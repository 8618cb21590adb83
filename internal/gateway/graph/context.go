package graph

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/gateway/dataload"
	"github.com/nova-social/nova/internal/identity"
	"github.com/nova-social/nova/internal/social"
	"github.com/nova-social/nova/internal/user"
)

type ctxKey int

const (
	principalKey ctxKey = iota
	clientKey
	loadersKey
)

// WithPrincipal marks the request as made by the signed-in session p.
func WithPrincipal(ctx context.Context, p identity.Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFrom returns the request's session; ok is false when anonymous.
func PrincipalFrom(ctx context.Context) (identity.Principal, bool) {
	p, ok := ctx.Value(principalKey).(identity.Principal)
	return p, ok
}

// viewerID is the signed-in user's id, uuid.Nil when anonymous: the
// acting user the domain services take explicitly.
func viewerID(ctx context.Context) uuid.UUID {
	p, _ := PrincipalFrom(ctx)
	return p.UserID
}

// WithClient records who is calling, for rate limits and session records.
func WithClient(ctx context.Context, c identity.ClientInfo) context.Context {
	return context.WithValue(ctx, clientKey, c)
}

func clientFrom(ctx context.Context) identity.ClientInfo {
	c, _ := ctx.Value(clientKey).(identity.ClientInfo)
	return c
}

// Loaders are the request's dataloaders. The post and relationship loaders
// answer for the request's viewer, which every fetch reads from its context.
type Loaders struct {
	Users *dataload.Loader[uuid.UUID, user.User]
	// Posts holds the posts the viewer may see; an invisible post is absent.
	Posts    *dataload.Loader[uuid.UUID, content.Post]
	Comments *dataload.Loader[uuid.UUID, content.Comment]
	Versions *dataload.Loader[uuid.UUID, []content.Version]
	// PostStats are likeCount, shareCount and viewerHasLiked.
	PostStats *dataload.Loader[uuid.UUID, social.PostStats]
	// PostCounts is User.postCount; UserCounts the follow counters.
	PostCounts   *dataload.Loader[uuid.UUID, int]
	UserCounts   *dataload.Loader[uuid.UUID, social.Counts]
	FollowStates *dataload.Loader[uuid.UUID, social.FollowState]
}

// loaderWait is how long a loader gathers keys before fetching. Resolvers
// of one list run concurrently and ask within microseconds of each other.
const loaderWait = 500 * time.Microsecond

// loaderBatch is the most keys of one fetch: a page holds at most 100 items.
const loaderBatch = 100

// NewLoaders makes the loaders of one request.
func NewLoaders(r *Resolver) *Loaders {
	return &Loaders{
		Users: dataload.New(r.Users.GetMany, loaderWait, loaderBatch),
		Posts: dataload.New(func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]content.Post, error) {
			return r.Content.PostsByIDs(ctx, viewerID(ctx), ids)
		}, loaderWait, loaderBatch),
		Comments: dataload.New(func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]content.Comment, error) {
			return r.Content.CommentsByIDs(ctx, viewerID(ctx), ids)
		}, loaderWait, loaderBatch),
		Versions: dataload.New(func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID][]content.Version, error) {
			return r.Content.Versions(ctx, viewerID(ctx), ids)
		}, loaderWait, loaderBatch),
		PostStats: dataload.New(func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]social.PostStats, error) {
			return r.Social.PostStats(ctx, viewerID(ctx), ids)
		}, loaderWait, loaderBatch),
		PostCounts: newPostCounts(r),
		UserCounts: dataload.New(r.Social.UserCounts, loaderWait, loaderBatch),
		FollowStates: dataload.New(func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]social.FollowState, error) {
			return r.Social.FollowStates(ctx, viewerID(ctx), ids)
		}, loaderWait, loaderBatch),
	}
}

// newPostCounts is the loader of User.postCount.
func newPostCounts(r *Resolver) *dataload.Loader[uuid.UUID, int] {
	return dataload.New(r.Content.PostCounts, loaderWait, loaderBatch)
}

// WithLoaders attaches the request's loaders.
func WithLoaders(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, loadersKey, l)
}

func loadersFrom(ctx context.Context) *Loaders {
	l, _ := ctx.Value(loadersKey).(*Loaders)
	return l
}
