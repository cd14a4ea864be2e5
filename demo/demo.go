// Package demo lets anyone try dingbot without a DingTalk account: it starts
// the in-repo fake DingTalk (package dingtalktest) with a small sample
// organisation and two existing groups, and lets people chat with the real bot
// (connected through the real Stream protocol) from a local web page that
// looks like DingTalk, or from the terminal.
//
// It is a top-level package because it is neither part of the bot (which must
// never know the fake exists) nor test code: `dingbot demo` ships it.
package demo

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/dingbot/dingbot/dingtalktest"
)

// you is the demo user: the sender of every line typed in the terminal and
// the person the web page starts as.
func you() dingtalktest.User {
	return dingtalktest.User{UserID: "manager4220", Name: "王芳", Mobile: "13800000000", Title: "Release manager", Active: true, Visible: true, Admin: true}
}

// People returns the sample organisation: mention them by name with @Name.
func People() []dingtalktest.User {
	return []dingtalktest.User{
		you(),
		{UserID: "alice01", Name: "Alice", Mobile: "13800000001", Title: "Developer", Active: true, Visible: true},
		{UserID: "bob02", Name: "Bob", Mobile: "13800000002", Title: "QA", Active: true, Visible: true},
		{UserID: "carol03", Name: "Carol", Mobile: "13800000003", Title: "Designer", Active: true, Visible: true},
		{UserID: "carol33", Name: "Carol", Mobile: "13800000033", Title: "Sales", Active: true, Visible: true},
		{UserID: "zhangsan", Name: "张三", Mobile: "13800000004", Title: "运维", Active: true, Visible: true},
		{UserID: "lisi", Name: "李四", Mobile: "13800000006", Title: "产品经理", Active: true, Visible: true},
		{UserID: "dave04", Name: "Dave", Mobile: "13800000005", Title: "Contractor", Active: true, Visible: false},
	}
}

// existingGroups are the groups the organisation already has; the bot is
// installed in them, so people can talk to it there.
func existingGroups() []dingtalktest.Group {
	return []dingtalktest.Group{
		{Name: "Release team", Owner: "manager4220", ConversationTag: 2,
			Members: []string{"manager4220", "alice01", "bob02", "zhangsan", "dave04"},
			Request: dingtalktest.GroupRequest{ManagementOptions: map[string]int64{"showHistoryType": 1}}},
		{Name: "产品讨论", Owner: "lisi", ConversationTag: 2,
			Members: []string{"lisi", "manager4220", "carol03", "zhangsan", "alice01"},
			Request: dingtalktest.GroupRequest{ManagementOptions: map[string]int64{"chatBannedType": 0, "searchable": 1}}},
	}
}

// configFile is the demo's bot configuration: it shows the file format.
const configFile = `# dingbot demo configuration
people:
  team: [alice01, bob02]        # @team adds both
  boss: dave04
names:                          # display names for replies
  alice01: Alice
  bob02: Bob
  dave04: Dave                  # so @boss reads "Dave (dave04)", not the alias
templates:
  release:
    description: release coordination group, history visible, owner manages
    args: "@team --history yes --manage owner"
access:
  admins: [manager4220]         # 王芳 may make someone else the owner (--owner); the others may not
`

// DefaultAddr is where the demo page is served unless --addr says otherwise.
const DefaultAddr = "127.0.0.1:8080"

// Options are the flags of `dingbot demo`.
type Options struct {
	// Addr is the listen address of the web page (--addr).
	Addr string
	// DataDir holds the bot's database (--data); "" means a temporary
	// directory removed on exit.
	DataDir string
	// Terminal chats in the terminal instead of serving the page (--terminal).
	Terminal bool
}

