package commands

import (
	"github.com/dingbot/dingbot/access"
	"github.com/dingbot/dingbot/dingclient"
)

// NewGroupCommand is /newgroup (/建群): create a DingTalk group from chat.
// Its parts live in the newgroup*.go files: the definition here, parsing in
// newgroup.go, people in people.go, the dry run in dryrun.go, running it in
// newgroup_run.go and the replies in replies.go.
func NewGroupCommand() Command {
	return Command{
		Name:   cmdNewGroup,
		Define: newGroupDefinition,
		Texts:  newGroupTexts(),
		Handle: func(l *Language, req *Request) (Action, error) { return l.newGroup(req) },
		Run:    runNewGroup,
		Resume: resumeNewGroup,
	}
}

// newGroupDefinition is /newgroup's definition with texts from c.
func newGroupDefinition(c catalogue, l *Language) Definition {
	whoChoices := []Choice{
		{Value: choiceEveryone, Aliases: []string{"all", "anyone", "everybody"}},
		{Value: choiceOwner, Aliases: []string{"owner-only", "owneronly", "only-owner"}},
	}
	d := Definition{
		Name:        cmdNewGroup,
		Aliases:     []string{"creategroup", "new-group", cmdNewGroupZh},
		Summary:     c.f(msgNewGroupSummary),
		Usage:       c.f(msgNewGroupUsage),
		Description: c.f(msgNewGroupDescription),
		Examples:    newGroupExamples(c, l),
		Options: []Option{
			{Name: optOwner, Aliases: []string{"群主"}, Kind: TextOption, Placeholder: "@user|userid:ID", Summary: c.f(msgOptOwner),
				Example: "--owner @alice", Field: "owner"},
			{Name: optOwnerType, Kind: ChoiceOption, Summary: c.f(msgOptOwnerType), Example: "--owner-type emp",
				Choices: []Choice{{Value: "emp", Aliases: []string{"employee"}}, {Value: "ext", Aliases: []string{"external"}}},
				Field:   "ownerType"},
			{Name: optType, Aliases: []string{"group-type"}, Kind: ChoiceOption, Summary: c.f(msgOptType),
				Example: "--type internal", Field: "conversationTag",
				Choices: []Choice{{Value: choiceInternal, Aliases: []string{"inner"}}, {Value: choiceStandard, Aliases: []string{"normal", "common"}}}},
			{Name: optStandard, Kind: FlagOption, Summary: c.f(msgOptStandard), Example: "--standard", Field: "conversationTag"},
			{Name: optInternal, Kind: FlagOption, Summary: c.f(msgOptInternal), Example: "--internal", Field: "conversationTag"},
			{Name: optExt, Aliases: []string{"external"}, Kind: TextOption, Repeatable: true, Placeholder: "UNIONID[,UNIONID...]",
				Summary: c.f(msgOptExt), Example: "--standard --ext UNIONID1,UNIONID2", Field: "extidlist"},
			{Name: optIcon, Kind: TextOption, Placeholder: "MEDIAID", Summary: c.f(msgOptIcon),
				Example: "--icon @lADPDgQ9qVgKJ8TNAljNAlg", Field: "icon"},
			{Name: optMentionAll, Aliases: []string{"at-all"}, Kind: ChoiceOption, Choices: whoChoices,
				Summary: c.f(msgOptMentionAll), Example: "--mention-all owner", Field: "managementOptions.mentionAllAuthority"},
			{Name: optHistory, Aliases: []string{"show-history"}, Kind: YesNoOption, Summary: c.f(msgOptHistory),
				Example: "--history yes", Field: "managementOptions.showHistoryType"},
			{Name: optApproval, Aliases: []string{"validation"}, Kind: YesNoOption, Summary: c.f(msgOptApproval),
				Example: "--approval yes", Field: "managementOptions.validationType"},
			{Name: optSearchable, Kind: YesNoOption, Summary: c.f(msgOptSearchable),
				Example: "--searchable yes", Field: "managementOptions.searchable"},
			{Name: optMute, Aliases: []string{"mute-all"}, Kind: YesNoOption, Summary: c.f(msgOptMute),
				Example: "--mute yes", Field: "managementOptions.chatBannedType"},
			{Name: optManage, Aliases: []string{"managers"}, Kind: ChoiceOption, Choices: whoChoices,
				Summary: c.f(msgOptManage), Example: "--manage owner", Field: "managementOptions.managementType"},
			{Name: optTemplate, Aliases: []string{"模板"}, Kind: TextOption, Placeholder: "NAME", Summary: c.f(msgOptTemplate),
				Example: "--template release"},
			{Name: optDryRun, Aliases: []string{"dryrun", "预览"}, Kind: FlagOption, Summary: c.f(msgOptDryRun),
				Example: "--dry-run"},
			helpOption(c),
		},
	}
	if c.lang == Chinese {
		d.shown = cmdNewGroupZh
	}
	return d
}

