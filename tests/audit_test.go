package tests

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/dingbot/dingbot/dingtalktest"
)

// runCLI runs the dingbot binary with args and env (on top of a minimal
// environment) and returns its stdout, stderr and exit code.
func runCLI(t *testing.T, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, exit := err.(*exec.ExitError); err != nil && !exit {
		t.Fatalf("running dingbot %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

// TestAuditAndGroupsOnBothEngines runs commands through the binary, then
// reads them back with /groups and with `dingbot audit` (CSV, JSON, table)
// from the same database: SQLite in the data directory and PostgreSQL.
func TestAuditAndGroupsOnBothEngines(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			if engine == "sqlite" {
				env["DINGBOT_DATA_DIR"] = t.TempDir()
			} else {
				env["DINGBOT_DATABASE_URL"] = postgresDatabase(t)
			}
			w := newWorld(t, dingtalktest.Options{}, env)
			db := map[string]string{} // the CLI's database settings: the bot's
			for _, k := range []string{"DINGBOT_DATA_DIR", "DINGBOT_DATABASE_URL"} {
				if v, ok := w.env[k]; ok {
					db[k] = v
				}
			}

			w.say(t, groupMsg(`/newgroup "Release 4.2" @Alice @Bob`, "Alice", "Bob"))
			group := onlyGroup(t, w.fake)
			w.fake.FailNextCreateWith(apiError(400, dingtalktest.CodePermissionFailed, dingtalktest.MsgPermissionFailed, "REQ-AUDIT-1"))
			refused := w.say(t, groupMsg(`/newgroup Refused @Alice`, "Alice"))
			if !strings.Contains(refused.Text, "DingTalk request ID: REQ-AUDIT-1") {
				t.Fatalf("refused reply = %q", refused.Text)
			}
			list := w.say(t, directMsg("/groups")).Text
			// The bot stamps the group with its own clock: only the format is checked.
			if !strings.HasPrefix(list, "Groups you created through me (page 1 of 1, 1 in all):\n1. \"Release 4.2\", 3 members, owner lead01, created 20") ||
				strings.Count(list, "\n") != 2 || !strings.Contains(list, " UTC\n") {
				t.Errorf("/groups =\n%s", list)
			}
			if !strings.HasSuffix(list, "   openConversationId: "+group.OpenConversationID) {
				t.Errorf("/groups does not end with the group's openConversationId:\n%s", list)
			}
			if got := w.say(t, directMsg("/groups --all")).Text; !strings.Contains(got, "Only admins") {
				t.Errorf("/groups --all from a non-admin = %q", got)
			}
			w.say(t, directMsg("/help"))

			// CSV: a header, then one row per command, newest first.
			out, errOut, code := runCLI(t, db, "audit", "--format", "csv")
			if code != 0 {
				t.Fatalf("dingbot audit --format csv: exit %d: %s", code, errOut)
			}
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatalf("CSV %q: %v", out, err)
			}
			header := "msg_id,at,sender,sender_nick,conversation_id,command,text,outcome,group_open_conversation_id,chatid,request_id,error_code,change"
			if len(rows) != 6 || strings.Join(rows[0], ",") != header {
				t.Fatalf("CSV has %d rows, header %v; want 6 and %s:\n%s", len(rows), rows[0], header, out)
			}
			type row struct{ command, text, outcome, group, chat, requestID, code string }
			want := []row{
				{"help", "/help", "answered", "", "", "", ""},
				{"groups", "/groups --all", "answered", "", "", "", ""},
				{"groups", "/groups", "answered", "", "", "", ""},
				{"newgroup", "/newgroup Refused @Alice", "refused", "", "", "REQ-AUDIT-1", dingtalktest.CodePermissionFailed},
				{"newgroup", `/newgroup "Release 4.2" @Alice @Bob`, "created", group.OpenConversationID, group.ChatID, "", ""},
			}
			for i, r := range rows[1:] {
				got := row{r[5], r[6], r[7], r[8], r[9], r[10], r[11]}
				if got != want[i] {
					t.Errorf("CSV row %d = %+v, want %+v", i+1, got, want[i])
				}
				if r[0] == "" || r[2] != lead || r[3] != "Lead" || r[4] == "" || !strings.HasSuffix(r[1], "Z") {
					t.Errorf("CSV row %d: msg_id %q, sender %q %q, conversation %q, at %q", i+1, r[0], r[2], r[3], r[4], r[1])
				}
				if strings.Contains(strings.Join(r, ","), "sendBySession") {
					t.Errorf("CSV row %d holds the session webhook: %v", i+1, r)
				}
			}

			// JSON: an array with the same keys, filtered.
			out, errOut, code = runCLI(t, db, "audit", "--format", "json", "--sender", lead, "--limit", "2", "--since", "1h")
			if code != 0 {
				t.Fatalf("dingbot audit --format json: exit %d: %s", code, errOut)
			}
			var recs []map[string]string
			if err := json.Unmarshal([]byte(out), &recs); err != nil {
				t.Fatalf("JSON %q: %v", out, err)
			}
			if len(recs) != 2 || recs[0]["command"] != "help" || recs[1]["text"] != "/groups --all" || recs[0]["sender"] != lead {
				t.Errorf("JSON --limit 2 = %+v", recs)
			}
			out, _, _ = runCLI(t, db, "audit", "--format", "json")
			recs = nil
			if err := json.Unmarshal([]byte(out), &recs); err != nil || len(recs) != 5 {
				t.Fatalf("JSON = %d records, %v", len(recs), err)
			}
			if r := recs[4]; r["outcome"] != "created" || r["group_open_conversation_id"] != group.OpenConversationID || r["chatid"] != group.ChatID {
				t.Errorf("JSON created record = %+v", r)
			}
			if r := recs[3]; r["request_id"] != "REQ-AUDIT-1" || r["error_code"] != dingtalktest.CodePermissionFailed {
				t.Errorf("JSON refused record = %+v", r)
			}
			if out, _, code := runCLI(t, db, "audit", "--format", "json", "--since", "2099-01-01"); code != 0 || strings.TrimSpace(out) != "[]" {
				t.Errorf("JSON --since 2099-01-01 = %q (exit %d), want []", out, code)
			}
			if out, _, code := runCLI(t, db, "audit", "--sender", "nobody"); code != 0 || !strings.Contains(out, "0 records") {
				t.Errorf("table for an unknown sender = %q (exit %d)", out, code)
			}
			out, _, code = runCLI(t, db, "audit")
			if code != 0 || !strings.HasPrefix(out, "TIME (UTC)") || !strings.Contains(out, "REQ-AUDIT-1") || !strings.HasSuffix(out, "5 records\n") {
				t.Errorf("table =\n%s", out)
			}
			if strings.Contains(out, "dbpass") {
				t.Error("the database password appears in the output")
			}
		})
	}
}

