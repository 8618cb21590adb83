package graph

import (
	"context"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/gateway/gid"
	"github.com/nova-social/nova/internal/gateway/graph/model"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/user"
)

func (r *mutationResolver) UpdateProfile(ctx context.Context, input model.UpdateProfileInput) (*model.User, error) {
	upd := user.ProfileUpdate{DisplayName: input.DisplayName, Bio: input.Bio}
	if input.AvatarMediaID != nil {
		id, err := gid.Parse("avatarMediaId", gid.Media, *input.AvatarMediaID)
		if err != nil {
			return nil, err
		}
		upd.AvatarMediaID = &id
	}
	u, err := r.Users.UpdateProfile(ctx, viewerID(ctx), upd)
	if err != nil {
		return nil, err
	}
	primeUser(ctx, u)
	return toUser(u), nil
}

func (r *mutationResolver) UpdateSettings(ctx context.Context, input model.UpdateSettingsInput) (*model.UserSettings, error) {
	s, err := r.Users.UpdateSettings(ctx, viewerID(ctx), user.SettingsUpdate{
		IsPrivate:          input.IsPrivate,
		EmailNotifications: input.EmailNotifications,
		PushNotifications:  input.PushNotifications,
	})
	if err != nil {
		return nil, err
	}
	return toSettings(s), nil
}

func (r *mutationResolver) AssignRole(ctx context.Context, userID string, role model.Role) (*model.User, error) {
	return r.actOnUser(ctx, userID, func(target uuid.UUID) (user.User, error) {
		return r.Users.AssignRole(ctx, viewerID(ctx), target, user.Role(role))
	})
}

func (r *mutationResolver) BanUser(ctx context.Context, userID string, reason string) (*model.User, error) {
	return r.actOnUser(ctx, userID, func(target uuid.UUID) (user.User, error) {
		return r.Users.Ban(ctx, viewerID(ctx), target, reason)
	})
}

func (r *mutationResolver) VerifyUser(ctx context.Context, userID string) (*model.User, error) {
	return r.actOnUser(ctx, userID, func(target uuid.UUID) (user.User, error) {
		return r.Users.Verify(ctx, viewerID(ctx), target)
	})
}

// actOnUser decodes the target's global id and runs an administrative
// action on it.
func (r *mutationResolver) actOnUser(ctx context.Context, userID string, act func(uuid.UUID) (user.User, error)) (*model.User, error) {
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

func (r *queryResolver) Viewer(ctx context.Context) (*model.User, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return nil, nil
	}
	u, _, err := r.viewerUser(ctx, p.UserID)
	return u, err
}

func (r *queryResolver) ViewerSettings(ctx context.Context) (*model.UserSettings, error) {
	s, err := r.Users.Settings(ctx, viewerID(ctx))
	if err != nil {
		return nil, err
	}
	return toSettings(s), nil
}

func (r *queryResolver) User(ctx context.Context, id *string, username *string) (*model.User, error) {
	switch {
	case (id == nil) == (username == nil):
		return nil, apperr.Invalid("id", "give exactly one of id and username")
	case id != nil:
		uid, err := gid.Parse("id", gid.User, *id)
		if err != nil {
			return nil, err
		}
		u, _, err := r.loadUser(ctx, uid)
		return u, err
	}
	u, err := r.Users.ByUsername(ctx, *username)
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	primeUser(ctx, u)
	return toUser(u), nil
}
