package stream_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/bot/stream"
)

// TestMetricsAreRegistered: the Stream series keep the names, help texts and
// types they had when the core registered them, at 0 until Run connects.
func TestMetricsAreRegistered(t *testing.T) {
	want := map[string]string{
		"dingbot_stream_connected":        "GAUGE 1 while the Stream connection is up.",
		"dingbot_stream_reconnects_total": "COUNTER Times the Stream connection was lost and opened again.",
	}
	for name, register := range map[string]func(prometheus.Registerer){
		"New": func(r prometheus.Registerer) {
			stream.New(stream.Options{Registerer: r}, func(bot.Message) error { return nil })
		},
		"RegisterMetrics": stream.RegisterMetrics,
	} {
		reg := prometheus.NewRegistry()
		register(reg)
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, f := range families {
			got[f.GetName()] = f.GetType().String() + " " + f.GetHelp()
			for _, m := range f.GetMetric() {
				if v := m.GetGauge().GetValue() + m.GetCounter().GetValue(); len(m.GetLabel()) != 0 || v != 0 {
					t.Errorf("%s: %s has labels %v, value %v; want none, 0", name, f.GetName(), m.GetLabel(), v)
				}
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s registered %v, want %v", name, got, want)
		}
		for n, w := range want {
			if got[n] != w {
				t.Errorf("%s: %s is %q, want %q", name, n, got[n], w)
			}
		}
	}
}
