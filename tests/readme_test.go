package tests

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dingbot/dingbot/internal/testutil"
)

// TestREADMEParseExample: the README's `dingbot parse` example runs as
// written, on the example configuration file the repository ships, and
// prints what the README shows.
func TestREADMEParseExample(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^    \$ DINGBOT_CONFIG=(\S+) go run \. parse '([^']+)'$`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no `DINGBOT_CONFIG=… go run . parse '…'` example")
	}
	out, stderr, code := runCLI(t, map[string]string{"DINGBOT_CONFIG": "../" + string(m[1])}, "parse", string(m[2]))
	if code != 0 {
		t.Fatalf("dingbot parse: exit %d: %s", code, stderr)
	}
	var got struct {
		Request struct {
			Name    string   `json:"name"`
			Owner   string   `json:"owner"`
			UserIDs []string `json:"useridlist"`
		} `json:"request"`
		Pending []struct{ Kind, Value string } `json:"pending"`
		Names   map[string]string              `json:"names"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("parse output is not JSON: %v\n%s", err, out)
	}
	if got.Request.Name != "Release 4.2" || got.Request.Owner != "SENDER" ||
		!slices.Equal(got.Request.UserIDs, []string{"SENDER", "alice01", "bob02"}) ||
		len(got.Pending) != 1 || got.Pending[0].Value != "13800000001" || got.Names["alice01"] != "Alice" {
		t.Errorf("dingbot parse printed what the README does not show:\n%s", out)
	}
}

// TestREADMEDemoTranscript runs the README's `dingbot demo --terminal`
// transcript against the demo, line by line, and compares what the bot
// answers with what the README shows, so the two cannot drift apart. In
// the README, a reply line ending in " ..." is a prefix; a /confirm or
// /cancel CODE line gets the code of the preview the demo really showed.
func TestREADMEDemoTranscript(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)`dingbot demo --terminal`.*?\n```\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("README.md has no `dingbot demo --terminal` transcript")
	}
	type step struct{ input, reply string }
	var steps []step
	for _, line := range strings.Split(string(block[1]), "\n") {
		switch {
		case strings.HasPrefix(line, "> "):
			steps = append(steps, step{input: strings.TrimPrefix(line, "> ")})
		case strings.HasPrefix(line, "dingbot: ") && len(steps) > 0 && steps[len(steps)-1].reply == "":
			steps[len(steps)-1].reply = strings.TrimPrefix(line, "dingbot: ")
		}
	}
	if len(steps) < 2 {
		t.Fatalf("the README transcript has %d steps", len(steps))
	}

	cmd := exec.Command(binary, "demo", "--terminal", "--addr", "127.0.0.1:0")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out testutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	code := regexp.MustCompile(`/confirm ([2-9A-HJ-NP-Z]{6})`)
	lastCode := ""
	for i, s := range steps {
		input := s.input
		if m := regexp.MustCompile(`^((?:dm )?/(?:confirm|cancel|确认|取消)) [2-9A-HJ-NP-Z]{6}$`).FindStringSubmatch(input); m != nil {
			input = m[1] + " " + lastCode
		}
		mark := len(out.String())
		if _, err := io.WriteString(stdin, input+"\n"); err != nil {
			t.Fatal(err)
		}
		var reply string
		testutil.WaitFor(t, 60*time.Second, "the demo's answer to "+input, func() bool {
			for _, line := range strings.Split(out.String()[mark:], "\n") {
				if strings.HasPrefix(line, "dingbot: ") {
					reply = strings.TrimPrefix(line, "dingbot: ")
					return true
				}
			}
			return false
		})
		// Let the rest of the reply arrive before the next line is sent.
		time.Sleep(300 * time.Millisecond)
		if m := code.FindStringSubmatch(out.String()[mark:]); m != nil {
			lastCode = m[1]
		}
		want, prefix := strings.CutSuffix(s.reply, " ...")
		if (prefix && !strings.HasPrefix(reply, want)) || (!prefix && reply != want) {
			t.Errorf("step %d, %q: the demo answers\n%s\nthe README shows\n%s", i+1, input, reply, s.reply)
		}
	}
}
