package commands

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// replyAction is an Action that only replies.
func replyAction(text string) Action {
	return Action{Reply: &Reply{Text: text}}
}

// Refusal says why a reply turns a message down, for the bot's log (a short
// snake_case reason); "" for a reply that answers (help, a dry run, …).
type Refusal string

// Why the command language turns a message down.
const (
	// RefusalNotCommand: text that is no command (it does not start with /).
	RefusalNotCommand Refusal = "not_command"
	// RefusalUnknownCommand: a /word that names no command.
	RefusalUnknownCommand Refusal = "unknown_command"
	// RefusalUsageError: a command that can't be carried out as written
	// (an unclosed quote, a bad option, a missing name, …).
	RefusalUsageError Refusal = "usage_error"
)

// Refusal is why the action's Reply turns the message down (one of the
// Refusal constants), or "" when it answers or there is a Plan.
func (a Action) Refusal() Refusal {
	return a.refusal
}

// unknownCommandReply answers a command name that matches no definition.
func unknownCommandReply(c catalogue, defs []Definition, typed string, id msgID) Action {
	name := strings.ToLower(strings.TrimPrefix(typed, "/"))
	var cands []string
	for _, d := range defs {
		cands = append(cands, d.Name)
		cands = append(cands, d.Aliases...)
	}
	text := c.f(id, "/"+name)
	if s, ok := suggest(name, cands); ok {
		text += c.sentenceSep() + c.f(msgDidYouMean, "/"+s)
	}
	return replyAction(text + c.sentenceSep() + c.f(msgTypeHelp))
}

// wantsHelp reports whether args ask for help (-h or --help before any --).
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch {
		case a == "--":
			return false
		case isOptionWord(a) && (strings.EqualFold(a, "--help") || strings.EqualFold(a, "-h")):
			return true
		}
	}
	return false
}

// isOptionWord reports whether w is written like an option.
func isOptionWord(w string) bool {
	return len(w) > 1 && w[0] == '-'
}

// parseArgs parses the words after the command name against def.Options.
// Options may appear anywhere, as --name value or --name=value; -- ends them.
// quoted says which words were quoted (see quotedWords; nil: none).
func parseArgs(def *Definition, words []string, quoted []bool) (*Request, error) {
	req := &Request{Definition: def, Args: make([]Arg, 0, len(words))}
	endOfOptions := false
	for i := 0; i < len(words); i++ {
		w := words[i]
		if endOfOptions || !isOptionWord(w) {
			req.Args = append(req.Args, Arg{Value: w, Quoted: i < len(quoted) && quoted[i]})
			continue
		}
		if w == "--" {
			endOfOptions = true
			continue
		}
		spelled, value, hasValue := w, "", false
		short := !strings.HasPrefix(w, "--")
		if !short {
			spelled, value, hasValue = strings.Cut(w, "=")
		}
		spelled = strings.ToLower(spelled)
		name := strings.TrimLeft(spelled, "-")
		opt := def.option(name, short)
		if opt == nil {
			return nil, unknownOption(def, spelled, name, short)
		}
		switch opt.Kind {
		case FlagOption:
			if hasValue {
				return nil, optionError(def, opt, msgFlagTakesNoValue, spelled)
			}
		default:
			if !hasValue {
				if i+1 >= len(words) || isOptionWord(words[i+1]) {
					return nil, optionError(def, opt, msgMissingValue, spelled, expected(opt))
				}
				i++
				value = words[i]
			}
			if value == "" {
				return nil, optionError(def, opt, msgMissingValue, spelled, expected(opt))
			}
			canon, ok := canonicalValue(opt, value)
			if !ok {
				return nil, optionError(def, opt, msgBadChoice, spelled, value, expected(opt))
			}
			value = canon
		}
		if !opt.Repeatable {
			for _, a := range req.Args {
				if a.Option == opt.Name {
					return nil, optionError(def, opt, msgRepeatedOption, spelled)
				}
			}
		}
		req.Args = append(req.Args, Arg{Option: opt.Name, Spelled: spelled, Value: value})
	}
	return req, nil
}

// optionError is a usage error about opt whose example shows opt in use.
func optionError(def *Definition, opt *Option, id msgID, args ...any) *UsageError {
	e := newUsageError(id, args...)
	if opt.Example != "" && len(def.Examples) > 0 {
		e.example = def.Examples[0] + " " + opt.Example
	}
	return e
}

// expectedItems lists the values opt accepts, for messages and help.
func expectedItems(opt *Option) []string {
	switch opt.Kind {
	case YesNoOption:
		return []string{valueYes, valueNo}
	case ChoiceOption:
		v := make([]string, 0, len(opt.Choices))
		for _, ch := range opt.Choices {
			v = append(v, ch.Value)
		}
		return v
	}
	return []string{opt.Placeholder}
}

// expected describes the values opt accepts; it renders as "yes or no".
func expected(opt *Option) orList {
	return orList(expectedItems(opt))
}

