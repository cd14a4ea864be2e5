package commands

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/dingbot/dingbot/dingclient"
)

// How /newgroup turns the people in a command into user IDs.
//
// Each person word — an @word, a bare word after NAME, an --owner value, a
// person of a template — is resolved by the first rule that applies:
//
//  1. a real @mention (groups only, see below) → its atUsers staffId;
//  2. a configured alias (Settings.People, without @, any case) → its IDs;
//  3. a mobile number (13800000000, @13800000000, +8613800000000, 0086…,
//     86…, dashes allowed) → a RefMobile PersonRef for the bot to look up;
//  4. userid:ID → ID;
//  5. anything else → a RefName PersonRef: an exact-name search by the bot.
//
// Pairing @words with atUsers. DingTalk sends the mentioned people (atUsers,
// the bot itself removed) but not which @word each belongs to. Let A be the
// @words the user typed (positional and --owner, in order; template words
// never pair) and M the mentions:
//
//   - if A and M have the same length, or M has one entry per distinct word
//     of A, every @word is a real mention: the i-th word (or distinct word)
//     is the i-th mention, even if it is also an alias of one person. Not
//     so when A holds a word that cannot be a mention's text (a mobile
//     number, an alias of several people): that word was typed, and someone
//     picked from DingTalk's @ list lost their text. For the same reason an
//     --owner @word that is one person's alias, paired with a mention of
//     someone else, is refused as ambiguous;
//   - else let W be A without the aliases and mobile numbers (those were
//     typed as text); if W and M pair the same way, they are paired and the
//     aliases and mobiles resolve by rules 2 and 3;
//   - else if W is shorter than M (DingTalk dropped some mention text), every
//     mention is a member, the words of W are taken to be among them, and
//     --owner @x with x in W is refused as ambiguous;
//   - else (more words than mentions, e.g. names typed without picking from
//     DingTalk's list, or any @word in a one-to-one chat) every mention is a
//     member and every word of W is looked up by name; when such a look-up
//     finds several people of whom exactly one was mentioned, that one is
//     taken.
//
// A paired mention without a staffId (someone outside the organisation)
// stops the command, naming the @word.
//
// DingTalk often strips the text of a mention picked from its @ list and
// sends only the atUsers entry, so a message may carry mentions with no @word
// at all ("/newgroup Release" with atUsers Alice and Bob: both are members,
// in atUsers order) or with only some of them typed (the rules above).
//
// Display names, for replies: the configuration's name (Settings.Names) if
// there is one; else the name DingTalk gave: a paired @word without the @ (the
// name DingTalk's @ list inserted), the sender's nick, a look-up's answer.
// Aliases and userid: are no names: "@boss" is shown as the configuration's
// name of boss's user ID, else as the user ID. A mention without an @word has
// no name but the configuration's.
//
// Members are, in order and without duplicates: the owner (the sender unless
// --owner), the sender, the mentions not paired with a word (if any), the
// people the user wrote, then the template's people.

// plan records how to assemble the members once the pending people are known.
type plan struct {
	sender   string
	owner    entry   // the owner; ids == nil && ref < 0 means the sender
	people   []entry // members in order
	mentions []string
	allMents bool     // every mention is a member
	nameRun  []string // NAME and the bare words right after it; nil if there are none
	name     string
	// onlyNamed leaves the owner and the sender out of the members unless
	// they were named: the people a command acts on, not a new group's members.
	onlyNamed bool
	// expanded are the aliases that stood for more than one person.
	expanded []Expansion
}

// People is the people a command names, resolved as far as the command
// language can (the rules above): the user IDs known from mentions, aliases
// and userid:, the people only DingTalk can resolve (Pending), their
// display names, and the order the members take once all are known. A
// command that takes people keeps it in its plan and implements PeoplePlan:
// the bot looks Pending up and the plan's completion calls Resolve.
type People struct {
	// Pending are the people the bot must look up; empty means none.
	Pending []PersonRef
	// Names maps user IDs to display names known so far (the typed @mention
	// text, the configuration's Names, look-ups), for replies.
	Names map[string]string

	plan *plan // how the members are ordered; nil for People built elsewhere
}

