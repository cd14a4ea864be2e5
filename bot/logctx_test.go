package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
)

// TestContextHandlerAddsCommandAttrs: a line logged with a command's context
// by code that knows nothing of commands (the DingTalk client) carries the
// command's msg_id; lines without it are untouched.
func TestContextHandlerAddsCommandAttrs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(ContextHandler(slog.NewJSONHandler(&buf, nil))).With("component", "dingclient")
	ctx := withLogAttrs(context.Background(), slog.String("msg_id", "msgA"))
	log.InfoContext(ctx, "dingtalk call", "api", "group.create")
	log.InfoContext(context.Background(), "unrelated")

	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("%d lines: %s", len(lines), buf.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal(lines[0], &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(lines[1], &second); err != nil {
		t.Fatal(err)
	}
	if first["msg_id"] != "msgA" || first["component"] != "dingclient" || first["api"] != "group.create" {
		t.Errorf("first line: %v", first)
	}
	if _, ok := second["msg_id"]; ok {
		t.Errorf("a line without a command context got a msg_id: %v", second)
	}
}
