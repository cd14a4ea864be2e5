package tests

// Real DingTalk message shapes end to end: mentions whose @Name text DingTalk
// stripped (only atUsers left), richText messages that carry a command, and
// voice messages.

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dingbot/dingbot/dingtalktest"
)

// mentionsConfig names alice01 only: the others are shown by user ID.
const mentionsConfig = `
people:
  team: [alice01, bob02]
names:
  alice01: Alice
`

func mentionsWorld(t *testing.T) *world {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dingbot.yaml")
	if err := os.WriteFile(path, []byte(mentionsConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return newWorld(t, dingtalktest.Options{}, map[string]string{"DINGBOT_CONFIG": path})
}

// lastGroup is the group DingTalk created last.
func lastGroup(t *testing.T, fake *dingtalktest.Server) dingtalktest.Group {
	t.Helper()
	groups := fake.Groups()
	if len(groups) == 0 {
		t.Fatal("DingTalk has no group")
	}
	return groups[len(groups)-1]
}

// lastCreate is the body of the last create-group request.
func lastCreate(t *testing.T, fake *dingtalktest.Server) []byte {
	t.Helper()
	reqs := fake.CreateRequests()
	if len(reqs) == 0 {
		t.Fatal("no create request")
	}
	return reqs[len(reqs)-1].Raw
}

// TestMentionsWithoutTextE2E: people picked from DingTalk's @ list whose
// @Name DingTalk removed from the text are members all the same, in atUsers
// order, next to what was typed; the reply names them by the configuration's
// names, else by user ID; an owner the bot cannot tell is refused.
func TestMentionsWithoutTextE2E(t *testing.T) {
	t.Parallel()
	w := mentionsWorld(t)

	// No @Name at all: both picked, both stripped.
	reply := w.say(t, groupMsg(`/newgroup Release`, "Alice", "Bob"))
	assertJSON(t, lastCreate(t, w.fake), `{"name":"Release","owner":"lead01","useridlist":["lead01","alice01","bob02"],"conversationTag":2}`)
	if want := createdText(lastGroup(t, w.fake), "Lead (lead01)", "3 (Lead, Alice and bob02)"); reply.Text != want {
		t.Errorf("no @Name, reply:\n%s\nwant:\n%s", reply.Text, want)
	}

	// One typed, one picked and stripped.
	reply = w.say(t, groupMsg(`/newgroup Ops @Bob`, "Alice", "Bob"))
	assertJSON(t, lastCreate(t, w.fake), `{"name":"Ops","owner":"lead01","useridlist":["lead01","alice01","bob02"],"conversationTag":2}`)
	if want := createdText(lastGroup(t, w.fake), "Lead (lead01)", "3 (Lead, Alice and bob02)"); reply.Text != want {
		t.Errorf("one @Name, reply:\n%s\nwant:\n%s", reply.Text, want)
	}

	// An alias typed, a person picked and stripped: the alias is no mention.
	reply = w.say(t, groupMsg(`/newgroup Infra @team`, "张三"))
	assertJSON(t, lastCreate(t, w.fake), `{"name":"Infra","owner":"lead01","useridlist":["lead01","zhangsan","alice01","bob02"],"conversationTag":2}`)
	if want := createdText(lastGroup(t, w.fake), "Lead (lead01)", "4 (Lead, zhangsan, Alice and bob02)"); reply.Text != want {
		t.Errorf("alias and a stripped mention, reply:\n%s\nwant:\n%s", reply.Text, want)
	}

	// --owner @Bob typed while Alice was picked and stripped: which is Bob?
	creates := len(w.fake.CreateRequests())
	reply = w.say(t, groupMsg(`/newgroup Oncall --owner @Bob`, "Alice", "Bob"))
	if want := "I can't tell which of the people you mentioned @Bob refers to. Write --owner userid:ID instead.\n" +
		"Usage: /newgroup NAME [@member ...] [userid:ID ...] [options]\n" +
		"Example: /newgroup \"Release 4.2\" @alice @bob\n" +
		"All options: /help newgroup"; reply.Text != want {
		t.Errorf("ambiguous owner, reply:\n%s\nwant:\n%s", reply.Text, want)
	}
	if n := len(w.fake.CreateRequests()); n != creates {
		t.Errorf("%d create requests after the refusal, want %d", n, creates)
	}
}

// richText builds the content of a richText message from its parts: a
// string is a text part, nil a pasted picture.
func richText(parts ...any) map[string]any {
	var list []any
	for i, p := range parts {
		if s, ok := p.(string); ok {
			list = append(list, map[string]any{"text": s})
			continue
		}
		code := "mIofN681YE3f/+m+NntqpT" + string(rune('a'+i))
		list = append(list, map[string]any{"pictureDownloadCode": code, "downloadCode": code, "type": "picture"})
	}
	return map[string]any{"richText": list}
}

// TestRichTextCommandE2E: a command sent as richText (formatting, a line
// break, a pasted picture) is run as the command; pictures alone and voice
// messages, even with speech recognition, are refused as before. The same
// over HTTP callbacks.
func TestRichTextCommandE2E(t *testing.T) {
	t.Parallel()
	w := mentionsWorld(t)
	const nonText = "I can only read text messages. Type a command such as /newgroup, or /help to see them all."

	// In a group, richText keeps the text of every picked mention, the bot's first.
	msg := groupMsg("", "Alice", "Bob")
	msg.MsgType, msg.Content = "richText", richText("@dingbot", `/newgroup "Release 4.2" `, "@Alice", " ", "@Bob", nil)
	reply := w.say(t, msg)
	assertJSON(t, lastCreate(t, w.fake), `{"name":"Release 4.2","owner":"lead01","useridlist":["lead01","alice01","bob02"],"conversationTag":2}`)
	if want := createdText(lastGroup(t, w.fake), "Lead (lead01)", "3 (Lead, Alice and Bob)"); reply.Text != want {
		t.Errorf("richText group command, reply:\n%s\nwant:\n%s", reply.Text, want)
	}

	// One-to-one: a line break, and a word split by formatting.
	msg = directMsg("")
	msg.MsgType, msg.Content = "richText", richText("/newgroup Stand", "up\n", "userid:alice01", nil)
	reply = w.say(t, msg)
	assertJSON(t, lastCreate(t, w.fake), `{"name":"Standup","owner":"lead01","useridlist":["lead01","alice01"],"conversationTag":2}`)
	if want := createdText(lastGroup(t, w.fake), "Lead (lead01)", "2 (Lead and Alice)"); reply.Text != want {
		t.Errorf("richText direct command, reply:\n%s\nwant:\n%s", reply.Text, want)
	}

	creates := len(w.fake.CreateRequests())
	msg = directMsg("")
	msg.MsgType, msg.Content = "richText", richText(nil, nil)
	if reply = w.say(t, msg); reply.Text != nonText {
		t.Errorf("pictures only, reply:\n%s\nwant:\n%s", reply.Text, nonText)
	}
	msg = directMsg("")
	msg.MsgType, msg.Content = "audio", map[string]any{"recognition": "/newgroup Voice", "duration": 2100, "downloadCode": "dcAudio"}
	if reply = w.say(t, msg); reply.Text != nonText {
		t.Errorf("voice message, reply:\n%s\nwant:\n%s", reply.Text, nonText)
	}
	if n := len(w.fake.CreateRequests()); n != creates {
		t.Errorf("%d create requests after pictures and voice, want %d", n, creates)
	}

	// HTTP callbacks convert messages the same way.
	hw := newHTTPWorld(t, nil)
	msg = directMsg("")
	msg.MsgType, msg.Content = "richText", richText("/newgroup ", "Retro", nil, "userid:bob02")
	reply = hw.say(t, msg)
	assertJSON(t, lastCreate(t, hw.fake), `{"name":"Retro","owner":"lead01","useridlist":["lead01","bob02"],"conversationTag":2}`)
	if want := createdText(lastGroup(t, hw.fake), "Lead (lead01)", "2 (Lead and bob02)"); reply.Text != want {
		t.Errorf("richText over HTTP, reply:\n%s\nwant:\n%s", reply.Text, want)
	}
}
