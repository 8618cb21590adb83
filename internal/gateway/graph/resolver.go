// Package graph is the gateway's GraphQL schema (schema/*.graphqls), the
// code gqlgen generates from it and the resolvers. Resolvers orchestrate
// domain services and own no data: every read and write goes through a
// domain's public API, acting as the viewer the request authenticated.
package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/gateway/gid"
	"github.com/nova-social/nova/internal/gateway/graph/model"
	"github.com/nova-social/nova/internal/identity"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/social"
	"github.com/nova-social/nova/internal/user"
)

// Resolver holds the domain services the resolvers call.
type Resolver struct {
	Identity *identity.Service
	Users    *user.Service
	Content  *content.Service
	Social   *social.Service
}

// NewSchema builds the executable schema with its directives.
func NewSchema(r *Resolver) graphql.ExecutableSchema {
	return NewExecutableSchema(Config{
		Resolvers: r,
		Directives: DirectiveRoot{
			Auth:    authDirective,
			HasRole: r.hasRoleDirective,
		},
	})
}

// errAnonymous is the field error of an operation that needs a user.
func errAnonymous() error { return apperr.NewUnauthenticated("authentication required") }

// authDirective lets a field run only for a signed-in viewer.
func authDirective(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
	if _, ok := PrincipalFrom(ctx); !ok {
		return nil, errAnonymous()
	}
	return next(ctx)
}

// roleRank orders roles so that a higher role includes the lower ones.
var roleRank = map[model.Role]int{model.RoleUser: 0, model.RoleModerator: 1, model.RoleAdmin: 2}

// hasRoleDirective lets a field run only for a viewer holding at least
// role. Domains check permissions again; this refuses early and uniformly.
func (r *Resolver) hasRoleDirective(ctx context.Context, _ any, next graphql.Resolver, role model.Role) (any, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return nil, errAnonymous()
	}
	u, found, err := r.viewerUser(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	if !found || u.Banned || roleRank[u.Role] < roleRank[role] {
		return nil, apperr.NewForbidden(fmt.Sprintf("this operation needs the %s role", role))
	}
	return next(ctx)
}

// loadUser returns a user through the request's loader.
func (r *Resolver) loadUser(ctx context.Context, id uuid.UUID) (*model.User, bool, error) {
	var (
		u     user.User
		found bool
		err   error
	)
	if l := loadersFrom(ctx); l != nil {
		u, found, err = l.Users.Load(ctx, id)
	} else {
		u, err = r.Users.Get(ctx, id)
		found = err == nil
		if apperr.Is(err, apperr.NotFound) {
			err = nil
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("load user %s: %w", id, err)
	}
	if !found {
		return nil, false, nil
	}
	return toUser(u), true, nil
}

// viewerUser reads the signed-in user from the database, and primes the
// loader for the rest of the request. Its role and ban authorize
// (@hasRole, moderation): never the loader's copy, which may come from the
// replica's cache of users before it heard of a demotion or a ban.
func (r *Resolver) viewerUser(ctx context.Context, id uuid.UUID) (*model.User, bool, error) {
	u, err := r.Users.Get(ctx, id)
	if apperr.Is(err, apperr.NotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("load viewer %s: %w", id, err)
	}
	primeUser(ctx, u)
	return toUser(u), true, nil
}

// actOnUser decodes the target's global id and runs an administrative
// action on it.
func (r *Resolver) actOnUser(ctx context.Context, userID string, act func(uuid.UUID) (user.User, error)) (*model.User, error) {
	target, err := gid.Parse("userId", gid.User, userID)
	if err != nil {
		return nil, err
	}
	u, err := act(target)
	if err != nil {
		return nil, err
	}
	primeUser(ctx, u)
	return toUser(u), nil
}

// primeUser records a user a mutation returned, for the rest of the request.
func primeUser(ctx context.Context, u user.User) {
	if l := loadersFrom(ctx); l != nil {
		l.Users.Prime(u.ID, u)
	}
}

func toUser(u user.User) *model.User {
	return &model.User{
		UserID:        u.ID,
		Username:      u.Username,
		DisplayName:   u.DisplayName,
		Bio:           u.Bio,
		AvatarMediaID: u.AvatarMediaID,
		Verified:      u.Verified,
		Role:          model.Role(u.Role),
		Banned:        u.Banned,
		CreatedAt:     u.CreatedAt,
	}
}

func toSettings(s user.Settings) *model.UserSettings {
	return &model.UserSettings{
		IsPrivate:          s.IsPrivate,
		EmailNotifications: s.EmailNotifications,
		PushNotifications:  s.PushNotifications,
	}
}

func toAuthPayload(t identity.Tokens) *model.AuthPayload {
	return &model.AuthPayload{
		AccessToken:  t.AccessToken,
		RefreshToken: t.RefreshToken,
		ExpiresAt:    t.ExpiresAt,
		UserUUID:     t.UserID,
	}
}

// deref is the value of an optional string argument, "" when omitted.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
