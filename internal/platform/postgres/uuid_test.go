package postgres_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/pgtest"
)

// TestUUIDRoundTrip checks the binary uuid plans against Postgres's own
// text form of the same ids, for single values, arrays and NULL.
func TestUUIDRoundTrip(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t).Pools.For(domains.Content)
	ctx := context.Background()
	ids := []uuid.UUID{uuid.New(), uuid.Must(uuid.NewV7()), uuid.Nil}

	var text string
	var back uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT $1::uuid::text, $1::uuid`, ids[0]).Scan(&text, &back); err != nil {
		t.Fatal(err)
	}
	if text != ids[0].String() || back != ids[0] {
		t.Fatalf("uuid %s came back as text %s and value %s", ids[0], text, back)
	}

	var texts []string
	var arr []uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT $1::uuid[]::text[], $1::uuid[]`, ids).Scan(&texts, &arr); err != nil {
		t.Fatal(err)
	}
	want := []string{ids[0].String(), ids[1].String(), ids[2].String()}
	if !slices.Equal(texts, want) || !slices.Equal(arr, ids) {
		t.Fatalf("array %v came back as text %v and values %v", ids, texts, arr)
	}

	var none *uuid.UUID
	var isNull bool
	var scanned *uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT $1::uuid IS NULL, $1::uuid`, none).Scan(&isNull, &scanned); err != nil {
		t.Fatal(err)
	}
	if !isNull || scanned != nil {
		t.Fatalf("NULL uuid: is null %v, scanned %v", isNull, scanned)
	}
	var v uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT NULL::uuid`).Scan(&v); err == nil {
		t.Fatal("NULL scanned into uuid.UUID without error")
	}
}
