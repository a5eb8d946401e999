package httpapi

import (
	"crypto/subtle"
	"errors"
	"github.com/parley-cc/parley/internal/cc"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the API's own Prometheus collectors.
type metrics struct {
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	sockets      prometheus.Gauge
	socketCloses *prometheus.CounterVec
	handler      http.Handler
}

func newMetrics(reg *prometheus.Registry, version string) *metrics {
	m := &metrics{
		requests: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_http_requests_total",
			Help: "HTTP requests by route pattern and status.",
		}, []string{"route", "status"})),
		duration: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "parley_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests by route pattern (WebSocket upgrades excluded).",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"})),
		sockets: register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "parley_websocket_connections",
			Help: "Open event WebSockets.",
		})),
		socketCloses: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_websocket_closes_total",
			Help: "Closed event WebSockets by reason (client, fell_behind, shutdown, signed_out, ping_timeout, write_failed, error).",
		}, []string{"reason"})),
		handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}),
	}
	info := register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "parley_build_info",
		Help: "Always 1; the label is the build version.",
	}, []string{"version"}))
	info.WithLabelValues(version).Set(1)
	return m
}

// register registers c, or returns the collector already registered under
// the same description (a second Server on the same registry shares it).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic("httpapi: register metric: " + err.Error())
	}
	return c
}

// observe records one request. route is the matched pattern, or "unmatched".
func (m *metrics) observe(route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	if status != http.StatusSwitchingProtocols {
		m.duration.WithLabelValues(route).Observe(d.Seconds())
	}
}

// serveMetrics handles GET /metrics.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	if s.metricsToken != "" {
		got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if subtle.ConstantTimeCompare([]byte(got), []byte(s.metricsToken)) != 1 {
			return cc.Errorf(cc.EUNAUTHORIZED, "metrics need the bearer token set in http.metrics_token")
		}
	}
	s.metrics.handler.ServeHTTP(w, r)
	return nil
}
