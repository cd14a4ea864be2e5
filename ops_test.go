package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dingbot/dingbot/store"
)

// hostileText is a chat text and its CSV cell.
type hostileText struct{ text, csv string }

// hostileTexts are chat texts meant to run as spreadsheet formulas or to
// drive the terminal the audit is printed on.
func hostileTexts() []hostileText {
	return []hostileText{
		{`=HYPERLINK("http://x")`, `'=HYPERLINK("http://x")`},
		{"@SUM(1)", "'@SUM(1)"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"\tleading tab", "'\tleading tab"},
		{"\rleading CR", "'\rleading CR"},
		{"\x1b]0;pwned\x07\x1b[31mred", "\x1b]0;pwned\x07\x1b[31mred"},
		{"csi \u009b31m c1", "csi \u009b31m c1"},
		{"del \x7f", "del \x7f"},
		{"/newgroup a=b", "/newgroup a=b"},
	}
}

// controls describes the control characters (C0, DEL, C1) and invalid UTF-8
// in s; "" if there are none.
func controls(s string) string {
	var bad []string
	if !utf8.ValidString(s) {
		bad = append(bad, "invalid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			bad = append(bad, fmt.Sprintf("%U", r))
		}
	}
	return strings.Join(bad, ", ")
}

func hostileRecords() []store.AuditRecord {
	at := time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)
	var out []store.AuditRecord
	for i, h := range hostileTexts() {
		out = append(out, store.AuditRecord{
			MsgID: "=msg" + string(rune('a'+i)), At: at, Sender: "@user\x1b[2J", SenderNick: "=cmd|' /C calc'!A0",
			ConversationID: "+cid\x07", Command: "-newgroup", Text: h.text, Outcome: "answered",
			GroupOpenConversationID: "@gid", ChatID: "=chat", RequestID: "\x1b[31mreq", ErrorCode: "-1",
			Change: h.text, // a lifecycle command's change quotes names and user IDs people typed
		})
	}
	return out
}

