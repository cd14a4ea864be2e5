package commands

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Language is a configured command language: the built-in commands plus the
// Settings (aliases for people and commands, templates, the default reply
// language). It is immutable and safe for concurrent use.
//
// Reply language. Every reply is in English or Chinese:
//   - a command typed by a Chinese name (/建群, /帮助) answers in Chinese, and
//     one typed by an English name or alias (/newgroup, /creategroup, /help)
//     answers in English;
//   - a configured command alias answers in Chinese if it contains Chinese
//     characters, else in Settings.DefaultLang;
//   - anything else (plain chat text, an unknown command, /?) answers in
//     Settings.DefaultLang, or in Chinese if the text contains Chinese characters;
//   - a message without text (a picture, a file, a voice message) answers in
//     Chinese if the sender's display name contains Chinese characters, else
//     in Settings.DefaultLang (see NonTextLang).
//
// Replies about a CreateGroup (Complete, CreatedReply, FailedReply,
// DryRunReply) use CreateGroup.Lang.
type Language struct {
	defaultLang  Lang
	people       map[string][]string // lower-case alias without @ → user IDs
	names        map[string]string   // user ID → display name
	templates    map[string]*template
	templateList []string          // template names, sorted
	cmdAliases   map[string]string // configured alias → command name
	cmds         []Command         // the registered commands, in /help order
	en, zh       []Definition      // their definitions in each language, in the same order
	catEN, catZH catalogue         // the generic texts and the commands' own
	noKickoff    bool              // Settings.NoKickoff
	confirm      ConfirmMode       // Settings.Confirm, never ""
	confirmTTL   time.Duration     // Settings.ConfirmTTL, never 0
}

// template is a Template with its Args parsed.
type template struct {
	name string
	Template
	args []Arg
}

