package commands

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/shlex"
)

// Normalize rewrites what Chinese IMEs and phone keyboards type into the plain
// ASCII syntax the command language uses:
//
//   - curly and full-width double quotes (“ ” „ ‟ ＂ 「 」 『 』) become ";
//   - curly and full-width single quotes (‘ ’ ‛ ＇) become ';
//   - every Unicode space (U+3000, NBSP, U+2005, tab, newline, …) becomes a space;
//   - zero-width spaces, word joiners, byte-order marks and soft hyphens are removed;
//   - full-width ／ ＠ － become / @ -;
//   - a run of dashes at the start of a word that contains an em or en dash
//     (phones turn -- into —; Chinese IMEs type ——) becomes -- before a long
//     option name and - before a one-letter one;
//   - leading and trailing spaces are trimmed.
//
// Invalid UTF-8 bytes become U+FFFD. The result is always valid UTF-8.
func Normalize(s string) string {
	if plainASCII(s) {
		return strings.Trim(s, " ")
	}
	return normalize(s)
}

// normalize is Normalize without the fast path for plain ASCII.
func normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	wordStart := true
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if wordStart && isDash(r) {
			// Look at the whole run of dashes and the word after it.
			j, fancy := i, false
			for j < len(s) {
				d, n := utf8.DecodeRuneInString(s[j:])
				if !isDash(d) {
					break
				}
				if d != '-' && d != '－' && d != '﹣' {
					fancy = true
				}
				j += n
			}
			letters := 0
			for k := j; k < len(s) && letters < 2; {
				d, n := utf8.DecodeRuneInString(s[k:])
				if !unicode.IsLetter(d) {
					break
				}
				letters++
				k += n
			}
			if fancy && letters > 0 {
				if letters == 1 {
					b.WriteByte('-')
				} else {
					b.WriteString("--")
				}
			} else {
				for _, d := range s[i:j] {
					b.WriteRune(mapRune(d))
				}
			}
			i = j
			wordStart = false
			continue
		}
		i += size
		switch {
		case r == '\u200b' || r == '\u2060' || r == '\ufeff' || r == '\u00ad':
			continue // invisible; drop
		case unicode.IsSpace(r):
			b.WriteByte(' ')
			wordStart = true
			continue
		}
		b.WriteRune(mapRune(r))
		wordStart = false
	}
	return strings.Trim(b.String(), " ")
}

// plainASCII reports a line Normalize leaves alone but for trimming: printable
// ASCII and spaces only (the dashes rule only touches non-ASCII dashes).
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' {
			return false
		}
	}
	return true
}

// isDash reports runes phones and IMEs type instead of '-'.
func isDash(r rune) bool {
	switch r {
	case '-', '－', '﹣', '‐', '‑', '‒', '–', '—', '―', '−', '﹘':
		return true
	}
	return false
}

// mapRune maps a single full-width or typographic rune to ASCII.
func mapRune(r rune) rune {
	switch r {
	case '“', '”', '„', '‟', '＂', '「', '」', '『', '』':
		return '"'
	case '‘', '’', '‛', '＇':
		return '\''
	case '／':
		return '/'
	case '＠':
		return '@'
	case '－', '﹣':
		return '-'
	}
	return r
}

// Split normalises s (see Normalize) and splits it into words with shell rules
// (github.com/google/shlex): spaces separate words, "double" and 'single'
// quotes group words, and a backslash protects the next character. Unlike a
// shell, a word starting with # is an ordinary word, not a comment.
//
// An unclosed quote or a trailing backslash gives a *UsageError whose Line is
// the normalised line and whose Column is the 1-based rune column of the
// opening quote or of the backslash.
func Split(s string) ([]string, error) {
	return splitNormalized(Normalize(s))
}

// lexState mirrors the states of shlex's tokenizer that matter for quoting.
type lexState int

const (
	lexStart        lexState = iota // between words
	lexWord                         // inside an unquoted word
	lexEscape                       // after a backslash outside quotes
	lexDouble                       // inside "..."
	lexDoubleEscape                 // after a backslash inside "..."
	lexSingle                       // inside '...'
)

// isLexSpace reports shlex's word separators.
func isLexSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }

// splitNormalized splits an already normalised line with
// github.com/google/shlex, except that '#' never starts a comment. A line
// of valid UTF-8 with no quote, escape or '#' splits on shlex's separators
// directly, which is what shlex would return (TestSplitMatchesShlex checks
// both paths against shlex), without shlex's per-call reader and buffers.
func splitNormalized(line string) ([]string, error) {
	if !strings.ContainsAny(line, "\"'\\#") && utf8.ValidString(line) {
		return strings.FieldsFunc(line, isLexSpace), nil
	}
	return splitShlex(line)
}

