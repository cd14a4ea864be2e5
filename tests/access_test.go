package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dingbot/dingbot/dingtalktest"
)

// writeAccessConfig writes a DINGBOT_CONFIG file with the given YAML.
func writeAccessConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dingbot.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const accessYAML = `
access:
  admins: [boss01]
  trust_dingtalk_admins: true
  contact: "the IT team (@Wang)"
  rate:
    per_user: 2/h
`

// TestAccessControl drives the access section of the configuration file
// through the binary: a denied user gets the explanatory reply (in the
// command's language) and DingTalk gets no create call; a configured admin
// and a DingTalk admin (isAdmin, trusted) may create standard groups; the
// per-user rate limit answers with when to try again.
func TestAccessControl(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, map[string]string{"DINGBOT_CONFIG": writeAccessConfig(t, accessYAML)})
	w.fake.AddUser(dingtalktest.User{UserID: "boss01", Name: "Boss", Active: true, Visible: true})
	w.fake.AddUser(dingtalktest.User{UserID: "orgadmin", Name: "Org Admin", Admin: true, Active: true, Visible: true})
	w.fake.SetStandardGroupsAllowed(true)

	denied := []struct {
		msg  dingtalktest.Message
		want string
	}{
		{groupMsg("/newgroup Vendors @Alice --standard", "Alice"),
			"Only admins may create standard groups (rule: standard_groups). " +
				"Ask the IT team (@Wang) to add your user ID lead01 to access.admins, or create an internal group instead (--internal)."},
		{groupMsg("/建群 值班 @Alice --群主 @张三", "Alice", "张三"),
			"只有管理员可以指定别人当群主（规则：owner_override）。请联系the IT team (@Wang)，把你的用户 ID lead01 加入 access.admins；或去掉 --群主，由你自己当群主。"},
	}
	for _, tc := range denied {
		if got := w.say(t, tc.msg).Text; got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.msg.Text, got, tc.want)
		}
	}
	if n := len(w.fake.CreateRequests()); n != 0 {
		t.Fatalf("%d create calls after denied commands, want 0", n)
	}

	for _, sender := range []string{"boss01", "orgadmin"} {
		msg := dingtalktest.Message{Text: "/newgroup Vendors userid:alice01 --standard", SenderID: sender}
		if got := w.say(t, msg).Text; !strings.HasPrefix(got, `Created group "Vendors".`+"\nType: standard group") {
			t.Errorf("%s, standard group:\n%s", sender, got)
		}
	}
	reqs := w.fake.CreateRequests()
	if len(reqs) != 2 {
		t.Fatalf("%d create calls, want 2 (the admins')", len(reqs))
	}
	assertJSON(t, reqs[1].Raw, `{"name":"Vendors","owner":"orgadmin","useridlist":["orgadmin","alice01"],"conversationTag":0}`)

	// The denied commands took no token: the lead still has two.
	for _, name := range []string{"One", "Two"} {
		if got := w.say(t, directMsg("/newgroup "+name)).Text; !strings.HasPrefix(got, "Created group") {
			t.Fatalf("%s:\n%s", name, got)
		}
	}
	if got, want := w.say(t, directMsg("/newgroup Three")).Text,
		"/newgroup is limited to 2 per hour for each person, and you have reached that (rule: rate.per_user). Try again in 30 minutes."; got != want {
		t.Errorf("third command:\n got %s\nwant %s", got, want)
	}
	if n := len(w.fake.CreateRequests()); n != 4 {
		t.Errorf("%d create calls, want 4", n)
	}
}

// TestAccessConfigErrorNamesTheKey: a bad access setting stops the bot at
// startup with one line naming the key.
func TestAccessConfigErrorNamesTheKey(t *testing.T) {
	t.Parallel()
	for yaml, want := range map[string]string{
		"access:\n  rate:\n    per_user: 5 per hour\n": `dingbot: DINGBOT_CONFIG: access.rate.per_user: "5 per hour" is not N/PERIOD`,
		"access:\n  standard_groups: all\n":            `dingbot: DINGBOT_CONFIG: access.standard_groups: "all" is not admins or everyone`,
	} {
		cmd := exec.Command(binary, "serve")
		cmd.Env = []string{"DINGTALK_CLIENT_ID=x", "DINGTALK_CLIENT_SECRET=s", "DINGBOT_CONFIG=" + writeAccessConfig(t, yaml), "DINGBOT_DATA_DIR=" + t.TempDir()}
		out, err := cmd.CombinedOutput()
		code := 0
		if exitErr, ok := err.(*exec.ExitError); ok {
			code = exitErr.ExitCode()
		}
		if got := strings.TrimSpace(string(out)); code != 2 || !strings.HasPrefix(got, want) {
			t.Errorf("exit %d, output %q; want exit 2 and %q…", code, got, want)
		}
	}
}
