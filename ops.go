package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/config"
	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/store"
)

// This file holds the operations subcommands: `dingbot audit` (the command
// audit on the command line) and `dingbot preflight` (the startup checklist
// on its own), and the preflight serve runs before it connects.

const auditUsage = `usage: dingbot audit [--format table|csv|json] [--since 24h|2026-11-01] [--until ...] [--sender USERID] [--limit N]`

// runAudit prints the command audit from the store the configuration names
// (DINGBOT_DATABASE_URL, or SQLite in DINGBOT_DATA_DIR), newest first.
func runAudit(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "table", "")
	since := fs.String("since", "", "")
	until := fs.String("until", "", "")
	sender := fs.String("sender", "", "")
	limit := fs.Int("limit", 100, "")
	bad := func(msg string) int {
		fmt.Fprintf(stderr, "dingbot audit: %s (%s)\n", msg, auditUsage)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, auditUsage)
			return 0
		}
		return bad(err.Error())
	}
	if fs.NArg() > 0 {
		return bad(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	switch *format {
	case "table", "csv", "json":
	default:
		return bad(fmt.Sprintf("--format %q: want table, csv or json", *format))
	}
	if *limit < 0 {
		return bad(fmt.Sprintf("--limit %d: want 0 (everything) or more", *limit))
	}
	now := time.Now()
	filter := store.AuditFilter{Sender: strings.TrimSpace(*sender), Limit: *limit}
	var err error
	if filter.Since, err = parseWhen(*since, now); err != nil {
		return bad("--since " + err.Error())
	}
	if filter.Until, err = parseWhen(*until, now); err != nil {
		return bad("--until " + err.Error())
	}

	cfg, err := config.Load(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "dingbot: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := openExisting(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "dingbot audit: %v\n", err)
		return 1
	}
	defer db.Close()
	records, err := db.Audit(ctx, filter)
	if err != nil {
		fmt.Fprintf(stderr, "dingbot audit: %v\n", err)
		return 1
	}
	switch *format {
	case "csv":
		err = writeAuditCSV(stdout, records)
	case "json":
		err = writeAuditJSON(stdout, records)
	default:
		err = writeAuditTable(stdout, records)
	}
	if err != nil {
		fmt.Fprintf(stderr, "dingbot audit: %v\n", err)
		return 1
	}
	return 0
}

// parseWhen reads --since/--until: a duration back from now ("24h", "90m",
// "7d"), a date ("2026-11-01", UTC midnight) or an RFC 3339 time; "" is no bound.
func parseWhen(v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q: want a duration back from now (24h, 7d), a date (2026-11-01) or an RFC 3339 time", v)
}

// openExisting opens the configured store; an SQLite file that does not
// exist yet is an error rather than a new empty database.
func openExisting(ctx context.Context, cfg *config.Config) (store.Store, error) {
	if cfg.DatabaseURL == "" {
		path := filepath.Join(cfg.DataDir, store.DefaultFile)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no database at %s (set DINGBOT_DATA_DIR or DINGBOT_DATABASE_URL as for serve)", path)
		}
	}
	return store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
}

// auditTime is how times are exported: UTC, milliseconds, RFC 3339.
const auditTime = "2006-01-02T15:04:05.000Z07:00"

// auditColumns are the CSV header and the JSON keys, in the audit table's order.
var auditColumns = []string{"msg_id", "at", "sender", "sender_nick", "conversation_id", "command", "text",
	"outcome", "group_open_conversation_id", "chatid", "request_id", "error_code", "change"}

func auditFields(r store.AuditRecord) []string {
	return []string{r.MsgID, r.At.UTC().Format(auditTime), r.Sender, r.SenderNick, r.ConversationID, r.Command, r.Text,
		r.Outcome, r.GroupOpenConversationID, r.ChatID, r.RequestID, r.ErrorCode, r.Change}
}

