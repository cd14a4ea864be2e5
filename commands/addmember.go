package commands

import (
	"context"

	"github.com/dingbot/dingbot/store"
)

// AddMemberCommand is /addmember PEOPLE… (/加人): adds people to a group
// dingbot created, named as in /newgroup. Adding someone who is already a
// member changes nothing, so the call is safe to repeat.
func AddMemberCommand() Command {
	return Command{
		Name:   cmdAddMember,
		Define: addMemberSpec().define,
		Texts:  Texts{First: msgAddMemberSummary, Last: msgAddMemberTextsEnd, English: addMemberEnglish, Chinese: addMemberChinese},
		Handle: func(l *Language, req *Request) (Action, error) { return l.membersRequest(req) },
		Run:    runManaged(hasPeople, nil, addMembers),
	}
}

const (
	cmdAddMember   = "addmember"
	cmdAddMemberZh = "加人"
)

// addMemberSpec is what /addmember's definition says.
func addMemberSpec() manageSpec {
	return manageSpec{
		name: cmdAddMember, zh: cmdAddMemberZh, aliases: []string{"add"},
		summary: msgAddMemberSummary, usage: msgMembersUsage, description: msgAddMemberDescription,
		examples:   []string{"/addmember @carol 13800000000", "/addmember userid:carol03 --group cidX8k...=="},
		examplesZh: []string{"/加人 @王五 13800000000", "/加人 userid:carol03 --group cidX8k...=="},
	}
}

// membersRequest is the plan of /addmember and /removemember: the group and
// at least one person.
func (l *Language) membersRequest(req *Request) (Action, error) {
	pos := req.Positionals()
	if len(pos) == 0 && !mentionsOthers(req.Message) {
		return Action{}, newUsageError(msgMembersNone)
	}
	if pos == nil {
		pos = []string{} // named by mentions alone; nil would mean "takes no people"
	}
	m, err := l.manageRequest(req, pos)
	if err != nil {
		return Action{}, err
	}
	return Action{Plan: m}, nil
}

// mentionsOthers reports whether msg @mentions someone besides the bot: a
// person picked from DingTalk's @ list whose @Name DingTalk left out of the
// text is named by the mention alone.
func mentionsOthers(msg Message) bool {
	for _, m := range msg.Mentions {
		if msg.BotUserID == "" || m.DingtalkID != msg.BotUserID {
			return true
		}
	}
	return false
}

// addMembers adds the people named who are not members yet.
func addMembers(ctx context.Context, env Env, m *ManageGroup, g *store.Group, c catalogue) Result {
	add := without(m.UserIDs, g.Members)
	if len(add) == 0 {
		return Result{Reply: Reply{Text: c.f(msgAddMemberNone, c.list(labels(m.Names, m.UserIDs), msgAnd))}, Outcome: OutcomeAnswered}
	}
	return changeMembers(ctx, env, m, g, add, true, msgAddMemberDone, msgAddMemberPartly)
}

const (
	msgAddMemberSummary msgID = 7000 + iota
	msgAddMemberDescription
	msgMembersUsage
	msgMembersNone
	msgAddMemberNone
	msgAddMemberPartly
	msgAddMemberDone
	msgAddMemberTextsEnd
)

func addMemberEnglish(id msgID) string {
	switch id {
	case msgAddMemberSummary:
		return "Add people to a group I created."
	case msgAddMemberDescription:
		return "Name people as in /newgroup: @mentions, aliases, mobile numbers, userid:ID or names. " +
			"If anyone can't be found, nobody is added. Only the group's owner, the person who created it through me and bot admins may add people."
	case msgMembersUsage:
		return "PERSON... [--group ID]"
	case msgMembersNone:
		return "Name at least one person."
	case msgAddMemberNone:
		return "Already in the group: %[1]s. Nothing was changed."
	case msgAddMemberPartly:
		return "Added %[1]s before DingTalk stopped:"
	case msgAddMemberDone:
		return "Added %[1]d to the group: %[2]s."
	}
	return ""
}

func addMemberChinese(id msgID) string {
	switch id {
	case msgAddMemberSummary:
		return "往我创建的群里加人。"
	case msgAddMemberDescription:
		return "写法同 /建群：@提及、别名、手机号、userid:ID 或姓名。只要有一个人找不到，就谁也不加。只有群主、通过我建群的人和机器人管理员可以加人。"
	case msgMembersUsage:
		return "成员... [--group ID]"
	case msgMembersNone:
		return "请至少指定一个人。"
	case msgAddMemberNone:
		return "%[1]s 已经在群里。没有做任何修改。"
	case msgAddMemberPartly:
		return "钉钉中断之前已加入：%[1]s。"
	case msgAddMemberDone:
		return "已把 %[1]d 人加进群：%[2]s。"
	}
	return ""
}
