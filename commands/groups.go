package commands

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/dingbot/dingbot/store"
)

// GroupsCommand is /groups (/群列表): the groups created through the bot by
// the sender, or with --all (admins only) by everyone, newest first.
func GroupsCommand() Command {
	return Command{
		Name:   cmdGroups,
		Define: groupsDefinition,
		Texts:  groupsTexts(),
		Handle: func(l *Language, req *Request) (Action, error) { return l.listGroups(req) },
		Run:    runGroups,
	}
}

// groupsDefinition is /groups' definition with texts from c.
func groupsDefinition(c catalogue, _ *Language) Definition {
	d := Definition{
		Name:        cmdGroups,
		Aliases:     []string{"mygroups", cmdGroupsZh},
		Summary:     c.f(msgGroupsSummary),
		Usage:       c.f(msgGroupsUsage),
		Description: c.f(msgGroupsDescription, GroupsPerPage),
		Examples:    []string{"/groups", "/groups --page 2", "/groups --all"},
		Options: []Option{
			{Name: optPage, Aliases: []string{"页"}, Kind: TextOption, Placeholder: "N", Summary: c.f(msgOptPage),
				Example: "--page 2"},
			{Name: optAll, Aliases: []string{"全部"}, Kind: FlagOption, Summary: c.f(msgOptAll), Example: "--all"},
			helpOption(c),
		},
	}
	if c.lang == Chinese {
		d.shown = cmdGroupsZh
		d.Examples = []string{"/群列表", "/群列表 --page 2", "/群列表 --all"}
	}
	return d
}

// ListGroups returns the action's /groups plan, or nil.
func (a Action) ListGroups() *ListGroups {
	lg, _ := a.Plan.(*ListGroups)
	return lg
}

// Command implements Plan.
func (lg *ListGroups) Command() string { return cmdGroups }

// ReplyLang implements Plan.
func (lg *ListGroups) ReplyLang() Lang {
	if lg == nil {
		return ""
	}
	return lg.Lang
}

// runGroups answers /groups: one page of the groups the sender created (or,
// with --all and only for admins, everyone's), newest first.
func runGroups(ctx context.Context, env Env, plan Plan) Result {
	l := env.Language()
	lg, ok := plan.(*ListGroups)
	if !ok || lg == nil {
		return Result{Reply: Reply{Text: l.cat(l.replyLang(plan.ReplyLang())).f(msgInternal)}, Outcome: OutcomeInternal}
	}
	if lg.All && !env.SenderIsAdmin() {
		return Result{Reply: l.groupsAdminOnlyReply(lg), Outcome: OutcomeAnswered}
	}
	sender := lg.Sender
	if lg.All {
		sender = ""
	}
	audit := env.Audit()
	total, err := audit.CountGroups(ctx, sender)
	var groups []store.Group
	if err == nil && total > lg.Offset() {
		groups, err = audit.Groups(ctx, store.GroupFilter{Sender: sender, Limit: GroupsPerPage, Offset: lg.Offset()})
	}
	if err != nil {
		if ctx.Err() != nil {
			return Result{Release: true}
		}
		env.Log().Error("reading the groups audit failed", "error", err.Error())
		return Result{Reply: l.groupsFailedReply(lg), Outcome: OutcomeInternal}
	}
	page := GroupsPage{Total: total}
	for _, g := range groups {
		page.Groups = append(page.Groups, GroupSummary{Name: g.Name, OpenConversationID: g.OpenConversationID,
			Creator: g.Sender, Owner: g.Owner, Members: len(g.Members), CreatedAt: g.CreatedAt})
	}
	return Result{Reply: l.groupsReply(lg, page), Outcome: OutcomeAnswered}
}

// GroupsPerPage is how many groups one /groups reply lists.
const GroupsPerPage = 10

// maxPage bounds --page, so that the offset stays a small number.
const maxPage = 100000

// groupsTimeLayout is how /groups shows when a group was created: UTC, a
// fixed format, the same in every language.
const groupsTimeLayout = "2006-01-02 15:04 UTC"