// splitShlex splits a line that has quotes, escapes or a '#' with shlex.
func splitShlex(line string) ([]string, error) {
	// Walk the line the way shlex will, to escape a '#' that would start a
	// comment and to find where an unclosed quote or a dangling escape starts.
	var b strings.Builder
	b.Grow(len(line) + 2)
	state, col, openCol := lexStart, 0, 0
	var openQuote rune
	for _, r := range line {
		col++
		switch state {
		case lexStart, lexWord:
			switch {
			case isLexSpace(r):
				state = lexStart
			case r == '"' || r == '\'':
				openCol, openQuote = col, r
				state = lexDouble
				if r == '\'' {
					state = lexSingle
				}
			case r == '\\':
				openCol = col
				state = lexEscape
			case r == '#' && state == lexStart:
				b.WriteByte('\\')
				state = lexWord
			default:
				state = lexWord
			}
		case lexEscape:
			state = lexWord
		case lexDouble:
			switch r {
			case '"':
				state = lexWord
			case '\\':
				state = lexDoubleEscape
			}
		case lexDoubleEscape:
			state = lexDouble
		case lexSingle:
			if r == '\'' {
				state = lexWord
			}
		}
		b.WriteRune(r)
	}
	switch state {
	case lexDouble, lexDoubleEscape, lexSingle:
		ue := newUsageError(msgUnclosedQuote, string(openQuote), openCol)
		if openQuote == '\'' {
			ue.add(msgApostropheHint)
		}
		ue.Line, ue.Column = line, openCol
		return nil, ue
	case lexEscape:
		ue := newUsageError(msgTrailingBackslash, openCol)
		ue.Line, ue.Column = line, openCol
		return nil, ue
	}
	words, err := shlex.Split(b.String())
	if err != nil {
		// Not expected: the walk above mirrors shlex. Never show shlex's text.
		ue := newUsageError(msgUnreadable)
		ue.Line = line
		return nil, ue
	}
	return words, nil
}

// UsageError is a command that can't be carried out as written. Its text is
// rendered from the message catalogue; Interpret turns it into a reply with
// the problem, the command's usage line and a working example.
type UsageError struct {
	// Line is the normalised command line the error points into, if any.
	Line string
	// Column is the 1-based column, in runes, of the problem in Line; 0 when
	// the error has no position.
	Column int

	parts   []msgPart // what is wrong, in catalogue terms
	example string    // a working example tailored to the error; "" for the command's first
	plain   bool      // not a syntax problem: no usage line or example
}

// orList is a message argument rendered as "a, b or c" in the reply's language.
type orList []string

// msgPart is one catalogue message with its arguments.
type msgPart struct {
	id   msgID
	args []any
}

// newUsageError returns a UsageError saying id with args.
func newUsageError(id msgID, args ...any) *UsageError {
	return &UsageError{parts: []msgPart{{id, args}}}
}

// add appends another sentence to the error.
func (e *UsageError) add(id msgID, args ...any) *UsageError {
	e.parts = append(e.parts, msgPart{id, args})
	return e
}

// problem renders what is wrong in catalogue c.
func (e *UsageError) problem(c catalogue) string {
	s := make([]string, 0, len(e.parts))
	for _, p := range e.parts {
		args := make([]any, len(p.args))
		for i, a := range p.args {
			switch l := a.(type) {
			case orList:
				a = c.list(l, msgOr)
			case andList:
				a = c.list(l, msgAnd)
			}
			args[i] = a
		}
		s = append(s, c.f(p.id, args...))
	}
	return strings.Join(s, c.sentenceSep())
}

// Error returns the English description of the problem.
func (e *UsageError) Error() string {
	return e.problem(newCatalogue())
}

// caretLine returns the spaces and the caret that put ^ under column col of
// line, using ideographic spaces under wide (CJK) characters so that the caret
// lines up in fonts where those are twice as wide.
func caretLine(line string, col int) string {
	var b strings.Builder
	n := 1
	for _, r := range line {
		if n >= col {
			break
		}
		if isWide(r) {
			b.WriteRune('\u3000')
		} else {
			b.WriteByte(' ')
		}
		n++
	}
	b.WriteByte('^')
	return b.String()
}

// isWide reports East Asian wide and full-width runes.
func isWide(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		(r >= 0x3000 && r <= 0x303f) || (r >= 0xff01 && r <= 0xff60) || (r >= 0xffe0 && r <= 0xffe6)
}
