package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dingbot/dingbot/dingtalktest"
)

const configYAML = `
language: en
people:
  leads: [alice01, bob02]
names:
  alice01: Alice
  bob02: Bob
templates:
  release:
    description: release coordination
    args: "@leads --history yes --mute no"
command_aliases:
  ng: newgroup
`

func writeConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dingbot.yaml")
	if err := os.WriteFile(path, []byte(configYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConfigFileLanguageAndTemplates drives the configuration file through
// the binary: a Chinese command gets a Chinese reply, a template fills in
// members and options, a configured alias works, --dry-run creates nothing.
func TestConfigFileLanguageAndTemplates(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, map[string]string{"DINGBOT_CONFIG": writeConfig(t)})

	zh := w.say(t, groupMsg("/建群 发布群 @张三", "张三"))
	if !strings.HasPrefix(zh.Text, "已创建群 “发布群”。") || !strings.Contains(zh.Text, "群主：Lead (lead01)") {
		t.Errorf("Chinese command, reply:\n%s", zh.Text)
	}

	dry := w.say(t, directMsg(`/ng --template release "Release 4.2" --mute yes --dry-run`))
	if !strings.HasPrefix(dry.Text, "Dry run: nothing was created.") ||
		!strings.Contains(dry.Text, `{"name":"Release 4.2","owner":"lead01","useridlist":["lead01","alice01","bob02"],"conversationTag":2,"managementOptions":{"showHistoryType":1,"chatBannedType":1}}`) {
		t.Errorf("dry run, reply:\n%s", dry.Text)
	}
	if n := len(w.fake.CreateRequests()); n != 1 {
		t.Fatalf("%d create calls after the dry run, want 1 (the Chinese command)", n)
	}

	w.say(t, directMsg(`/newgroup --template release "Release 4.2"`))
	reqs := w.fake.CreateRequests()
	assertJSON(t, reqs[len(reqs)-1].Raw, `{"name":"Release 4.2","owner":"lead01","useridlist":["lead01","alice01","bob02"],
		"conversationTag":2,"managementOptions":{"showHistoryType":1,"chatBannedType":0}}`)
}

// TestParseCommand: `dingbot parse` shows an admin how a command is
// understood, without DingTalk, using the configuration file.
func TestParseCommand(t *testing.T) {
	t.Parallel()
	config := writeConfig(t)
	run := func(text string) (map[string]any, int) {
		cmd := exec.Command(binary, "parse", text)
		cmd.Env = []string{"DINGBOT_CONFIG=" + config}
		out, err := cmd.Output()
		code := 0
		if exitErr, ok := err.(*exec.ExitError); ok {
			code = exitErr.ExitCode()
		}
		var result map[string]any
		if err := json.Unmarshal(out, &result); err != nil {
			t.Fatalf("parse %q printed no JSON: %v\n%s", text, err, out)
		}
		return result, code
	}

	ok, code := run(`/newgroup "Release 4.2" @leads 13800000001 --searchable yes`)
	if code != 0 || ok["error"] != false {
		t.Fatalf("exit %d: %v", code, ok)
	}
	req, _ := json.Marshal(ok["request"])
	if string(req) != `{"conversationTag":2,"managementOptions":{"searchable":1},"name":"Release 4.2","owner":"SENDER","useridlist":["SENDER","alice01","bob02"]}` {
		t.Errorf("request: %s", req)
	}
	pending, _ := json.Marshal(ok["pending"])
	if !strings.Contains(string(pending), `"kind":"mobile"`) || !strings.Contains(string(pending), `"value":"13800000001"`) {
		t.Errorf("pending: %s", pending)
	}

	bad, code := run(`/newgroup "Release 4.2 --mute maybe`)
	if code != 1 || bad["error"] != true || !strings.Contains(bad["reply"].(string), "never closed") {
		t.Errorf("exit %d: %v", code, bad)
	}
}
