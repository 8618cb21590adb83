// Package testkit holds the assertions that every domain's tests share, so
// each test package does not grow its own copy.
package testkit

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nova-social/nova/internal/platform/apperr"
)

// Eventually polls cond every 10 ms until it holds, failing t after 10 s.
// It is for state that events propagate, never a substitute for a result
// the code returns synchronously.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Within(t, 10*time.Second, what, cond)
}

// Within is Eventually for a test whose claim is a bound: it fails t unless
// cond holds within d.
func Within(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting until %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WantCode fails t unless err is an *apperr.Error with code and, when
// given, the input field; it returns that error for further checks.
func WantCode(t testing.TB, err error, code apperr.Code, field ...string) *apperr.Error {
	t.Helper()
	ae, ok := apperr.As(err)
	if !ok {
		t.Fatalf("want a %s error, got %v", code, err)
	}
	if ae.Code != code {
		t.Fatalf("want code %s, got %s (%v)", code, ae.Code, err)
	}
	if len(field) > 0 && ae.Field != field[0] {
		t.Fatalf("want field %q, got %q (%v)", field[0], ae.Field, err)
	}
	return ae
}

// Must fails t on a non-nil err.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// SyncBuffer is a bytes.Buffer that a server writes (its log, say) while
// the test reads it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// MetricSum is the sum of every series of the counter or gauge name that g
// gathers (0 when it has none).
func MetricSum(t testing.TB, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	families, err := g.Gather()
	Must(t, err)
	var sum float64
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}
