package events

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// consumer is one named consumer: one decoder per subscribed topic, and the
// inbox of its domain.
type consumer struct {
	inbox    *inbox
	handlers map[Topic]decodeFunc
}

// inbox applies the deliveries to one consuming domain, in batches:
// deliveries that arrive while earlier ones are being applied share one
// transaction on the domain's pool (one commit instead of one each), like
// Postgres's group commit, so the domain's consumers keep up with producers
// that commit one event per transaction, and fanning an event out to several
// consumers of a domain costs about one transaction. A delivery waits for no
// timer: alone, it runs alone at once.
type inbox struct {
	sub         Subscriber
	sql         string
	maxBatch    int
	runners     int
	share       int    // most deliveries held at once, see errBusy
	lockTimeout string // lock_timeout of a shared transaction, see Options.BatchLockTimeout
	split       prometheus.Counter

	mu       sync.Mutex
	queue    []*pending
	running  int
	held     int       // deliveries queued or in a running batch
	progress time.Time // when a batch last finished, or draining began
}

// errBusy refuses a delivery to a domain that holds its share of the
// replica's workers, has no idle runner and has finished no batch for
// stallAfter (its handlers or its database are slow): the job is put back
// for later instead of waiting, so that a slow domain cannot starve the
// others of workers. A domain that merely has a lot to do keeps finishing
// batches and is not refused; nor is one with a runner idle (one stuck
// transaction holding the share), which applies the delivery at once.
var errBusy = errors.New("consuming domain busy")

// stallAfter is how long a domain holding its share may go without finishing
// a batch before it is refused more deliveries.
const stallAfter = 250 * time.Millisecond

// pending is a decoded delivery waiting for its batch's outcome.
type pending struct {
	ctx      context.Context
	job      int64     // the River job delivering it
	enqueued time.Time // when that job was created
	args     deliveryArgs
	meta     Meta
	apply    applyFunc
	done     chan result
}

type result struct {
	outcome string
	err     error
}

func newInbox(s Subscriber, o Options, split prometheus.Counter) *inbox {
	return &inbox{
		sub: s,
		// A replay re-applies events already in the inbox (the projection was
		// dropped), unless this same replay job applied it already (a
		// redelivery after its completion was lost) or it was applied after
		// the replay was enqueued ($5), so onto the cleared projection;
		// otherwise a conflict means the event was applied: skip it.
		sql: `INSERT INTO ` + pgx.Identifier{s.Domain.Schema, "event_inbox"}.Sanitize() + ` AS i (consumer, event_id, replay_job)
SELECT c, e, CASE WHEN $3::boolean THEN j END FROM unnest($1::text[], $2::uuid[], $4::bigint[]) AS t(c, e, j)
ON CONFLICT (consumer, event_id) DO UPDATE SET handled_at = now(), replay_job = excluded.replay_job
WHERE $3::boolean AND i.replay_job IS DISTINCT FROM excluded.replay_job
    AND i.handled_at < (SELECT min(r.at) FROM unnest($4::bigint[], $5::timestamptz[]) AS r(j, at) WHERE r.j = excluded.replay_job)
RETURNING consumer, event_id`, //boundarylint:allow inbox of the consuming domain, schema from its declaration
		maxBatch:    o.MaxBatch,
		runners:     o.DomainConcurrency,
		share:       max(1, o.Workers/4),
		lockTimeout: fmt.Sprintf("%dms", max(1, o.BatchLockTimeout.Milliseconds())),
		split:       split,
	}
}

// apply queues a decoded delivery and waits for its outcome.
func (in *inbox) apply(ctx context.Context, job int64, enqueued time.Time, a deliveryArgs, m Meta, apply applyFunc) (string, error) {
	p := &pending{ctx: ctx, job: job, enqueued: enqueued, args: a, meta: m, apply: apply, done: make(chan result, 1)}
	in.mu.Lock()
	if in.held >= in.share && in.running == in.runners && time.Since(in.progress) > stallAfter {
		in.mu.Unlock()
		return outcomeDeferred, errBusy
	}
	in.held++
	in.queue = append(in.queue, p)
	if in.running < in.runners {
		if in.running == 0 {
			in.progress = time.Now()
		}
		in.running++
		go in.drain()
	}
	in.mu.Unlock()
	tick := time.NewTicker(stallAfter)
	defer tick.Stop()
	for {
		select {
		case r := <-p.done:
			in.mu.Lock()
			in.held--
			in.mu.Unlock()
			return r.outcome, r.err
		case <-tick.C:
			if in.withdrawIfStalled(p) {
				return outcomeDeferred, errBusy
			}
		}
	}
}