// ParseArgs parses the arguments after `dingbot demo`. It returns
// flag.ErrHelp for -h/--help, after printing the usage to stderr.
func ParseArgs(args []string, stderr io.Writer) (Options, error) {
	fs := flag.NewFlagSet("dingbot demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	fs.StringVar(&o.Addr, "addr", DefaultAddr, "listen address of the demo web page (host:port)")
	fs.StringVar(&o.DataDir, "data", "", "directory of the bot's database (default: a temporary directory, removed on exit)")
	fs.BoolVar(&o.Terminal, "terminal", false, "chat with the bot in this terminal instead of serving the web page")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: dingbot demo [--addr HOST:PORT] [--data DIR] [--terminal]\n\n"+
			"Starts a fake DingTalk with a sample organisation, connects the real bot to it and\n"+
			"serves a DingTalk-like chat page on --addr (or chats in the terminal with --terminal).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		return o, fmt.Errorf("--addr %q is not host:port (example: 127.0.0.1:8080)", o.Addr)
	}
	return o, nil
}

// Demo is a running fake DingTalk with the sample organisation.
type Demo struct {
	fake    *dingtalktest.Server
	dir     string // temporary: configuration file (and data unless --data)
	dataDir string
	groups  []dingtalktest.Group // the existing groups, seeded
	page    net.Listener         // nil in terminal mode
	web     *web
	heard   int // terminal mode: the fake's replies already read by Say
}

// Start starts the fake DingTalk on 127.0.0.1, seeds the organisation and the
// existing groups, writes the demo configuration file and, unless
// opts.Terminal, opens the web page's listener (so that a busy port is
// reported before anything else starts).
func Start(opts Options) (*Demo, error) {
	dir, err := os.MkdirTemp("", "dingbot-demo")
	if err != nil {
		return nil, err
	}
	d := &Demo{dir: dir, dataDir: dir}
	fail := func(err error) (*Demo, error) {
		d.Close()
		return nil, err
	}
	if opts.DataDir != "" {
		if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
			return fail(fmt.Errorf("--data: %w", err))
		}
		d.dataDir = opts.DataDir
	}
	if err := os.WriteFile(filepath.Join(dir, "dingbot.yaml"), []byte(configFile), 0o600); err != nil {
		return fail(err)
	}
	if !opts.Terminal {
		addr := opts.Addr
		if addr == "" {
			addr = DefaultAddr
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fail(fmt.Errorf("--addr %s: cannot serve the demo page: %w (choose another with --addr 127.0.0.1:PORT)", addr, err))
		}
		d.page = l
	}
	d.fake = dingtalktest.NewServer(dingtalktest.Options{})
	for _, u := range People() {
		d.fake.AddUser(u)
	}
	for _, g := range existingGroups() {
		d.groups = append(d.groups, d.fake.SeedGroup(g))
	}
	d.web = newWeb(d)
	return d, nil
}

// Close stops the fake DingTalk and removes the temporary directory.
func (d *Demo) Close() {
	if d.page != nil {
		d.page.Close()
	}
	if d.fake != nil {
		d.fake.Close()
	}
	os.RemoveAll(d.dir)
}

// Env returns the settings that point dingbot at the fake DingTalk. The bot's
// own HTTP listener (health, metrics) takes a free port, so it never clashes
// with the page.
func (d *Demo) Env() map[string]string {
	return map[string]string{
		"DINGTALK_CLIENT_ID":        d.fake.ClientID(),
		"DINGTALK_CLIENT_SECRET":    d.fake.ClientSecret(),
		"DINGTALK_API_URL":          d.fake.URL(),
		"DINGTALK_OAPI_URL":         d.fake.URL(),
		"DINGBOT_HTTP_ADDR":         "127.0.0.1:0",
		"DINGTALK_RETRY_BASE_DELAY": "200ms",
		"DINGBOT_CONFIG":            filepath.Join(d.dir, "dingbot.yaml"),
		"DINGBOT_DATA_DIR":          d.dataDir,
	}
}

// WaitConnected waits until the bot has opened its Stream connection.
func (d *Demo) WaitConnected(ctx context.Context) error {
	return d.fake.WaitConnections(ctx, 1)
}

