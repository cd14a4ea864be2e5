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
// shell, a word starting with # is an ordinary word, not a comment. Lines
// without a backslash or '#' are split by a faster equivalent of shlex (see
// splitNormalized); the words are the same.
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

// splitNormalized splits an already normalised line into words exactly as
// github.com/google/shlex would, except that '#' never starts a comment.
//
// Which lines take which path:
//   - a line of valid UTF-8 with no backslash and no '#' is split here, by
//     splitQuoted: spaces (' ', '\t', '\r', '\n') separate words, "…" and
//     '…' are literal up to the closing quote, and quoted and unquoted parts
//     that touch join into one word; an unclosed quote is the same
//     *UsageError that splitShlex gives;
//   - every other line (a backslash escape, a '#', invalid UTF-8) goes
//     through splitShlex and so through shlex itself.
//
// The fast path exists for speed: almost every command is plain text with at
// most a quoted group name, and shlex costs a reader, a classifier map and a
// rune slice per word. Its words must equal shlex's: TestSplitMatchesShlex
// (seeds, the fuzz corpus and random quote-heavy lines) and the fuzzer
// FuzzSplitMatchesShlex compare both paths' words with shlex's, and the fast
// path's errors with splitShlex's.
func splitNormalized(line string) ([]string, error) {
	if !strings.ContainsAny(line, "\\#") && utf8.ValidString(line) {
		return splitQuoted(line)
	}
	return splitShlex(line)
}

// isLexSpaceByte is isLexSpace for a byte.
func isLexSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// splitQuoted is splitNormalized's fast path for valid UTF-8 without
// backslashes or '#'. Only ASCII bytes are special, so it scans bytes, once.
// A word written as one piece (plain, or one quoted part) is a substring of
// line; a word joined from several pieces is built once, at its final size.
func splitQuoted(line string) ([]string, error) {
	// In a normalised line every separator is a space, so there are at most
	// Count+1 words: one allocation (a tab or newline only makes append grow).
	words := make([]string, 0, strings.Count(line, " ")+1)
	for i := 0; i < len(line); {
		if isLexSpaceByte(line[i]) {
			i++
			continue
		}
		start := i
		var first string
		pieces := 0
		for i < len(line) && !isLexSpaceByte(line[i]) {
			piece, next, ok := nextPiece(line, i)
			if !ok {
				return nil, unclosedQuoteError(line, rune(line[i]), utf8.RuneCountInString(line[:i])+1)
			}
			if pieces == 0 {
				first = piece
			}
			pieces++
			i = next
		}
		if pieces == 1 {
			words = append(words, first)
			continue
		}
		var b strings.Builder
		b.Grow(i - start)
		for j := start; j < i; {
			piece, next, _ := nextPiece(line, j)
			b.WriteString(piece)
			j = next
		}
		words = append(words, b.String())
	}
	return words, nil
}

// nextPiece returns the piece of a word that starts at line[i] — a quoted
// part without its quotes, or an unquoted run up to a space or quote — and
// the index after it; ok is false for a quote that is never closed.
func nextPiece(line string, i int) (piece string, next int, ok bool) {
	if c := line[i]; c == '"' || c == '\'' {
		j := strings.IndexByte(line[i+1:], c)
		if j < 0 {
			return "", 0, false
		}
		return line[i+1 : i+1+j], i + 2 + j, true
	}
	j := i
	for j < len(line) {
		switch line[j] {
		case ' ', '\t', '\r', '\n', '"', '\'':
			return line[i:j], j, true
		}
		j++
	}
	return line[i:j], j, true
}

// maxExcerptRunes bounds the text an error quotes from the command line.
const maxExcerptRunes = 30

// unclosedQuoteError is the error for a quote at rune column col of line
// that is never closed. It points at the quote in words, not with a caret
// under a column (DingTalk and the demo page use proportional fonts, where
// no run of spaces lines up): it quotes the text from the quote on ("The
// quote that starts at “Release 4.2 @Alice” …"), or, for a quote inside a
// word such as an apostrophe, the part of the word before it ("The quote
// after “Bob” …").
func unclosedQuoteError(line string, quote rune, col int) *UsageError {
	runes := []rune(line)
	start := min(max(col-1, 0), len(runes)) // the quote's rune index
	wordStart := start
	for wordStart > 0 && !isLexSpace(runes[wordStart-1]) {
		wordStart--
	}
	var ue *UsageError
	switch {
	case wordStart < start:
		before := runes[wordStart:start]
		if len(before) > maxExcerptRunes {
			before = append([]rune("…"), before[len(before)-maxExcerptRunes:]...)
		}
		ue = newUsageError(msgUnclosedQuoteAfter, string(before))
	case start >= len(runes)-1:
		ue = newUsageError(msgUnclosedQuoteAtEnd)
	default:
		after := runes[start+1:]
		if len(after) > maxExcerptRunes {
			after = append(after[:maxExcerptRunes:maxExcerptRunes], '…')
		}
		ue = newUsageError(msgUnclosedQuote, string(after))
	}
	if quote == '\'' {
		ue.add(msgApostropheHint)
	}
	ue.Line, ue.Column = line, col
	return ue
}

// lexQuoted is the state after r inside a quote or an escape (lexEscape,
// lexDouble, lexDoubleEscape, lexSingle), as shlex moves through them.
func lexQuoted(state lexState, r rune) lexState {
	switch state {
	case lexEscape:
		return lexWord
	case lexDouble:
		switch r {
		case '"':
			return lexWord
		case '\\':
			return lexDoubleEscape
		}
	case lexDoubleEscape:
		return lexDouble
	case lexSingle:
		if r == '\'' {
			return lexWord
		}
	}
	return state
}

// splitShlex splits a line with shlex: splitNormalized's path for lines with a
// backslash, a '#' or invalid UTF-8, and the reference its fast path must match.
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
		default:
			state = lexQuoted(state, r)
		}
		b.WriteRune(r)
	}
	switch state {
	case lexDouble, lexDoubleEscape, lexSingle:
		return nil, unclosedQuoteError(line, openQuote, openCol)
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

// quotedWords reports, for each word splitNormalized finds in the
// normalised line, whether it was written with quotes or a backslash
// ("Release 4.2", 'x', Release\ 4.2): such a word was made one word on
// purpose. It walks the line with the states splitShlex mirrors, so it finds
// the same words; it is nil for a line without quotes or backslashes, whose
// words are all plain. Its length equals the number of words for a line
// splitNormalized splits without error.
func quotedWords(line string) []bool {
	if !strings.ContainsAny(line, "\"'\\") {
		return nil
	}
	var quoted []bool
	state := lexStart
	for _, r := range line {
		switch state {
		case lexStart, lexWord:
			if isLexSpace(r) {
				state = lexStart
				continue
			}
			if state == lexStart {
				quoted = append(quoted, false)
			}
			switch r {
			case '"':
				state = lexDouble
			case '\'':
				state = lexSingle
			case '\\':
				state = lexEscape
			default:
				state = lexWord
				continue
			}
			quoted[len(quoted)-1] = true
		default:
			state = lexQuoted(state, r)
		}
	}
	return quoted
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