// writeAuditCSV writes the records as CSV for a spreadsheet. Chat text,
// nicknames and IDs come from chat users, so every cell is neutralised with
// csvSafe: a cell such as =HYPERLINK(…) is text, not a formula.
func writeAuditCSV(w io.Writer, records []store.AuditRecord) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(auditColumns); err != nil {
		return err
	}
	for _, r := range records {
		fields := auditFields(r)
		for i, f := range fields {
			fields[i] = csvSafe(f)
		}
		if err := cw.Write(fields); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe prefixes a single quote to a cell that a spreadsheet would read as
// a formula: one starting with =, +, -, @, a tab or a carriage return (OWASP,
// CSV injection). Other cells are unchanged.
func csvSafe(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}

// terminalSafe replaces the control characters of cell (C0, DEL, C1, and
// bytes that are not UTF-8, which a terminal may take for C1) with U+FFFD, so
// chat text cannot move the cursor, retitle the window or colour the output
// of the table. Other characters, CJK included, are kept.
func terminalSafe(cell string) string {
	clean := true
	for _, r := range cell {
		if unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return cell
	}
	var b strings.Builder
	for _, r := range cell {
		if unsafeRune(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

// unsafeRune reports a control character (C0, DEL or C1), a bidirectional
// formatting character (which can make a line read in another order than it
// is stored, "Trojan Source"), or the rune that ranging over a string yields
// for a byte that is not UTF-8.
func unsafeRune(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == utf8.RuneError ||
		r == 0x061c || r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// auditJSON is one record of the JSON export.
type auditJSON struct {
	MsgID                   string `json:"msg_id"`
	At                      string `json:"at"`
	Sender                  string `json:"sender"`
	SenderNick              string `json:"sender_nick"`
	ConversationID          string `json:"conversation_id"`
	Command                 string `json:"command"`
	Text                    string `json:"text"`
	Outcome                 string `json:"outcome"`
	GroupOpenConversationID string `json:"group_open_conversation_id"`
	ChatID                  string `json:"chatid"`
	RequestID               string `json:"request_id"`
	ErrorCode               string `json:"error_code"`
	Change                  string `json:"change"` // what a lifecycle command changed
}

func writeAuditJSON(w io.Writer, records []store.AuditRecord) error {
	out := make([]auditJSON, 0, len(records))
	for _, r := range records {
		out = append(out, auditJSON{r.MsgID, r.At.UTC().Format(auditTime), r.Sender, r.SenderNick, r.ConversationID,
			r.Command, r.Text, r.Outcome, r.GroupOpenConversationID, r.ChatID, r.RequestID, r.ErrorCode, r.Change})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := w.Write(escapeJSONControls(buf.Bytes()))
	return err
}

// escapeJSONControls escapes DEL and the C1 control characters in encoded
// JSON, which encoding/json leaves raw (it escapes C0 and replaces bytes that
// are not UTF-8), so the export is as safe on a terminal as the table. They
// can only occur inside strings, where \u escapes decode to the same text.
func escapeJSONControls(js []byte) []byte {
	var out []byte
	for i := 0; i < len(js); {
		r, size := utf8.DecodeRune(js[i:])
		if r >= 0x7f && r <= 0x9f {
			if out == nil {
				out = append(make([]byte, 0, len(js)+16), js[:i]...)
			}
			out = fmt.Appendf(out, `\u%04x`, r)
		} else if out != nil {
			out = append(out, js[i:i+size]...)
		}
		i += size
	}
	if out == nil {
		return js
	}
	return out
}

// writeAuditTable prints the records for a terminal: one line each, the
// change a lifecycle command made and the text last (both on one line and
// cut short), every cell passed through terminalSafe.
func writeAuditTable(w io.Writer, records []store.AuditRecord) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME (UTC)\tSENDER\tCOMMAND\tOUTCOME\tGROUP\tREQUEST ID\tCHANGE\tTEXT")
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, r := range records {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.At.UTC().Format("2006-01-02 15:04:05"), dash(terminalSafe(r.Sender)),
			dash(terminalSafe(r.Command)), terminalSafe(r.Outcome), dash(terminalSafe(r.GroupOpenConversationID)),
			dash(terminalSafe(r.RequestID)), dash(oneLine(r.Change, 50)), oneLine(r.Text, 60))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d records\n", len(records))
	return err
}

// oneLine is s for a table cell: its whitespace runs (newlines included)
// made one space, passed through terminalSafe and cut to at most limit
// runes (the last one then "…").
func oneLine(s string, limit int) string {
	s = terminalSafe(strings.Join(strings.Fields(s), " "))
	if rs := []rune(s); len(rs) > limit {
		s = string(rs[:limit-1]) + "…"
	}
	return s
}

// storeName describes the configured store for the checklist, without a password.
func storeName(cfg *config.Config) string {
	if cfg.DatabaseURL == "" {
		return "SQLite " + filepath.Join(cfg.DataDir, store.DefaultFile)
	}
	return "database " + store.Redact(cfg.DatabaseURL)
}

// preflightTimeout bounds the whole preflight.
const preflightTimeout = 15 * time.Second

// startupPreflight runs the preflight before serve connects and logs one line
// per check. It never stops startup: a refused token is reported again, as
// an error, when the connection is opened.
func startupPreflight(ctx context.Context, cfg *config.Config, dt bot.PreflightDingTalk, db store.Store, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, min(preflightTimeout, max(cfg.APITimeout, time.Second)))
	defer cancel()
	bot.LogChecklist(log, bot.Preflight(ctx, bot.PreflightOptions{
		DingTalk: dt, ClientID: cfg.ClientID, RobotCode: cfg.RobotCode, Store: db, StoreName: storeName(cfg),
	}))
}

// storageCheck is the preflight's storage line, from store.Inspect: it
// creates no file or directory and runs no migration. A SQLite file that
// does not exist yet is "?" (it cannot be checked without creating it),
// not "✗": serve creates it.
func storageCheck(ctx context.Context, cfg *config.Config) bot.Check {
	name := storeName(cfg)
	in, err := store.Inspect(ctx, cfg.DatabaseURL, cfg.DataDir)
	check := func(status bot.CheckStatus, format string, args ...any) bot.Check {
		return bot.Check{Name: "storage", Status: status, Detail: fmt.Sprintf(format, args...)}
	}
	switch {
	case err != nil:
		return check(bot.CheckMissing, "%v", err) // it names the store
	case in.Path == ":memory:":
		return check(bot.CheckOK, "%s: in memory, empty at every start (nothing is kept)", name)
	case !in.Exists:
		return check(bot.CheckUnknown, "%s does not exist yet: serve creates it on first start (preflight creates nothing)", name)
	case !in.Schema:
		return check(bot.CheckOK, "%s answers; serve creates the schema on first start", name)
	case in.Pending > 0:
		return check(bot.CheckOK, "%s answers; serve applies %d pending schema migration(s) at the next start", name, in.Pending)
	}
	return check(bot.CheckOK, "%s answers, schema up to date", name)
}

// runPreflight prints the preflight checklist and exits 0 when nothing that
// can be checked is missing, 1 otherwise.
func runPreflight(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "dingbot preflight: takes no arguments; settings come from the environment as for serve\n")
		return 2
	}
	cfg, err := config.Load(getenv)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "dingbot: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), preflightTimeout+cfg.APITimeout)
	defer cancel()
	dt, err := dingclient.New(dingclient.Config{
		APIURL: cfg.APIURL, OAPIURL: cfg.OAPIURL, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		RobotCode: cfg.RobotCode, HTTPClient: &http.Client{Timeout: cfg.APITimeout},
		Retry: dingclient.RetryPolicy{BaseDelay: cfg.RetryBaseDelay},
	})
	if err != nil {
		fmt.Fprintf(stderr, "dingbot: %v\n", err)
		return 2
	}
	// The store is checked here, not by bot.Preflight (which needs it
	// open, migrated): preflight changes nothing, so it must not create
	// the SQLite file or run migrations. Its line goes second, as serve's.
	checks := bot.Preflight(ctx, bot.PreflightOptions{DingTalk: dt, ClientID: cfg.ClientID, RobotCode: cfg.RobotCode})
	checks = slices.Insert(checks, min(1, len(checks)), storageCheck(ctx, cfg))
	fmt.Fprint(stdout, bot.FormatChecklist(checks))
	if bot.PreflightFailed(checks) {
		return 1
	}
	return 0
}

// runHealthcheck asks the running bot's /readyz (or /healthz with --live)
// on the probe listener the settings name (DINGBOT_METRICS_ADDR, else
// DINGBOT_HTTP_ADDR), on loopback, and exits 0 if it answers 200, else 1:
// a container health check for images without curl (distroless).
func runHealthcheck(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	live := fs.Bool("live", false, "ask /healthz (the process runs) instead of /readyz (it can take messages)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		if err == nil {
			fmt.Fprintln(stderr, "dingbot healthcheck: takes no arguments besides --live")
		}
		return 2
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "dingbot: %v\n", err)
		return 2
	}
	addr := cfg.HTTPAddr
	if cfg.MetricsAddr != "" {
		addr = cfg.MetricsAddr
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		fmt.Fprintf(stderr, "dingbot healthcheck: %q is not host:port\n", addr)
		return 2
	}
	path := "/readyz"
	if *live {
		path = "/healthz"
	}
	u := "http://" + net.JoinHostPort("127.0.0.1", port) + path
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Get(u)
	if err != nil {
		fmt.Fprintf(stderr, "dingbot healthcheck: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	fmt.Fprintf(stdout, "%s %d %s\n", path, resp.StatusCode, strings.TrimSpace(string(body)))
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}