// Serve serves the web page until ctx ends, then shuts it down. It prints the
// page's URL to out and opens nothing by itself.
func (d *Demo) Serve(ctx context.Context, out io.Writer) error {
	if d.page == nil {
		return errors.New("demo: Serve in terminal mode")
	}
	fmt.Fprintf(out, "dingbot demo: a fake DingTalk runs on this machine and the real bot is connected to it (Stream mode).\n")
	fmt.Fprintf(out, "Bot data: %s\n", d.dataDir)
	if u, everywhere := pageURL(d.page.Addr()); everywhere {
		fmt.Fprintf(out, "Open %s in your browser (the page listens on all interfaces: from another machine, use this one's address). Ctrl-C stops everything.\n", u)
	} else {
		fmt.Fprintf(out, "Open %s in your browser. Ctrl-C stops everything.\n", u)
	}
	return d.web.serve(ctx, d.page)
}

// pageURL is the URL a browser on this machine opens for the page listening
// on addr, and whether it listens on every interface. An unspecified host
// (--addr 0.0.0.0:PORT or [::]:PORT, both listed as [::]:PORT) is no address
// a browser can open: the URL then names 127.0.0.1, which the listener also
// serves.
func pageURL(addr net.Addr) (string, bool) {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/", false
	}
	everywhere := false
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host, everywhere = "127.0.0.1", true
	}
	return "http://" + net.JoinHostPort(host, port) + "/", everywhere
}

// banner explains the demo; it is printed once.
func (d *Demo) banner() string {
	var b strings.Builder
	b.WriteString("dingbot demo: a fake DingTalk runs on this machine and the real bot is connected to it.\n")
	fmt.Fprintf(&b, "You are %s (userId %s) in the group %q. People you can @mention:\n", you().Name, you().UserID, d.groups[0].Name)
	for _, u := range People()[1:] {
		note := ""
		if !u.Visible {
			note = "  (outside the app's visibility scope)"
		}
		fmt.Fprintf(&b, "  @%s  userId %s, mobile %s%s\n", u.Name, u.UserID, u.Mobile, note)
	}
	b.WriteString("Any other @Name in the group is someone outside the organisation.\n")
	b.WriteString("Start a line with \"dm \" to talk to the bot one-to-one, where people are found by alias, mobile or name.\n")
	b.WriteString("Configuration (aliases, templates, and you as the admin who may choose another owner):\n" + configFile)
	b.WriteString("Try:\n  /help\n  /newgroup \"Release 4.2\" @Alice @Bob\n  /建群 “发布 4.2” @张三 --mute yes\n")
	b.WriteString("  /newgroup Oncall @Alice --owner @Dave\n")
	b.WriteString("  dm /newgroup Standup @team @13800000003 张三\n  dm /newgroup Sync Carol\n  dm /newgroup --template release \"Release 4.3\" --dry-run\n")
	b.WriteString("When a /newgroup is risky (someone found by name, an alias, another owner, …) the bot shows a preview\n" +
		"instead of creating the group: type the /confirm CODE or /cancel CODE it shows (after \"dm \" in a one-to-one chat).\n" +
		"With --owner @Dave, /confirm then gets DingTalk's refusal: Dave is outside the app's visibility scope.\n")
	b.WriteString("Ctrl-D quits.\n")
	return b.String()
}

// Run reads lines from in until EOF or ctx ends, sends each as a chat message
// from the demo user, and prints the bot's reply to out. When in is not a
// terminal (piped input), each line is printed after the prompt before its
// reply, so that out reads as a transcript.
func (d *Demo) Run(ctx context.Context, in io.Reader, out io.Writer) error {
	fmt.Fprint(out, d.banner())
	echo := !isTerminal(in)
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		if !echo {
			fmt.Fprint(out, "> ")
		}
		var line string
		select {
		case <-ctx.Done():
			return nil
		case l, ok := <-lines:
			if !ok {
				if !echo {
					fmt.Fprintln(out)
				}
				return nil
			}
			line = l
		}
		if echo {
			fmt.Fprintln(out, strings.TrimRight("> "+line, " \t"))
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		reply, elsewhere, err := d.say(ctx, line)
		if err != nil {
			printElsewhere(out, d, elsewhere)
			fmt.Fprintf(out, "(demo: %v)\n", err)
			continue
		}
		prefix := ""
		if strings.HasPrefix(line, "dm ") {
			prefix = "dm "
		}
		// The reply first, then what the line made the bot post elsewhere.
		fmt.Fprintf(out, "dingbot: %s\n", indent(readable(reply, prefix)))
		printElsewhere(out, d, elsewhere)
	}
}

