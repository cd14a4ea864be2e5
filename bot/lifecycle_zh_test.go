package bot_test

// The exact replies of the commands that manage a group dingbot created
// (issue #13): every success and refusal in Chinese (a command typed by its
// Chinese name is answered in Chinese), and the English replies that
// lifecycle_test.go only checks in part.

import (
	"context"
	"strings"
	"testing"

	"github.com/dingbot/dingbot/dingtalktest"
)

// stamp is a time as /groupinfo and /群信息 show it.
const stamp = "2006-01-02 15:04 UTC"

// sayExactly sends m and requires the reply to be exactly want.
func sayExactly(t *testing.T, h *harness, m dingtalktest.Message, want string) {
	t.Helper()
	if got := h.say(t, m); got != want {
		t.Errorf("%q: reply\n%s\nwant\n%s", m.Text, got, want)
	}
}

func TestLifecycleChineseSuccesses(t *testing.T) {
	h, g := lifecycleHarness(t)
	ctx := context.Background()
	stored, err := h.db.Group(ctx, g.OpenConversationID)
	if err != nil {
		t.Fatal(err)
	}
	created := stored.CreatedAt.UTC().Format(stamp)

	// /群信息 by a member, in the group.
	sayExactly(t, h, in(g, bob.UserID, "/群信息"), "群 “Ops”\n"+
		"群主：alice\n"+
		"成员：2 人（据我所知：在钉钉客户端里加的人不计在内）\n"+
		"由 alice 通过我创建于 "+created+"\n"+
		"chatid："+g.ChatID+"\n"+
		"openConversationId："+g.OpenConversationID)

	// /改名 by the owner, then the same name again.
	sayExactly(t, h, in(g, alice.UserID, `/改名 "Ops 热修复"`), "已把群名从 “Ops” 改为 “Ops 热修复”。")
	sayExactly(t, h, in(g, alice.UserID, `/改名 "Ops 热修复"`), "群名已经是 “Ops 热修复”。没有做任何修改。")

	// /加人 by mobile number (looked up: the reply has the name), then again by user ID.
	sayExactly(t, h, in(g, alice.UserID, "/加人 13800000003"), "已把 1 人加进群：Carol (carol03)。")
	sayExactly(t, h, in(g, alice.UserID, "/加人 userid:carol03"), "carol03 已经在群里。没有做任何修改。")

	// /转让群主, then to the same person again.
	sayExactly(t, h, in(g, alice.UserID, "/转让群主 userid:carol03"), "carol03 现在是群主（原群主 alice）。")
	sayExactly(t, h, in(g, alice.UserID, "/转让群主 userid:carol03"), "carol03 已经是群主。没有做任何修改。")

	// /移除成员 by the creator, who is no longer the owner.
	sayExactly(t, h, in(g, alice.UserID, "/移除成员 userid:bob"), "已把 1 人移出群：bob。")

	// /群信息 now shows the changes and when they were made.
	stored, err = h.db.Group(ctx, g.OpenConversationID)
	if err != nil {
		t.Fatal(err)
	}
	sayExactly(t, h, in(g, carol.UserID, "/群信息"), "群 “Ops 热修复”\n"+
		"群主：carol03\n"+
		"成员：2 人（据我所知：在钉钉客户端里加的人不计在内）\n"+
		"由 alice 通过我创建于 "+created+"\n"+
		"最近一次通过我修改于 "+stored.UpdatedAt.UTC().Format(stamp)+"\n"+
		"chatid："+g.ChatID+"\n"+
		"openConversationId："+g.OpenConversationID)

	h.shutdown(t)
	fg := h.fake.Groups()[0]
	if fg.Name != "Ops 热修复" || fg.Owner != "carol03" || strings.Join(fg.Members, ",") != "alice,carol03" {
		t.Errorf("DingTalk's group now %+v", fg)
	}
	if n := len(h.fake.UpdateRequests()); n != 4 {
		t.Errorf("%d update requests, want 4 (rename, add, owner, remove)", n)
	}
}

