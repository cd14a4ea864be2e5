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

func TestCaretLine(t *testing.T) {
	tests := []struct {
		line string
		col  int
		want string
	}{
		{`/newgroup Bob's`, 14, strings.Repeat(" ", 13) + "^"},
		{`ab`, 1, "^"},
		{`发布"x`, 3, "\u3000\u3000^"},
	}
	for _, tt := range tests {
		if got := caretLine(tt.line, tt.col); got != tt.want {
			t.Errorf("caretLine(%q, %d) = %q, want %q", tt.line, tt.col, got, tt.want)
		}
	}
}

func TestUsageErrorError(t *testing.T) {
	_, err := Split(`/newgroup "x`)
	if err == nil {
		t.Fatal("want error")
	}
	if got, want := err.Error(), `The quote " at column 11 is never closed.`; got != want {
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