// printElsewhere prints the bot's messages in other chats (a kickoff in a
// group it created).
func printElsewhere(out io.Writer, d *Demo, replies []dingtalktest.Reply) {
	for _, r := range replies {
		fmt.Fprintf(out, "dingbot in %q: %s\n", d.groupName(r.ConversationID), indent(readable(r, "")))
	}
}

// indent lines up the lines of a reply after the first under its start
// ("dingbot: "); blank lines stay empty.
func indent(reply string) string {
	lines := strings.Split(reply, "\n")
	for i := 1; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "" {
			lines[i] = "         " + lines[i]
		} else {
			lines[i] = ""
		}
	}
	return strings.Join(lines, "\n")
}

// isTerminal reports whether r is a terminal (a character device), as
// os.Stdin is when someone types; piped or redirected input is not.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Say sends one typed line as a chat message and returns the bot's reply.
// A line starting with "dm " goes to a one-to-one chat; any other line goes to
// the demo group, with each @Name mentioned as DingTalk would.
// A markdown reply (a /newgroup preview) is its markdown text.
func (d *Demo) Say(ctx context.Context, line string) (string, error) {
	reply, _, err := d.say(ctx, line)
	return reply.Text, err
}

// say is Say, and also returns the bot's messages in other chats that came
// with the reply, such as the kickoff it posts in a group it created: when
// the line created groups, it waits a little for their kickoffs, so that
// they are printed with this line and not the next.
func (d *Demo) say(ctx context.Context, line string) (dingtalktest.Reply, []dingtalktest.Reply, error) {
	groups := len(d.fake.Groups())
	msg := dingtalktest.Message{Text: line, SenderID: you().UserID, SenderNick: you().Name, MsgID: "msg" + randomID()}
	if rest, ok := strings.CutPrefix(line, "dm "); ok {
		msg.Text = rest
	} else {
		msg.Group = true
		msg.ConversationID = d.groups[0].OpenConversationID
		msg.ConversationTitle = d.groups[0].Name
		msg.Mentions = mentions(line)
	}
	if _, err := d.fake.Send(msg); err != nil {
		return dingtalktest.Reply{}, nil, err
	}
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var elsewhere []dingtalktest.Reply
	for {
		replies, err := d.fake.WaitReplies(waitCtx, d.heard+1)
		if err != nil {
			return dingtalktest.Reply{}, elsewhere, fmt.Errorf("no reply from the bot: %w", err)
		}
		r := replies[d.heard]
		d.heard++
		if answers(msg, r) {
			return r, d.kickoffs(ctx, groups, elsewhere), nil
		}
		elsewhere = append(elsewhere, r)
	}
}

// kickoffWait is how long say waits for the kickoff in a group just created.
const kickoffWait = 5 * time.Second

// kickoffs adds to elsewhere the bot's messages up to the kickoff of each
// group created after the first known ones, waiting for each up to
// kickoffWait (a configuration without kickoffs posts none).
func (d *Demo) kickoffs(ctx context.Context, known int, elsewhere []dingtalktest.Reply) []dingtalktest.Reply {
	groups := d.fake.Groups()
	if len(groups) <= known {
		return elsewhere
	}
	ctx, cancel := context.WithTimeout(ctx, kickoffWait)
	defer cancel()
	for _, g := range groups[known:] {
		if slices.ContainsFunc(elsewhere, func(r dingtalktest.Reply) bool { return r.ConversationID == g.OpenConversationID }) {
			continue
		}
		for {
			replies, err := d.fake.WaitReplies(ctx, d.heard+1)
			if err != nil {
				return elsewhere
			}
			r := replies[d.heard]
			d.heard++
			elsewhere = append(elsewhere, r)
			if r.ConversationID == g.OpenConversationID {
				break
			}
		}
	}
	return elsewhere
}

