-- +goose Up
-- When a running replica last recorded each subscription: every replica
-- records its own at start and then every minute, so a subscription that no
-- replica has recorded for a while belongs to a consumer, or a topic of a
-- consumer, that the code no longer has, and `nova events unsubscribe` may
-- remove it.
ALTER TABLE events.event_subscriptions ADD COLUMN seen_at timestamptz NOT NULL DEFAULT now();

-- +goose Down
ALTER TABLE events.event_subscriptions DROP COLUMN seen_at;
