package commands

import "strings"

// HelpCommand is /help (/帮助, /?): the list of commands, one command's
// help, or the templates. Each command's help is generated from its
// Definition.
func HelpCommand() Command {
	return Command{Name: cmdHelp, Define: helpDefinition, Texts: helpTexts(), Handle: helpHandler}
}

// helpDefinition is /help's definition with texts from c.
func helpDefinition(c catalogue, _ *Language) Definition {
	d := Definition{
		Name:        cmdHelp,
		Aliases:     []string{"?", cmdHelpZh},
		Summary:     c.f(msgHelpSummary),
		Usage:       c.f(msgHelpUsage),
		Description: c.f(msgHelpDescription),
		Examples:    []string{"/help", "/help newgroup"},
		Options:     []Option{helpOption(c)},
	}
	if c.lang == Chinese {
		d.shown = cmdHelpZh
		d.Examples = []string{"/帮助", "/帮助 建群", "/帮助 模板"}
	}
	return d
}

// commandList renders /help without arguments.
func commandList(c catalogue, defs []Definition, l *Language) string {
	var b strings.Builder
	b.WriteString(c.f(msgHelpCommands))
	for i := range defs {
		b.WriteString("\n")
		b.WriteString(usageLine(&defs[i]))
		b.WriteString(" — ")
		b.WriteString(defs[i].Summary)
	}
	b.WriteString("\n\n")
	b.WriteString(c.f(msgHelpFooter, defs[0].shownName()))
	if l != nil && len(l.templateList) > 0 {
		b.WriteString("\n")
		b.WriteString(c.f(msgHelpTemplatesFooter))
	}
	return b.String()
}

// templateHelp renders /help templates.
func templateHelp(c catalogue, l *Language) string {
	if l == nil || len(l.templateList) == 0 {
		return c.f(msgHelpNoTemplates)
	}
	var b strings.Builder
	b.WriteString(c.f(msgHelpTemplates))
	for _, name := range l.templateList {
		t := l.templates[name]
		b.WriteString("\n")
		b.WriteString(name)
		if d := strings.TrimSpace(t.Description); d != "" {
			b.WriteString(" — ")
			b.WriteString(d)
		}
		if a := strings.TrimSpace(Normalize(t.Args)); a != "" {
			b.WriteString("\n    ")
			b.WriteString(a)
		}
	}
	return b.String()
}

// isTemplatesTopic reports whether /help's argument asks for the templates.
func isTemplatesTopic(w string) bool {
	switch strings.ToLower(w) {
	case "templates", "template", "--template", "模板":
		return true
	}
	return false
}

// helpHandler implements /help [COMMAND|templates].
func helpHandler(l *Language, req *Request) (Action, error) {
	c, defs := l.cat(req.lang), l.defs(req.lang)
	pos := req.Positionals()
	switch len(pos) {
	case 0:
		return replyAction(commandList(c, defs, l)), nil
	case 1:
		name := strings.ToLower(strings.TrimPrefix(pos[0], "/"))
		if def := lookup(defs, name); def != nil {
			return replyAction(commandHelp(c, def)), nil
		}
		if isTemplatesTopic(name) {
			return replyAction(templateHelp(c, l)), nil
		}
		return unknownCommandReply(c, defs, name, msgHelpUnknownCommand), nil
	}
	return Action{}, newUsageError(msgHelpTooManyArgs)
}

// /help's own sentences, in English and Chinese.

// helpTexts are /help's Texts.
func helpTexts() Texts {
	return Texts{First: msgHelpSummary, Last: msgHelpTextsEnd, English: helpEnglishText, Chinese: helpChineseText}
}

const (
	msgHelpSummary msgID = 3000 + iota
	msgHelpUsage
	msgHelpDescription
	msgHelpTextsEnd
)

func helpEnglishText(id msgID) string {
	switch id {
	case msgHelpSummary:
		return "List the commands, or explain one command."
	case msgHelpUsage:
		return "[COMMAND]"
	case msgHelpDescription:
		return "Without COMMAND, lists every command. With COMMAND, shows its options and examples, the same as COMMAND --help."
	}
	return ""
}

func helpChineseText(id msgID) string {
	switch id {
	case msgHelpSummary:
		return "列出所有命令，或说明某个命令。"
	case msgHelpUsage:
		return "[命令]"
	case msgHelpDescription:
		return "不带参数时列出所有命令；带上命令名时显示它的选项和示例，等同于 命令 --help。"
	}
	return ""
}