// New validates s and returns the Language it describes. The error names the
// offending setting, e.g. `Templates["release"]: --mute needs a value: yes or no.`.
func New(s Settings) (*Language, error) {
	l := &Language{
		defaultLang: English,
		people:      map[string][]string{},
		names:       map[string]string{},
		templates:   map[string]*template{},
		cmdAliases:  map[string]string{},
	}
	switch s.DefaultLang {
	case "", English:
	case Chinese:
		l.defaultLang = Chinese
	default:
		return nil, fmt.Errorf("DefaultLang: %q is not a supported language (use %q or %q)", s.DefaultLang, English, Chinese)
	}
	l.noKickoff = s.NoKickoff
	var err error
	if l.confirm, err = s.Confirm.check(); err != nil {
		return nil, fmt.Errorf("Confirm: %w", err)
	}
	l.confirmTTL = s.ConfirmTTL
	switch {
	case l.confirmTTL == 0:
		l.confirmTTL = DefaultConfirmTTL
	case l.confirmTTL < MinConfirmTTL || l.confirmTTL > MaxConfirmTTL:
		return nil, fmt.Errorf("ConfirmTTL: %s is not between %s and %s", s.ConfirmTTL, MinConfirmTTL, MaxConfirmTTL)
	}
	l.cmds = append([]Command(nil), s.Commands...)
	if l.cmds == nil {
		l.cmds = Builtin()
	}
	if len(l.cmds) == 0 {
		return nil, errors.New("Commands: no commands registered")
	}
	for _, cmd := range l.cmds {
		if cmd.Name == "" || cmd.Define == nil {
			return nil, fmt.Errorf("Commands: a command needs a Name and a Define (got %q)", cmd.Name)
		}
	}
	l.catEN, l.catZH = catalogueOf(English, l.cmds), catalogueOf(Chinese, l.cmds)
	builtin := buildDefinitions(l.cat(English), l)
	if err := checkCommands(l.cmds, builtin); err != nil {
		return nil, err
	}

	for _, k := range sortedKeys(s.CommandAliases) {
		name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(k), "/"))
		if !validWord(name) || strings.HasPrefix(name, "-") || strings.HasPrefix(name, "/") {
			return nil, fmt.Errorf("CommandAliases[%q]: not a valid command name (one word, no quotes)", k)
		}
		if lookup(builtin, name) != nil {
			return nil, fmt.Errorf("CommandAliases[%q]: /%s is already a command", k, name)
		}
		if _, dup := l.cmdAliases[name]; dup {
			return nil, fmt.Errorf("CommandAliases[%q]: /%s is configured twice", k, name)
		}
		target := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s.CommandAliases[k]), "/"))
		def := lookup(builtin, target)
		if def == nil {
			return nil, fmt.Errorf("CommandAliases[%q]: there is no command %q", k, s.CommandAliases[k])
		}
		l.cmdAliases[name] = def.Name
	}

	for _, k := range sortedKeys(s.People) {
		key := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(k), "@"))
		if !validWord(key) || strings.HasPrefix(key, "@") {
			return nil, fmt.Errorf("People[%q]: not a valid alias (one word, no quotes; written with or without @)", k)
		}
		if _, ok := userIDValue(key); ok {
			return nil, fmt.Errorf("People[%q]: an alias can't start with userid:", k)
		}
		if _, dup := l.people[key]; dup {
			return nil, fmt.Errorf("People[%q]: alias %q is configured twice (aliases ignore case)", k, key)
		}
		ids := s.People[k]
		if len(ids) == 0 {
			return nil, fmt.Errorf("People[%q]: no user IDs", k)
		}
		if len(ids) > MaxTotalMembers {
			return nil, fmt.Errorf("People[%q]: %d user IDs; a group can have at most %d people", k, len(ids), MaxTotalMembers)
		}
		var clean []string
		for _, id := range ids {
			id = strings.TrimSpace(id)
			if !validID(id) {
				return nil, fmt.Errorf("People[%q]: %q is not a valid user ID", k, id)
			}
			if !contains(clean, id) {
				clean = append(clean, id)
			}
		}
		l.people[key] = clean
	}

	for _, id := range sortedKeys(s.Names) {
		n := strings.TrimSpace(s.Names[id])
		if !validID(id) {
			return nil, fmt.Errorf("Names[%q]: not a valid user ID", id)
		}
		if n == "" || utf8.RuneCountInString(n) > maxPersonRunes || hasControl(n) {
			return nil, fmt.Errorf("Names[%q]: %q is not a usable display name (1 to %d characters, no control characters)", id, s.Names[id], maxPersonRunes)
		}
		l.names[id] = n
	}

	for _, k := range sortedKeys(s.Templates) {
		name := strings.ToLower(strings.TrimSpace(k))
		if !validWord(name) || strings.HasPrefix(name, "-") {
			return nil, fmt.Errorf("Templates[%q]: not a valid template name (one word, no quotes)", k)
		}
		if _, dup := l.templates[name]; dup {
			return nil, fmt.Errorf("Templates[%q]: template %q is configured twice (names ignore case)", k, name)
		}
		t := s.Templates[k]
		if strings.ContainsAny(t.Description, "\r\n") || hasControl(t.Description) {
			return nil, fmt.Errorf("Templates[%q]: the description must be one line", k)
		}
		if lookup(builtin, cmdNewGroup) == nil {
			return nil, fmt.Errorf("Templates[%q]: templates are for /newgroup, which is not registered", k)
		}
		args, err := parseTemplateArgs(builtin, t.Args)
		if err != nil {
			return nil, fmt.Errorf("Templates[%q]: %v", k, err)
		}
		if strings.ContainsFunc(t.Kickoff, func(r rune) bool { return r != '\n' && r != '\t' && unicode.IsControl(r) }) {
			return nil, fmt.Errorf("Templates[%q]: the kickoff text has control characters", k)
		}
		if len(t.Kickoff) > maxKickoffBytes {
			return nil, fmt.Errorf("Templates[%q]: the kickoff text is %d bytes; at most %d", k, len(t.Kickoff), maxKickoffBytes)
		}
		if t.Confirm != "" {
			if t.Confirm, err = t.Confirm.check(); err != nil {
				return nil, fmt.Errorf("Templates[%q]: confirm: %w", k, err)
			}
		}
		l.templates[name] = &template{name: name, Template: t, args: args}
		l.templateList = append(l.templateList, name)
	}
	sort.Strings(l.templateList)
	l.en = buildDefinitions(l.cat(English), l)
	l.zh = buildDefinitions(l.cat(Chinese), l)
	// Each template must make a valid command on its own.
	for _, name := range l.templateList {
		out := l.interpret(Message{Text: "/newgroup X --template " + name, SenderStaffID: ParseSender})
		if out.isErr {
			first, _, _ := strings.Cut(out.act.Reply.Text, "\n")
			return nil, fmt.Errorf("Templates[%q]: %s", name, first)
		}
	}
	return l, nil
}