func TestCSVSafe(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`=HYPERLINK("http://x")`, `'=HYPERLINK("http://x")`},
		{"@SUM(1)", "'@SUM(1)"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"", ""},
		{"/newgroup a=b", "/newgroup a=b"},
		{"1+1", "1+1"},
		{"发布 4.2", "发布 4.2"},
		{"'already", "'already"},
	} {
		if got := csvSafe(tc.in); got != tc.want {
			t.Errorf("csvSafe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTerminalSafe(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"发布 4.2 — ok ✓", "发布 4.2 — ok ✓"},
		{"\x1b]0;pwned\x07\x1b[31mred", "\uFFFD]0;pwned\uFFFD\uFFFD[31mred"},
		{"a\tb\nc\rd\x00e", "a\uFFFDb\uFFFDc\uFFFDd\uFFFDe"},
		{"del\x7f", "del\uFFFD"},
		{"c1\u0085\u009b", "c1\uFFFD\uFFFD"},
		{"raw\x9b", "raw\uFFFD"},
		{"\u00a0nbsp", "\u00a0nbsp"},
		{"admin\u202e\u2066txt.exe\u2069", "admin\uFFFD\uFFFDtxt.exe\uFFFD"}, // bidi overrides and isolates
		{"\u200f\u061cx", "\uFFFD\uFFFDx"},
	} {
		if got := terminalSafe(tc.in); got != tc.want {
			t.Errorf("terminalSafe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestAuditCSVNeutralisesFormulas: no cell of the export starts with a
// formula character, and the text is otherwise kept.
func TestAuditCSVNeutralisesFormulas(t *testing.T) {
	var buf bytes.Buffer
	if err := writeAuditCSV(&buf, hostileRecords()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	hostile := hostileTexts()
	if len(rows) != len(hostile)+1 || strings.Join(rows[0], ",") != strings.Join(auditColumns, ",") {
		t.Fatalf("CSV rows %q", rows)
	}
	for i, row := range rows[1:] {
		for j, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("row %d, %s = %q starts a formula", i+1, auditColumns[j], cell)
			}
		}
		if row[6] != hostile[i].csv {
			t.Errorf("row %d text = %q, want %q", i+1, row[6], hostile[i].csv)
		}
		if row[0] != "'=msg"+string(rune('a'+i)) || row[2] != "'@user\x1b[2J" || row[3] != "'=cmd|' /C calc'!A0" ||
			row[4] != "'+cid\x07" || row[5] != "'-newgroup" || row[7] != "answered" || row[8] != "'@gid" ||
			row[9] != "'=chat" || row[10] != "\x1b[31mreq" || row[11] != "'-1" {
			t.Errorf("row %d = %q", i+1, row)
		}
		if len(row) != 13 || row[12] != hostile[i].csv {
			t.Errorf("row %d change = %q, want %q", i+1, row[12:], hostile[i].csv)
		}
	}
}

// TestAuditTableHasNoControlCharacters: nothing in the table output can drive
// the terminal, while the rest of the text, CJK included, stays readable.
func TestAuditTableHasNoControlCharacters(t *testing.T) {
	records := append(hostileRecords(), store.AuditRecord{Text: "raw \x9b31m byte"}, store.AuditRecord{
		At: time.Now(), Sender: "0123", Command: "newgroup", Text: `/newgroup "发布 4.2" @张三`, Outcome: "created"})
	var buf bytes.Buffer
	if err := writeAuditTable(&buf, records); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if bad := controls(line); bad != "" {
			t.Errorf("table line %q holds %s", line, bad)
		}
	}
	for _, want := range []string{"]0;pwned", "[31mred", `/newgroup "发布 4.2" @张三`, "@user\uFFFD[2J"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// TestAuditJSONEscapesControls: the JSON export holds no raw control
// character, and decodes to exactly the recorded text.
func TestAuditJSONEscapesControls(t *testing.T) {
	var buf bytes.Buffer
	records := append(hostileRecords(), store.AuditRecord{Text: "raw \x9b31m byte"})
	if err := writeAuditJSON(&buf, records); err != nil {
		t.Fatal(err)
	}
	if bad := controls(strings.ReplaceAll(buf.String(), "\n", "")); bad != "" {
		t.Errorf("JSON holds %s:\n%s", bad, buf.String())
	}
	var got []auditJSON
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for i, r := range got {
		want := strings.ToValidUTF8(records[i].Text, "\uFFFD")
		if r.Text != want || r.Sender != records[i].Sender || r.RequestID != records[i].RequestID {
			t.Errorf("record %d = %q, %q, %q; want %q, %q, %q", i, r.Text, r.Sender, r.RequestID, want, records[i].Sender, records[i].RequestID)
		}
		if wantChange := strings.ToValidUTF8(records[i].Change, "\uFFFD"); r.Change != wantChange {
			t.Errorf("record %d change = %q, want %q", i, r.Change, wantChange)
		}
	}
}

// TestAuditTableChange: a lifecycle command's change has its column before
// the text, on one line and cut short like the text; other commands show a
// dash there.
func TestAuditTableChange(t *testing.T) {
	at := time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)
	long := "members: " + strings.Repeat("+user01, ", 10) + "+last"
	records := []store.AuditRecord{
		{At: at, Sender: "alice", Command: "rename", Text: `/rename "Release 4.2 hotfix"`, Outcome: "answered",
			Change: `name: "Release 4.2" → "Release 4.2 hotfix"`},
		{At: at, Sender: "alice", Command: "addmember", Text: "/addmember @a @b", Outcome: "answered", Change: long},
		{At: at, Sender: "bob", Command: "rename", Text: "/rename x", Outcome: "answered", Change: "name:\n\"a\"\t→ \"x\""},
		{At: at, Sender: "bob", Command: "help", Text: "/help", Outcome: "answered"},
	}
	var buf bytes.Buffer
	if err := writeAuditTable(&buf, records); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 6 || !strings.HasSuffix(lines[5], "4 records") {
		t.Fatalf("table =\n%s", buf.String())
	}
	header := strings.Fields(lines[0])
	if !slices.Equal(header[len(header)-2:], []string{"CHANGE", "TEXT"}) {
		t.Errorf("header = %q, want CHANGE then TEXT last", lines[0])
	}
	for i, want := range []struct{ change, text string }{
		{`name: "Release 4.2" → "Release 4.2 hotfix"`, `/rename "Release 4.2 hotfix"`},
		{string([]rune(long)[:49]) + "…", "/addmember @a @b"},
		{`name: "a" → "x"`, "/rename x"},
		{"-", "/help"},
	} {
		line := lines[i+1]
		rest, ok := strings.CutSuffix(line, "  "+want.text)
		if !ok || !strings.HasSuffix(strings.TrimRight(rest, " "), "  "+want.change) {
			t.Errorf("line %d = %q, want the change %q, then the text %q last", i+1, line, want.change, want.text)
		}
		if bad := controls(line); bad != "" {
			t.Errorf("line %d = %q holds %s", i+1, line, bad)
		}
	}
	if strings.Contains(buf.String(), "+last") {
		t.Errorf("a long change was not cut:\n%s", buf.String())
	}
}
