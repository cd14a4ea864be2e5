package dingtalktest_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/dingbot/dingbot/dingtalktest"
)

// TestNonTextMessageModel: a message with another msgtype carries its
// content object and no text, as DingTalk sends richText and voice messages.
func TestNonTextMessageModel(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	h, got := capture()
	startBot(t, srv, h)

	content := map[string]any{"richText": []any{
		map[string]any{"text": "@dingbot"},
		map[string]any{"text": "/newgroup Ops"},
		map[string]any{"type": "picture", "downloadCode": "dc1", "pictureDownloadCode": "pdc1"},
	}}
	d, err := srv.Send(dingtalktest.Message{Text: "ignored", SenderID: "alice01", Group: true, MsgType: "richText", Content: content,
		Mentions: []dingtalktest.Mention{{Name: "Bob", UserID: "bob02"}}})
	if err != nil {
		t.Fatal(err)
	}
	m := recv(t, got, 5*time.Second)
	if m.Msgtype != "richText" || m.Text.Content != "" || len(m.AtUsers) != 2 || m.AtUsers[1].StaffId != "bob02" {
		t.Errorf("msgtype %q, text %q, atUsers %+v", m.Msgtype, m.Text.Content, m.AtUsers)
	}
	var raw map[string]any
	if err := json.Unmarshal(d.Data(), &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["text"]; ok {
		t.Errorf("a richText callback has a text field: %s", d.Data())
	}
	want, _ := json.Marshal(content)
	var wantContent any
	_ = json.Unmarshal(want, &wantContent)
	if !reflect.DeepEqual(raw["content"], wantContent) {
		t.Errorf("content = %v, want %v", raw["content"], wantContent)
	}

	if _, err := srv.Send(dingtalktest.Message{SenderID: "alice01", MsgType: "audio",
		Content: map[string]any{"recognition": "/help", "duration": 2000, "downloadCode": "dc2"}}); err != nil {
		t.Fatal(err)
	}
	m = recv(t, got, 5*time.Second)
	if rec, _ := m.Content.(map[string]any); m.Msgtype != "audio" || m.Text.Content != "" || rec["recognition"] != "/help" {
		t.Errorf("audio: msgtype %q, text %q, content %v", m.Msgtype, m.Text.Content, m.Content)
	}
}