// checkCommands refuses a command whose definition has another name, and a
// name or alias given to two commands; defs are cmds' definitions, in order.
func checkCommands(cmds []Command, defs []Definition) error {
	seen := map[string]string{}
	for i, cmd := range cmds {
		def := &defs[i]
		if def.Name != cmd.Name {
			return fmt.Errorf("Commands: /%s defines itself as /%s", cmd.Name, def.Name)
		}
		for _, n := range append([]string{def.Name}, def.Aliases...) {
			if other, dup := seen[n]; dup {
				return fmt.Errorf("Commands: /%s is a name of both /%s and /%s", n, other, cmd.Name)
			}
			seen[n] = cmd.Name
		}
	}
	return nil
}

// parseTemplateArgs parses a template's Args with /newgroup's parser.
func parseTemplateArgs(defs []Definition, text string) ([]Arg, error) {
	words, err := splitNormalized(Normalize(text))
	if err != nil {
		return nil, err
	}
	def := lookup(defs, cmdNewGroup)
	for _, w := range words {
		if strings.EqualFold(w, "--help") || strings.EqualFold(w, "-h") {
			return nil, errors.New("a template can't contain --help")
		}
	}
	req, err := parseArgs(def, words, nil) // a template's words are all people: quoting says nothing
	if err != nil {
		return nil, err
	}
	for _, a := range req.Args {
		switch a.Option {
		case optTemplate, optDryRun:
			return nil, fmt.Errorf("a template can't contain %s", a.Spelled)
		}
	}
	return req.Args, nil
}

// validWord reports whether w is one non-empty word without quotes,
// backslashes or control characters.
func validWord(w string) bool {
	return w != "" && !strings.ContainsAny(w, "\"'\\#") && validID(w)
}

// hasControl reports control characters and invalid UTF-8.
func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return true
		}
	}
	return false
}

// hasCJK reports whether s contains Chinese characters.
func hasCJK(s string) bool {
	for _, r := range s {
		if r >= 0x2e80 && unicode.Is(unicode.Han, r) { // no Han rune is below U+2E80
			return true
		}
	}
	return false
}

// hasLetter reports whether s contains an ASCII or other letter.
func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// DefaultLang is the configured default reply language (English or Chinese).
func (l *Language) DefaultLang() Lang {
	return l.defaultLang
}

// replyLang is lang if it is a supported language, else the default.
func (l *Language) replyLang(lang Lang) Lang {
	switch lang {
	case English, Chinese:
		return lang
	}
	return l.defaultLang
}

// textLang is the language of replies to text whose command language is not
// evident: Chinese if it has Chinese characters, else the default.
func (l *Language) textLang(text string) Lang {
	if hasCJK(text) {
		return Chinese
	}
	return l.defaultLang
}

// NonTextLang is the language of the reply to a message without text (a
// picture, a file, a voice message) from a sender called senderNick:
// Chinese if the name contains Chinese characters, else the default.
//
// Such a message has no words to go by, and the bot keeps no memory of
// what language a chat used before (a reply must not depend on which
// replica saw the previous message, or on a history the operator may have
// pruned). The display name is the one sign the message itself carries: a
// name written in Chinese characters is a strong sign that its owner reads
// Chinese, while a Latin-letter name (English, pinyin) says little, so the
// configured default stands for it.
func (l *Language) NonTextLang(senderNick string) Lang {
	if hasCJK(senderNick) {
		return Chinese
	}
	return l.defaultLang
}

// cat returns the catalogue of lang: the generic texts and the registered
// commands' own.
func (l *Language) cat(lang Lang) catalogue {
	if l.catEN.text == nil { // a Language not made by New
		return catalogueOf(lang, l.cmds)
	}
	if lang == Chinese {
		return l.catZH
	}
	return l.catEN
}

// CommandNames are the canonical names of the registered commands, in /help order.
func (l *Language) CommandNames() []string {
	names := make([]string, len(l.cmds))
	for i := range l.cmds {
		names[i] = l.cmds[i].Name
	}
	return names
}

// Command returns the registered command called name (canonical), or nil.
func (l *Language) Command(name string) *Command {
	for i := range l.cmds {
		if l.cmds[i].Name == name {
			return &l.cmds[i]
		}
	}
	return nil
}

// defs returns the definitions rendered in lang.
func (l *Language) defs(lang Lang) []Definition {
	if lang == Chinese {
		return l.zh
	}
	return l.en
}

