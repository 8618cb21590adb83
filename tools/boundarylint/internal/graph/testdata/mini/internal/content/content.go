// Package content publishes directly.
//
//nova:domain content schema=content deps=events
package content

import (
	"context"

	"example.com/mini/internal/events"
)

func Create(ctx context.Context, b *events.Bus) error {
	return b.Publish(ctx, nil, events.PostCreated{ID: "1"})
}