// canonicalValue validates value for opt and returns its canonical spelling.
func canonicalValue(opt *Option, value string) (string, bool) {
	switch opt.Kind {
	case YesNoOption:
		switch strings.ToLower(value) {
		case "yes", "y", "true", "on", "1":
			return valueYes, true
		case "no", "n", "false", "off", "0":
			return valueNo, true
		}
		return "", false
	case ChoiceOption:
		v := strings.ToLower(value)
		for _, ch := range opt.Choices {
			if v == ch.Value {
				return ch.Value, true
			}
			for _, a := range ch.Aliases {
				if v == a {
					return ch.Value, true
				}
			}
		}
		return "", false
	}
	return value, true
}

// unknownOption is the usage error for an option def doesn't have, with a
// did-you-mean suggestion when one is close.
func unknownOption(def *Definition, spelled, name string, short bool) *UsageError {
	e := newUsageError(msgUnknownOption, spelled)
	var cands []string
	for _, o := range def.Options {
		cands = append(cands, o.Name)
		cands = append(cands, o.Aliases...)
	}
	if short {
		// -h is the only short form; "-owner" most likely meant --owner.
		if def.option(name, false) != nil {
			return e.add(msgDidYouMean, "--"+name)
		}
	}
	if s, ok := suggest(name, cands); ok {
		e.add(msgDidYouMean, "--"+s)
	}
	return e
}

// errorReply turns a handler or parser error into the reply: this is the one
// place where errors become user text.
func errorReply(c catalogue, def *Definition, err error) Action {
	var ue *UsageError
	if !errors.As(err, &ue) {
		return replyAction(c.f(msgInternal))
	}
	var b strings.Builder
	b.WriteString(ue.problem(c)) // it says where in words: no caret, which lines up in monospace fonts only
	if !ue.plain {
		if def != nil {
			b.WriteString("\n")
			b.WriteString(c.f(msgUsageLine, usageLine(def)))
			ex := ue.example
			if ex == "" && len(def.Examples) > 0 {
				ex = def.Examples[0]
			}
			if ex != "" {
				b.WriteString("\n")
				b.WriteString(c.f(msgExampleLine, ex))
			}
			if len(def.Options) > 1 {
				b.WriteString("\n")
				b.WriteString(c.f(msgMoreHelp, def.shownName()))
			}
		} else {
			b.WriteString("\n")
			b.WriteString(c.f(msgTypeHelp))
		}
	}
	return replyAction(b.String())
}

// usageLine is "/name usage".
func usageLine(def *Definition) string {
	if def.Usage == "" {
		return "/" + def.shownName()
	}
	return "/" + def.shownName() + " " + def.Usage
}

// optionLabel is how help shows an option: "--mute yes|no".
func optionLabel(opt *Option) string {
	s := "--" + opt.Name
	if opt.Short != "" {
		s += ", -" + opt.Short
	}
	if opt.Kind != FlagOption {
		s += " " + strings.Join(expectedItems(opt), "|")
	}
	return s
}

// commandHelp renders the help of one command from its definition.
func commandHelp(c catalogue, def *Definition) string {
	var b strings.Builder
	b.WriteString(usageLine(def))
	b.WriteString("\n")
	b.WriteString(def.Summary)
	if al := def.otherNames(); len(al) > 0 {
		b.WriteString("\n")
		b.WriteString(c.f(msgHelpAliases, strings.Join(al, ", ")))
	}
	if def.Description != "" {
		b.WriteString("\n\n")
		b.WriteString(def.Description)
	}
	if len(def.Options) > 0 {
		b.WriteString("\n\n")
		b.WriteString(c.f(msgHelpOptions))
		for i := range def.Options {
			o := &def.Options[i]
			b.WriteString("\n")
			b.WriteString(optionLabel(o))
			if len(o.Aliases) > 0 {
				al := make([]string, len(o.Aliases))
				for j, a := range o.Aliases {
					al[j] = "--" + a
				}
				b.WriteString(" ")
				b.WriteString(c.f(msgHelpAlsoOption, strings.Join(al, ", ")))
			}
			b.WriteString(": ")
			b.WriteString(o.Summary)
			if o.Repeatable {
				b.WriteString(" ")
				b.WriteString(c.f(msgHelpRepeatable))
			}
		}
	}
	if len(def.Examples) > 0 {
		b.WriteString("\n\n")
		b.WriteString(c.f(msgHelpExamples))
		for _, ex := range def.Examples {
			b.WriteString("\n")
			b.WriteString(ex)
		}
	}
	return b.String()
}

// suggest returns the candidate closest to typed: within edit distance 2
// (1 for very short words), or one that typed is a prefix of.
func suggest(typed string, cands []string) (string, bool) {
	if typed == "" || utf8.RuneCountInString(typed) > 40 {
		return "", false
	}
	best, bestDist := "", 1<<30
	for _, cand := range cands {
		d := levenshtein(typed, cand)
		limit := 2
		if utf8.RuneCountInString(cand) <= 3 {
			limit = 1
		}
		if d > limit && !strings.HasPrefix(cand, typed) {
			continue
		}
		if d < bestDist {
			best, bestDist = cand, d
		}
	}
	return best, best != ""
}

// levenshtein is the edit distance between a and b, in runes.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