// answers reports whether r is the bot's reply to m, text or markdown (a
// /newgroup preview): through m's session webhook, or (when that had expired)
// through the robot API to m's group or, for a one-to-one message, to its
// sender. The kickoff the bot posts in a group it created goes to that new
// group, so it never answers.
func answers(m dingtalktest.Message, r dingtalktest.Reply) bool {
	switch {
	case r.MsgID != "":
		return r.MsgID == m.MsgID
	case m.Group:
		return r.UserID == "" && r.ConversationID == m.ConversationID
	default:
		return r.UserID == m.SenderID
	}
}

// readable is a reply as the terminal shows it: text as it is, markdown
// (the kickoff, a /newgroup preview) without its markup. A link that DingTalk
// turns into a button sending a message (dtmd://dingtalkclient/sendMessage)
// says what to type instead, after prefix ("dm " in a one-to-one chat).
func readable(r dingtalktest.Reply, prefix string) string {
	if r.MsgType != "markdown" {
		return r.Text
	}
	lines := strings.Split(strings.ReplaceAll(r.Text, "\r\n", "\n"), "\n")
	for i, line := range lines {
		line = strings.TrimRight(line, " \t")
		if h := strings.TrimLeft(line, "#"); len(h) < len(line) && len(line)-len(h) <= 6 && strings.HasPrefix(h, " ") {
			line = strings.TrimSpace(h)
		}
		lines[i] = plainInline(line, prefix)
	}
	return strings.Join(lines, "\n")
}

// mdLink is a markdown link [text](target).
var mdLink = regexp.MustCompile(`\[((?:\\.|[^\]\\])+)\]\(([^)\s]+)\)`)

// plainInline drops a markdown line's emphasis and escapes and shows its
// links as text; code spans keep their backquotes, so that what to type
// stands out.
func plainInline(line, prefix string) string {
	line = mdLink.ReplaceAllStringFunc(line, func(link string) string {
		m := mdLink.FindStringSubmatch(link)
		label := m[1]
		if content, ok := sendMessageContent(m[2]); ok {
			return "[" + label + ": type " + prefix + content + "]"
		}
		return label + " (" + m[2] + ")"
	})
	var b strings.Builder
	code := false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '`':
			code = !code
			b.WriteByte(c)
		case code:
			b.WriteByte(c)
		case c == '\\' && i+1 < len(line) && strings.IndexByte("\\`*_[]{}()#+-.!>", line[i+1]) >= 0:
			i++
			b.WriteByte(line[i])
		case c == '*' && i+1 < len(line) && line[i+1] == '*':
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// sendMessageContent is the text a dtmd://dingtalkclient/sendMessage link
// sends as the user's own message.
func sendMessageContent(target string) (string, bool) {
	rest, ok := strings.CutPrefix(target, "dtmd://dingtalkclient/sendMessage?")
	if !ok {
		return "", false
	}
	q, err := url.ParseQuery(rest)
	if err != nil || strings.TrimSpace(q.Get("content")) == "" {
		return "", false
	}
	return q.Get("content"), true
}

// groupName is the current name of the group openConversationID.
func (d *Demo) groupName(openConversationID string) string {
	for _, g := range d.fake.Groups() {
		if g.OpenConversationID == openConversationID {
			return g.Name
		}
	}
	return openConversationID
}

// mentions finds @Name words in a line and maps them to the sample
// organisation, as DingTalk would when the user picks people from its
// mention list; an unknown name is a person outside the organisation.
// Aliases (@team) and mobiles are text, not mentions.
func mentions(line string) []dingtalktest.Mention {
	var out []dingtalktest.Mention
	for _, word := range strings.Fields(line) {
		name, ok := strings.CutPrefix(word, "@")
		if !ok || name == "" || name == "team" || name == "boss" || strings.Trim(name, "+0123456789") == "" {
			continue
		}
		m := dingtalktest.Mention{Name: name}
		for _, u := range People() {
			if strings.EqualFold(u.Name, name) {
				m.UserID = u.UserID
			}
		}
		out = append(out, m)
	}
	return out
}

// ErrHelp is returned by ParseArgs for -h or --help.
var ErrHelp = flag.ErrHelp