// ListGroups is a validated /groups command: the bot reads one page of the
// groups created through it (newest first) and answers with GroupsReply.
type ListGroups struct {
	// Sender is the sender's userId; the groups listed are the ones they created.
	Sender string
	// All asks for everyone's groups (--all). The command language cannot
	// know who is an admin: the bot checks, and answers a non-admin with
	// GroupsAdminOnlyReply.
	All bool
	// Page is the page asked for, from 1 (the newest GroupsPerPage groups).
	Page int
	// Lang is the language of the replies about this command.
	Lang Lang
}

// Offset is how many groups come before the requested page.
func (lg *ListGroups) Offset() int {
	if lg == nil || lg.Page < 1 {
		return 0
	}
	return (lg.Page - 1) * GroupsPerPage
}

// GroupSummary is one created group as /groups shows it.
type GroupSummary struct {
	// Name is the group name.
	Name string
	// OpenConversationID is the group's openConversationId.
	OpenConversationID string
	// Creator is the userId of whoever typed the /newgroup (shown with --all).
	Creator string
	// Owner is the group's current owner, as far as the bot knows.
	Owner string
	// Members is how many people the group was created with.
	Members int
	// CreatedAt is when the group was created.
	CreatedAt time.Time
}

// GroupsPage is one page of groups the bot read for a ListGroups.
type GroupsPage struct {
	// Groups are the page's groups, newest first (at most GroupsPerPage).
	Groups []GroupSummary
	// Total is how many groups match, on all pages.
	Total int
}

// listGroups implements /groups.
func (l *Language) listGroups(req *Request) (Action, error) {
	if pos := req.Positionals(); len(pos) > 0 {
		return Action{}, newUsageError(msgGroupsExtraWord, pos[0])
	}
	sender := strings.TrimSpace(req.Message.SenderStaffID)
	if !validID(sender) {
		e := newUsageError(msgGroupsExternal)
		e.plain = true
		return Action{}, e
	}
	lg := &ListGroups{Sender: sender, Page: 1, Lang: req.lang}
	if lg.Lang == "" {
		lg.Lang = l.defaultLang
	}
	if v := req.Values(optPage); len(v) > 0 {
		n, err := strconv.Atoi(strings.TrimSpace(v[0]))
		if err != nil || n < 1 || n > maxPage {
			return Action{}, optionError(req.Definition, req.Definition.option(optPage, false), msgGroupsBadPage, v[0])
		}
		lg.Page = n
	}
	lg.All = len(req.Values(optAll)) > 0
	return Action{Plan: lg}, nil
}

// groupsLang is the reply language for lg.
func (l *Language) groupsLang(lg *ListGroups) Lang {
	if lg == nil {
		return l.defaultLang
	}
	return l.replyLang(lg.Lang)
}

// groupsCommand is "/groups --page N [--all]" in the reply's language.
func groupsCommand(c catalogue, all bool, page int) string {
	name := "/" + cmdGroups
	if c.lang == Chinese {
		name = "/" + cmdGroupsZh
	}
	s := name + " --page " + strconv.Itoa(page)
	if all {
		s += " --all"
	}
	return s
}

