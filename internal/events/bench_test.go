package events

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// benchProducers is how many goroutines publish (and, for the ceiling,
// insert) at once; the pools of a test database hold 8 connections.
const benchProducers = 8

// insertCeiling is the plain single-row INSERT commit rate measured by the
// first sub-benchmark, the physical ceiling the others are reported against.
var insertCeiling float64

// BenchmarkBus measures, on one database and in one run:
//
//   - insert-ceiling: single-row INSERT commits by benchProducers clients;
//   - end-to-end/consumers=N: events published in a transaction with a
//     domain row, until every one of N consumers applied each (with its
//     inbox), as events/s and as a fraction of the ceiling;
//   - lag-200/s: events published at 200/s, delivery lag (publisher's commit
//     to handler start) p50 and p99.
//
// Run: go test ./internal/events -run '^$' -bench BenchmarkBus -benchtime 4000x
func BenchmarkBus(b *testing.B) {
	b.Run("insert-ceiling", func(b *testing.B) {
		f := newFixture(b)
		ctx := context.Background()
		start := time.Now()
		parallel(b.N, func(int) error {
			_, err := f.producer.Exec(ctx, producerInsert, uuid.New())
			return err
		})
		insertCeiling = float64(b.N) / time.Since(start).Seconds()
		b.ReportMetric(insertCeiling, "commits/s")
	})
	for _, consumers := range []int{1, 8} {
		b.Run(fmt.Sprintf("end-to-end/consumers=%d", consumers), func(b *testing.B) {
			f := newFixture(b)
			var handled atomic.Int64
			bus := f.newBus(b, Options{}, nil, func(bus *Bus) {
				for i := range consumers {
					name := fmt.Sprintf("user.bench%d", i)
					apply := project(name)
					Subscribe(bus, f.sub, name, func(ctx context.Context, tx pgx.Tx, m Meta, e UserVerified) error {
						if err := apply(ctx, tx, m, e); err != nil {
							return err
						}
						handled.Add(1)
						return nil
					})
				}
			})
			want := int64(b.N * consumers)
			b.ResetTimer()
			start := time.Now()
			parallel(b.N, func(int) error { return publishOne(f, bus, uuid.New()) })
			for handled.Load() < want {
				time.Sleep(time.Millisecond)
			}
			rate := float64(b.N) / time.Since(start).Seconds()
			b.ReportMetric(rate, "events/s")
			if insertCeiling > 0 {
				b.ReportMetric(rate/insertCeiling, "x-ceiling")
			}
		})
	}
	b.Run("lag-200/s", func(b *testing.B) {
		f := newFixture(b)
		var mu sync.Mutex
		committed := map[uuid.UUID]time.Time{}
		var lags []time.Duration
		done := make(chan struct{})
		bus := f.newBus(b, Options{}, nil, func(bus *Bus) {
			Subscribe(bus, f.sub, "user.lag", func(ctx context.Context, tx pgx.Tx, m Meta, e UserVerified) error {
				started := time.Now()
				mu.Lock()
				lags = append(lags, started.Sub(committed[e.UserID]))
				if len(lags) == b.N {
					close(done)
				}
				mu.Unlock()
				return nil
			})
		})
		b.ResetTimer()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for range b.N {
			<-tick.C
			id := uuid.New()
			// The commit time is taken before the commit is sent: a handler can
			// start before the publisher's Commit call has returned.
			err := pgx.BeginFunc(context.Background(), f.producer, func(tx pgx.Tx) error {
				if _, err := tx.Exec(context.Background(), producerInsert, id); err != nil {
					return err
				}
				if err := bus.Publish(context.Background(), tx, UserVerified{UserID: id}); err != nil {
					return err
				}
				mu.Lock()
				committed[id] = time.Now()
				mu.Unlock()
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			b.Fatal("deliveries missing")
		}
		slices.Sort(lags)
		b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99-ms")
	})
}

// publishOne commits a domain row and one event in one transaction.
func publishOne(f *fixture, bus *Bus, id uuid.UUID) error {
	ctx := context.Background()
	return pgx.BeginFunc(ctx, f.producer, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, producerInsert, id); err != nil {
			return err
		}
		return bus.Publish(ctx, tx, UserVerified{UserID: id})
	})
}

// parallel runs fn n times on benchProducers goroutines and panics on error
// (benchmarks have no useful recovery).
func parallel(n int, fn func(i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range benchProducers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if err := fn(int(i)); err != nil {
					panic(err)
				}
			}
		})
	}
	wg.Wait()
}
