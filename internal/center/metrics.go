package center

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-cc/parley/internal/cc"
)

type metrics struct {
	arrivals      prometheus.Counter
	ended         *prometheus.CounterVec
	logs          *prometheus.CounterVec
	lookupSeconds *prometheus.HistogramVec
}

func newMetrics() *metrics {
	return &metrics{
		arrivals: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_calls_arrived_total", Help: "Inbound calls that reached a queue."}),
		ended:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_interactions_ended_total", Help: "Interactions ended, by outcome."}, []string{"outcome"}),
		logs:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_crm_log_attempts_total", Help: "CRM log deliveries, by result."}, []string{"result"}),
		lookupSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "parley_crm_lookup_seconds", Help: "CRM caller lookups at arrival, by result.",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2, 3, 5},
		}, []string{"result"}),
	}
}

// Register adds the center's metrics to a registry.
func (c *Center) Register(reg prometheus.Registerer) error {
	for _, col := range []prometheus.Collector{c.metric.arrivals, c.metric.ended, c.metric.logs, c.metric.lookupSeconds, (*liveCollector)(c)} {
		if err := reg.Register(col); err != nil {
			return err
		}
	}
	return nil
}

var (
	descWaiting = prometheus.NewDesc("parley_queue_waiting", "Interactions waiting in a queue.", []string{"tenant", "queue"}, nil)
	descLongest = prometheus.NewDesc("parley_queue_longest_wait_seconds", "Longest current wait in a queue.", []string{"tenant", "queue"}, nil)
	descAgents  = prometheus.NewDesc("parley_agents", "Agents by state.", []string{"tenant", "state"}, nil)
	descLive    = prometheus.NewDesc("parley_calls_live", "Inbound calls in progress.", []string{"tenant"}, nil)
	descOutbox  = prometheus.NewDesc("parley_outbox_pending", "Outbox items (CRM logs) not yet delivered.", nil, nil)
)

// liveCollector reads the live state at scrape time.
type liveCollector Center

func (l *liveCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descWaiting, descLongest, descAgents, descLive, descOutbox} {
		ch <- d
	}
}

func (l *liveCollector) Collect(ch chan<- prometheus.Metric) {
	c := (*Center)(l)
	for _, ts := range c.tenantList() {
		ts.mu.Lock()
		slug := ts.tenant.Slug
		for _, q := range ts.queues {
			st := c.queueStatusLocked(ts, q)
			ch <- prometheus.MustNewConstMetric(descWaiting, prometheus.GaugeValue, float64(st.Waiting), slug, q.Name)
			ch <- prometheus.MustNewConstMetric(descLongest, prometheus.GaugeValue, st.LongestWait.Seconds(), slug, q.Name)
		}
		byState := map[cc.AgentState]int{}
		for _, a := range ts.agents {
			byState[a.presence.State]++
		}
		for s, n := range byState {
			if s == "" {
				s = cc.StateLoggedOut
			}
			ch <- prometheus.MustNewConstMetric(descAgents, prometheus.GaugeValue, float64(n), slug, string(s))
		}
		ch <- prometheus.MustNewConstMetric(descLive, prometheus.GaugeValue, float64(len(ts.live)), slug)
		c.unlock(ts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if n, err := c.store.PendingOutbox(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(n))
	}
}
