package social

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/platform/domains"
)

// Subscribe registers social's consumers: the feeds (fan-out, removals) fed
// by content's post events, and bans and privacy changes from the user
// domain.
func (s *Service) Subscribe(b *events.Bus) {
	sub := events.Subscriber{Domain: domains.Social, Pool: s.pool}
	events.Subscribe(b, sub, "social.feeds", func(ctx context.Context, tx pgx.Tx, _ events.Meta, e events.PostCreated) error {
		return s.onPostCreated(ctx, tx, e)
	})
	events.Subscribe(b, sub, "social.feeds", func(ctx context.Context, tx pgx.Tx, _ events.Meta, e events.PostDeleted) error {
		return s.onPostDeleted(ctx, tx, e)
	})
	events.Subscribe(b, sub, "social.feeds", func(ctx context.Context, tx pgx.Tx, m events.Meta, e events.PostModerated) error {
		return s.onPostModerated(ctx, tx, m.OccurredAt, e)
	})
	events.Subscribe(b, sub, "social.bans", func(ctx context.Context, tx pgx.Tx, m events.Meta, e events.UserBanned) error {
		return s.onUserBanned(ctx, tx, m.OccurredAt, e)
	})
	events.Subscribe(b, sub, "social.requests", func(ctx context.Context, tx pgx.Tx, _ events.Meta, e events.SettingsUpdated) error {
		return s.onSettingsUpdated(ctx, tx, e)
	})
}
