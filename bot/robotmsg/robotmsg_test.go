package robotmsg_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/chatbot"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/bot/robotmsg"
	"github.com/dingbot/dingbot/commands"
)

// decode reads a callback body the way both transports do: into the SDK's model.
func decode(t testing.TB, body string) *chatbot.BotCallbackDataModel {
	t.Helper()
	var data chatbot.BotCallbackDataModel
	if err := json.Unmarshal([]byte(body), &data); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return &data
}

func TestFromCallback(t *testing.T) {
	cases := []struct {
		name string
		body string
		want bot.Message
	}{
		{
			name: "group text with mentions (DingTalk's documented example)",
			body: `{"conversationId":"cidjMOsz==","atUsers":[{"dingtalkId":"$:LWCP_v1:$bot"},{"dingtalkId":"$:LWCP_v1:$a","staffId":"452523285939877041","unionId":"edxxx34"}],
				"chatbotCorpId":"ding9f50","chatbotUserId":"$:LWCP_v1:$bot","msgId":"msg2p+w==","senderNick":"小钉","isAdmin":true,
				"senderStaffId":"452523285939877041","senderUnionId":"u","sessionWebhookExpiredTime":1695204671648,"createAt":1695199269062,
				"senderCorpId":"ding9f50","conversationType":"2","senderId":"$:LWCP_v1:$s","conversationTitle":"测试群","isInAtList":true,
				"sessionWebhook":"https://oapi.dingtalk.com/robot/sendBySession?session=c610","text":{"content":" /newgroup \"Release 4.2\""},
				"robotCode":"ding1f","msgtype":"text"}`,
			want: bot.Message{
				MsgID: "msg2p+w==", ConversationID: "cidjMOsz==", Group: true, SenderStaffID: "452523285939877041",
				SenderNick: "小钉", IsAdmin: true, BotUserID: "$:LWCP_v1:$bot", MsgType: "text", Text: ` /newgroup "Release 4.2"`,
				Mentions: []commands.Mention{
					{DingtalkID: "$:LWCP_v1:$bot"},
					{DingtalkID: "$:LWCP_v1:$a", StaffID: "452523285939877041"},
				},
				SessionWebhook: "https://oapi.dingtalk.com/robot/sendBySession?session=c610",
				SessionExpires: time.UnixMilli(1695204671648),
			},
		},
		{
			name: "one-to-one text",
			body: `{"conversationId":"cid1","msgId":"m1","conversationType":"1","senderStaffId":"u1","senderNick":"A","text":{"content":"/help"},"msgtype":"text"}`,
			want: bot.Message{MsgID: "m1", ConversationID: "cid1", SenderStaffID: "u1", SenderNick: "A", MsgType: "text", Text: "/help"},
		},
		{
			name: "top-level content (the HTTP-mode doc sample)",
			body: `{"conversationId":"cid1","msgId":"m2","conversationType":"1","content":"/newgroup Ops","msgtype":"text"}`,
			want: bot.Message{MsgID: "m2", ConversationID: "cid1", MsgType: "text", Text: "/newgroup Ops"},
		},
		{
			name: "top-level content without msgtype",
			body: `{"conversationId":"cid1","msgId":"m3","content":"/help"}`,
			want: bot.Message{MsgID: "m3", ConversationID: "cid1", MsgType: "text", Text: "/help"},
		},
		{
			name: "text.content wins over top-level content",
			body: `{"conversationId":"cid1","msgId":"m4","content":"ignored","text":{"content":"/help"},"msgtype":"text"}`,
			want: bot.Message{MsgID: "m4", ConversationID: "cid1", MsgType: "text", Text: "/help"},
		},
		{
			name: "picture: content is an object, not text",
			body: `{"conversationId":"cid1","msgId":"m5","msgtype":"picture","content":{"downloadCode":"dc","pictureDownloadCode":"pdc"}}`,
			want: bot.Message{MsgID: "m5", ConversationID: "cid1", MsgType: "picture"},
		},
		{
			name: "picture with a string content stays a picture",
			body: `{"conversationId":"cid1","msgId":"m6","msgtype":"picture","content":"x"}`,
			want: bot.Message{MsgID: "m6", ConversationID: "cid1", MsgType: "picture"},
		},
		{
			name: "outsider mention without staffId, no session expiry",
			body: `{"conversationId":"cid2","msgId":"m7","conversationType":"2","atUsers":[{"dingtalkId":"$:x"}],"text":{"content":" hi"},"msgtype":"text"}`,
			want: bot.Message{MsgID: "m7", ConversationID: "cid2", Group: true, MsgType: "text", Text: " hi",
				Mentions: []commands.Mention{{DingtalkID: "$:x"}}},
		},
		{
			name: "richText command with a picked mention and a pasted picture",
			body: `{"senderPlatform":"Mac","conversationId":"cidG==","atUsers":[{"dingtalkId":"$:LWCP_v1:$bot"},{"dingtalkId":"$:LWCP_v1:$a","staffId":"alice01"}],
				"chatbotCorpId":"ding9f50","chatbotUserId":"$:LWCP_v1:$bot","msgId":"msgRT1==","senderNick":"Lead","isAdmin":false,"senderStaffId":"lead01",
				"sessionWebhookExpiredTime":1772382687862,"createAt":1772377287698,"senderCorpId":"ding9f50","conversationType":"2","senderId":"$:LWCP_v1:$s",
				"conversationTitle":"Team","isInAtList":true,"sessionWebhook":"https://oapi.dingtalk.com/robot/sendBySession?session=1d6c",
				"content":{"richText":[{"text":"@dingbot"},{"text":"/newgroup \"Release 4.2\" "},{"text":"@Alice"},
					{"pictureDownloadCode":"mIofN681YE3f/+m+NntqpT","downloadCode":"mIofN681YE3f/+m+NntqpT","type":"picture"}]},
				"robotCode":"ding1f","msgtype":"richText"}`,
			want: bot.Message{
				MsgID: "msgRT1==", ConversationID: "cidG==", Group: true, SenderStaffID: "lead01", SenderNick: "Lead",
				BotUserID: "$:LWCP_v1:$bot", MsgType: "text", Text: `/newgroup "Release 4.2" @Alice`,
				Mentions: []commands.Mention{
					{DingtalkID: "$:LWCP_v1:$bot"},
					{DingtalkID: "$:LWCP_v1:$a", StaffID: "alice01"},
				},
				SessionWebhook: "https://oapi.dingtalk.com/robot/sendBySession?session=1d6c",
				SessionExpires: time.UnixMilli(1772382687862),
			},
		},
		{
			name: "richText parts split mid-phrase are joined as they are, mentions kept apart (a captured callback)",
			body: `{"conversationId":"cid5==","atUsers":[{"dingtalkId":"$:bot"},{"dingtalkId":"$:x","staffId":"06126959521181497"}],"chatbotUserId":"$:bot",
				"msgId":"msgUJ==","conversationType":"2","senderStaffId":"0948351305695176",
				"content":{"richText":[{"text":"@小白"},{"text":"给"},{"text":"@释心"},{"text":"发个消息“"},{"text":"你12好"},{"text":"”"}]},"msgtype":"richText"}`,
			want: bot.Message{MsgID: "msgUJ==", ConversationID: "cid5==", Group: true, SenderStaffID: "0948351305695176", BotUserID: "$:bot",
				MsgType: "text", Text: "@小白 给 @释心 发个消息“你12好”",
				Mentions: []commands.Mention{{DingtalkID: "$:bot"}, {DingtalkID: "$:x", StaffID: "06126959521181497"}}},
		},
		{
			name: "richText: the bot's mention with its space, then formatting splits a word",
			body: `{"conversationId":"cid1","msgId":"m10","conversationType":"2","chatbotUserId":"$:bot","atUsers":[{"dingtalkId":"$:bot"}],
				"content":{"richText":[{"text":"@牛牛 "},{"text":"/newgroup Re"},{"text":"lease","type":"text"},{"text":" --standard"}]},"msgtype":"richText"}`,
			want: bot.Message{MsgID: "m10", ConversationID: "cid1", Group: true, BotUserID: "$:bot", MsgType: "text",
				Text: "/newgroup Release --standard", Mentions: []commands.Mention{{DingtalkID: "$:bot"}}},
		},
		{
			name: "richText: a line break typed in a part is kept",
			body: `{"conversationId":"cid1","msgId":"m11","conversationType":"1","content":{"richText":[{"text":"/newgroup Ops\n"},{"text":"userid:u1"}]},"msgtype":"richText"}`,
			want: bot.Message{MsgID: "m11", ConversationID: "cid1", MsgType: "text", Text: "/newgroup Ops\nuserid:u1"},
		},
		{
			name: "richText: a picture between text parts ends the line",
			body: `{"conversationId":"cid1","msgId":"m12","conversationType":"1","content":{"richText":[{"text":"/newgroup Ops"},
				{"type":"picture","downloadCode":"dc1"},{"pictureDownloadCode":"pdc2","downloadCode":"dc2","type":"picture"},{"text":"userid:u1"}]},"msgtype":"richText"}`,
			want: bot.Message{MsgID: "m12", ConversationID: "cid1", MsgType: "text", Text: "/newgroup Ops\nuserid:u1"},
		},
		{
			name: "richText in a one-to-one chat: a leading @word is the user's text",
			body: `{"conversationId":"cid1","msgId":"m13","conversationType":"1","content":{"richText":[{"text":"@Alice /help"}]},"msgtype":"richText"}`,
			want: bot.Message{MsgID: "m13", ConversationID: "cid1", MsgType: "text", Text: "@Alice /help"},
		},
		{
			name: "richText with only pictures is no text",
			body: `{"conversationId":"cid1","msgId":"m14","conversationType":"2","content":{"richText":[{"pictureDownloadCode":"p","downloadCode":"d","type":"picture"},{"text":""}]},"msgtype":"richText"}`,
			want: bot.Message{MsgID: "m14", ConversationID: "cid1", Group: true, MsgType: "richText"},
		},
		{
			name: "richText with blank text and a picture is no text",
			body: `{"conversationId":"cid1","msgId":"m15","conversationType":"1","content":{"richText":[{"text":" \n"},{"type":"picture","downloadCode":"d"}]},"msgtype":"richText"}`,
			want: bot.Message{MsgID: "m15", ConversationID: "cid1", MsgType: "richText"},
		},
		{
			name: "richText content as a JSON string",
			body: `{"conversationId":"cid1","msgId":"m16","conversationType":"1","content":"{\"richText\":[{\"text\":\"/help\"}]}","msgtype":"richText"}`,
			want: bot.Message{MsgID: "m16", ConversationID: "cid1", MsgType: "text", Text: "/help"},
		},
		{
			name: "richText with a malformed content is no text",
			body: `{"conversationId":"cid1","msgId":"m17","conversationType":"1","content":{"richText":"/help"},"msgtype":"richText"}`,
			want: bot.Message{MsgID: "m17", ConversationID: "cid1", MsgType: "richText"},
		},
		{
			name: "voice message with speech recognition stays a voice message",
			body: `{"conversationId":"cid1","msgId":"m18","conversationType":"1","senderStaffId":"u1",
				"content":{"duration":4000,"downloadCode":"dc","recognition":"/newgroup Release"},"msgtype":"audio"}`,
			want: bot.Message{MsgID: "m18", ConversationID: "cid1", SenderStaffID: "u1", MsgType: "audio"},
		},
		{
			name: "file message",
			body: `{"conversationId":"cid1","msgId":"m19","conversationType":"1","content":{"spaceId":"1","fileName":"/newgroup.txt","downloadCode":"dc","fileId":"2"},"msgtype":"file"}`,
			want: bot.Message{MsgID: "m19", ConversationID: "cid1", MsgType: "file"},
		},
		{
			name: "conversationType other than 2 is not a group",
			body: `{"conversationId":"cid3","msgId":"m8","conversationType":"3"}`,
			want: bot.Message{MsgID: "m8", ConversationID: "cid3"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := robotmsg.FromCallback(decode(t, tc.body))
			if !got.SessionExpires.Equal(tc.want.SessionExpires) {
				t.Errorf("SessionExpires = %v, want %v", got.SessionExpires, tc.want.SessionExpires)
			}
			got.SessionExpires, tc.want.SessionExpires = time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
	if got := robotmsg.FromCallback(nil); !reflect.DeepEqual(got, bot.Message{}) {
		t.Errorf("nil model: %+v", got)
	}
}

// FuzzFromCallback: any JSON body the SDK model accepts converts without
// panicking, and the conversion keeps the identifying fields as they came.
func FuzzFromCallback(f *testing.F) {
	f.Add(`{"conversationId":"c","msgId":"m","conversationType":"2","text":{"content":" /help"},"msgtype":"text","atUsers":[{"dingtalkId":"d","staffId":"s"}]}`)
	f.Add(`{"msgId":"m","content":"/help"}`)
	f.Add(`{"msgId":"m","content":{"a":1},"msgtype":"picture"}`)
	f.Add(`{"sessionWebhookExpiredTime":-1,"atUsers":null}`)
	f.Add(`{"sessionWebhookExpiredTime":9223372036854775807}`)
	f.Add(`{"msgId":"m","conversationType":"2","msgtype":"richText","content":{"richText":[{"text":"@bot"},{"text":"/help"},{"type":"picture","downloadCode":"d"},{"text":"x"}]}}`)
	f.Add(`{"msgId":"m","msgtype":"richText","content":"{\"richText\":[{\"text\":\"/help\"}]}"}`)
	f.Add(`{"msgId":"m","msgtype":"audio","content":{"recognition":"/help"}}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, body string) {
		var data chatbot.BotCallbackDataModel
		if json.Unmarshal([]byte(body), &data) != nil {
			return
		}
		m := robotmsg.FromCallback(&data)
		if m.MsgID != data.MsgId || m.ConversationID != data.ConversationId || m.SessionWebhook != data.SessionWebhook {
			t.Fatalf("identifying fields changed: %+v from %s", m, body)
		}
		if m.Group != (data.ConversationType == "2") {
			t.Fatalf("group %v for conversationType %q", m.Group, data.ConversationType)
		}
		if len(m.Mentions) != len(data.AtUsers) {
			t.Fatalf("%d mentions for %d atUsers", len(m.Mentions), len(data.AtUsers))
		}
		if data.Text.Content != "" && m.Text != data.Text.Content {
			t.Fatalf("text %q, want text.content %q", m.Text, data.Text.Content)
		}
		if m.Text != "" && m.Text != data.Text.Content && m.MsgType != "text" {
			t.Fatalf("top-level content used for msgtype %q", m.MsgType)
		}
		if m.MsgType != data.Msgtype && !(m.MsgType == "text" && (data.Msgtype == "" || data.Msgtype == "richText")) {
			t.Fatalf("msgtype %q became %q", data.Msgtype, m.MsgType)
		}
		if data.Msgtype != "" && data.Msgtype != "text" && data.Msgtype != "richText" && m.Text != data.Text.Content {
			t.Fatalf("msgtype %q gave text %q", data.Msgtype, m.Text)
		}
		if utf8.ValidString(body) && !utf8.ValidString(m.Text) {
			t.Fatalf("invalid UTF-8 text from a valid body")
		}
	})
}
