package events

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the bus's Prometheus series. Queue depth and the dead-letter
// backlog are read from the database at scrape time, so they are true across
// replicas rather than per process.
type metrics struct {
	published   *prometheus.CounterVec
	handled     *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	lag         *prometheus.HistogramVec
	deadLetters *prometheus.CounterVec
	sources     *prometheus.CounterVec
	split       *prometheus.CounterVec
	depth       *depthCollector
}

func newMetrics(pool *pgxpool.Pool) *metrics {
	return &metrics{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_events_published_total",
			Help: "Events written to the log by this process (counted when written in the producer's transaction).",
		}, []string{"topic"}),
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_events_handled_total",
			Help: "Delivery attempts by consumer, topic and outcome (ok, duplicate, error, dead, deferred: the domain was busy).",
		}, []string{"consumer", "topic", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "nova_events_handle_duration_seconds",
			Help:    "Time to apply one delivery: consumer transaction with inbox and handler.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"consumer"}),
		lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "nova_events_delivery_lag_seconds",
			Help:    "Time from publication (in the producer's transaction) to the start of the first delivery attempt.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"consumer"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_events_dead_letters_total",
			Help: "Deliveries moved to the dead-letter queue by this process.",
		}, []string{"consumer", "topic"}),
		sources: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_events_delivered_from_total",
			Help: "Where deliveries found their event: memory (published by this process lately) or log (read back: published by another replica, or too long ago).",
		}, []string{"source"}),
		split: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_events_batches_split_total",
			Help: "Transactions shared by several deliveries to a domain that failed (a handler failed, or a lock wait passed the batch lock timeout), after which each delivery was applied alone.",
		}, []string{"domain"}),
		depth: &depthCollector{pool: pool},
	}
}

func (m *metrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.published, m.handled, m.duration, m.lag, m.deadLetters, m.sources, m.split, m.depth} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

var (
	descDepth = prometheus.NewDesc("nova_events_queue_depth",
		"Deliveries not yet finished, by state (available, running, retryable, scheduled), across replicas.", []string{"state"}, nil)
	descDLQ = prometheus.NewDesc("nova_events_dead_letter_queue_size",
		"Dead letters waiting for an operator, across replicas.", nil, nil)
)

// depthSQL names the states again as constants, so that the planner may use
// the index of unfinished jobs (migration events/00010), which finished
// jobs kept for their retention are not in.
const depthSQL = `SELECT s.state::text, count(j.id)
FROM unnest(ARRAY['available', 'running', 'retryable', 'scheduled']::events.river_job_state[]) AS s(state)
LEFT JOIN events.river_job j ON j.state = s.state AND j.queue = 'events'
    AND j.state IN ('available', 'running', 'retryable', 'scheduled')
GROUP BY s.state`

const dlqSizeSQL = `SELECT count(*) FROM events.dead_letter_queue`

// depthCollector reads the queue depth and the dead-letter backlog at scrape
// time.
type depthCollector struct{ pool *pgxpool.Pool }

func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descDepth
	ch <- descDLQ
}

// Collect reads the two apart, each within its own timeout, so that a job
// table that cannot be read in time does not hide the dead letters.
func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	c.collectDepth(ch)
	c.collectDLQ(ch)
}

// scrapeTimeout bounds each query of a scrape.
const scrapeTimeout = 2 * time.Second

func (c *depthCollector) collectDepth(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	rows, err := c.pool.Query(ctx, depthSQL)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descDepth, err)
		return
	}
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			rows.Close()
			ch <- prometheus.NewInvalidMetric(descDepth, err)
			return
		}
		ch <- prometheus.MustNewConstMetric(descDepth, prometheus.GaugeValue, float64(n), state)
	}
	if err := rows.Err(); err != nil {
		ch <- prometheus.NewInvalidMetric(descDepth, err)
	}
}

func (c *depthCollector) collectDLQ(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	var dlq int64
	if err := c.pool.QueryRow(ctx, dlqSizeSQL).Scan(&dlq); err != nil {
		ch <- prometheus.NewInvalidMetric(descDLQ, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(descDLQ, prometheus.GaugeValue, float64(dlq))
}
