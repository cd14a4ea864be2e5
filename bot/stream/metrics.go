package stream

import "github.com/prometheus/client_golang/prometheus"

// metrics are the connection's Prometheus metrics. A nil *metrics records nothing.
type metrics struct {
	up         prometheus.Gauge
	reconnects prometheus.Counter
}

// newMetrics creates the metrics and registers them with reg.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dingbot_stream_reconnects_total",
			Help: "Times the Stream connection was lost and opened again.",
		}),
		up: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dingbot_stream_connected",
			Help: "1 while the Stream connection is up.",
		}),
	}
	reg.MustRegister(m.reconnects, m.up)
	return m
}

// RegisterMetrics registers dingbot_stream_connected and
// dingbot_stream_reconnects_total with reg, at 0, without a Stream. New
// registers them itself (Options.Registerer); this is for a process that
// runs no Stream but has always exported them, dingbot in HTTP mode.
func RegisterMetrics(reg prometheus.Registerer) { newMetrics(reg) }

// reconnected counts one reopened connection.
func (m *metrics) reconnected() {
	if m != nil {
		m.reconnects.Inc()
	}
}

// connected sets whether the connection is up.
func (m *metrics) connected(up bool) {
	if m == nil {
		return
	}
	if up {
		m.up.Set(1)
	} else {
		m.up.Set(0)
	}
}
