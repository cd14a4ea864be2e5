package commands

import (
	"strconv"
	"strings"
	"time"
)

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
	return Action{ListGroups: lg}, nil
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

// GroupsReply renders one page of /groups: a title with the page number and
// the total, one entry per group (name, members, creation time in UTC,
// openConversationId, and with --all who created it), and a hint naming the
// next page's command.
func (l *Language) GroupsReply(lg *ListGroups, page GroupsPage) Reply {
	c := catalogueFor(l.groupsLang(lg))
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
			lines = append(lines, c.f(msgGroupsItemBy, n, name, g.Members, when, personLabel(l.names, g.Creator)))
		} else {
			lines = append(lines, c.f(msgGroupsItem, n, name, g.Members, when))
		}
		lines = append(lines, "   "+c.f(msgCreatedOpenConversationID, g.OpenConversationID))
	}
	if cur < pages {
		lines = append(lines, c.f(msgGroupsNextPage, groupsCommand(c, lg.All, cur+1)))
	}
	return Reply{Text: strings.Join(lines, "\n")}
}

// GroupsAdminOnlyReply answers /groups --all from someone who is not an admin.
func (l *Language) GroupsAdminOnlyReply(lg *ListGroups) Reply {
	return Reply{Text: catalogueFor(l.groupsLang(lg)).f(msgGroupsAdminOnly)}
}

// GroupsFailedReply answers /groups when the bot could not read its records.
func (l *Language) GroupsFailedReply(lg *ListGroups) Reply {
	return Reply{Text: catalogueFor(l.groupsLang(lg)).f(msgGroupsFailed)}
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