// groupsReply renders one page of /groups: a title with the page number and
// the total, one entry per group (name, members, creation time in UTC,
// openConversationId, and with --all who created it), and a hint naming the
// next page's command.
func (l *Language) groupsReply(lg *ListGroups, page GroupsPage) Reply {
	c := l.cat(l.groupsLang(lg))
	if lg == nil {
		return Reply{Text: c.f(msgInternal)}
	}
	if page.Total <= 0 {
		if lg.All {
			return Reply{Text: c.f(msgGroupsNoneAll)}
		}
		return Reply{Text: c.f(msgGroupsNone)}
	}
	pages := (page.Total + GroupsPerPage - 1) / GroupsPerPage
	cur := max(lg.Page, 1)
	if cur > pages || len(page.Groups) == 0 {
		return Reply{Text: c.f(msgGroupsNoSuchPage, cur, pages, groupsCommand(c, lg.All, pages))}
	}
	title := msgGroupsTitle
	if lg.All {
		title = msgGroupsTitleAll
	}
	lines := []string{c.f(title, cur, pages, page.Total)}
	for i, g := range page.Groups {
		n := lg.Offset() + i + 1
		when := g.CreatedAt.UTC().Format(groupsTimeLayout)
		name := sanitizeName(g.Name)
		if lg.All {
			id := msgGroupsItemBy
			if g.Owner != "" {
				id = msgGroupsItemOwnerBy
			}
			lines = append(lines, c.f(id, n, name, g.Members, when, personLabel(l.names, g.Creator), personLabel(l.names, g.Owner)))
		} else {
			id := msgGroupsItem
			if g.Owner != "" {
				id = msgGroupsItemOwner
			}
			lines = append(lines, c.f(id, n, name, g.Members, when, personLabel(l.names, g.Owner)))
		}
		lines = append(lines, "   "+c.f(msgCreatedOpenConversationID, g.OpenConversationID))
	}
	if cur < pages {
		lines = append(lines, c.f(msgGroupsNextPage, groupsCommand(c, lg.All, cur+1)))
	}
	return Reply{Text: strings.Join(lines, "\n")}
}

// groupsAdminOnlyReply answers /groups --all from someone who is not an admin.
func (l *Language) groupsAdminOnlyReply(lg *ListGroups) Reply {
	return Reply{Text: l.cat(l.groupsLang(lg)).f(msgGroupsAdminOnly)}
}

// groupsFailedReply answers /groups when the bot could not read its records.
func (l *Language) groupsFailedReply(lg *ListGroups) Reply {
	return Reply{Text: l.cat(l.groupsLang(lg)).f(msgGroupsFailed)}
}

// CommandName returns the canonical name of the command text starts with
// ("newgroup", "help", "groups"; configured aliases included), or "" when the
// text is no known command. It is cheap and never panics; the bot uses it to
// label metrics and the audit.
func (l *Language) CommandName(text string) (name string) {
	defer func() {
		if recover() != nil {
			name = ""
		}
	}()
	line := Normalize(text)
	if line == "" || line[0] != '/' {
		return ""
	}
	first, _, _ := strings.Cut(line, " ")
	first = strings.ToLower(strings.TrimPrefix(first, "/"))
	if d := lookup(l.en, first); d != nil {
		return d.Name
	}
	return ""
}

// /groups' own sentences, in English and Chinese.

// groupsTexts are /groups's Texts.
func groupsTexts() Texts {
	return Texts{First: msgGroupsSummary, Last: msgGroupsTextsEnd, English: groupsEnglishText, Chinese: groupsChineseText}
}

const (
	msgGroupsSummary msgID = 2000 + iota
	msgGroupsUsage
	msgGroupsDescription
	msgGroupsExtraWord
	msgGroupsExternal
	msgGroupsBadPage
	msgGroupsTitle
	msgGroupsTitleAll
	msgGroupsItem
	msgGroupsItemBy
	msgGroupsItemOwner
	msgGroupsItemOwnerBy
	msgGroupsNextPage
	msgGroupsNone
	msgGroupsNoneAll
	msgGroupsNoSuchPage
	msgGroupsAdminOnly
	msgGroupsFailed
	msgOptPage
	msgOptAll
	msgGroupsTextsEnd
)

