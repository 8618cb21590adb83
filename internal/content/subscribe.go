package content

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/content/internal/store"
	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/platform/domains"
)

// Subscribe registers content's consumers: the follow and block projection
// that FOLLOWERS visibility and blocks read (content may not call social),
// and the banned-author projection that hides banned users' content.
func (s *Service) Subscribe(b *events.Bus) {
	sub := events.Subscriber{Domain: domains.Content, Pool: s.pool}
	events.Subscribe(b, sub, "content.relationships", func(ctx context.Context, tx pgx.Tx, _ events.Meta, e events.FollowCreated) error {
		return store.ApplyFollow(ctx, tx, e.FollowerID, e.FolloweeID, e.State == "FOLLOWING", e.At)
	})
	events.Subscribe(b, sub, "content.relationships", func(ctx context.Context, tx pgx.Tx, _ events.Meta, e events.FollowDeleted) error {
		return store.ApplyFollow(ctx, tx, e.FollowerID, e.FolloweeID, false, e.At)
	})
	events.Subscribe(b, sub, "content.relationships", func(ctx context.Context, tx pgx.Tx, _ events.Meta, e events.BlockCreated) error {
		return store.ApplyBlock(ctx, tx, e.BlockerID, e.BlockedID, true, e.At)
	})
	events.Subscribe(b, sub, "content.relationships", func(ctx context.Context, tx pgx.Tx, _ events.Meta, e events.BlockDeleted) error {
		return store.ApplyBlock(ctx, tx, e.BlockerID, e.BlockedID, false, e.At)
	})
	events.Subscribe(b, sub, "content.bans", func(ctx context.Context, tx pgx.Tx, m events.Meta, e events.UserBanned) error {
		return store.Ban(ctx, tx, e.UserID, m.OccurredAt)
	})
}
