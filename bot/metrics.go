package bot

import (
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dingbot/dingbot/commands"
	"github.com/dingbot/dingbot/dingclient"
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

	// knownCommands are the command labels: the canonical command names and commandOther.
	knownCommands map[string]bool
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dingbot_commands_total",
			Help: "Messages processed, by command (newgroup, help, groups, other) and outcome (created, changed, refused, unknown, answered, denied, internal_error, previewed, cancelled, expired).",
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
			Help: "DingTalk HTTP calls, by API and result code (ok, transport_error, invalid_response, a known DingTalk error code, http_<status> or http_<class>xx, else other).",
		}, []string{"api", "code"}),
		replies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dingbot_replies_total",
			Help: "Replies posted in chat, by path (session_webhook, robot_group_api, robot_oto_api) and result.",
		}, []string{"via", "result"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dingbot_duplicate_messages_total",
			Help: "Redelivered messages dropped because their msgId was already handled.",
		}),
	}
	m.knownCommands = map[string]bool{commandOther: true}
	reg.MustRegister(m.commands, m.duration, m.inbox, m.rateWait, m.apiCalls, m.replies, m.duplicates)
	return m
}

// Every label value is taken from a fixed set, so no input can grow the
// number of series: DingTalk, a hostile server or a forged session webhook
// chooses the error codes and HTTP statuses of API calls, and anything
// outside the sets below is counted as labelOther.

// labelOther replaces a label value outside its known set.
const labelOther = "other"

// apiLabel bounds the api label to the API names dingclient reports to
// Config.Observe (also the rate limiter's keys).
func apiLabel(api string) string {
	for _, known := range dingclient.APIs() {
		if string(known) == api {
			return api
		}
	}
	return labelOther
}

// apiCodeLabel bounds the code label of an API call. Kept as they are:
// dingclient's outcome words, the DingTalk error codes it or an operator acts
// on (v1.0 codes and legacy / session webhook errcodes, from dingclient and
// DingTalk's global error code list) and http_<status> for common statuses.
// Another http_<status> becomes its class (http_4xx), anything else labelOther.
func apiCodeLabel(code string) string {
	switch code {
	case "ok", "transport_error", "invalid_response",
		// v1.0 API codes.
		"InvalidAuthentication", "invalidClientIdOrSecret", "accesstoken.expired",
		"Forbidden.AccessDenied.AccessTokenPermissionDenied", "Forbidden.AccessDenied.IpNotInWhiteList",
		"Forbidden.AccessDenied.QpsLimitForApi", "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
		"Forbidden.AccessDenied.QpmLimitForAppkeyAndApi", "Forbidden.AccessDenied.ApiCountLimitForOrg",
		"permession.checkFailed", "parameter.invalid", "parameter.error", "body.invalid",
		"system.busy", "systemBusy", "system.error", "internalError", "operationTimeout", "service.timeout",
		"invalidParameter.robotCode.auth", "invalidParameter.msgParam.invalid", "invalidParameter.msgKey.invalid",
		"resource.not.found", "chatbotNotInstall", "group.disbanded",
		// Legacy and session webhook errcodes.
		"-1", "33012", "40001", "40014", "40089", "40104", "42001", "60011", "60121",
		"90002", "90018", "90020", "300001", "400002", "410100",
		// HTTP statuses without a DingTalk code.
		"http_400", "http_401", "http_403", "http_404", "http_408", "http_413", "http_429",
		"http_500", "http_502", "http_503", "http_504":
		return code
	}
	if digits, ok := strings.CutPrefix(code, "http_"); ok && len(digits) == 3 {
		if n, err := strconv.Atoi(digits); err == nil && n >= 100 && n <= 599 {
			return "http_" + digits[:1] + "xx"
		}
	}
	return labelOther
}

// knowCommands adds the registered commands' names to the command labels;
// bot.New calls it before any command runs.
func (m *Metrics) knowCommands(names []string) {
	if m == nil {
		return
	}
	for _, n := range names {
		m.knownCommands[n] = true
	}
}

// outcomeLabel bounds the outcome label of a command.
func outcomeLabel(outcome string) string {
	switch commands.Outcome(outcome) {
	case commands.OutcomeCreated, commands.OutcomeChanged, commands.OutcomeRefused, commands.OutcomeUnknown, commands.OutcomeAnswered,
		commands.OutcomeDenied, commands.OutcomeInternal, commands.OutcomePreviewed, commands.OutcomeCancelled, commands.OutcomeExpired:
		return outcome
	}
	return labelOther
}

// viaLabel bounds the via label of a reply.
func viaLabel(via string) string {
	switch via {
	case viaSession, viaGroupAPI, viaUserAPI, viaNone:
		return via
	}
	return labelOther
}

// commandLabel bounds the command label to the canonical command names.
func (m *Metrics) commandLabel(command string) string {
	if m.knownCommands[command] {
		return command
	}
	return labelOther
}

func (m *Metrics) command(command, outcome string) {
	if m != nil {
		m.commands.WithLabelValues(m.commandLabel(command), outcomeLabel(outcome)).Inc()
	}
}

func (m *Metrics) commandDuration(command string, d time.Duration) {
	if m != nil {
		m.duration.WithLabelValues(m.commandLabel(command)).Observe(max(d, 0).Seconds())
	}
}

func (m *Metrics) rateLimitWait(api string, d time.Duration) {
	if m != nil {
		m.rateWait.WithLabelValues(apiLabel(api)).Observe(max(d, 0).Seconds())
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
// An API name or result code outside the known sets is counted as "other",
// and an unlisted HTTP status by its class (http_4xx), so responses cannot
// add series.
func (m *Metrics) ObserveAPICall(api, code string) {
	if m != nil {
		m.apiCalls.WithLabelValues(apiLabel(api), apiCodeLabel(code)).Inc()
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
	m.replies.WithLabelValues(viaLabel(via), result).Inc()
}

func (m *Metrics) duplicate() {
	if m != nil {
		m.duplicates.Inc()
	}
}
