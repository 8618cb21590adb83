package user

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/identity"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/text"
	"github.com/nova-social/nova/internal/user/internal/store"
)

// Can reports whether the user's role grants p. A banned or unknown user can
// do nothing. Other domains (content moderation) ask here.
func (s *Service) Can(ctx context.Context, userID uuid.UUID, p Permission) (bool, error) {
	return can(ctx, s.pool, userID, p)
}

func can(ctx context.Context, q store.Querier, userID uuid.UUID, p Permission) (bool, error) {
	if userID == uuid.Nil {
		return false, nil
	}
	return store.HasPermission(ctx, q, userID, string(p))
}

// require returns UNAUTHENTICATED for an anonymous actor and FORBIDDEN
// unless the actor's role grants p.
func (s *Service) require(ctx context.Context, actor uuid.UUID, p Permission, what string) error {
	if actor == uuid.Nil {
		return apperr.NewUnauthenticated("sign in first")
	}
	ok, err := s.Can(ctx, actor, p)
	return forbiddenUnless(ok, err, what)
}

// requireLocked is require inside tx, after locking the role rows of actor
// and target: two admins demoting each other at once would otherwise both
// pass their checks, and no admin would be left.
func requireLocked(ctx context.Context, tx pgx.Tx, actor, target uuid.UUID, p Permission, what string) error {
	if err := store.LockRoles(ctx, tx, actor, target); err != nil {
		return err
	}
	ok, err := can(ctx, tx, actor, p)
	return forbiddenUnless(ok, err, what)
}

// forbiddenUnless turns a permission check into FORBIDDEN when it failed.
func forbiddenUnless(ok bool, err error, what string) error {
	if err != nil {
		return err
	}
	if !ok {
		return apperr.NewForbidden("you may not " + what)
	}
	return nil
}

// keepAssigner refuses a role change through the API that would leave no
// user able to assign roles: the last administrator stepping down (demoting
// another always leaves the acting one). Such changes hold the permission's
// lock, taken before the role rows so that none waits on another's rows,
// which keeps two administrators stepping down at once from each counting
// the other. The operator's path is not checked: it restores administrators.
func keepAssigner(ctx context.Context, tx pgx.Tx, target uuid.UUID, r Role) error {
	ok, err := store.KeepsHolder(ctx, tx, target, string(r), string(PermAssignRole))
	if err != nil {
		return err
	}
	if !ok {
		return apperr.NewForbidden("you may not remove the last administrator")
	}
	return nil
}

// AssignRole gives target the role r; only an ADMIN may. Publishes
// user.role.changed when the role changes.
func (s *Service) AssignRole(ctx context.Context, actor, target uuid.UUID, r Role) (User, error) {
	if err := s.require(ctx, actor, PermAssignRole, "assign roles"); err != nil {
		return User{}, err
	}
	return s.setRole(ctx, &actor, target, r)
}

// GrantRole assigns a role by username with no acting user: the operator's
// path (nova admin grant-role), which is how the first ADMIN comes to be.
func (s *Service) GrantRole(ctx context.Context, username string, r Role) (User, error) {
	u, err := s.ByUsername(ctx, username)
	if err != nil {
		return User{}, err
	}
	return s.setRole(ctx, nil, u.ID, r)
}

func (s *Service) setRole(ctx context.Context, actor *uuid.UUID, target uuid.UUID, r Role) (User, error) {
	if !r.Valid() {
		return User{}, apperr.Invalid("role", "must be USER, MODERATOR or ADMIN")
	}
	var u store.User
	err := s.change(ctx, target, func(tx pgx.Tx) error {
		if actor != nil {
			// Before the role rows: see keepAssigner.
			if err := store.LockPermission(ctx, tx, string(PermAssignRole)); err != nil {
				return err
			}
			if err := requireLocked(ctx, tx, *actor, target, PermAssignRole, "assign roles"); err != nil {
				return err
			}
			if err := keepAssigner(ctx, tx, target, r); err != nil {
				return err
			}
		}
		changed, err := store.SetRole(ctx, tx, target, string(r), actor)
		if err != nil {
			return err
		}
		if u, err = store.Get(ctx, tx, target); err != nil {
			return err
		}
		if !changed {
			return nil
		}
		by := uuid.Nil
		if actor != nil {
			by = *actor
		}
		return s.bus.Publish(ctx, tx, events.RoleChanged{UserID: target, Role: string(r), By: by})
	})
	if err != nil {
		return User{}, fmt.Errorf("assign role: %w", notFound(err))
	}
	return fromStore(u), nil
}

