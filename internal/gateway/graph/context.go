package graph

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/gateway/dataload"
	"github.com/nova-social/nova/internal/identity"
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

// Loaders are the request's dataloaders.
type Loaders struct {
	Users *dataload.Loader[uuid.UUID, user.User]
}

// loaderWait is how long a loader gathers keys before fetching. Resolvers
// of one list run concurrently and ask within microseconds of each other.
const loaderWait = 500 * time.Microsecond

// NewLoaders makes the loaders of one request.
func NewLoaders(users *user.Service) *Loaders {
	return &Loaders{
		Users: dataload.New(users.GetMany, loaderWait, 100),
	}
}

// WithLoaders attaches the request's loaders.
func WithLoaders(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, loadersKey, l)
}

func loadersFrom(ctx context.Context) *Loaders {
	l, _ := ctx.Value(loadersKey).(*Loaders)
	return l
}
