package commands

import "testing"

// TestUnresolvedHintsOnlyWhenTrue: the reply about people who could not be
// resolved suggests quoting the group name only when the name was written
// as bare words (not when it, or the word after it, was quoted or escaped),
// and says "(IDs are shown above)" only when candidates with their user IDs
// are listed above. Both languages.
func TestUnresolvedHintsOnlyWhenTrue(t *testing.T) {
	zed := answer{"Zed", nil, nil}
	wangs := answer{"王五", []Person{{"ww1", "王五"}, {"ww2", "王五"}}, nil}
	const (
		introEN = "I created nothing, because I couldn't tell who everyone is:\n"
		introZH = "我没有建群，因为有人我确定不了是谁：\n"
		fixEN   = "Write each of them as userid:ID, a mobile number, or their name exactly as in the address book, then send the command again."
		fixIDs  = "Write each of them as userid:ID (IDs are shown above), a mobile number, or their name exactly as in the address book, then send the command again."
		fixZH   = "请把他们改写成 userid:ID、手机号，或通讯录里的完整姓名，然后重新发送命令。"
		fixZHID = "请把他们改写成 userid:ID（ID 见上方）、手机号，或通讯录里的完整姓名，然后重新发送命令。"
	)
	tests := []struct {
		name    string
		text    string
		answers []answer
		want    string
	}{
		{"bare words: the hint, no IDs", "/newgroup Release Zed", []answer{zed},
			introEN + "- Zed: nobody in this organisation is called \"Zed\".\n" +
				"If Zed is part of the group name, put the whole name in quotes: \"Release Zed\"\n" + fixEN},
		{"quoted name: no hint", `/newgroup "Release Team" Zed`, []answer{zed},
			introEN + "- Zed: nobody in this organisation is called \"Zed\".\n" + fixEN},
		{"curly-quoted name: no hint", `/newgroup “Release Team” Zed`, []answer{zed},
			introEN + "- Zed: nobody in this organisation is called \"Zed\".\n" + fixEN},
		{"escaped name: no hint", `/newgroup Release\ Team Zed`, []answer{zed},
			introEN + "- Zed: nobody in this organisation is called \"Zed\".\n" + fixEN},
		{"quoted person after a bare name: no hint", `/newgroup Release "Zed"`, []answer{zed},
			introEN + "- Zed: nobody in this organisation is called \"Zed\".\n" + fixEN},
		{"ambiguous and not found: IDs shown", `/newgroup "X" Zed 王五`, []answer{zed, wangs},
			introEN + "- Zed: nobody in this organisation is called \"Zed\".\n" +
				"- 王五 matches 2 people: 王五 (userid:ww1) and 王五 (userid:ww2).\n" + fixIDs},
		{"Chinese, bare words: the hint, no IDs", "/建群 发布 赵六", []answer{{"赵六", nil, nil}},
			introZH + "- 赵六：本组织没有叫 \"赵六\" 的人。\n" +
				"如果 赵六 是群名的一部分，请把整个群名加上引号：\"发布 赵六\"\n" + fixZH},
		{"Chinese, quoted name: no hint", "/建群 “发布 4.2” 赵六", []answer{{"赵六", nil, nil}},
			introZH + "- 赵六：本组织没有叫 \"赵六\" 的人。\n" + fixZH},
		{"Chinese, ambiguous: IDs shown", "/建群 “发布” 王五", []answer{wangs},
			introZH + "- 王五 对应 2 个人：王五 (userid:ww1)和王五 (userid:ww2)。\n" + fixZHID},
	}
	l := testLanguage(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, final := run(t, l, directMsg(tt.text), tt.answers...)
			if final.Reply == nil {
				t.Fatalf("no reply; request %s", jsonOf(final.CreateGroup().Request))
			}
			if got := final.Reply.Text; got != tt.want {
				t.Errorf("reply\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestQuotedWordsMatchSplit: quotedWords finds the words Split finds, and
// marks those written with quotes or a backslash.
func TestQuotedWordsMatchSplit(t *testing.T) {
	tests := []struct {
		line string
		want []bool
	}{
		{`/newgroup Release Zed`, nil},
		{`/newgroup "Release 4.2" @alice`, []bool{false, true, false}},
		{`/newgroup Release\ 4.2 x`, []bool{false, true, false}},
		{`/newgroup a"b c"d 'e' ""`, []bool{false, true, true, true}},
		{`/newgroup "a\"b" #x '\'`, []bool{false, true, false, true}},
		{`/newgroup x  "y"  z`, []bool{false, false, true, false}},
	}
	for _, tt := range tests {
		line := Normalize(tt.line)
		words, err := splitNormalized(line)
		if err != nil {
			t.Fatalf("split %q: %v", line, err)
		}
		got := quotedWords(line)
		if tt.want == nil {
			if got != nil {
				t.Errorf("quotedWords(%q) = %v, want nil", line, got)
			}
			continue
		}
		if len(got) != len(words) || len(got) != len(tt.want) {
			t.Fatalf("quotedWords(%q) = %v for words %q, want %v", line, got, words, tt.want)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("quotedWords(%q)[%d] (%q) = %v, want %v", line, i, words[i], got[i], tt.want[i])
			}
		}
	}
}
