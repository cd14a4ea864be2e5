package commands

import (
	"context"
	"slices"

	"github.com/dingbot/dingbot/store"
)

// RemoveMemberCommand is /removemember PEOPLE… (/移除成员): removes people
// from a group dingbot created, never its owner. Removing someone who has
// left already changes nothing, so the call is safe to repeat.
func RemoveMemberCommand() Command {
	return Command{
		Name:   cmdRemoveMember,
		Define: removeMemberSpec().define,
		Texts:  Texts{First: msgRemoveMemberSummary, Last: msgRemoveMemberTextsEnd, English: removeMemberEnglish, Chinese: removeMemberChinese},
		Handle: func(l *Language, req *Request) (Action, error) { return l.membersRequest(req) },
		Run:    runManaged(hasPeople, nil, removeMembers),
	}
}

const (
	cmdRemoveMember   = "removemember"
	cmdRemoveMemberZh = "移除成员"
)

// removeMemberSpec is what /removemember's definition says.
func removeMemberSpec() manageSpec {
	return manageSpec{
		name: cmdRemoveMember, zh: cmdRemoveMemberZh, aliases: []string{"remove"},
		summary: msgRemoveMemberSummary, usage: msgMembersUsage, description: msgRemoveMemberDescription,
		examples:   []string{"/removemember @carol", "/removemember userid:carol03 --group cidX8k...=="},
		examplesZh: []string{"/移除成员 @王五", "/移除成员 userid:carol03 --group cidX8k...=="},
	}
}

// removeMembers removes the people named, never the owner.
func removeMembers(ctx context.Context, env Env, m *ManageGroup, g *store.Group, c catalogue) Result {
	l := env.Language()
	if slices.Contains(m.UserIDs, g.Owner) {
		who := personLabel(m.Names, g.Owner)
		return Result{Reply: Reply{Text: c.f(msgRemoveOwner, who, shownCommand(l, m.Lang, cmdOwner))}, Outcome: OutcomeAnswered}
	}
	return changeMembers(ctx, env, m, g, m.UserIDs, false, msgRemoveMemberDone, msgRemoveMemberPartly)
}

const (
	msgRemoveMemberSummary msgID = 8000 + iota
	msgRemoveMemberDescription
	msgRemoveOwner
	msgRemoveMemberPartly
	msgRemoveMemberDone
	msgRemoveMemberTextsEnd
)

func removeMemberEnglish(id msgID) string {
	switch id {
	case msgRemoveMemberSummary:
		return "Remove people from a group I created."
	case msgRemoveMemberDescription:
		return "Name people as in /newgroup. The owner can't be removed: hand the group over with /owner first. " +
			"Only the group's owner, the person who created it through me and bot admins may remove people."
	case msgRemoveOwner:
		return "%[1]s owns the group and can't be removed. Make someone else the owner first with %[2]s. Nothing was changed."
	case msgRemoveMemberPartly:
		return "Removed %[1]s before DingTalk stopped:"
	case msgRemoveMemberDone:
		return "Removed %[1]d from the group: %[2]s."
	}
	return ""
}

func removeMemberChinese(id msgID) string {
	switch id {
	case msgRemoveMemberSummary:
		return "把人移出我创建的群。"
	case msgRemoveMemberDescription:
		return "写法同 /建群。群主不能被移除：请先用 /转让群主 转让。只有群主、通过我建群的人和机器人管理员可以移除成员。"
	case msgRemoveOwner:
		return "%[1]s 是群主，不能被移除。请先用 %[2]s 把群转让给别人。没有做任何修改。"
	case msgRemoveMemberPartly:
		return "钉钉中断之前已移除：%[1]s。"
	case msgRemoveMemberDone:
		return "已把 %[1]d 人移出群：%[2]s。"
	}
	return ""
}
