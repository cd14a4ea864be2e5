package commands

import "github.com/dingbot/dingbot/dingclient"

// ParseSender is the sender's user ID in Parse's results: Parse reads the
// text as a one-to-one message from a member of the organisation whose
// userId is "SENDER" and who has no display name.
const ParseSender = "SENDER"

// ParseResult is what Parse found in a command line; it marshals to the JSON
// `dingbot parse` prints.
type ParseResult struct {
	// Command is the canonical name of the command ("newgroup", "help"); "" if the text is no known command.
	Command string `json:"command"`
	// Request is the create-group request so far (see CreateGroup); null unless the command creates a group.
	Request *dingclient.CreateGroupRequest `json:"request"`
	// Pending are the people the bot would look up in DingTalk first.
	Pending []PersonRef `json:"pending"`
	// Names are the display names known so far, by user ID.
	Names map[string]string `json:"names,omitempty"`
	// DryRun is true for --dry-run.
	DryRun bool `json:"dry_run"`
	// Template is the template used (--template), or "".
	Template string `json:"template"`
	// Language is the reply language.
	Language Lang `json:"language"`
	// Reply is the bot's immediate answer (help, or what is wrong); "" when a group would be created.
	Reply string `json:"reply"`
	// Error is true when Reply says the command can't be carried out as written.
	Error bool `json:"error"`
}

// Parse interprets text as a one-to-one chat message from ParseSender, for
// `dingbot parse`, without calling DingTalk: it shows the request the bot
// would build (and the people it would look up first), or the reply it
// would give. A dry run shows its request, not its reply. It never panics.
func (l *Language) Parse(text string) (res ParseResult) {
	defer func() {
		if recover() != nil {
			res = ParseResult{Pending: []PersonRef{}, Language: l.textLang(text),
				Reply: l.cat(l.textLang(text)).f(msgInternal), Error: true}
		}
	}()
	out := l.interpret(Message{Text: text, SenderStaffID: ParseSender})
	res = ParseResult{Command: out.cmd, Pending: []PersonRef{}, Language: out.lang, Error: out.isErr}
	if cg := out.cg; cg != nil {
		r := copyRequest(cg.Request)
		res.Request = &r
		res.Pending = append(res.Pending, cg.Pending...)
		if len(cg.Names) > 0 {
			res.Names = cg.Names
		}
		res.DryRun, res.Template, res.Language = cg.DryRun, cg.Template, cg.Lang
		return res
	}
	if out.act.Reply != nil {
		res.Reply = out.act.Reply.Text
	}
	return res
}