func TestAuditCommandLine(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"audit", "--format", "xml"},
		{"audit", "--since", "yesterday"},
		{"audit", "--limit", "-1"},
		{"audit", "--bogus"},
		{"audit", "extra"},
	} {
		out, errOut, code := runCLI(t, map[string]string{"DINGBOT_DATA_DIR": t.TempDir()}, args...)
		if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "dingbot audit: ") {
			t.Errorf("dingbot %v: exit %d, stdout %q, stderr %q; want exit 2 and one line", args, code, out, errOut)
		}
	}
	dir := t.TempDir()
	_, errOut, code := runCLI(t, map[string]string{"DINGBOT_DATA_DIR": dir}, "audit")
	if code != 1 || !strings.Contains(errOut, "no database at") {
		t.Errorf("audit without a database: exit %d, %q", code, errOut)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("audit created files in an empty data directory: %v", entries)
	}
}

func TestPreflightCommand(t *testing.T) {
	t.Parallel()
	fake := dingtalktest.NewServer(dingtalktest.Options{ClientSecret: "preflight-secret-Q9"})
	t.Cleanup(fake.Close)
	env := botEnv(fake, map[string]string{"DINGBOT_DATA_DIR": t.TempDir()})

	out, errOut, code := runCLI(t, env, "preflight")
	if code != 0 || !strings.Contains(out, "✓ credentials") || !strings.Contains(out, "✓ qyapi_addresslist_search") ||
		!strings.Contains(out, "? qyapi_chat_manage") || !strings.Contains(out, "robot code = "+fake.ClientID()+" (defaults to the client ID)") {
		t.Errorf("preflight: exit %d\n%s%s", code, out, errOut)
	}
	fake.DenyScope(dingtalktest.PathUserSearch)
	out, _, code = runCLI(t, env, "preflight")
	if code != 1 || !strings.Contains(out, "✗ qyapi_addresslist_search") || !strings.Contains(out, "✓ qyapi_get_member_by_mobile") {
		t.Errorf("preflight without the search permission: exit %d\n%s", code, out)
	}
	env["DINGTALK_CLIENT_SECRET"] = "wrong-secret-123"
	out, _, code = runCLI(t, env, "preflight")
	if code != 1 || !strings.Contains(out, "✗ credentials") || strings.Contains(out, "wrong-secret-123") {
		t.Errorf("preflight with a wrong secret: exit %d\n%s", code, out)
	}
	if out, _, code := runCLI(t, env, "preflight", "extra"); code != 2 || out != "" {
		t.Errorf("preflight extra: exit %d, %q", code, out)
	}
}

// TestServeLogsThePreflight checks the checklist is logged at startup, one
// line per item, and a missing optional permission does not stop the bot.
func TestServeLogsThePreflight(t *testing.T) {
	t.Parallel()
	fake := dingtalktest.NewServer(dingtalktest.Options{})
	t.Cleanup(fake.Close)
	fake.DenyScope(dingtalktest.PathUserGet)
	p := startProcess(t, botEnv(fake, map[string]string{"DINGBOT_DATA_DIR": t.TempDir()}))
	p.waitReady(t, 200)
	logs := p.Logs()
	for _, want := range []string{
		`"msg":"preflight","check":"credentials","status":"ok"`,
		`"msg":"preflight","check":"qyapi_get_member","status":"missing"`,
		`"msg":"preflight","check":"qyapi_chat_manage","status":"unknown"`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s", want)
		}
	}
}
