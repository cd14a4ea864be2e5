package bot

import (
	"errors"
	"fmt"
	"github.com/dingbot/dingbot/commands"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// series gathers reg and returns the label sets of the named metric, one map per series.
func series(t *testing.T, reg *prometheus.Registry, name string) []map[string]string {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	var out []map[string]string
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out = append(out, labels)
		}
	}
	return out
}

// TestAPICallCodesAreBounded: a session webhook or a hostile server chooses
// the error code of every call; whatever it sends, the metric keeps a handful
// of series.
func TestAPICallCodesAreBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		m.ObserveAPICall("session.reply", strconv.Itoa(rng.IntN(1<<30)))
		m.ObserveAPICall("group.create", fmt.Sprintf("Forged.Code.%x", rng.Uint64()))
	}
	for status := 100; status <= 999; status++ {
		m.ObserveAPICall("session.reply", "http_"+strconv.Itoa(status))
	}
	classLabel := regexp.MustCompile(`^http_[1-5]xx$`)
	keptStatuses := []string{"http_400", "http_401", "http_403", "http_404", "http_408", "http_413", "http_429",
		"http_500", "http_502", "http_503", "http_504"}
	got := series(t, reg, "dingbot_dingtalk_api_calls_total")
	// session.reply: other, http_1xx, http_2xx, http_3xx, http_4xx, http_5xx
	// and the listed statuses (11); group.create: other.
	if len(got) > 20 {
		t.Fatalf("%d series after 1000 forged codes and 900 statuses, want at most 20", len(got))
	}
	for _, l := range got {
		if c := l["code"]; c != "other" && !classLabel.MatchString(c) && !slices.Contains(keptStatuses, c) {
			t.Errorf("series with unbounded code %q", l["code"])
		}
	}
}

// TestAPICallLabels: known codes keep their value, unknown ones are "other".
func TestAPICallLabels(t *testing.T) {
	for _, tc := range []struct {
		api, code         string
		wantAPI, wantCode string
	}{
		{"group.create", "ok", "group.create", "ok"},
		{"token", "transport_error", "token", "transport_error"},
		{"session.reply", "invalid_response", "session.reply", "invalid_response"},
		{"session.reply", "300001", "session.reply", "300001"},
		{"user.by_mobile", "60121", "user.by_mobile", "60121"},
		{"user.get", "-1", "user.get", "-1"},
		{"user.search", "90018", "user.search", "90018"},
		{"group.create", "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "group.create", "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"},
		{"group.create", "permession.checkFailed", "group.create", "permession.checkFailed"},
		{"robot.group_send", "Forbidden.AccessDenied.AccessTokenPermissionDenied", "robot.group_send", "Forbidden.AccessDenied.AccessTokenPermissionDenied"},
		{"token", "invalidClientIdOrSecret", "token", "invalidClientIdOrSecret"},
		{"group.update", "http_429", "group.update", "http_429"},
		{"robot.oto_send", "http_503", "robot.oto_send", "http_503"},
		{"session.reply", "http_418", "session.reply", "http_4xx"},
		{"session.reply", "http_599", "session.reply", "http_5xx"},
		{"session.reply", "http_999", "session.reply", "other"},
		{"session.reply", "http_+42", "session.reply", "other"},
		{"session.reply", "http_4000", "session.reply", "other"},
		{"session.reply", "123456789", "session.reply", "other"},
		{"session.reply", "Forbidden.AccessDenied.QpsLimitForged", "session.reply", "other"},
		{"session.reply", "", "session.reply", "other"},
		{"session.reply", "<script>", "session.reply", "other"},
		{"made.up", "ok", "other", "ok"},
	} {
		t.Run(tc.api+"/"+tc.code, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			NewMetrics(reg).ObserveAPICall(tc.api, tc.code)
			got := series(t, reg, "dingbot_dingtalk_api_calls_total")
			if len(got) != 1 || got[0]["api"] != tc.wantAPI || got[0]["code"] != tc.wantCode {
				t.Errorf("series %v, want one with api=%q code=%q", got, tc.wantAPI, tc.wantCode)
			}
		})
	}
}

// TestCommandAndReplyLabelsAreBounded: only known commands, outcomes, APIs
// and reply paths become label values.
func TestCommandAndReplyLabelsAreBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.knowCommands([]string{"newgroup", "help", "groups"})
	m.command("newgroup", string(commands.OutcomeCreated))
	m.command(commandOther, outcomeDenied)
	m.commandDuration("help", 0)
	m.rateLimitWait("group.create", 0)
	m.reply(viaSession, nil)
	m.reply(viaUserAPI, errors.New("x"))
	for i := range 100 {
		forged := "forged-" + strconv.Itoa(i)
		m.command(forged, forged)
		m.commandDuration(forged, 0)
		m.rateLimitWait(forged, 0)
		m.reply(forged, nil)
	}
	for _, tc := range []struct {
		metric string
		want   []map[string]string
	}{
		{"dingbot_commands_total", []map[string]string{
			{"command": "newgroup", "outcome": "created"},
			{"command": "other", "outcome": "denied"},
			{"command": "other", "outcome": "other"},
		}},
		{"dingbot_command_duration_seconds", []map[string]string{{"command": "help"}, {"command": "other"}}},
		{"dingbot_rate_limit_wait_seconds", []map[string]string{{"api": "group.create"}, {"api": "other"}}},
		{"dingbot_replies_total", []map[string]string{
			{"via": "other", "result": "ok"},
			{"via": "robot_oto_api", "result": "error"},
			{"via": "session_webhook", "result": "ok"},
		}},
	} {
		var got, want []string
		for _, l := range series(t, reg, tc.metric) {
			got = append(got, fmt.Sprint(l))
		}
		for _, l := range tc.want {
			want = append(want, fmt.Sprint(l))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s series = %v, want %v", tc.metric, got, want)
		}
	}
}
