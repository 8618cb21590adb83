package social

import (
	"context"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/user"
)

// UserAccounts answers Accounts from the user domain.
func UserAccounts(u *user.Service) Accounts { return userAccounts{u} }

type userAccounts struct{ users *user.Service }

// IsPrivate reads the account's settings; a banned account cannot be
// followed or blocked any more than an unknown one.
func (a userAccounts) IsPrivate(ctx context.Context, id uuid.UUID) (bool, error) {
	u, err := a.users.Get(ctx, id)
	if err != nil {
		return false, err
	}
	if u.Banned {
		return false, apperr.NewNotFound("user")
	}
	st, err := a.users.Settings(ctx, id)
	if err != nil {
		return false, err
	}
	return st.IsPrivate, nil
}
