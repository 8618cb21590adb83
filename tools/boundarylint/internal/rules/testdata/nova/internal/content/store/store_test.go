package store

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Tests may play another domain (here: check what a consumer projected);
// the schema rules are about production code.
func TestPlaysAnotherDomain(t *testing.T) {
	var p *pgxpool.Pool
	if p != nil {
		p.QueryRow(context.Background(), `SELECT count(*) FROM social.feeds`)
	}
}
