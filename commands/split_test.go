package commands

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain ascii unchanged", `/newgroup "Release 4.2" @alice`, `/newgroup "Release 4.2" @alice`},
		{"leading space from removed bot mention", `  /newgroup x `, `/newgroup x`},
		{"curly double quotes", `/newgroup “Release 4.2”`, `/newgroup "Release 4.2"`},
		{"low-9 and reversed double quotes", `„a‟`, `"a"`},
		{"full-width double quote", `＂a＂`, `"a"`},
		{"corner brackets", `「发布」『会议』`, `"发布""会议"`},
		{"curly single quotes", `‘a’`, `'a'`},
		{"full-width single quote", `＇a＇`, `'a'`},
		{"ideographic space", "/newgroup\u3000发布", "/newgroup 发布"},
		{"nbsp", "/newgroup\u00a0x", "/newgroup x"},
		{"four-per-em space after mention", "@alice\u2005@bob", "@alice @bob"},
		{"tabs and newlines", "/newgroup\tx\r\ny", "/newgroup x  y"},
		{"zero-width space and bom removed", "\ufeff/new\u200bgroup x", "/newgroup x"},
		{"full-width slash", "／newgroup x", "/newgroup x"},
		{"full-width at", "＠alice", "@alice"},
		{"full-width hyphen-minus", "－－owner new－group", "--owner new-group"},
		{"em dash before long option", "x —owner @a", "x --owner @a"},
		{"double em dash (Chinese IME)", "x ——mute yes", "x --mute yes"},
		{"en dash before long option", "x –mute yes", "x --mute yes"},
		{"em dash before one letter", "x —h", "x -h"},
		{"em dash inside a word is kept", "Q3—planning", "Q3—planning"},
		{"free-standing em dash is kept", "a — b", "a — b"},
		{"ascii dashes kept", "--owner -h", "--owner -h"},
		{"invalid utf-8 replaced", "a\xffb", "a\ufffdb"},
		{"empty", "", ""},
		{"only spaces", "\u3000 \u00a0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantCol int // >0: expect a *UsageError at this column
	}{
		{"basic", `/newgroup "Release 4.2" @alice @bob`, []string{"/newgroup", "Release 4.2", "@alice", "@bob"}, 0},
		{"hash word is a word", `/newgroup #release-42 @alice`, []string{"/newgroup", "#release-42", "@alice"}, 0},
		{"hash at line start", `#x y`, []string{"#x", "y"}, 0},
		{"hash inside word", `a#b`, []string{"a#b"}, 0},
		{"hash in double quotes", `"#a #b"`, []string{"#a #b"}, 0},
		{"hash in single quotes", `'#a #b'`, []string{"#a #b"}, 0},
		{"escaped hash", `\#a`, []string{"#a"}, 0},
		{"curly quotes", `/newgroup “Release 4.2” @alice`, []string{"/newgroup", "Release 4.2", "@alice"}, 0},
		{"corner brackets", `/newgroup 「发布 4.2」`, []string{"/newgroup", "发布 4.2"}, 0},
		{"ideographic space", "/newgroup\u3000Release @alice", []string{"/newgroup", "Release", "@alice"}, 0},
		{"nbsp", "/newgroup\u00a0Release", []string{"/newgroup", "Release"}, 0},
		{"full-width slash", "／newgroup x", []string{"/newgroup", "x"}, 0},
		{"backslash escapes space", `/newgroup Release\ 4.2 @alice`, []string{"/newgroup", "Release 4.2", "@alice"}, 0},
		{"backslash escapes quote", `a\"b`, []string{`a"b`}, 0},
		{"escaped quote inside double quotes", `"a\"b"`, []string{`a"b`}, 0},
		{"single quotes keep backslash", `'a\b'`, []string{`a\b`}, 0},
		{"apostrophe in quoted name", `"Bob's group"`, []string{"Bob's group"}, 0},
		{"empty quotes give an empty word", `/newgroup ""`, []string{"/newgroup", ""}, 0},
		{"adjacent quoted parts join", `a"b c"d`, []string{"ab cd"}, 0},
		{"empty line", "", []string{}, 0},
		{"Bob's unterminated", `/newgroup Bob's group @alice`, nil, 14},
		{"curly apostrophe unterminated", `/newgroup Bob’s group`, nil, 14},
		{"unterminated double quote", `/newgroup "Release 4.2 @alice`, nil, 11},
		{"unterminated after CJK", `/newgroup 发布“第四版`, nil, 13},
		{"unterminated after leading space trimmed", `   /newgroup "x`, nil, 11},
		{"trailing backslash", `/newgroup x\`, nil, 12},
		{"backslash at end inside quotes", `/newgroup "x\`, nil, 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split(tt.in)
			if tt.wantCol > 0 {
				var ue *UsageError
				if !errors.As(err, &ue) {
					t.Fatalf("Split(%q) = %q, %v; want *UsageError", tt.in, got, err)
				}
				if ue.Column != tt.wantCol {
					t.Errorf("Split(%q) column = %d, want %d", tt.in, ue.Column, tt.wantCol)
				}
				if ue.Line != Normalize(tt.in) {
					t.Errorf("Split(%q) line = %q, want the normalised input", tt.in, ue.Line)
				}
				return
			}
			if err != nil {
				t.Fatalf("Split(%q) error: %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Split(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestUnclosedQuoteSaysWhereInWords: an unclosed quote is pointed at in
// words, in both languages (DingTalk's proportional fonts line up no caret):
// the text from the quote on, the part of the word before a quote inside a
// word (an apostrophe), or the end of the line; long excerpts are cut.
func TestUnclosedQuoteSaysWhereInWords(t *testing.T) {
	tests := []struct {
		line   string
		en, zh string
	}{
		{`/newgroup "Release 4.2 @Alice`,
			"The quote that starts at “Release 4.2 @Alice” is never closed.",
			"从“Release 4.2 @Alice”开始的引号没有闭合。"},
		{`/newgroup Bob's group @alice`,
			"The quote after “Bob” is never closed. If it is an apostrophe (as in Bob's), put the whole name in double quotes, like \"Bob's group\".",
			"“Bob”后面的引号没有闭合。如果那是撇号（如 Bob's），请把整个群名放进双引号，例如 \"Bob's group\"。"},
		{`/建群 发布“第四版 @王芳`,
			"The quote after “发布” is never closed.",
			"“发布”后面的引号没有闭合。"},
		{`/newgroup X "`,
			"The quote at the end of the line is never closed.",
			"行末的引号没有闭合。"},
		{`/newgroup "` + strings.Repeat("a", 40),
			"The quote that starts at “" + strings.Repeat("a", 30) + "…” is never closed.",
			"从“" + strings.Repeat("a", 30) + "…”开始的引号没有闭合。"},
		{`/newgroup ` + strings.Repeat("b", 40) + `'s`,
			"The quote after “…" + strings.Repeat("b", 30) + "” is never closed. If it is an apostrophe (as in Bob's), put the whole name in double quotes, like \"Bob's group\".",
			"“…" + strings.Repeat("b", 30) + "”后面的引号没有闭合。如果那是撇号（如 Bob's），请把整个群名放进双引号，例如 \"Bob's group\"。"},
		{`/newgroup a\ "b`, // through shlex's path
			"The quote that starts at “b” is never closed.",
			"从“b”开始的引号没有闭合。"},
	}
	for _, tt := range tests {
		_, err := Split(tt.line)
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Fatalf("Split(%q) error = %v, want a *UsageError", tt.line, err)
		}
		if got := ue.problem(c(English)); got != tt.en {
			t.Errorf("Split(%q) in English:\n got %s\nwant %s", tt.line, got, tt.en)
		}
		if got := ue.problem(c(Chinese)); got != tt.zh {
			t.Errorf("Split(%q) in Chinese:\n got %s\nwant %s", tt.line, got, tt.zh)
		}
	}
}

func TestUsageErrorError(t *testing.T) {
	_, err := Split(`/newgroup "x`)
	if err == nil {
		t.Fatal("want error")
	}
	if got, want := err.Error(), `The quote that starts at “x” is never closed.`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestLevenshtein(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"newgrp", "newgroup", 2}, {"kitten", "sitting", 3}, {"发布", "发表", 1},
	}
	for _, tt := range tests {
		if got := levenshtein(tt.a, tt.b); got != tt.want {
			t.Errorf("levenshtein(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// BenchmarkNormalizeSplit measures the lexer alone: normalisation and
// splitting of a typical command line typed on a phone.
func BenchmarkNormalizeSplit(b *testing.B) {
	line := ` /newgroup “Release 4.2” @alice @bob —mute yes`
	b.ReportAllocs()
	for b.Loop() {
		if words, err := Split(line); err != nil || len(words) != 6 {
			b.Fatal(words, err)
		}
	}
}