// Ban suspends target; MODERATOR and ADMIN may, and only for users of a
// lower role. Publishes user.banned, on which identity revokes every session
// and refuses further logins.
func (s *Service) Ban(ctx context.Context, actor, target uuid.UUID, reason string) (User, error) {
	if err := s.require(ctx, actor, PermBan, "ban users"); err != nil {
		return User{}, err
	}
	if err := checkText("reason", reason, MaxBanReason); err != nil {
		return User{}, err
	}
	if text.Blank(reason) {
		return User{}, apperr.Invalid("reason", "is required")
	}
	if actor == target {
		return User{}, apperr.NewForbidden("you may not ban yourself")
	}
	var u store.User
	err := s.change(ctx, target, func(tx pgx.Tx) error {
		if err := requireLocked(ctx, tx, actor, target, PermBan, "ban users"); err != nil {
			return err
		}
		a, err := store.GetActor(ctx, tx, actor)
		if err != nil {
			return err
		}
		t, err := store.GetActor(ctx, tx, target)
		if err != nil {
			return err
		}
		if t.Rank >= a.Rank {
			return apperr.NewForbidden("you may only ban users of a lower role")
		}
		banned, err := store.Ban(ctx, tx, target, reason, actor)
		if err != nil {
			return err
		}
		if u, err = store.Get(ctx, tx, target); err != nil {
			return err
		}
		if !banned {
			return nil
		}
		return s.bus.Publish(ctx, tx, events.UserBanned{UserID: target, Reason: reason, By: actor})
	})
	if err != nil {
		return User{}, fmt.Errorf("ban: %w", notFound(err))
	}
	return fromStore(u), nil
}

// Verify marks target verified; only an ADMIN may. Publishes user.verified.
func (s *Service) Verify(ctx context.Context, actor, target uuid.UUID) (User, error) {
	if err := s.require(ctx, actor, PermVerify, "verify users"); err != nil {
		return User{}, err
	}
	var u store.User
	err := s.change(ctx, target, func(tx pgx.Tx) error {
		// Re-checked under the role locks, as bans and role changes are: a
		// demotion committing since the check above refuses this too.
		if err := requireLocked(ctx, tx, actor, target, PermVerify, "verify users"); err != nil {
			return err
		}
		changed, err := store.Verify(ctx, tx, target)
		if err != nil {
			return err
		}
		if u, err = store.Get(ctx, tx, target); err != nil {
			return err
		}
		if !changed {
			return nil
		}
		return s.bus.Publish(ctx, tx, events.UserVerified{UserID: target})
	})
	if err != nil {
		return User{}, fmt.Errorf("verify: %w", notFound(err))
	}
	return fromStore(u), nil
}

// CreateUser registers an account and creates its profile synchronously, for
// scripted setups (nova admin create-user): no session, no rate limit. The
// registration event still flows; its handler then finds the rows in place.
func (s *Service) CreateUser(ctx context.Context, in identity.RegisterInput) (User, error) {
	id, err := s.ids.CreateAccount(ctx, in)
	if err != nil {
		return User{}, err
	}
	// Sent on the pool, the batch is one implicit transaction.
	batch := &pgx.Batch{}
	queueAccount(batch, id, in.Username, in.DisplayName, time.Now())
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return s.Get(ctx, id)
}