func groupsEnglishText(id msgID) string {
	switch id {
	case msgGroupsSummary:
		return "List the groups you created through me, newest first."
	case msgGroupsUsage:
		return "[--page N] [--all]"
	case msgGroupsDescription:
		return "Shows %[1]d groups per page: the name, how many members it was created with, when it was created (UTC) and its openConversationId. " +
			"--all lists the groups everyone created through me; only admins may use it."
	case msgGroupsExtraWord:
		return "/groups takes only options, so I don't know what %[1]q means."
	case msgGroupsExternal:
		return "I can only list groups for members of this organisation, and DingTalk didn't tell me who you are (senderStaffId is missing)."
	case msgGroupsBadPage:
		return "--page needs a page number (1, 2, ...), not %[1]q."
	case msgGroupsTitle:
		return "Groups you created through me (page %[1]d of %[2]d, %[3]d in all):"
	case msgGroupsTitleAll:
		return "Groups created through me by everyone (page %[1]d of %[2]d, %[3]d in all):"
	case msgGroupsItem:
		return "%[1]d. %[2]q, %[3]d members, created %[4]s"
	case msgGroupsItemBy:
		return "%[1]d. %[2]q, %[3]d members, created %[4]s by %[5]s"
	case msgGroupsItemOwner:
		return "%[1]d. %[2]q, %[3]d members, owner %[5]s, created %[4]s"
	case msgGroupsItemOwnerBy:
		return "%[1]d. %[2]q, %[3]d members, owner %[6]s, created %[4]s by %[5]s"
	case msgGroupsNextPage:
		return "More: %[1]s"
	case msgGroupsNone:
		return "You haven't created any groups through me yet. Create one with /newgroup NAME @people."
	case msgGroupsNoneAll:
		return "Nobody has created a group through me yet."
	case msgGroupsNoSuchPage:
		return "There is no page %[1]d: there are %[2]d. The last one: %[3]s"
	case msgGroupsAdminOnly:
		return "Only admins can list everyone's groups with --all. Type /groups to list the groups you created."
	case msgGroupsFailed:
		return "I couldn't read the list of groups just now. Try again in a minute; if it keeps failing, ask an admin to check the bot's logs."
	case msgOptPage:
		return "Which page to show; page 1 has the newest groups."
	case msgOptAll:
		return "List the groups everyone created through me, not only yours (admins only)."
	}
	return ""
}

func groupsChineseText(id msgID) string {
	switch id {
	case msgGroupsSummary:
		return "列出你通过我创建的群，最新的在前。"
	case msgGroupsUsage:
		return "[--page N] [--all]"
	case msgGroupsDescription:
		return "每页显示 %[1]d 个群：群名、建群时的人数、创建时间（UTC）和 openConversationId。" +
			"--all 列出所有人通过我创建的群，仅限管理员使用。"
	case msgGroupsExtraWord:
		return "/群列表 只接受选项，我不明白 %[1]q 是什么意思。"
	case msgGroupsExternal:
		return "我只能为本组织的成员列出群，而钉钉没有告诉我你是谁（缺少 senderStaffId）。"
	case msgGroupsBadPage:
		return "--page 需要一个页码（1、2……），而不是 %[1]q。"
	case msgGroupsTitle:
		return "你通过我创建的群（第 %[1]d 页，共 %[2]d 页，共 %[3]d 个）："
	case msgGroupsTitleAll:
		return "所有人通过我创建的群（第 %[1]d 页，共 %[2]d 页，共 %[3]d 个）："
	case msgGroupsItem:
		return "%[1]d. “%[2]s”，%[3]d 人，创建于 %[4]s"
	case msgGroupsItemBy:
		return "%[1]d. “%[2]s”，%[3]d 人，由 %[5]s 创建于 %[4]s"
	case msgGroupsItemOwner:
		return "%[1]d. “%[2]s”，%[3]d 人，群主 %[5]s，创建于 %[4]s"
	case msgGroupsItemOwnerBy:
		return "%[1]d. “%[2]s”，%[3]d 人，群主 %[6]s，由 %[5]s 创建于 %[4]s"
	case msgGroupsNextPage:
		return "下一页：%[1]s"
	case msgGroupsNone:
		return "你还没有通过我创建过群。可以用 /建群 群名 @成员 来建一个。"
	case msgGroupsNoneAll:
		return "还没有人通过我创建过群。"
	case msgGroupsNoSuchPage:
		return "没有第 %[1]d 页：一共只有 %[2]d 页。最后一页：%[3]s"
	case msgGroupsAdminOnly:
		return "只有管理员才能用 --all 列出所有人的群。输入 /群列表 查看你自己创建的群。"
	case msgGroupsFailed:
		return "我暂时无法读取群列表。请一分钟后再试；如果一直失败，请管理员查看机器人的日志。"
	case msgOptPage:
		return "要显示第几页；第 1 页是最新的群。"
	case msgOptAll:
		return "列出所有人通过我创建的群，而不只是你的（仅限管理员）。"
	}
	return ""
}
