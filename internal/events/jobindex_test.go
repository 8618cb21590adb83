package events

import (
	"context"
	"strings"
	"testing"
)

// The bus's queries of deliveries by state (queue depth, stats, the
// consumers listed) read the index of unfinished jobs, never the whole job
// table, which holds the finished jobs kept for their retention as well.
// River's own look-ups by state name states the index covers too: its fetch
// (available), scheduler (retryable, scheduled) and rescuer (running).
func TestJobQueriesByStateUseTheUnfinishedIndex(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	conn, err := f.events.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = conn.Exec(ctx, `RESET enable_seqscan`) }()
	for name, sql := range map[string]string{
		"depth":     depthSQL,
		"stats":     consumerStatsSQL,
		"consumers": consumersSQL,
		"River's fetch": `SELECT id FROM events.river_job WHERE state = 'available' AND queue = 'events'
			AND scheduled_at <= now() ORDER BY priority, scheduled_at, id LIMIT 10 FOR UPDATE SKIP LOCKED`,
		"River's scheduler": `SELECT id FROM events.river_job WHERE state IN ('retryable', 'scheduled')
			AND priority >= 0 AND queue IS NOT NULL AND scheduled_at <= now() ORDER BY priority, scheduled_at, id LIMIT 10`,
		"River's rescuer": `SELECT id FROM events.river_job WHERE state = 'running' AND id > 0 AND attempted_at < now() ORDER BY id LIMIT 10`,
	} {
		rows, err := conn.Query(ctx, "EXPLAIN "+sql)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan strings.Builder
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan.WriteString(line + "\n")
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if p := plan.String(); strings.Contains(p, "Seq Scan on river_job") || !strings.Contains(p, "river_job_unfinished_index") {
			t.Errorf("%s does not read the index of unfinished jobs:\n%s", name, p)
		}
	}
}