// withdrawIfStalled takes p out of the queue, if no batch has taken it yet
// and the domain is stalled while holding more than its share.
func (in *inbox) withdrawIfStalled(p *pending) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.held <= in.share || time.Since(in.progress) <= stallAfter {
		return false
	}
	i := slices.Index(in.queue, p)
	if i < 0 {
		return false
	}
	in.queue = slices.Delete(in.queue, i, i+1)
	in.held--
	return true
}

// drain applies queued deliveries, a batch at a time, until none is left.
func (in *inbox) drain() {
	for {
		in.mu.Lock()
		n := min(len(in.queue), in.maxBatch)
		if n == 0 {
			in.running--
			in.mu.Unlock()
			return
		}
		batch := in.queue[:n:n]
		in.queue = in.queue[n:]
		in.mu.Unlock()
		in.runBatch(batch)
		in.mu.Lock()
		in.progress = time.Now()
		in.mu.Unlock()
	}
}

// runBatch applies batch in one transaction. If that fails, each delivery is
// applied alone, so one failing handler fails only its own delivery.
func (in *inbox) runBatch(batch []*pending) {
	outcomes, failed, err := in.transact(batch)
	if err == nil || len(batch) == 1 {
		for i, p := range batch {
			if err != nil {
				p.done <- result{outcomeError, err}
			} else {
				p.done <- result{outcomes[i], nil}
			}
		}
		return
	}
	in.split.Inc()
	// The member whose handler failed the shared transaction goes last:
	// alone, it may wait for a lock or hang until its timeout, and the others,
	// fetched with it and so timing out with it, must not wait behind it.
	if failed >= 0 {
		batch = append(slices.Delete(slices.Clone(batch), failed, failed+1), batch[failed])
	}
	for _, p := range batch {
		out, _, err := in.transact([]*pending{p})
		if err != nil {
			p.done <- result{outcomeError, err}
		} else {
			p.done <- result{out[0], nil}
		}
	}
}

// transact records the batch in the inbox and runs the handlers of the
// deliveries not recorded before, then the statements they queued, in one
// transaction on the domain's pool. When a handler, or a statement it
// queued, fails it, it returns that member's index as well (else -1).
// Its context ends when any member's does (shutdown, handler timeout); a
// shared transaction's ends earlier, see sharedDeadline.
func (in *inbox) transact(batch []*pending) ([]string, int, error) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(batch[0].ctx))
	defer cancel()
	for _, p := range batch {
		stop := context.AfterFunc(p.ctx, cancel)
		defer stop()
	}
	if d, ok := sharedDeadline(batch); ok {
		var cancelShared context.CancelFunc
		ctx, cancelShared = context.WithDeadline(ctx, d)
		defer cancelShared()
	}
	tx, err := in.sub.Pool.Begin(ctx)
	if err != nil {
		return nil, -1, fmt.Errorf("begin %s transaction: %w", in.sub.Domain.Name, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	fresh, err := in.record(ctx, tx, batch)
	if err != nil {
		return nil, -1, err
	}
	outcomes := make([]string, len(batch))
	queued := &pgx.Batch{}
	var owners []int // the member that queued each statement
	for i, p := range batch {
		if !fresh[i] {
			outcomes[i] = outcomeDuplicate
			continue
		}
		if err := runHandler(ctx, p, tx, queued); err != nil {
			return nil, i, err
		}
		for range queued.Len() - len(owners) {
			owners = append(owners, i)
		}
		outcomes[i] = outcomeOK
	}
	if queued.Len() > 0 {
		if i, err := sendQueued(ctx, tx, queued, owners); err != nil {
			return nil, i, fmt.Errorf("queued statements in %s: %w", in.sub.Domain.Name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, -1, fmt.Errorf("commit %s: %w", in.sub.Domain.Name, err)
	}
	return outcomes, -1, nil
}

// sendQueued sends the statements the handlers queued, in one round trip,
// and returns with an error the member (from owners) whose statement failed,
// so that, like a failing handler, it runs alone after the others: alone, a
// statement waiting for a lock holds up its runner until its deadline.
func sendQueued(ctx context.Context, tx pgx.Tx, queued *pgx.Batch, owners []int) (int, error) {
	results := tx.SendBatch(ctx, queued)
	defer results.Close()
	for k, qq := range queued.QueuedQueries {
		var err error
		if qq.Fn != nil {
			err = qq.Fn(results)
		} else {
			_, err = results.Exec()
		}
		if err != nil {
			return owners[k], err
		}
	}
	return -1, results.Close()
}

// sharedDeadline is when a transaction shared by several deliveries gives
// up: halfway to the first of their deadlines (the handler timeout, counted
// from their fetch, so about the same for all). A transaction that ran to
// that deadline would leave none of them time to be applied alone, so one
// hung handler would time out the others too, spending their attempts.
func sharedDeadline(batch []*pending) (time.Time, bool) {
	if len(batch) < 2 {
		return time.Time{}, false
	}
	var first time.Time
	for _, p := range batch {
		if d, ok := p.ctx.Deadline(); ok && (first.IsZero() || d.Before(first)) {
			first = d
		}
	}
	if first.IsZero() {
		return first, false
	}
	now := time.Now()
	return now.Add(first.Sub(now) / 2), true
}

// runHandler applies p, turning a panic into p's error: handlers run on the
// inbox's goroutines, outside River's recovery, and a handler that panics on
// one event must fail that delivery, not the process.
func runHandler(ctx context.Context, p *pending, tx pgx.Tx, queued *pgx.Batch) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r, stack: debug.Stack()}
		}
	}()
	return p.apply(ctx, tx, queued, p.meta)
}

