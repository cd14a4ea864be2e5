package commands

// Definition declares one command. Help text (/help and COMMAND --help) is
// generated from it, and the generic option parser reads Options, so what a
// command accepts and what its help says can't drift apart.
type Definition struct {
	// Name is the command name without the slash, lower case ("newgroup").
	Name string
	// Aliases are other names for the command, lower case, without the slash.
	Aliases []string
	// Summary is a one-line description for /help.
	Summary string
	// Usage describes the arguments after the command name ("NAME [@member ...]").
	Usage string
	// Description explains the arguments in a paragraph.
	Description string
	// Examples are complete command lines that work; the first is used in usage errors.
	Examples []string
	// Options are the command's --options, in the order help lists them.
	Options []Option
	// Handler carries out the command once its options are parsed.
	Handler Handler

	shown string // the name help shows in this definition's language ("建群"); "" for Name
}

// shownName is the command name help and usage lines show.
func (d *Definition) shownName() string {
	if d.shown != "" {
		return d.shown
	}
	return d.Name
}

// otherNames are the names other than shownName, with slashes, for help.
func (d *Definition) otherNames() []string {
	var v []string
	for _, n := range append([]string{d.Name}, d.Aliases...) {
		if n != d.shownName() {
			v = append(v, "/"+n)
		}
	}
	return v
}

// Handler carries out a parsed command. It returns the Action to take, or an
// error; a *UsageError becomes a reply with the usage line and an example,
// and Interpret turns any other error into a generic reply.
type Handler func(req *Request) (Action, error)

// OptionKind says what value an option takes.
type OptionKind int

const (
	// FlagOption takes no value (--standard).
	FlagOption OptionKind = iota
	// TextOption takes any non-empty word (--icon MEDIAID).
	TextOption
	// ChoiceOption takes one of Option.Choices (--manage everyone|owner).
	ChoiceOption
	// YesNoOption takes yes or no, also written true/false, on/off, y/n or 1/0.
	YesNoOption
)

// Option declares one --option of a command.
type Option struct {
	// Name is the long name without dashes, lower case ("owner").
	Name string
	// Aliases are other long names, without dashes.
	Aliases []string
	// Short is an optional one-letter name used as -X ("h").
	Short string
	// Kind is the kind of value the option takes.
	Kind OptionKind
	// Placeholder names the value in help ("@user|userid:ID"); generated for choices and yes/no.
	Placeholder string
	// Choices are the accepted values of a ChoiceOption.
	Choices []Choice
	// Repeatable allows the option more than once; values accumulate.
	Repeatable bool
	// Summary is the one-line help text.
	Summary string
	// Example is the option as it would be used ("--mute yes"); usage errors about it show it.
	Example string
	// Field names the DingTalk request field the option sets, for documentation ("managementOptions.chatBannedType").
	Field string
}

// Choice is one accepted value of a ChoiceOption.
type Choice struct {
	// Value is the canonical spelling, which handlers receive.
	Value string
	// Aliases are other accepted spellings.
	Aliases []string
}

// Arg is one parsed argument: a positional word, or an option with its value.
type Arg struct {
	// Option is the canonical name of the option; "" for a positional word.
	Option string
	// Spelled is the option as the user wrote it ("--mute-all"); "" for a positional word.
	Spelled string
	// Value is the word, or the option's canonical value ("yes"/"no" for a
	// YesNoOption, Choice.Value for a ChoiceOption, "" for a FlagOption).
	Value string
}

// Request is a command after tokenising and option parsing.
type Request struct {
	// Message is the chat message the command came in.
	Message Message
	// Definition is the command being run.
	Definition *Definition
	// Line is the normalised command line.
	Line string
	// Args are the arguments after the command name, in the order written.
	Args []Arg

	lang Lang // the language the command was typed in
}

// Command option and choice names. Option names are part of the command
// language (what users type), not prose, so they live here rather than in the
// message catalogue.
const (
	optHelp       = "help"
	optOwner      = "owner"
	optOwnerType  = "owner-type"
	optType       = "type"
	optStandard   = "standard"
	optInternal   = "internal"
	optExt        = "ext"
	optIcon       = "icon"
	optMentionAll = "mention-all"
	optHistory    = "history"
	optApproval   = "approval"
	optSearchable = "searchable"
	optMute       = "mute"
	optManage     = "manage"
	optDryRun     = "dry-run"
	optTemplate   = "template"
	optPage       = "page"
	optAll        = "all"

	choiceEveryone = "everyone"
	choiceOwner    = "owner"
	choiceInternal = "internal"
	choiceStandard = "standard"
	valueYes       = "yes"
	valueNo        = "no"

	cmdNewGroup = "newgroup"
	cmdHelp     = "help"
	cmdGroups   = "groups"

	// Chinese command names: typing one selects Chinese replies.
	cmdNewGroupZh = "建群"
	cmdHelpZh     = "帮助"
	cmdGroupsZh   = "群列表"
)

