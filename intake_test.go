package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/dingbot/dingbot/config"
)

// TestIntakesMatchConfigModes: DINGBOT_MODE and serve --mode accept the same
// modes, and every mode config accepts can be started.
func TestIntakesMatchConfigModes(t *testing.T) {
	if got, want := modes(), config.Modes(); !slices.Equal(got, want) {
		t.Errorf("intakes %v, config.Modes %v: want the same list in the same order", got, want)
	}
	for _, k := range intakes() {
		if k.help == "" || k.new == nil {
			t.Errorf("intake %q has no help text or constructor", k.mode)
		}
	}
}

// TestServeUsage: the help text written from the table is the one users know.
func TestServeUsage(t *testing.T) {
	want := `  dingbot serve [--mode stream|http]
                    answer commands: connect to DingTalk in Stream mode (default),
                    or take DingTalk's HTTP callback on POST /dingtalk/callback
  dingbot demo `
	if !strings.Contains(usage(), want) {
		t.Errorf("usage does not contain\n%s\ngot:\n%s", want, usage())
	}
}

func TestServeFlags(t *testing.T) {
	env := func(string) string { return "stream" }
	for _, tc := range []struct {
		args      []string
		mode      string
		errorText string
	}{
		{nil, "stream", ""},
		{[]string{"--mode", "http"}, "http", ""},
		{[]string{"-mode=http"}, "http", ""},
		{[]string{"--mode=stream"}, "stream", ""},
		{[]string{"--mode"}, "", "--mode needs a value: stream or http"},
		{[]string{"--mode", "webhook"}, "", `--mode: "webhook" is not stream or http`},
		{[]string{"--mode", "HTTP"}, "", `--mode: "HTTP" is not stream or http`},
		{[]string{"--verbose"}, "", `unknown argument "--verbose" (want --mode stream or --mode http)`},
	} {
		getenv, err := serveFlags(tc.args, env)
		if tc.errorText != "" {
			if err == nil || err.Error() != tc.errorText {
				t.Errorf("%q: error %v, want %q", tc.args, err, tc.errorText)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
		} else if got := getenv("DINGBOT_MODE"); got != tc.mode {
			t.Errorf("%q: mode %q, want %q", tc.args, got, tc.mode)
		}
	}
}
