package bot

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dingbot/dingbot/store"
)

// Metrics are dingbot's Prometheus metrics. A nil *Metrics records nothing.
type Metrics struct {
	commands   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	inbox      *prometheus.GaugeVec
	rateWait   *prometheus.HistogramVec
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
			Help: "Messages processed, by command (newgroup, help, groups, other) and outcome (created, refused, unknown, answered, denied, internal_error).",
		}, []string{"command", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dingbot_command_duration_seconds",
			Help:    "Time from receiving a message to posting its reply, by command.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"command"}),
		inbox: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "dingbot_inbox_depth",
			Help: "Inbox items by state (received, calling, done, failed, unknown), counted by housekeeping; shared by every replica on the same database.",
		}, []string{"state"}),
		rateWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dingbot_rate_limit_wait_seconds",
			Help:    "Time commands waited for the client-side rate limiter before calling DingTalk, by API.",
			Buckets: []float64{0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"api"}),
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
	reg.MustRegister(m.commands, m.duration, m.inbox, m.rateWait, m.apiCalls, m.replies, m.duplicates, m.reconnects, m.connected)
	return m
}

func (m *Metrics) command(command, outcome string) {
	if m != nil {
		m.commands.WithLabelValues(command, outcome).Inc()
	}
}

func (m *Metrics) commandDuration(command string, d time.Duration) {
	if m != nil {
		m.duration.WithLabelValues(command).Observe(max(d, 0).Seconds())
	}
}

func (m *Metrics) rateLimitWait(api string, d time.Duration) {
	if m != nil {
		m.rateWait.WithLabelValues(api).Observe(max(d, 0).Seconds())
	}
}

// inboxStates are the states the depth gauge always reports (0 when empty).
var inboxStates = []store.State{store.Received, store.Calling, store.Done, store.Failed, store.Unknown}

func (m *Metrics) inboxDepth(counts map[store.State]int) {
	if m == nil {
		return
	}
	for _, st := range inboxStates {
		m.inbox.WithLabelValues(string(st)).Set(float64(counts[st]))
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
