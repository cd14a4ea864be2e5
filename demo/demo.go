// Package demo lets anyone try dingbot without a DingTalk account: it starts
// the in-repo fake DingTalk (package dingtalktest) with a small sample
// organisation, and turns lines typed in a terminal into chat messages sent to
// the bot through the real Stream protocol, printing the bot's replies.
//
// It is a top-level package because it is neither part of the bot (which must
// never know the fake exists) nor test code: `dingbot demo` ships it.
package demo

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dingbot/dingbot/dingtalktest"
)

// you is the demo user: the sender of every typed message.
func you() dingtalktest.User {
	return dingtalktest.User{UserID: "manager4220", Name: "You", Active: true, Visible: true, Admin: true}
}

// People returns the sample organisation: mention them by name with @Name.
func People() []dingtalktest.User {
	return []dingtalktest.User{
		you(),
		{UserID: "alice01", Name: "Alice", Mobile: "13800000001", Active: true, Visible: true},
		{UserID: "bob02", Name: "Bob", Mobile: "13800000002", Active: true, Visible: true},
		{UserID: "carol03", Name: "Carol", Mobile: "13800000003", Active: true, Visible: true},
		{UserID: "carol33", Name: "Carol", Mobile: "13800000033", Active: true, Visible: true},
		{UserID: "zhangsan", Name: "张三", Mobile: "13800000004", Active: true, Visible: true},
		{UserID: "dave04", Name: "Dave", Mobile: "13800000005", Active: true, Visible: false},
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
templates:
  release:
    description: release coordination group, history visible, owner manages
    args: "@team --history yes --manage owner"
`

// Demo is a running fake DingTalk with the sample organisation.
type Demo struct {
	fake *dingtalktest.Server
	dir  string
}

// Start starts the fake DingTalk on 127.0.0.1 and writes the demo configuration file.
func Start() (*Demo, error) {
	dir, err := os.MkdirTemp("", "dingbot-demo")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "dingbot.yaml"), []byte(configFile), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	fake := dingtalktest.NewServer(dingtalktest.Options{})
	for _, u := range People() {
		fake.AddUser(u)
	}
	return &Demo{fake: fake, dir: dir}, nil
}

// Close stops the fake DingTalk and removes the configuration file.
func (d *Demo) Close() {
	d.fake.Close()
	os.RemoveAll(d.dir)
}

// Env returns the settings that point dingbot at the fake DingTalk.
func (d *Demo) Env() map[string]string {
	return map[string]string{
		"DINGTALK_CLIENT_ID":        d.fake.ClientID(),
		"DINGTALK_CLIENT_SECRET":    d.fake.ClientSecret(),
		"DINGTALK_API_URL":          d.fake.URL(),
		"DINGTALK_OAPI_URL":         d.fake.URL(),
		"DINGBOT_HTTP_ADDR":         "127.0.0.1:0",
		"DINGTALK_RETRY_BASE_DELAY": "200ms",
		"DINGBOT_CONFIG":            filepath.Join(d.dir, "dingbot.yaml"),
		"DINGBOT_DATA_DIR":          d.dir,
	}
}

// WaitConnected waits until the bot has opened its Stream connection.
func (d *Demo) WaitConnected(ctx context.Context) error {
	return d.fake.WaitConnections(ctx, 1)
}

// banner explains the demo; it is printed once.
func banner() string {
	var b strings.Builder
	b.WriteString("dingbot demo: a fake DingTalk runs on this machine and the real bot is connected to it.\n")
	b.WriteString("You are \"You\" (userId manager4220) in the group \"Demo group\". People you can @mention:\n")
	for _, u := range People()[1:] {
		note := ""
		if !u.Visible {
			note = "  (outside the app's visibility scope: try --owner @" + u.Name + ")"
		}
		fmt.Fprintf(&b, "  @%s  userId %s, mobile %s%s\n", u.Name, u.UserID, u.Mobile, note)
	}
	b.WriteString("Any other @Name in the group is someone outside the organisation.\n")
	b.WriteString("Start a line with \"dm \" to talk to the bot one-to-one, where people are found by alias, mobile or name.\n")
	b.WriteString("Configuration (aliases, templates):\n" + configFile)
	b.WriteString("Try:\n  /help\n  /newgroup \"Release 4.2\" @Alice @Bob\n  /建群 “发布 4.2” @张三 --mute yes\n")
	b.WriteString("  dm /newgroup Standup @team @13800000003 张三\n  dm /newgroup Sync Carol\n  dm /newgroup --template release \"Release 4.3\" --dry-run\n")
	b.WriteString("Ctrl-D quits.\n")
	return b.String()
}

// Run reads lines from in until EOF or ctx ends, sends each as a chat message
// from the demo user, and prints the bot's reply to out.
func (d *Demo) Run(ctx context.Context, in io.Reader, out io.Writer) error {
	fmt.Fprint(out, banner())
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
		fmt.Fprint(out, "> ")
		var line string
		select {
		case <-ctx.Done():
			return nil
		case l, ok := <-lines:
			if !ok {
				fmt.Fprintln(out)
				return nil
			}
			line = l
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		reply, err := d.Say(ctx, line)
		if err != nil {
			fmt.Fprintf(out, "(demo: %v)\n", err)
			continue
		}
		fmt.Fprintf(out, "dingbot: %s\n", strings.ReplaceAll(reply, "\n", "\n         "))
	}
}

// Say sends one typed line as a chat message and returns the bot's reply.
// A line starting with "dm " goes to a one-to-one chat; any other line goes to
// the demo group, with each @Name mentioned as DingTalk would.
func (d *Demo) Say(ctx context.Context, line string) (string, error) {
	msg := dingtalktest.Message{Text: line, SenderID: you().UserID, SenderNick: you().Name}
	if rest, ok := strings.CutPrefix(line, "dm "); ok {
		msg.Text = rest
	} else {
		msg.Group = true
		msg.ConversationTitle = "Demo group"
		msg.Mentions = mentions(line)
	}
	before := len(d.fake.Replies())
	if _, err := d.fake.Send(msg); err != nil {
		return "", err
	}
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	replies, err := d.fake.WaitReplies(waitCtx, before+1)
	if err != nil {
		return "", fmt.Errorf("no reply from the bot: %w", err)
	}
	return replies[before].Text, nil
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