// newGroupExamples are the /newgroup examples in the catalogue's language;
// with templates configured, one uses the first template.
func newGroupExamples(c catalogue, l *Language) []string {
	var ex []string
	if c.lang == Chinese {
		ex = []string{
			`/建群 "发布 4.2" @张三 @李四`,
			`/建群 值班 @张三 @李四 --owner @张三 --mute yes --history yes`,
			`/建群 "供应商沟通" @张三 --standard --ext UNIONID1,UNIONID2`,
			`/建群 支持 userid:manager4220 userid:0123`,
			`/建群 周会 王五 13800000000 --dry-run`,
		}
	} else {
		ex = []string{
			`/newgroup "Release 4.2" @alice @bob`,
			`/newgroup Oncall @alice @bob --owner @alice --mute yes --history yes`,
			`/newgroup "Vendor sync" @alice --standard --ext UNIONID1,UNIONID2`,
			`/newgroup Support userid:manager4220 userid:0123`,
			`/newgroup Standup alice 13800000000 --dry-run`,
		}
	}
	if l != nil && len(l.templateList) > 0 {
		name := "/newgroup"
		if c.lang == Chinese {
			name = "/" + cmdNewGroupZh
		}
		ex = append(ex, name+" --template "+l.templateList[0]+` "Release 4.3"`)
	}
	return ex
}

// CreateGroup returns the action's /newgroup plan, or nil.
func (a Action) CreateGroup() *CreateGroup {
	cg, _ := a.Plan.(*CreateGroup)
	return cg
}

// Command implements Plan.
func (cg *CreateGroup) Command() string { return cmdNewGroup }

// ReplyLang implements Plan.
func (cg *CreateGroup) ReplyLang() Lang {
	if cg == nil {
		return ""
	}
	return cg.Lang
}

// PendingPeople implements PeoplePlan.
func (cg *CreateGroup) PendingPeople() []PersonRef {
	if cg == nil {
		return nil
	}
	return cg.Pending
}

func (cg *CreateGroup) complete(l *Language, lookups []Lookup) Action {
	return l.completeGroup(cg, lookups)
}

// AccessRequest implements Guarded: a dry run, a standard group and another
// owner (known or still to be looked up) are what the policy asks about.
func (cg *CreateGroup) AccessRequest() access.Request {
	r := access.Request{Command: cmdNewGroup}
	if cg == nil {
		return r
	}
	r.DryRun = cg.DryRun
	r.Standard = cg.Request.ConversationTag != nil && *cg.Request.ConversationTag == dingclient.ConversationTagStandard
	r.Owner = cg.Request.Owner
	for _, p := range cg.Pending {
		if p.Owner {
			r.OwnerPending = true
		}
	}
	return r
}

// ownerLabel is how failure replies name the group's owner: "name, userid",
// the user ID, or "" when unknown.
func (cg *CreateGroup) ownerLabel() string {
	if cg == nil || cg.Request.Owner == "" {
		return ""
	}
	owner := cg.Request.Owner
	if n := sanitizeName(cg.Names[owner]); n != "" && n != owner {
		owner = n + ", " + owner
	}
	return owner
}

// isFinalDryRun reports a dry run with nobody left to look up: it is
// answered with DryRunReply, never run.
func (cg *CreateGroup) isFinalDryRun() bool {
	return cg != nil && cg.DryRun && len(cg.Pending) == 0
}
