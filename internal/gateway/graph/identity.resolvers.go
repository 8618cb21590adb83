package graph

import (
	"context"

	"github.com/nova-social/nova/internal/gateway/graph/model"
	"github.com/nova-social/nova/internal/identity"
)

func (r *mutationResolver) Register(ctx context.Context, input model.RegisterInput) (*model.AuthPayload, error) {
	t, err := r.Identity.Register(ctx, identity.RegisterInput{
		Email:       input.Email,
		Username:    input.Username,
		Password:    input.Password,
		DisplayName: input.DisplayName,
	}, clientFrom(ctx))
	if err != nil {
		return nil, err
	}
	return toAuthPayload(t), nil
}

func (r *mutationResolver) Login(ctx context.Context, input model.LoginInput) (*model.AuthPayload, error) {
	t, err := r.Identity.Login(ctx, identity.LoginInput{Login: input.Login, Password: input.Password}, clientFrom(ctx))
	if err != nil {
		return nil, err
	}
	return toAuthPayload(t), nil
}

func (r *mutationResolver) RefreshToken(ctx context.Context, refreshToken string) (*model.AuthPayload, error) {
	t, err := r.Identity.Refresh(ctx, refreshToken, clientFrom(ctx))
	if err != nil {
		return nil, err
	}
	return toAuthPayload(t), nil
}

func (r *mutationResolver) Logout(ctx context.Context) (bool, error) {
	p, _ := PrincipalFrom(ctx)
	if err := r.Identity.Logout(ctx, p); err != nil {
		return false, err
	}
	return true, nil
}

func (r *mutationResolver) LogoutAll(ctx context.Context) (bool, error) {
	if err := r.Identity.LogoutAll(ctx, viewerID(ctx)); err != nil {
		return false, err
	}
	return true, nil
}

func (r *mutationResolver) ChangePassword(ctx context.Context, input model.ChangePasswordInput) (bool, error) {
	p, _ := PrincipalFrom(ctx)
	if err := r.Identity.ChangePassword(ctx, p, input.CurrentPassword, input.NewPassword); err != nil {
		return false, err
	}
	return true, nil
}

func (r *queryResolver) Sessions(ctx context.Context) ([]model.Session, error) {
	p, _ := PrincipalFrom(ctx)
	sessions, err := r.Identity.Sessions(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	out := make([]model.Session, len(sessions))
	for i, s := range sessions {
		out[i] = model.Session{
			SessionID:  s.ID,
			CreatedAt:  s.CreatedAt,
			LastUsedAt: s.LastUsedAt,
			Current:    s.ID == p.SessionID,
		}
		if s.UserAgent != "" {
			ua := s.UserAgent
			out[i].UserAgent = &ua
		}
	}
	return out, nil
}
