package commands

import (
	"context"
	"strings"

	"github.com/dingbot/dingbot/store"
)

// GroupInfoCommand is /groupinfo (/群信息): what dingbot knows of a group it
// created: name, owner, member count, who created it and when, its IDs.
// Anyone in the group may ask; from a one-to-one chat (--group ID) only
// those who may manage the group.
func GroupInfoCommand() Command {
	return Command{
		Name:   cmdGroupInfo,
		Define: groupInfoSpec().define,
		Texts:  Texts{First: msgGroupInfoSummary, Last: msgGroupInfoTextsEnd, English: groupInfoEnglish, Chinese: groupInfoChinese},
		Handle: func(l *Language, req *Request) (Action, error) {
			if pos := req.Positionals(); len(pos) > 0 {
				return Action{}, newUsageError(msgGroupInfoExtraWord, pos[0])
			}
			m, err := l.manageRequest(req, nil)
			if err != nil {
				return Action{}, err
			}
			return Action{Plan: m}, nil
		},
		// Anyone in the group may ask; from elsewhere only those who may manage it.
		Run: runManaged(nil, func(env Env, m *ManageGroup) bool { return m.Target != env.Message().ConversationID }, groupInfo),
	}
}

const (
	cmdGroupInfo   = "groupinfo"
	cmdGroupInfoZh = "群信息"
)

// groupInfoSpec is what /groupinfo's definition says.
func groupInfoSpec() manageSpec {
	return manageSpec{
		name: cmdGroupInfo, zh: cmdGroupInfoZh, summary: msgGroupInfoSummary, description: msgGroupInfoDescription,
		plainUsage: "[--group ID]",
		examples:   []string{"/groupinfo", "/groupinfo --group cidX8k...=="},
		examplesZh: []string{"/群信息", "/群信息 --group cidX8k...=="},
	}
}

// groupInfo answers /groupinfo from the store.
func groupInfo(_ context.Context, env Env, m *ManageGroup, g *store.Group, c catalogue) Result {
	l := env.Language()
	lines := []string{
		c.f(msgGroupInfoTitle, sanitizeName(g.Name)),
		c.f(msgCreatedOwner, personLabel(l.names, g.Owner)),
		c.f(msgGroupInfoMembers, len(g.Members)),
		c.f(msgGroupInfoCreated, personLabel(l.names, g.Sender), g.CreatedAt.UTC().Format(groupsTimeLayout)),
	}
	if g.Template != "" {
		lines = append(lines, c.f(msgGroupInfoTemplate, g.Template))
	}
	if !g.UpdatedAt.IsZero() {
		lines = append(lines, c.f(msgGroupInfoUpdated, g.UpdatedAt.UTC().Format(groupsTimeLayout)))
	}
	lines = append(lines, c.f(msgCreatedChatID, g.ChatID), c.f(msgCreatedOpenConversationID, g.OpenConversationID))
	return Result{Reply: Reply{Text: strings.Join(lines, "\n")}, Outcome: OutcomeAnswered}
}

const (
	msgGroupInfoSummary msgID = 4000 + iota
	msgGroupInfoDescription
	msgGroupInfoTitle
	msgGroupInfoMembers
	msgGroupInfoCreated
	msgGroupInfoUpdated
	msgGroupInfoExtraWord
	msgGroupInfoTemplate
	msgGroupInfoTextsEnd
)

func groupInfoEnglish(id msgID) string {
	switch id {
	case msgGroupInfoSummary:
		return "Show what I know of this group: name, owner, members, who created it."
	case msgGroupInfoDescription:
		return "Works in a group I created with /newgroup. From a one-to-one chat, name the group with --group ID."
	case msgGroupInfoTitle:
		return "Group %[1]q"
	case msgGroupInfoMembers:
		return "Members: %[1]d (as far as I know: people added in the DingTalk client are not counted)"
	case msgGroupInfoCreated:
		return "Created through me by %[1]s on %[2]s"
	case msgGroupInfoUpdated:
		return "Last changed through me on %[1]s"
	case msgGroupInfoExtraWord:
		return "/groupinfo takes only options, so I don't know what %[1]q means."
	case msgGroupInfoTemplate:
		return "Template: %[1]s"
	}
	return ""
}

func groupInfoChinese(id msgID) string {
	switch id {
	case msgGroupInfoSummary:
		return "查看这个群的信息：群名、群主、成员、建群人。"
	case msgGroupInfoDescription:
		return "在我用 /建群 创建的群里使用。在单聊里请用 --group ID 指定群。"
	case msgGroupInfoTitle:
		return "群 “%[1]s”"
	case msgGroupInfoMembers:
		return "成员：%[1]d 人（据我所知：在钉钉客户端里加的人不计在内）"
	case msgGroupInfoCreated:
		return "由 %[1]s 通过我创建于 %[2]s"
	case msgGroupInfoUpdated:
		return "最近一次通过我修改于 %[1]s"
	case msgGroupInfoExtraWord:
		return "/群信息 只接受选项，我不明白 %[1]q 是什么意思。"
	case msgGroupInfoTemplate:
		return "模板：%[1]s"
	}
	return ""
}
