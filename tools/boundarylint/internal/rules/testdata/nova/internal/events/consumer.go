package events

import (
	"context"

	"github.com/jackc/pgx/v5"
)

type consumer struct {
	inboxSQL string
	purgeSQL string
}

func newConsumer(schema string) *consumer {
	c := &consumer{
		inboxSQL: "INSERT INTO " + schema + ".event_inbox (consumer) VALUES ($1)", //boundarylint:allow inbox of the consuming domain
	}
	c.purgeSQL = "DELETE FROM " + schema + ".event_inbox"
	return c
}

// The directive where the SQL is built covers the query.
func (c *consumer) record(ctx context.Context, tx pgx.Tx, name string) error {
	_, err := tx.Exec(ctx, c.inboxSQL, name)
	return err
}

// Without one, the query is reported.
func (c *consumer) purge(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, c.purgeSQL) // want `SQL passed to Exec is built at run time`
	return err
}

var _ = newConsumer
