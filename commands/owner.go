package commands

import (
	"context"
	"slices"

	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/store"
)

// OwnerCommand is /owner PERSON (/转让群主): hands a group dingbot created to
// one of its members. Setting the owner is safe to repeat.
func OwnerCommand() Command {
	return Command{
		Name:   cmdOwner,
		Define: ownerSpec().define,
		Texts:  Texts{First: msgOwnerSummary, Last: msgOwnerTextsEnd, English: ownerEnglish, Chinese: ownerChinese},
		Handle: func(l *Language, req *Request) (Action, error) {
			pos := req.Positionals()
			// The new owner may be named by a mention alone (DingTalk left
			// out the @Name of a person picked from its @ list).
			if len(pos) > 1 || (len(pos) == 0 && !mentionsOthers(req.Message)) {
				return Action{}, newUsageError(msgOwnerOnePerson)
			}
			if pos == nil {
				pos = []string{} // named by the mention alone; nil would mean "takes no people"
			}
			m, err := l.manageRequest(req, pos)
			if err != nil {
				return Action{}, err
			}
			if n := len(m.UserIDs) + len(m.Pending); n != 1 {
				if len(pos) == 0 {
					return Action{}, newUsageError(msgOwnerOnePerson)
				}
				return Action{}, newUsageError(msgOwnerNotOne, pos[0], n)
			}
			return Action{Plan: m}, nil
		},
		Run: runManaged(func(m *ManageGroup) bool { return len(m.UserIDs) == 1 }, nil, changeOwner),
	}
}

const (
	cmdOwner   = "owner"
	cmdOwnerZh = "转让群主"
)

// ownerSpec is what /owner's definition says.
func ownerSpec() manageSpec {
	return manageSpec{
		name: cmdOwner, zh: cmdOwnerZh, aliases: []string{"transfer"},
		summary: msgOwnerSummary, usage: msgOwnerUsage, description: msgOwnerDescription,
		examples:   []string{"/owner @bob", "/owner userid:bob02 --group cidX8k...=="},
		examplesZh: []string{"/转让群主 @李四", "/转让群主 userid:bob02 --group cidX8k...=="},
	}
}

// changeOwner hands the group to the one person named.
func changeOwner(ctx context.Context, env Env, m *ManageGroup, g *store.Group, c catalogue) Result {
	l := env.Language()
	id := m.UserIDs[0]
	who := personLabel(m.Names, id)
	switch {
	case id == g.Owner:
		return Result{Reply: Reply{Text: c.f(msgOwnerAlready, who)}, Outcome: OutcomeAnswered}
	case !slices.Contains(g.Members, id):
		return Result{Reply: Reply{Text: c.f(msgOwnerNotMember, who, shownCommand(l, m.Lang, cmdAddMember)+" userid:"+id)}, Outcome: OutcomeAnswered}
	}
	after := *g
	after.Owner = id
	if err := updateGroup(ctx, env, m, g, &dingclient.UpdateGroupRequest{Owner: id}, after); err != nil {
		return manageFailed(l, m, err)
	}
	before := personLabel(l.names, g.Owner)
	return Result{Reply: Reply{Text: c.f(msgOwnerChanged, who, before)}, Outcome: OutcomeChanged,
		Change: "owner: " + g.Owner + " → " + id}
}

const (
	msgOwnerSummary msgID = 6000 + iota
	msgOwnerUsage
	msgOwnerDescription
	msgOwnerOnePerson
	msgOwnerAlready
	msgOwnerNotMember
	msgOwnerChanged
	msgOwnerTextsEnd
)

func ownerEnglish(id msgID) string {
	switch id {
	case msgOwnerSummary:
		return "Make a member the owner of a group I created."
	case msgOwnerUsage:
		return "PERSON [--group ID]"
	case msgOwnerDescription:
		return "PERSON is an @mention, an alias, a mobile number, userid:ID or a name, and must be a member. " +
			"Only the group's owner, the person who created it through me and bot admins may hand it over."
	case msgOwnerOnePerson:
		return "Name exactly one person to make the owner."
	case msgOwnerAlready:
		return "%[1]s is already the owner. Nothing was changed."
	case msgOwnerNotMember:
		return "%[1]s is not a member of the group as far as I know, and the owner must be one. Add them first: %[2]s"
	case msgOwnerChanged:
		return "%[1]s is now the owner of the group (was %[2]s)."
	}
	return ""
}

func ownerChinese(id msgID) string {
	switch id {
	case msgOwnerSummary:
		return "把我创建的群转让给一位成员。"
	case msgOwnerUsage:
		return "成员 [--group ID]"
	case msgOwnerDescription:
		return "成员可以是 @提及、别名、手机号、userid:ID 或姓名，且必须已在群里。只有群主、通过我建群的人和机器人管理员可以转让。"
	case msgOwnerOnePerson:
		return "请只指定一个人作为新群主。"
	case msgOwnerAlready:
		return "%[1]s 已经是群主。没有做任何修改。"
	case msgOwnerNotMember:
		return "据我所知 %[1]s 不在群里，而群主必须是群成员。请先把此人加进群：%[2]s"
	case msgOwnerChanged:
		return "%[1]s 现在是群主（原群主 %[2]s）。"
	}
	return ""
}