// peopleWords are the people a command's user typed as plain words (not an
// --owner), for resolvePeople.
func peopleWords(words []string) []personWord {
	out := make([]personWord, len(words))
	for i, w := range words {
		out[i] = personWord{text: w, typed: true}
	}
	return out
}

// entry is people known by ID, or a pending PersonRef.
type entry struct {
	ids []string
	ref int // index into CreateGroup.Pending; -1 for ids
}

// resolvePeople applies the rules above to words, the people a command of
// def names (the word of an --owner option flagged owner; name and nameRun
// are the command's NAME and the bare words right after it, for hints, or
// empty). It fills pp, using p for its plan (the caller allocates both, often
// together with its own plan), and returns the owner (the sender unless an
// owner word was given, "" while that one is pending) and the members known
// so far, in order.
func (l *Language) resolvePeople(def *Definition, words []personWord, name string, nameRun []string, msg Message, pp *People, p *plan) (string, []string, error) {
	sender := strings.TrimSpace(msg.SenderStaffID)
	ownerErr := func(id msgID, args ...any) error {
		if opt := def.option(optOwner, false); opt != nil {
			return optionError(def, opt, id, args...)
		}
		return newUsageError(id, args...)
	}
	wordErr := func(w personWord, id msgID, args ...any) error {
		if w.owner {
			return ownerErr(id, args...)
		}
		return newUsageError(id, args...)
	}
	for _, w := range words {
		bare := strings.TrimPrefix(w.text, "@")
		if id, ok := userIDValue(w.text); ok {
			if !validID(id) {
				return "", nil, wordErr(w, msgBadUserID, w.text)
			}
			continue
		}
		if strings.TrimSpace(bare) == "" || hasControl(bare) || utf8.RuneCountInString(bare) > maxPersonRunes {
			return "", nil, wordErr(w, msgBadPerson, w.text)
		}
	}

	var mentBuf [4]Mention
	ments := mentBuf[:0]
	if len(msg.Mentions) > len(mentBuf) {
		ments = make([]Mention, 0, len(msg.Mentions))
	}
	for _, m := range msg.Mentions {
		if msg.BotUserID != "" && m.DingtalkID == msg.BotUserID {
			continue
		}
		// A staffId that is no valid user ID is as good as none.
		if m.StaffID = strings.TrimSpace(m.StaffID); !validID(m.StaffID) {
			m.StaffID = ""
		}
		ments = append(ments, m)
	}
	// all and textual index words: the typed @words, and those of them
	// that are no aliases or mobiles. mention[i] says what became of
	// words[i]: k+1 if it is paired with ments[k], coveredMention if it
	// is taken to be among the mentions, 0 otherwise.
	const coveredMention = -1
	n := len(words)
	var small [24]int
	idx := small[:]
	if 3*n > len(small) {
		idx = make([]int, 3*n)
	}
	all, textual, mention := idx[:0:n], idx[n:n:2*n], idx[2*n:3*n]
	mentionText := true // every word of all could be the text of a mention
	for i, w := range words {
		if !w.typed || !strings.HasPrefix(w.text, "@") {
			continue
		}
		all = append(all, i)
		_, mobile := mobileValue(w.text)
		ids := l.alias(w.text)
		if !mobile && ids == nil {
			textual = append(textual, i)
		}
		if mobile || len(ids) > 1 {
			mentionText = false
		}
	}
	pair := func(idx []int) bool {
		if len(idx) == len(ments) {
			for k, i := range idx {
				mention[i] = k + 1
			}
			return true
		}
		texts := make([]string, len(idx))
		for k, i := range idx {
			texts[k] = words[i].text
		}
		d := distinctIndex(texts)
		if d.count != len(ments) {
			return false
		}
		for k, i := range idx {
			mention[i] = d.index[k] + 1
		}
		return true
	}
	// paired returns the mention paired with words[i], if any.
	paired := func(i int) (Mention, bool) {
		if k := mention[i]; k > 0 {
			return ments[k-1], true
		}
		return Mention{}, false
	}
	allMents := false
	switch {
	case len(ments) > 0 && mentionText && pair(all):
	case pair(textual):
	default:
		allMents = len(ments) > 0
		noID := 0
		for _, m := range ments {
			if strings.TrimSpace(m.StaffID) == "" {
				noID++
			}
		}
		switch {
		case noID == 1:
			return "", nil, newUsageError(msgMentionsOutsideCountOne)
		case noID > 1:
			return "", nil, newUsageError(msgMentionsOutsideCountMany, noID)
		}
		if len(textual) < len(ments) {
			for _, i := range textual {
				if words[i].owner {
					return "", nil, newUsageError(msgOwnerAmbiguous, words[i].text)
				}
				mention[i] = coveredMention
			}
		}
	}
	var outside []string
	for _, i := range all {
		if m, ok := paired(i); ok && strings.TrimSpace(m.StaffID) == "" && !contains(outside, words[i].text) {
			outside = append(outside, words[i].text)
		}
	}
	switch len(outside) {
	case 0:
	case 1:
		return "", nil, newUsageError(msgMentionOutsideOne, outside[0])
	default:
		return "", nil, newUsageError(msgMentionOutsideMany, andList(outside))
	}

	*p = plan{sender: sender, owner: entry{ref: -1}, name: name, nameRun: nameRun, allMents: allMents,
		people: make([]entry, 0, len(words))}
	pp.Names = make(map[string]string, len(words)+1)
	// One backing array for the mentions' IDs and the single IDs of the people below.
	strs := make([]string, 0, len(ments)+len(words))
	single := strs[len(ments):len(ments)]
	p.mentions = strs[:0:len(ments)]
	one := func(id string) []string {
		single = append(single, id)
		return single[len(single)-1 : len(single) : len(single)]
	}
	for _, m := range ments {
		if id := strings.TrimSpace(m.StaffID); id != "" {
			p.mentions = append(p.mentions, id)
		}
	}
	setName := func(id, name string) {
		if _, ok := pp.Names[id]; !ok && name != "" {
			pp.Names[id] = name
		}
	}
	var pending map[PersonRef]int // by Kind and Value; made at the first reference
	addRef := func(w personWord, kind RefKind, value string) int {
		key := PersonRef{Kind: kind, Value: value}
		if pending == nil {
			pending = map[PersonRef]int{}
		}
		if i, ok := pending[key]; ok {
			if w.owner {
				pp.Pending[i].Owner = true
			}
			return i
		}
		pending[key] = len(pp.Pending)
		pp.Pending = append(pp.Pending, PersonRef{Text: w.text, Kind: kind, Value: value, Owner: w.owner})
		return len(pp.Pending) - 1
	}
	for i, w := range words {
		if mention[i] == coveredMention {
			continue
		}
		e := entry{ref: -1}
		if m, ok := paired(i); ok {
			id := strings.TrimSpace(m.StaffID)
			if alias := l.alias(w.text); w.owner && len(alias) == 1 && alias[0] != id {
				// Someone else than the alias's person: a real mention with
				// that text, or the alias typed and another person picked
				// whose text DingTalk stripped. The owner is not guessed.
				return "", nil, newUsageError(msgOwnerAmbiguous, w.text)
			}
			e.ids = one(id)
			setName(id, strings.TrimPrefix(w.text, "@"))
		} else if id, ok := userIDValue(w.text); ok {
			e.ids = one(id)
		} else if ids := l.alias(w.text); ids != nil {
			if w.owner && len(ids) > 1 {
				return "", nil, ownerErr(msgOwnerNotOne, w.text, len(ids))
			}
			e.ids = ids
			if len(ids) > 1 && !slices.ContainsFunc(p.expanded, func(x Expansion) bool { return strings.EqualFold(x.Alias, w.text) }) {
				p.expanded = append(p.expanded, Expansion{Alias: w.text, Count: len(ids)})
			}
		} else if mobile, ok := mobileValue(w.text); ok {
			e.ref = addRef(w, RefMobile, mobile)
		} else {
			e.ref = addRef(w, RefName, strings.TrimSpace(strings.TrimPrefix(w.text, "@")))
		}
		if w.owner {
			p.owner = e
		} else {
			p.people = append(p.people, e)
		}
	}
	pp.plan = p
	if msg.SenderNick != "" {
		setName(sender, sanitizeName(msg.SenderNick))
	}
	owner, ids := p.assemble(nil)
	for _, id := range ids {
		if n, ok := l.names[id]; ok {
			pp.Names[id] = n
		}
	}
	if n := len(ids) + len(pp.Pending); n > MaxTotalMembers {
		return "", nil, newUsageError(msgTooManyPeople, n, MaxTotalMembers)
	}
	return owner, ids, nil
}

