package commands

import (
	"context"
	"strconv"

	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/store"
)

// RenameCommand is /rename NAME (/改名): renames a group dingbot created
// (1–20 characters, quoted like /newgroup's name). Setting a name is safe
// to repeat.
func RenameCommand() Command {
	return Command{
		Name:   cmdRename,
		Define: renameSpec().define,
		Texts:  Texts{First: msgRenameSummary, Last: msgRenameTextsEnd, English: renameEnglish, Chinese: renameChinese},
		Handle: func(l *Language, req *Request) (Action, error) {
			pos := req.Positionals()
			switch {
			case len(pos) == 0:
				return Action{}, newUsageError(msgNameMissing)
			case len(pos) > 1:
				return Action{}, tooManyNames(pos)
			}
			name, err := groupName(pos[0])
			if err != nil {
				return Action{}, err
			}
			m, err := l.manageRequest(req, nil)
			if err != nil {
				return Action{}, err
			}
			m.Name = name
			return Action{Plan: m}, nil
		},
		Run: runManaged(func(m *ManageGroup) bool { return m.Name != "" }, nil, rename),
	}
}

const (
	cmdRename   = "rename"
	cmdRenameZh = "改名"
)

// renameSpec is what /rename's definition says.
func renameSpec() manageSpec {
	return manageSpec{
		name: cmdRename, zh: cmdRenameZh, summary: msgRenameSummary, usage: msgRenameUsage, description: msgRenameDescription,
		examples:   []string{`/rename "Release 4.2 hotfix"`, `/rename "Release 4.2 hotfix" --group cidX8k...==`},
		examplesZh: []string{`/改名 "发布 4.2 热修复"`, `/改名 "发布 4.2 热修复" --group cidX8k...==`},
	}
}

// rename renames the group.
func rename(ctx context.Context, env Env, m *ManageGroup, g *store.Group, c catalogue) Result {
	l := env.Language()
	if g.Name == m.Name {
		return Result{Reply: Reply{Text: c.f(msgRenameSame, m.Name)}, Outcome: OutcomeAnswered}
	}
	after := *g
	after.Name = m.Name
	if err := updateGroup(ctx, env, m, g, &dingclient.UpdateGroupRequest{Name: m.Name}, after); err != nil {
		return manageFailed(l, m, err)
	}
	return Result{Reply: Reply{Text: c.f(msgRenamed, sanitizeName(g.Name), m.Name)}, Outcome: OutcomeChanged,
		Change: "name: " + strconv.Quote(g.Name) + " → " + strconv.Quote(m.Name)}
}

const (
	msgRenameSummary msgID = 5000 + iota
	msgRenameUsage
	msgRenameDescription
	msgRenameSame
	msgRenamed
	msgRenameTextsEnd
)

func renameEnglish(id msgID) string {
	switch id {
	case msgRenameSummary:
		return "Rename a group I created."
	case msgRenameUsage:
		return "NAME [--group ID]"
	case msgRenameDescription:
		return "NAME is 1 to 20 characters; put a name with spaces in double quotes. " +
			"Only the group's owner, the person who created it through me and bot admins may rename it."
	case msgRenameSame:
		return "The group is already called %[1]q. Nothing was changed."
	case msgRenamed:
		return "Renamed the group from %[1]q to %[2]q."
	}
	return ""
}

func renameChinese(id msgID) string {
	switch id {
	case msgRenameSummary:
		return "修改我创建的群的群名。"
	case msgRenameUsage:
		return "群名 [--group ID]"
	case msgRenameDescription:
		return "群名 1 到 20 个字；含空格的群名请用双引号括起来。只有群主、通过我建群的人和机器人管理员可以改名。"
	case msgRenameSame:
		return "群名已经是 “%[1]s”。没有做任何修改。"
	case msgRenamed:
		return "已把群名从 “%[1]s” 改为 “%[2]s”。"
	}
	return ""
}
