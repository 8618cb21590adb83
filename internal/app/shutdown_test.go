package app

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestShutdownSharesOneDeadline: a drain that takes the whole shutdown
// timeout leaves the event bus nothing more, so shutdown ends a timeout
// after the signal, not two.
func TestShutdownSharesOneDeadline(t *testing.T) {
	t.Parallel()
	const timeout = 400 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	serve := func() error {
		<-ctx.Done()
		time.Sleep(timeout) // in-flight requests hold the drain to its end
		return nil
	}
	var stopDeadline time.Time
	stop := func(ctx context.Context) error {
		stopDeadline, _ = ctx.Deadline()
		<-ctx.Done() // a handler runs until the deadline
		return ctx.Err()
	}
	done := make(chan error, 1)
	go func() { done <- serveThenStop(ctx, timeout, serve, stop) }()
	signalled := time.Now()
	cancel()
	if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("serveThenStop = %v, want the bus's deadline error", err)
	}
	if late := stopDeadline.Sub(signalled.Add(timeout)); late > timeout/2 {
		t.Fatalf("the bus's deadline is %v after the signal, want %v", stopDeadline.Sub(signalled), timeout)
	}
}

// TestShutdownAfterServeFails: a server that fails before any signal still
// stops the bus, within the timeout.
func TestShutdownAfterServeFails(t *testing.T) {
	t.Parallel()
	failed := errors.New("listener closed")
	stopped := false
	err := serveThenStop(context.Background(), time.Second, func() error { return failed }, func(ctx context.Context) error {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the bus stops without a deadline")
		}
		stopped = true
		return nil
	})
	if !errors.Is(err, failed) || !stopped {
		t.Fatalf("serveThenStop = %v, bus stopped %v", err, stopped)
	}
}