// alias returns the IDs of the configured alias w (with or without @), or nil.
func (l *Language) alias(w string) []string {
	if len(l.people) == 0 {
		return nil
	}
	return l.people[strings.ToLower(strings.TrimPrefix(w, "@"))]
}

// assemble returns the owner and the members, in order and without
// duplicates. resolved holds the user IDs of the pending people (nil, or ""
// for one not known yet); unknown people are left out, and an unknown owner
// is "".
func (p *plan) assemble(resolved []string) (string, []string) {
	// refID is the resolved ID of a pending person, or "".
	refID := func(e entry) string {
		if e.ref < len(resolved) {
			return resolved[e.ref]
		}
		return ""
	}
	owner := p.sender
	if p.owner.ref >= 0 {
		owner = refID(p.owner)
	} else if p.owner.ids != nil {
		owner = ""
		if len(p.owner.ids) > 0 {
			owner = p.owner.ids[0]
		}
	}
	n := 2
	if p.allMents {
		n += len(p.mentions)
	}
	for _, e := range p.people {
		if e.ref >= 0 {
			n++
		} else {
			n += len(e.ids)
		}
	}
	ids := make([]string, 0, n)
	// A typical command names a few people: a linear search beats a map.
	var seen map[string]struct{}
	if n > 16 {
		seen = make(map[string]struct{}, n)
	}
	add := func(id string) {
		if id == "" {
			return
		}
		if seen != nil {
			if _, dup := seen[id]; dup {
				return
			}
			seen[id] = struct{}{}
		} else if slices.Contains(ids, id) {
			return
		}
		ids = append(ids, id)
	}
	if !p.onlyNamed {
		add(owner)
		add(p.sender)
	}
	if p.allMents {
		for _, id := range p.mentions {
			add(id)
		}
	}
	for _, e := range p.people {
		if e.ref >= 0 {
			add(refID(e))
			continue
		}
		for _, id := range e.ids {
			add(id)
		}
	}
	return owner, ids
}

