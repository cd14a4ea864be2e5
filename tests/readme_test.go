package tests

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"testing"
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
