package postgres

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// txAttempts bounds how often InTx runs a transaction.
const txAttempts = 3

// InTx runs f in a transaction on pool, and runs it again (three attempts
// in all) when Postgres aborts it as a deadlock victim or for a
// serialization failure. Both mean it met transactions taking their locks in
// another order, which cannot always be avoided (event deliveries batch
// several handlers into one transaction), and that running it again will
// likely succeed: a request should not fail with INTERNAL for that. f must be
// safe to run again: it writes only through tx and sets its results anew on
// each run.
func InTx(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger, f func(pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginFunc(ctx, pool, f)
		if !retryable(err) || attempt == txAttempts {
			return err
		}
		log.Warn("transaction retried", "attempt", attempt, "err", err)
		backoff := time.Duration(1+rand.IntN(10*attempt)) * time.Millisecond
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return err
		}
	}
}

// retryable reports whether err aborted a transaction that may succeed when
// run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == pgerrcode.DeadlockDetected || pe.Code == pgerrcode.SerializationFailure)
}