// command finds the command typed as name (lower case, without the slash)
// and the language it was typed in; nil if there is none.
func (l *Language) command(name string) (*Definition, Lang) {
	var lang Lang
	canon := ""
	if d := lookup(l.en, name); d != nil {
		canon = d.Name
		_, configured := l.cmdAliases[name]
		switch {
		case hasCJK(name):
			lang = Chinese
		case configured || !hasLetter(name):
			lang = l.defaultLang
		default:
			lang = English
		}
	}
	if canon == "" {
		return nil, ""
	}
	return lookup(l.defs(lang), canon), lang
}

// Interpret parses one chat message and decides what to do: exactly one of
// the returned Action's fields is set. It never panics, for any input.
//
// A CreateGroup with Pending people needs look-ups and Complete before it can
// be sent; a final dry run (--dry-run) comes back as a Reply (see DryRunReply)
// with Action.DryRun set. Action.Refusal says why a reply turns the message down.
func (l *Language) Interpret(msg Message) (act Action) {
	defer func() {
		if recover() != nil {
			act = replyAction(l.cat(l.textLang(msg.Text)).f(msgInternal))
		}
	}()
	out := l.interpret(msg)
	act = out.act
	act.refusal = out.refusal
	if out.cg.isFinalDryRun() && act.Reply != nil {
		act.dryRun = out.cg
	}
	return act
}

// outcome is what interpret found out about a message.
type outcome struct {
	act   Action
	cg    *CreateGroup // the command's CreateGroup, also for a final dry run
	cmd   string       // canonical command name; "" if the text is no known command
	lang  Lang
	isErr bool // the reply says the command is wrong (not help)
	// refusal is why the reply turns the message down, for the bot's log.
	refusal Refusal
}

// notCommand answers a normalised line that is no command, in the line's
// language.
func (l *Language) notCommand(line string) outcome {
	lang := l.textLang(line)
	return outcome{act: replyAction(l.cat(lang).f(msgNotCommand)), lang: lang, isErr: true, refusal: RefusalNotCommand}
}

// interpret is Interpret without the panic guard (the fuzz tests call it so
// that a panic is reported rather than hidden).
func (l *Language) interpret(msg Message) outcome {
	line := Normalize(msg.Text)
	if line == "" || line[0] != '/' {
		return l.notCommand(line)
	}
	words, err := splitNormalized(line)
	if err != nil {
		// Name the command in the reply if the line starts with a known one.
		first, _, _ := strings.Cut(line, " ")
		def, lang := l.command(strings.ToLower(first[1:]))
		if def == nil {
			lang = l.textLang(line)
		}
		out := outcome{act: errorReply(l.cat(lang), def, err), lang: lang, isErr: true, refusal: RefusalUsageError}
		if def != nil {
			out.cmd = def.Name
		}
		return out
	}
	if len(words) == 0 || words[0] == "" || words[0][0] != '/' {
		return l.notCommand(line)
	}
	def, lang := l.command(strings.ToLower(words[0][1:]))
	if def == nil {
		fallback := l.textLang(line)
		c := l.cat(fallback)
		return outcome{act: unknownCommandReply(c, l.defs(fallback), words[0], msgUnknownCommand), lang: fallback, isErr: true,
			refusal: RefusalUnknownCommand}
	}
	c := l.cat(lang)
	out := outcome{cmd: def.Name, lang: lang}
	args := words[1:]
	if wantsHelp(args) {
		out.act = replyAction(commandHelp(c, def))
		return out
	}
	var quoted []bool
	if q := quotedWords(line); len(q) == len(words) {
		quoted = q[1:]
	}
	req, err := parseArgs(def, args, quoted)
	if err != nil {
		out.act, out.isErr, out.refusal = errorReply(c, def, err), true, RefusalUsageError
		return out
	}
	req.Message, req.Line, req.lang = msg, line, lang
	if def.cmd == nil || def.cmd.Handle == nil {
		out.act = replyAction(commandHelp(c, def))
		return out
	}
	act, err := def.cmd.Handle(l, req)
	if err != nil {
		out.act, out.isErr, out.refusal = errorReply(c, def, err), true, RefusalUsageError
		return out
	}
	if (act.Reply == nil) == (act.Plan == nil) || (act.Plan != nil && (act.Plan.Command() != def.Name || def.cmd.Run == nil)) {
		out.act, out.isErr = replyAction(c.f(msgInternal)), true
		return out
	}
	out.act = act
	if cg := act.CreateGroup(); cg != nil {
		out.cg = cg
		if cg.isFinalDryRun() {
			r := l.DryRunReply(cg)
			out.act = Action{Reply: &r}
		}
	}
	return out
}
