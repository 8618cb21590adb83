package events

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Record writes into the consuming domain's inbox, whose schema is only
// known at run time.
func Record(ctx context.Context, tx pgx.Tx, schema, consumer string) error {
	_, err := tx.Exec(ctx, "INSERT INTO "+schema+".event_inbox (consumer) VALUES ($1)", consumer) //boundarylint:allow inbox of the consuming domain
	return err
}

// RecordAbove has the directive on the line above.
func RecordAbove(ctx context.Context, tx pgx.Tx, schema, consumer string) error {
	//boundarylint:allow inbox of the consuming domain
	_, err := tx.Exec(ctx, "INSERT INTO "+schema+".event_inbox (consumer) VALUES ($1)", consumer)
	return err
}

// RecordNoReason forgets to say why.
func RecordNoReason(ctx context.Context, tx pgx.Tx, schema string) error {
	_, err := tx.Exec(ctx, "DELETE FROM "+schema+".event_inbox") //boundarylint:allow // want `//boundarylint:allow needs a reason`
	return err
}

// Log reads the bus's own table.
func Log(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT id FROM events.domain_events ORDER BY occurred_at LIMIT 10`)
	return err
}
