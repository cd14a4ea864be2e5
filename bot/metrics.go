package bot

import "github.com/prometheus/client_golang/prometheus"

// Metrics are dingbot's Prometheus metrics. A nil *Metrics records nothing.
type Metrics struct {
	commands   *prometheus.CounterVec
	apiCalls   *prometheus.CounterVec
	replies    *prometheus.CounterVec
	duplicates prometheus.Counter
	reconnects prometheus.Counter
	connected  prometheus.Gauge
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dingbot_commands_total",
			Help: "Messages processed, by outcome (created, refused, unknown, answered, internal_error).",
		}, []string{"outcome"}),
		apiCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dingbot_dingtalk_api_calls_total",
			Help: "DingTalk HTTP calls, by API and result code (ok, a DingTalk error code, http_<status> or transport_error).",
		}, []string{"api", "code"}),
		replies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dingbot_replies_total",
			Help: "Replies posted in chat, by path (session_webhook, robot_group_api, robot_oto_api) and result.",
		}, []string{"via", "result"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dingbot_duplicate_messages_total",
			Help: "Redelivered messages dropped because their msgId was already handled.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dingbot_stream_reconnects_total",
			Help: "Times the Stream connection was lost and opened again.",
		}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dingbot_stream_connected",
			Help: "1 while the Stream connection is up.",
		}),
	}
	reg.MustRegister(m.commands, m.apiCalls, m.replies, m.duplicates, m.reconnects, m.connected)
	return m
}

func (m *Metrics) command(outcome string) {
	if m != nil {
		m.commands.WithLabelValues(outcome).Inc()
	}
}

// ObserveAPICall counts one DingTalk HTTP call; it fits dingclient.Config.Observe.
func (m *Metrics) ObserveAPICall(api, code string) {
	if m != nil {
		m.apiCalls.WithLabelValues(api, code).Inc()
	}
}

func (m *Metrics) reply(via string, err error) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.replies.WithLabelValues(via, result).Inc()
}

func (m *Metrics) duplicate() {
	if m != nil {
		m.duplicates.Inc()
	}
}

// StreamReconnected counts one reopened Stream connection.
func (m *Metrics) StreamReconnected() {
	if m != nil {
		m.reconnects.Inc()
	}
}

// StreamConnected sets whether the Stream connection is up.
func (m *Metrics) StreamConnected(up bool) {
	if m == nil {
		return
	}
	if up {
		m.connected.Set(1)
	} else {
		m.connected.Set(0)
	}
}
