// Package eventstest publishes catalogue events in tests as the domains
// that own them would.
package eventstest

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/postgres"
)

// Publish commits each of evs in a transaction of its own on the pool of
// the domain its topic names ("<domain>.<entity>.<verb>"): the bus refuses
// a domain's publication of another domain's topics.
func Publish(t testing.TB, bus *events.Bus, pools *postgres.Pools, evs ...events.Event) {
	t.Helper()
	ctx := context.Background()
	for _, ev := range evs {
		name, _, _ := strings.Cut(string(ev.Topic()), ".")
		d, ok := domains.ByName(name)
		if !ok {
			t.Fatalf("topic %s names no domain", ev.Topic())
		}
		if err := pgx.BeginFunc(ctx, pools.For(d), func(tx pgx.Tx) error { return bus.Publish(ctx, tx, ev) }); err != nil {
			t.Fatalf("publish %s: %v", ev.Topic(), err)
		}
	}
}
