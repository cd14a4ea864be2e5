package commands

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
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
	`/newgroup X 13800000000 +86-138-0000-0000 0086 13800000000 alice`,
	`/newgroup --template release --template oncall X`,
}

func FuzzInterpret(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, testSender, i%2 == 0, "d1=alice01,d2=bob02,"+testBot+"=")
	}
	f.Add(`/newgroup X @a @b`, "", true, "d1=,d2=x")
	f.Add(`/newgroup X --owner @b`, " ", false, "")
	f.Add(`/建群 发布 王五 @release-team 13800000000 --template release --dry-run`, testSender, false, "")
	f.Add(`/ng X @Dan Carol --owner +8613800000000 --模板 oncall --预览`, testSender, true, "d4=dan04")
	f.Add(`/新群 X alice ALICE @alice userid:alice01`, testSender, true, "d1=alice01")
	f.Add(`/help templates`, testSender, false, "")
	f.Add(`/groups --page 2 --all`, testSender, true, "")
	f.Add(`/群列表 --page=0`, " ", false, "")
	l, err := New(testSettings())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text, sender string, group bool, mentions string) {
		msg := Message{Text: text, SenderStaffID: sender, Group: group, BotUserID: testBot}
		if mentions != "" {
			for _, m := range strings.Split(mentions, ",") {
				d, s, _ := strings.Cut(m, "=")
				msg.Mentions = append(msg.Mentions, Mention{DingtalkID: d, StaffID: s})
			}
		}
		// No recover: a panic fails the fuzz run.
		act := l.interpret(msg).act
		checkAction(t, act, text, sender, false)
		if cg := act.CreateGroup(); cg != nil && len(cg.Pending) > 0 {
			// Answer every look-up: found, not found or ambiguous by the value's length.
			var lookups []Lookup
			for i, ref := range cg.Pending {
				var cands []Person
				for j := 0; j < len(ref.Value)%3; j++ {
					cands = append(cands, Person{UserID: fmt.Sprintf("p%d_%d", i, j), Name: ref.Value})
				}
				lookups = append(lookups, Lookup{Ref: ref, Candidates: cands})
			}
			done := l.Complete(cg, lookups)
			checkAction(t, done, text, sender, true)
			if done.CreateGroup() != nil && done.CreateGroup().DryRun {
				t.Fatal("Complete returned a dry run to create")
			}
		}
		if act.CreateGroup() != nil && act.CreateGroup().DryRun && len(act.CreateGroup().Pending) == 0 {
			t.Fatal("Interpret returned a final dry run to create")
		}
		if _, err := json.Marshal(l.Parse(text)); err != nil {
			t.Fatal(err)
		}
	})
}

// checkAction checks the invariants of an Action; final requires a
// CreateGroup without pending people.
// fmtError matches what fmt writes for a bad verb or argument: %!v(…),
// %!(EXTRA …), %!d(MISSING), %!(NOVERB) and the like.
var fmtError = regexp.MustCompile(`%!.?\(`)

