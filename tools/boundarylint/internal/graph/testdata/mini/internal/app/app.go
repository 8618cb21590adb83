// Package app wires subscriptions for search.
package app

import (
	"context"

	"example.com/mini/internal/events"
	"example.com/mini/internal/platform/domains"
	_ "example.com/mini/internal/search"
	_ "example.com/mini/internal/social"
)

func Wire(b *events.Bus) {
	events.Subscribe[events.FollowCreated](b, events.Subscriber{Domain: domains.Search}, "search.index", func(ctx context.Context, e events.FollowCreated) error { return nil })
	events.SubscribeQueued(b, events.Subscriber{Domain: domains.Search}, "search.posts", func(q any, e events.PostCreated) {})
}