// Commands returns the command definitions with English texts and the
// default settings, in the order /help lists them. Each call builds a fresh
// slice.
func Commands() []Definition {
	return definitions(newCatalogue())
}

// Commands returns the command definitions in lang, including the configured
// command aliases, in the order /help lists them. Each call builds a fresh slice.
func (l *Language) Commands(lang Lang) []Definition {
	return buildDefinitions(catalogueFor(l.replyLang(lang)), l)
}

// definitions builds the command table of the default settings with texts
// from catalogue c.
func definitions(c catalogue) []Definition {
	return buildDefinitions(c, &Language{defaultLang: English})
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

// buildDefinitions builds the command table with texts from catalogue c and
// the configured command aliases of l, whose handlers use l.
func buildDefinitions(c catalogue, l *Language) []Definition {
	help := Option{Name: optHelp, Short: "h", Kind: FlagOption, Summary: c.f(msgHelpOptHelp), Example: "--help"}
	whoChoices := []Choice{
		{Value: choiceEveryone, Aliases: []string{"all", "anyone", "everybody"}},
		{Value: choiceOwner, Aliases: []string{"owner-only", "owneronly", "only-owner"}},
	}
	defs := []Definition{
		{
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
				help,
			},
			Handler: func(req *Request) (Action, error) { return l.newGroup(req) },
		},
		{
			Name:        cmdHelp,
			Aliases:     []string{"?", cmdHelpZh},
			Summary:     c.f(msgHelpSummary),
			Usage:       c.f(msgHelpUsage),
			Description: c.f(msgHelpDescription),
			Examples:    []string{"/help", "/help newgroup"},
			Options:     []Option{help},
		},
	}
	if c.lang == Chinese {
		defs[0].shown, defs[1].shown = cmdNewGroupZh, cmdHelpZh
		defs[1].Examples = []string{"/帮助", "/帮助 建群", "/帮助 模板"}
	}
	defs = append(defs, groupsDefinition(c, l, help))
	for _, alias := range sortedKeys(l.cmdAliases) {
		if d := lookup(defs, l.cmdAliases[alias]); d != nil {
			d.Aliases = append(d.Aliases, alias)
		}
	}
	defs[1].Handler = func(req *Request) (Action, error) { return helpHandler(c, defs, l, req) }
	return defs
}

// groupsDefinition is /groups: the groups the sender created through the bot.
func groupsDefinition(c catalogue, l *Language, help Option) Definition {
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
			help,
		},
		Handler: func(req *Request) (Action, error) { return l.listGroups(req) },
	}
	if c.lang == Chinese {
		d.shown = cmdGroupsZh
		d.Examples = []string{"/群列表", "/群列表 --page 2", "/群列表 --all"}
	}
	return d
}

// lookup finds the definition named (or aliased) name, which must be lower case.
func lookup(defs []Definition, name string) *Definition {
	for i := range defs {
		if defs[i].Name == name {
			return &defs[i]
		}
		for _, a := range defs[i].Aliases {
			if a == name {
				return &defs[i]
			}
		}
	}
	return nil
}

// option finds the option spelled name (lower case, without dashes); short
// selects the one-letter names.
func (d *Definition) option(name string, short bool) *Option {
	if name == "" {
		return nil // a positional argument: no option has an empty name
	}
	for i := range d.Options {
		o := &d.Options[i]
		if short {
			if o.Short != "" && o.Short == name {
				return o
			}
			continue
		}
		if o.Name == name {
			return o
		}
		for _, a := range o.Aliases {
			if a == name {
				return o
			}
		}
	}
	return nil
}

// Values returns the values of option name, in the order given.
func (r *Request) Values(name string) []string {
	var v []string
	for _, a := range r.Args {
		if a.Option == name {
			v = append(v, a.Value)
		}
	}
	return v
}

// Positionals returns the words that are not options or option values.
func (r *Request) Positionals() []string {
	var v []string
	for _, a := range r.Args {
		if a.Option == "" {
			v = append(v, a.Value)
		}
	}
	return v
}
