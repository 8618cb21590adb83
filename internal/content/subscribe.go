package content

import (
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
	events.SubscribeQueued(b, sub, "content.relationships", func(q *pgx.Batch, _ events.Meta, e events.FollowCreated) {
		store.ApplyFollow(q, e.FollowerID, e.FolloweeID, e.State == "FOLLOWING", e.At)
	})
	events.SubscribeQueued(b, sub, "content.relationships", func(q *pgx.Batch, _ events.Meta, e events.FollowDeleted) {
		store.ApplyFollow(q, e.FollowerID, e.FolloweeID, false, e.At)
	})
	events.SubscribeQueued(b, sub, "content.relationships", func(q *pgx.Batch, _ events.Meta, e events.BlockCreated) {
		store.ApplyBlock(q, e.BlockerID, e.BlockedID, true, e.At)
	})
	events.SubscribeQueued(b, sub, "content.relationships", func(q *pgx.Batch, _ events.Meta, e events.BlockDeleted) {
		store.ApplyBlock(q, e.BlockerID, e.BlockedID, false, e.At)
	})
	events.SubscribeQueued(b, sub, "content.bans", func(q *pgx.Batch, m events.Meta, e events.UserBanned) {
		store.Ban(q, e.UserID, m.OccurredAt)
	})
}
