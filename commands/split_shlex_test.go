package commands

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/shlex"
)

// shlexReference is the oracle splitNormalized must match: escape a '#' at
// the start of a word (shlex would start a comment) and call shlex.Split. It
// is written independently of the production code on purpose, so it checks
// both the fast path (no backslash or '#') and the shlex path.
func shlexReference(line string) ([]string, bool) {
	var b strings.Builder
	state := lexStart
	for _, r := range line {
		switch state {
		case lexStart, lexWord:
			switch {
			case isLexSpace(r):
				state = lexStart
			case r == '"':
				state = lexDouble
			case r == '\'':
				state = lexSingle
			case r == '\\':
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
	words, err := shlex.Split(b.String())
	return words, err == nil
}

// fastPath reports whether splitNormalized splits line itself (splitQuoted)
// rather than with shlex.
func fastPath(line string) bool {
	return !strings.ContainsAny(line, `\#`) && utf8.ValidString(line)
}

func checkAgainstShlex(t *testing.T, line string) {
	t.Helper()
	got, err := splitNormalized(line)
	want, ok := shlexReference(line)
	if ok != (err == nil) {
		t.Fatalf("splitNormalized(%q): error %v, shlex accepts it: %v", line, err, ok)
	}
	if ok && !slices.Equal(got, want) {
		t.Fatalf("splitNormalized(%q) = %q, shlex gives %q", line, got, want)
	}
	if q := quotedWords(line); ok && q != nil && len(q) != len(got) {
		t.Fatalf("quotedWords(%q) has %d entries for %d words %q", line, len(q), len(got), got)
	}
	if fastPath(line) {
		// The fast path's errors must be the shlex path's, column and all.
		fast, fastErr := splitQuoted(line)
		slow, slowErr := splitShlex(line)
		if !slices.Equal(fast, slow) || !reflect.DeepEqual(fastErr, slowErr) {
			t.Fatalf("line %q: fast path gives %q, %#v; shlex path gives %q, %#v", line, fast, fastErr, slow, slowErr)
		}
	}
}

// quoteHeavyLine builds a random line from pieces that stress quoting: empty
// and adjacent quotes, quotes at word edges, lone (unclosed) quotes and CJK
// inside quotes. One piece in about 25 is a backslash or '#', so that lines
// on both sides of the fast path's boundary are generated.
func quoteHeavyLine(rng *rand.Rand) string {
	pieces := []string{
		`"`, `'`, `""`, `''`, `"'"`, `'"'`, `"a b"`, `'a b'`, `"中 文"`, `'发布 4.2'`, `"“引号”"`, `x"`, `"x`, `'y`, `y'`,
		`a`, `bc`, `中`, `发布`, `@alice`, `--mute`, `-`, `/newgroup`, " ", " ", "  ", "\t", "\n", "\r", "\u3000",
	}
	var b strings.Builder
	for range rng.IntN(14) {
		if rng.IntN(25) == 0 {
			b.WriteString([]string{`\`, "#"}[rng.IntN(2)])
			continue
		}
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return b.String()
}

// TestSplitMatchesShlex: splitNormalized gives exactly shlex's words on the
// fuzz seeds, the fuzz corpus, hand-picked edge cases, random lines and
// random quote-heavy lines, and its fast path gives the shlex path's errors.
func TestSplitMatchesShlex(t *testing.T) {
	lines := append([]string(nil), fuzzSeeds...)
	lines = append(lines,
		``, ` `, `a`, `a b`, `  a   b  `, `""`, `a "" b`, `''`, `a''b`, `"a"b'c'd`, `\a`, `a\ b`, `"a\"b"`, `"a\\b"`,
		`"a\b"`, `'a\b'`, `#x`, `a#b`, `a #b #`, `"#"`, `\#`, "a\tb\nc\rd", `"a b" 'c d'`, `x"y z"w`,
		`/newgroup "Release 4.2" @alice @bob --mute yes`, `"unclosed`, `'unclosed`, `trailing\`, `"esc\`,
		"bad\xffbyte", "\xff", `"q`+"\xfe"+`"`, `\`+"\xff", "ok \uFFFD ok", "中文 “引号”", `@张三 "发布 4.2"`,
	)
	for _, dir := range []string{"FuzzSplit", "FuzzInterpret", "FuzzComplete"} {
		files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", dir, "*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range strings.Split(string(b), "\n")[1:] {
				l = strings.TrimSpace(l)
				if strings.HasPrefix(l, "string(") && strings.HasSuffix(l, ")") {
					if s, err := strconv.Unquote(l[len("string(") : len(l)-1]); err == nil {
						lines = append(lines, s)
					}
				}
			}
		}
	}
	for _, l := range lines {
		checkAgainstShlex(t, l)
		checkAgainstShlex(t, Normalize(l))
	}
	alphabet := []string{"a", "b", " ", " ", "\t", `"`, `'`, `\`, "#", "中", "\xff", "-", "@", "\uFFFD"}
	rng := rand.New(rand.NewPCG(7, 11))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		checkAgainstShlex(t, b.String())
	}
	fast := 0
	for range 20000 {
		line := quoteHeavyLine(rng)
		if fastPath(line) {
			fast++
		}
		checkAgainstShlex(t, line)
		checkAgainstShlex(t, Normalize(line))
	}
	if fast < 10000 {
		t.Fatalf("only %d of 20000 quote-heavy lines took the fast path", fast)
	}
}

// FuzzSplitMatchesShlex extends TestSplitMatchesShlex to fuzzed lines:
// go test -run '^$' -fuzz=FuzzSplitMatchesShlex ./commands
func FuzzSplitMatchesShlex(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	for _, s := range []string{`a"b c"d'e f'`, `"" '' ""''`, `'中 文'x"发布 4.2"`, `x "unclosed`, `Bob's`, "\"a\tb\"\n'c\rd'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkAgainstShlex(t, s) })
}

// TestNormalizeASCIIFastPath: the plain-ASCII shortcut gives what the full
// normalisation gives.
func TestNormalizeASCIIFastPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for range 20000 {
		b := make([]byte, rng.IntN(16))
		for i := range b {
			b[i] = byte(' ' + rng.IntN('~'-' '+1))
			if rng.IntN(4) == 0 {
				b[i] = " -\"'#"[rng.IntN(5)]
			}
		}
		if got, want := Normalize(string(b)), normalize(string(b)); got != want {
			t.Fatalf("Normalize(%q) = %q, want %q", b, got, want)
		}
	}
}

// TestASCIIShortcuts: the ASCII shortcuts of hasCJK and validID agree with
// the unicode tables they skip.
func TestASCIIShortcuts(t *testing.T) {
	for r := rune(0); r < 0x2e80; r++ {
		if unicode.Is(unicode.Han, r) {
			t.Fatalf("%U is Han, but hasCJK skips runes below U+2E80", r)
		}
	}
	for r := rune(' ' + 1); r < 0x7f; r++ {
		if !unicode.IsGraphic(r) || unicode.IsSpace(r) {
			t.Fatalf("%q: validID's shortcut takes it as graphic", r)
		}
	}
}
