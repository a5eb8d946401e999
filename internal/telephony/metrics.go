package telephony

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	calls     *prometheus.CounterVec
	registers *prometheus.CounterVec
}

func newMetrics() *metrics {
	return &metrics{
		calls:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_sip_invites_total", Help: "Inbound INVITEs, by result (accepted, left_in_collection, or the SIP status sent)."}, []string{"result"}),
		registers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_sip_registrations_total", Help: "REGISTER outcomes."}, []string{"result"}),
	}
}

var descActive = prometheus.NewDesc("parley_sip_active_calls", "Inbound calls carried now.", nil, nil)

type activeCollector struct{ s *Server }

func (a activeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descActive }
func (a activeCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descActive, prometheus.GaugeValue, float64(a.s.ActiveCalls()))
}

func (m *metrics) register(reg prometheus.Registerer, s *Server) error {
	for _, c := range []prometheus.Collector{m.calls, m.registers, activeCollector{s}} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