// panicError is a handler's panic; the delivery fails with it like with an
// error, and the stack is logged.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("handler panicked: %v", e.value) }

// delivery identifies one delivery in the inbox.
type delivery struct {
	consumer string
	event    uuid.UUID
}

// asyncCommitSQL lets a delivery transaction commit without waiting for the
// WAL flush. That is safe: River records the delivery's completion after
// this commit, so later in the WAL, and a crash that loses this commit loses
// the completion too, leaving the delivery to run again.
const asyncCommitSQL = `SET LOCAL synchronous_commit TO off`

// sharedSettingsSQL is asyncCommitSQL for a transaction shared by several
// deliveries, which also bounds each of its lock waits ($1, lock_timeout).
const sharedSettingsSQL = `SELECT set_config('synchronous_commit', 'off', true), set_config('lock_timeout', $1, true)`

// record inserts the batch's deliveries into the inbox and reports, per
// member, whether its handler must run: the delivery was new to the inbox,
// or it is a replay that its job has not applied before. A second live copy
// of a delivery within one batch is a duplicate, and so is a second replay:
// the replay recorded is the one queued last (a replay redelivered after a
// crash, which applied the event already, must not stand for a later replay
// queued after the projection was cleared again). A live copy and a replay
// of one delivery are recorded by separate statements, the replay's second:
// it must still apply an event that the live copy found applied before the
// replay was queued (the projection was cleared since). It is one round trip, with the transaction's settings:
// asyncCommitSQL, or sharedSettingsSQL when the batch has several members.
func (in *inbox) record(ctx context.Context, tx pgx.Tx, batch []*pending) ([]bool, error) {
	fresh := make([]bool, len(batch))
	queries := &pgx.Batch{}
	if len(batch) > 1 {
		queries.Queue(sharedSettingsSQL, in.lockTimeout)
	} else {
		queries.Queue(asyncCommitSQL)
	}
	var groups []bool
	for _, replay := range []bool{false, true} {
		var consumers []string
		var ids []uuid.UUID
		var jobs []int64
		var enqueued []time.Time
		recorded := make(map[deliveryArgs]int, len(batch)) // its index in the statement's arrays
		for _, p := range batch {
			if p.args.Replay != replay {
				continue
			}
			if k, ok := recorded[p.args]; ok {
				if p.job > jobs[k] { // River's job ids grow: queued later
					jobs[k], enqueued[k] = p.job, p.enqueued
				}
				continue
			}
			recorded[p.args] = len(ids)
			consumers, ids, jobs = append(consumers, p.args.Consumer), append(ids, p.args.EventID), append(jobs, p.job)
			enqueued = append(enqueued, p.enqueued)
		}
		if len(ids) > 0 {
			queries.Queue(in.sql, consumers, ids, replay, jobs, enqueued)
			groups = append(groups, replay)
		}
	}
	results := tx.SendBatch(ctx, queries)
	defer results.Close()
	if _, err := results.Exec(); err != nil {
		return nil, fmt.Errorf("delivery transaction settings: %w", err)
	}
	for _, replay := range groups {
		rows, err := results.Query()
		if err != nil {
			return nil, fmt.Errorf("record deliveries in %s inbox: %w", in.sub.Domain.Schema, err)
		}
		recorded, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (delivery, error) {
			var d delivery
			err := r.Scan(&d.consumer, &d.event)
			return d, err
		})
		if err != nil {
			return nil, fmt.Errorf("record deliveries in %s inbox: %w", in.sub.Domain.Schema, err)
		}
		isNew := make(map[delivery]bool, len(recorded))
		for _, d := range recorded {
			isNew[d] = true
		}
		for i, p := range batch {
			d := delivery{p.args.Consumer, p.args.EventID}
			if p.args.Replay == replay && isNew[d] {
				fresh[i] = true
				delete(isNew, d)
			}
		}
	}
	if err := results.Close(); err != nil {
		return nil, fmt.Errorf("record deliveries in %s inbox: %w", in.sub.Domain.Schema, err)
	}
	return fresh, nil
}