func TestLifecycleChineseRefusals(t *testing.T) {
	h, g := lifecycleHarness(t)
	elsewhere := dingtalktest.Message{Text: "/改名 X", SenderID: alice.UserID, Group: true, ConversationTitle: "别的群"}
	cases := []struct {
		msg  dingtalktest.Message
		want string
	}{
		// Removing the owner (the sender's own ID: the bot knows the sender's name).
		// The command named is the English /owner, not /转让群主.
		{in(g, alice.UserID, "/移除成员 userid:alice"),
			"Alice (alice) 是群主，不能被移除。请先用 /转让群主 把群转让给别人。没有做任何修改。"},
		// The new owner is not a member (again an English command name: /addmember, not /加人).
		{in(g, alice.UserID, "/转让群主 userid:carol03"),
			"据我所知 carol03 不在群里，而群主必须是群成员。请先把此人加进群：/加人 userid:carol03"},
		// A 21-character name.
		{in(g, alice.UserID, "/改名 "+strings.Repeat("名", 21)),
			"群名 \"" + strings.Repeat("名", 21) + "\" 有 21 个字，上限是 20 个。\n" +
				"用法：/改名 群名 [--group ID]\n" +
				"示例：/改名 \"发布 4.2 热修复\"\n" +
				"全部选项：/帮助 改名"},
		// A group the bot did not create.
		{elsewhere, "我只能管理我用 /建群 创建的群：钉钉不允许应用修改其他群。没有做任何修改。"},
		// Someone who may not change the group.
		{in(g, bob.UserID, "/改名 X"),
			"只有群主（alice）、通过我建群的人（alice）或机器人管理员可以修改这个群。没有做任何修改。（你的用户 ID：bob）"},
		{in(g, bob.UserID, "/加人 userid:carol03"),
			"只有群主（alice）、通过我建群的人（alice）或机器人管理员可以修改这个群。没有做任何修改。（你的用户 ID：bob）"},
		{in(g, bob.UserID, "/转让群主 userid:bob"),
			"只有群主（alice）、通过我建群的人（alice）或机器人管理员可以修改这个群。没有做任何修改。（你的用户 ID：bob）"},
		{in(g, bob.UserID, "/移除成员 userid:alice"),
			"只有群主（alice）、通过我建群的人（alice）或机器人管理员可以修改这个群。没有做任何修改。（你的用户 ID：bob）"},
		// /群信息 of the group from a one-to-one chat by someone who may not manage it.
		{dingtalktest.Message{Text: "/群信息 --group " + g.ChatID, SenderID: bob.UserID},
			"只有群主（alice）、通过我建群的人（alice）或机器人管理员可以修改这个群。没有做任何修改。（你的用户 ID：bob）"},
	}
	for _, tc := range cases {
		sayExactly(t, h, tc.msg, tc.want)
	}
	h.shutdown(t)
	if n := len(h.fake.UpdateRequests()); n != 0 {
		t.Errorf("%d update requests after refusals, want none", n)
	}
}

// TestLifecycleEnglishExactReplies pins the whole text of the English replies
// lifecycle_test.go checks only in part.
func TestLifecycleEnglishExactReplies(t *testing.T) {
	h, g := lifecycleHarness(t)
	ctx := context.Background()
	stored, err := h.db.Group(ctx, g.OpenConversationID)
	if err != nil {
		t.Fatal(err)
	}
	created := stored.CreatedAt.UTC().Format(stamp)
	sayExactly(t, h, in(g, bob.UserID, "/groupinfo"), "Group \"Ops\"\n"+
		"Owner: alice\n"+
		"Members: 2 (as far as I know: people added in the DingTalk client are not counted)\n"+
		"Created through me by alice on "+created+"\n"+
		"chatid: "+g.ChatID+"\n"+
		"openConversationId: "+g.OpenConversationID)
	sayExactly(t, h, in(g, alice.UserID, "/rename "+strings.Repeat("名", 21)),
		"The name \""+strings.Repeat("名", 21)+"\" is 21 characters; the limit is 20.\n"+
			"Usage: /rename NAME [--group ID]\n"+
			"Example: /rename \"Release 4.2 hotfix\"\n"+
			"All options: /help rename")
	sayExactly(t, h, dingtalktest.Message{Text: "/rename X", SenderID: alice.UserID},
		"In a one-to-one chat, say which group with --group ID: its openConversationId or chatid, from the create reply or /groups.\n"+
			"Usage: /rename NAME [--group ID]\n"+
			"Example: /rename \"Release 4.2 hotfix\" --group cidX8k...==\n"+
			"All options: /help rename")
	sayExactly(t, h, dingtalktest.Message{Text: "/groupinfo --group " + g.OpenConversationID, SenderID: bob.UserID},
		"Only the group's owner (alice), the person who created it through me (alice) or a bot admin may change it. Nothing was changed. (Your user ID: bob)")
	sayExactly(t, h, in(g, alice.UserID, "/rename Ops"), `The group is already called "Ops". Nothing was changed.`)
	sayExactly(t, h, in(g, alice.UserID, "/addmember userid:bob"), "Already in the group: bob. Nothing was changed.")
	sayExactly(t, h, in(g, alice.UserID, "/owner userid:alice"), "Alice (alice) is already the owner. Nothing was changed.")
	sayExactly(t, h, in(g, alice.UserID, "/removemember userid:alice"),
		"Alice (alice) owns the group and can't be removed. Make someone else the owner first with /owner. Nothing was changed.")

	// DingTalk refuses: the reply names its code and message and the request ID.
	h.fake.FailNextUpdate(400, "invalidParameter.name", "群名称不合法")
	got := h.say(t, in(g, alice.UserID, `/rename "Ops 2"`))
	head, id, ok := strings.Cut(got, "\nDingTalk request ID: ")
	if want := "DingTalk refused the change (invalidParameter.name: 群名称不合法). Nothing was changed."; !ok || head != want || id == "" || strings.ContainsAny(id, " \n") {
		t.Errorf("refused rename: reply\n%s\nwant\n%s\nDingTalk request ID: <id>", got, want)
	}
	// The same in Chinese.
	h.fake.FailNextUpdate(400, "invalidParameter.name", "群名称不合法")
	got = h.say(t, in(g, alice.UserID, `/改名 "Ops 2"`))
	head, id, ok = strings.Cut(got, "\n钉钉请求 ID：")
	if want := "钉钉拒绝了这次修改（invalidParameter.name: 群名称不合法）。没有做任何修改。"; !ok || head != want || id == "" {
		t.Errorf("refused 改名: reply\n%s\nwant\n%s\n钉钉请求 ID：<id>", got, want)
	}
}
