package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dingbot/dingbot/config"
)

// TestLogDurationsReadable: durations are written as Go writes them ("1.5s")
// in JSON as in text, at the top level and inside groups such as the
// configuration's, never as JSON's nanoseconds.
func TestLogDurationsReadable(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			log := newLogger(&config.Config{LogLevel: slog.LevelInfo, LogFormat: format}, &buf)
			log.Info("done", "timeout", 1500*time.Millisecond,
				slog.Group("config", slog.Duration("lease", 30*time.Second)), "count", 3)
			line := buf.String()
			if strings.Contains(line, "1500000000") || strings.Contains(line, "30000000000") {
				t.Fatalf("nanoseconds in %s", line)
			}
			if format == "text" {
				for _, want := range []string{"timeout=1.5s", "config.lease=30s", "count=3"} {
					if !strings.Contains(line, want) {
						t.Errorf("%q lacks %s", line, want)
					}
				}
				return
			}
			var rec struct {
				Timeout string         `json:"timeout"`
				Config  map[string]any `json:"config"`
				Count   int            `json:"count"`
			}
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			if rec.Timeout != "1.5s" || rec.Config["lease"] != "30s" || rec.Count != 3 {
				t.Errorf("timeout %q, lease %v, count %d in %s; want 1.5s, 30s, 3", rec.Timeout, rec.Config["lease"], rec.Count, line)
			}
		})
	}
}

// TestLogConfigDurations: the configuration logged at start shows its
// durations readably.
func TestLogConfigDurations(t *testing.T) {
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"DINGTALK_CLIENT_ID": "id", "DINGTALK_CLIENT_SECRET": "secret",
			"DINGBOT_LOG_FORMAT": "json", "DINGBOT_SHUTDOWN_TIMEOUT": "45s"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	newLogger(cfg, &buf).Info("starting dingbot", "config", cfg)
	if !strings.Contains(buf.String(), `"shutdown_timeout":"45s"`) {
		t.Errorf("config line lacks \"shutdown_timeout\":\"45s\": %s", buf.String())
	}
}
