package commands

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzSeeds are command lines from the table tests plus awkward inputs.
var fuzzSeeds = []string{
	`/newgroup "Release 4.2" @alice @bob`,
	`/newgroup #release-42 @alice`,
	`/newgroup Bob's group @alice`,
	`／newgroup “发布 4.2” @alice —owner @alice`,
	"/newgroup\u3000Release\u00a0@alice",
	`/newgroup Release\ 4.2 @alice`,
	`/newgroup X --owner userid:0123 --standard --ext a,b --icon @m --mention-all owner --history yes --approval no --searchable 1 --mute off --manage everyone`,
	`/newgroup X --mute maybe`,
	`/newgroup -- -x`,
	`/newgroup X --owner=@carol @a @a`,
	`/help newgroup`,
	`/help`,
	`/newgrp`,
	`/newgroup "x\`,
	"/newgroup " + userIDs(40),
	"hello",
	"",
}

func FuzzInterpret(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, testSender, i%2 == 0, "d1=alice01,d2=bob02,"+testBot+"=")
	}
	f.Add(`/newgroup X @a @b`, "", true, "d1=,d2=x")
	f.Add(`/newgroup X --owner @b`, " ", false, "")
	f.Fuzz(func(t *testing.T, text, sender string, group bool, mentions string) {
		msg := Message{Text: text, SenderStaffID: sender, Group: group, BotUserID: testBot}
		if mentions != "" {
			for _, m := range strings.Split(mentions, ",") {
				d, s, _ := strings.Cut(m, "=")
				msg.Mentions = append(msg.Mentions, Mention{DingtalkID: d, StaffID: s})
			}
		}
		act := interpret(newCatalogue(), msg) // no recover: a panic fails the fuzz run
		if (act.Reply == nil) == (act.CreateGroup == nil) {
			t.Fatalf("Action has Reply=%v CreateGroup=%v", act.Reply != nil, act.CreateGroup != nil)
		}
		if act.Reply != nil {
			if act.Reply.Text == "" {
				t.Fatal("empty reply")
			}
			if !utf8.ValidString(act.Reply.Text) {
				t.Fatalf("reply is not valid UTF-8: %q", act.Reply.Text)
			}
			return
		}
		r := act.CreateGroup.Request
		if n := utf8.RuneCountInString(r.Name); n < 1 || n > MaxNameRunes {
			t.Fatalf("name %q has %d runes", r.Name, n)
		}
		if strings.TrimSpace(r.Name) != r.Name {
			t.Fatalf("name %q is not trimmed", r.Name)
		}
		if len(r.UserIDs) == 0 || r.UserIDs[0] != r.Owner || r.Owner == "" {
			t.Fatalf("owner %q is not first in %q", r.Owner, r.UserIDs)
		}
		if len(r.UserIDs) > MaxMembers {
			t.Fatalf("%d user IDs", len(r.UserIDs))
		}
		seen := map[string]bool{}
		for _, id := range r.UserIDs {
			if id == "" || seen[id] {
				t.Fatalf("empty or duplicate ID %q in %q", id, r.UserIDs)
			}
			seen[id] = true
		}
		if !seen[strings.TrimSpace(sender)] {
			t.Fatalf("sender %q missing from %q", sender, r.UserIDs)
		}
		if r.ConversationTag == nil || (*r.ConversationTag != 0 && *r.ConversationTag != 2) {
			t.Fatalf("conversationTag %v", r.ConversationTag)
		}
		if len(r.ExtIDs) > 0 && *r.ConversationTag != 0 {
			t.Fatalf("external contacts in an internal group")
		}
	})
}

func FuzzSplit(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := Split(s)
		if err != nil {
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("error %T is not a *UsageError", err)
			}
			if n := utf8.RuneCountInString(ue.Line); ue.Column < 1 || ue.Column > n {
				t.Fatalf("column %d outside line of %d runes", ue.Column, n)
			}
			return
		}
		for _, w := range words {
			if !utf8.ValidString(w) {
				t.Fatalf("invalid UTF-8 word %q", w)
			}
		}
		// Words without spaces or special characters survive a round trip.
		norm := Normalize(s)
		if !strings.ContainsAny(norm, `"'\`) {
			if got := strings.Join(words, " "); got != strings.Join(strings.Fields(norm), " ") {
				t.Fatalf("Split(%q) = %q, want the space-separated fields of %q", s, words, norm)
			}
		}
	})
}
