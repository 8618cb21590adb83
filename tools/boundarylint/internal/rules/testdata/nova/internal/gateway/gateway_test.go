package gateway

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Tests may look into the database to check what a mutation did.
func TestChecksTheDatabase(t *testing.T) {
	var p *pgxpool.Pool
	if p != nil {
		p.QueryRow(context.Background(), `SELECT count(*) FROM content.posts`)
	}
}
