// Package events is a miniature bus.
//
//nova:domain events schema=events deps=
package events

import (
	"context"

	"example.com/mini/internal/platform/domains"
)

type Topic string

const (
	TopicPostCreated   Topic = "content.post.created"
	TopicFollowCreated Topic = "social.follow.created"
	TopicUnused        Topic = "social.unused"
)

type Event interface{ Topic() Topic }

type PostCreated struct{ ID string }
type FollowCreated struct{ ID string }
type Unused struct{}

func (PostCreated) Topic() Topic   { return TopicPostCreated }
func (FollowCreated) Topic() Topic { return TopicFollowCreated }
func (Unused) Topic() Topic        { return TopicUnused }

type Bus struct{}

func (b *Bus) Publish(ctx context.Context, tx any, evs ...Event) error { return nil }

type Subscriber struct{ Domain domains.Domain }

func Subscribe[E Event](b *Bus, s Subscriber, consumer string, h func(ctx context.Context, e E) error) {
}

func SubscribeQueued[E Event](b *Bus, s Subscriber, consumer string, h func(q any, e E)) {
}