// sanitizeName makes a display name from DingTalk or the user fit for a
// reply: control characters removed, at most maxPersonRunes runes.
func sanitizeName(n string) string {
	n = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || r < 0x20 || (r >= 0x7f && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return -1
		}
		return r
	}, strings.TrimSpace(n))
	if utf8.RuneCountInString(n) > maxPersonRunes {
		n = string([]rune(n)[:maxPersonRunes]) + "…"
	}
	return strings.TrimSpace(n)
}

// ambiguity is a PersonRef that matched several people.
type ambiguity struct {
	ref   PersonRef
	cands []Person
}

// findLookup returns the look-up answering ref: the same Kind and Value.
func findLookup(lookups []Lookup, ref PersonRef) (Lookup, bool) {
	for _, lk := range lookups {
		if lk.Ref.Kind == ref.Kind && lk.Ref.Value == ref.Value {
			return lk, true
		}
	}
	return Lookup{}, false
}

func containsPerson(list []Person, id string) bool {
	for _, p := range list {
		if p.UserID == id {
			return true
		}
	}
	return false
}

// copyRequest returns a deep copy of r.
func copyRequest(r dingclient.CreateGroupRequest) dingclient.CreateGroupRequest {
	r.UserIDs = append([]string(nil), r.UserIDs...)
	r.ExtIDs = append([]string(nil), r.ExtIDs...)
	if r.ConversationTag != nil {
		t := *r.ConversationTag
		r.ConversationTag = &t
	}
	if r.ManagementOptions != nil {
		mo := *r.ManagementOptions
		r.ManagementOptions = &mo
	}
	return r
}

// distinctWords numbers the distinct words in order of first appearance.
type distinctWords struct {
	count int
	index []int // for each word, the number of its first appearance
}

// distinctIndex numbers the distinct words of refs.
func distinctIndex(refs []string) distinctWords {
	d := distinctWords{index: make([]int, len(refs))}
	first := make(map[string]int, len(refs))
	for i, r := range refs {
		n, ok := first[r]
		if !ok {
			n = d.count
			first[r] = n
			d.count++
		}
		d.index[i] = n
	}
	return d
}