// checkAction checks the invariants of an Action for the message text.
func checkAction(t *testing.T, act Action, text, sender string, final bool) {
	t.Helper()
	if (act.Reply == nil) == (act.Plan == nil) {
		t.Fatalf("Action has Reply=%v Plan=%v; want exactly one", act.Reply != nil, act.Plan != nil)
	}
	if lg := act.ListGroups(); lg != nil {
		if lg.Sender != strings.TrimSpace(sender) || lg.Page < 1 || (lg.Lang != English && lg.Lang != Chinese) {
			t.Fatalf("ListGroups %+v from sender %q", lg, sender)
		}
		return
	}
	if act.Reply != nil {
		if act.Reply.Text == "" {
			t.Fatal("empty reply")
		}
		if !utf8.ValidString(act.Reply.Text) {
			t.Fatalf("reply is not valid UTF-8: %q", act.Reply.Text)
		}
		// A reply may quote what was typed, so only a marker the text lacks counts.
		if len(fmtError.FindAllString(act.Reply.Text, -1)) > len(fmtError.FindAllString(text, -1)) {
			t.Fatalf("formatting error in reply %q", act.Reply.Text)
		}
		return
	}
	cg := act.CreateGroup()
	if final && len(cg.Pending) > 0 {
		t.Fatalf("final CreateGroup with pending %v", cg.Pending)
	}
	if cg.Lang != English && cg.Lang != Chinese {
		t.Fatalf("language %q", cg.Lang)
	}
	r := cg.Request
	if n := utf8.RuneCountInString(r.Name); n < 1 || n > MaxNameRunes {
		t.Fatalf("name %q has %d runes", r.Name, n)
	}
	if strings.TrimSpace(r.Name) != r.Name {
		t.Fatalf("name %q is not trimmed", r.Name)
	}
	ownerPending := false
	for _, p := range cg.Pending {
		ownerPending = ownerPending || p.Owner
		if p.Kind == RefMobile && len(p.Value) != 11 {
			t.Fatalf("mobile %q", p.Value)
		}
		if p.Value == "" || p.Text == "" {
			t.Fatalf("empty PersonRef %+v", p)
		}
	}
	if ownerPending != (r.Owner == "") {
		t.Fatalf("owner %q, owner pending %v", r.Owner, ownerPending)
	}
	if r.Owner != "" && (len(r.UserIDs) == 0 || r.UserIDs[0] != r.Owner) {
		t.Fatalf("owner %q is not first in %q", r.Owner, r.UserIDs)
	}
	if len(r.UserIDs)+len(cg.Pending) > MaxTotalMembers {
		t.Fatalf("%d user IDs and %d pending", len(r.UserIDs), len(cg.Pending))
	}
	seen := map[string]bool{}
	for _, id := range r.UserIDs {
		if !validID(id) || seen[id] {
			t.Fatalf("invalid or duplicate ID %q in %q", id, r.UserIDs)
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

// FuzzComplete fuzzes the bot's look-up answers: whatever DingTalk returns,
// Complete gives a final request or a reply, never a half-right group.
func FuzzComplete(f *testing.F) {
	f.Add(`/newgroup X Carol 13800000000 --owner Dan`, "carol03", "Carol", uint8(1), false)
	f.Add(`/建群 X 王五 --dry-run`, "ww1", "王五\n", uint8(2), false)
	f.Add(`/newgroup X @Carol @Dan`, " ", "", uint8(3), true)
	f.Add(`/newgroup X Carol`, "\xff", "\x00", uint8(1), false)
	l, err := New(testSettings())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text, id, name string, n uint8, fail bool) {
		act := l.interpret(directMsg(text)).act
		cg := act.CreateGroup()
		if cg == nil || len(cg.Pending) == 0 {
			return
		}
		var lookups []Lookup
		for i, ref := range cg.Pending {
			lk := Lookup{Ref: ref}
			for j := 0; j < int(n%4); j++ {
				lk.Candidates = append(lk.Candidates, Person{UserID: fmt.Sprintf("%s%d", id, (i+j)%2), Name: name})
			}
			if fail && i == 0 {
				lk.Err = errors.New(id)
			}
			lookups = append(lookups, lk)
		}
		done := l.Complete(cg, lookups)
		checkAction(t, done, text, testSender, true)
		if done.Reply != nil && fail && strings.Contains(done.Reply.Text, id) && len(id) > 3 && !strings.Contains(text, id) {
			t.Fatalf("reply shows the error text %q:\n%s", id, done.Reply.Text)
		}
		if done.CreateGroup() != nil {
			l.createdReply(done.CreateGroup(), nil, []string{id})
			l.FailedReply(done.CreateGroup(), errors.New(name))
		}
		l.DryRunReply(cg)
	})
}
