// Package social subscribes, and publishes through a helper.
//
//nova:domain social schema=social deps=content,events
package social

import (
	"context"

	"example.com/mini/internal/content"
	"example.com/mini/internal/events"
)

var _ = content.Create

func publish(ctx context.Context, b *events.Bus, ev events.Event) error {
	return b.Publish(ctx, nil, ev)
}

func Follow(ctx context.Context, b *events.Bus) error {
	return publish(ctx, b, events.FollowCreated{ID: "2"})
}

func Subscribe(b *events.Bus) {
	events.Subscribe(b, events.Subscriber{}, "social.feed", func(ctx context.Context, e events.PostCreated) error { return nil })
}
