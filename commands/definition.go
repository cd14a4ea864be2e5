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

	shown string   // the name help shows in this definition's language ("建群"); "" for Name
	cmd   *Command // the command this defines
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
	// Quoted is set for a positional word written with quotes or a
	// backslash ("Release 4.2"): made one word on purpose.
	Quoted bool
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

// Commands returns the command definitions in lang, including the configured
// command aliases, in the order /help lists them. Each call builds a fresh slice.
func (l *Language) Commands(lang Lang) []Definition {
	return buildDefinitions(l.cat(l.replyLang(lang)), l)
}

// helpOption is every command's --help.
func helpOption(c catalogue) Option {
	return Option{Name: optHelp, Short: "h", Kind: FlagOption, Summary: c.f(msgHelpOptHelp), Example: "--help"}
}

// buildDefinitions builds the definitions of l's commands with texts from
// catalogue c, with the configured command aliases added.
func buildDefinitions(c catalogue, l *Language) []Definition {
	defs := make([]Definition, len(l.cmds))
	for i := range l.cmds {
		defs[i] = l.cmds[i].Define(c, l)
		defs[i].cmd = &l.cmds[i]
	}
	for _, alias := range sortedKeys(l.cmdAliases) {
		if d := lookup(defs, l.cmdAliases[alias]); d != nil {
			d.Aliases = append(d.Aliases, alias)
		}
	}
	return defs
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
