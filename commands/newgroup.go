package commands

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dingbot/dingbot/dingclient"
)

// Limits of /newgroup.
const (
	// MaxNameRunes is the longest group name, in characters (runes).
	MaxNameRunes = 20
	// MaxMembers is the most user IDs (owner included) one create call may carry.
	MaxMembers = 40
	// MaxExternal is the most external contacts one create call may carry.
	MaxExternal = 40
	// maxIDLen bounds user IDs, unionIds and mediaIds, in bytes.
	maxIDLen = 128
)

// userIDValue returns the ID of a userid:ID word ("userid:manager4220"), and
// whether w is one. The prefix is case-insensitive and may use the full-width
// colon that Chinese IMEs type.
func userIDValue(w string) (string, bool) {
	for _, p := range [...]string{"userid:", "userid："} {
		if len(w) >= len(p) && strings.EqualFold(w[:len(p)], p) {
			return w[len(p):], true
		}
	}
	return "", false
}

// validID reports whether id looks like a DingTalk ID: printable, no spaces,
// not too long.
func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for _, r := range id {
		if !unicode.IsGraphic(r) || unicode.IsSpace(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// member is one person to add, as written: a reference to the i-th @word, or
// an explicit user ID.
type member struct {
	ref int // index into the @words; -1 for an explicit ID
	id  string
}

// newGroupSpec collects what the arguments of /newgroup say.
type newGroupSpec struct {
	names      []string // positional words that are not people
	refs       []string // @words, in the order written (option values included)
	members    []member // people to add, in the order written
	ownerRef   int      // index into refs of --owner @x; -1 if none
	ownerID    string   // --owner userid:X
	tag        *int64
	tagSpelled string
	req        dingclient.CreateGroupRequest
	mo         dingclient.ManagementOptions
	moSet      bool
}

// newGroupHandler implements /newgroup.
func newGroupHandler(req *Request) (Action, error) {
	msg := req.Message
	sender := strings.TrimSpace(msg.SenderStaffID)
	if sender == "" {
		e := newUsageError(msgExternalSender)
		e.plain = true
		return Action{}, e
	}
	s := &newGroupSpec{ownerRef: -1}
	for _, a := range req.Args {
		if err := s.apply(req.Definition, a); err != nil {
			return Action{}, err
		}
	}

	name, err := groupName(s.names)
	if err != nil {
		return Action{}, err
	}
	s.req.Name = name

	tag := dingclient.ConversationTagInternal
	if s.tag != nil {
		tag = *s.tag
	}
	s.req.ConversationTag = &tag
	if tag != dingclient.ConversationTagStandard {
		if len(s.req.ExtIDs) > 0 {
			return Action{}, optionError(req.Definition, req.Definition.option(optExt, false), msgExtNeedsStandard)
		}
		if s.req.OwnerType == dingclient.OwnerTypeExternal {
			e := newUsageError(msgOwnerExtNeedsStandard)
			e.example = req.Definition.Examples[0] + " --standard --owner-type ext --owner userid:ID"
			return Action{}, e
		}
	}
	resolved, all, err := resolveMentions(msg, s.refs, s.ownerRef)
	if err != nil {
		return Action{}, err
	}

	owner := sender
	switch {
	case s.ownerRef >= 0:
		owner = resolved[s.ownerRef]
	case s.ownerID != "":
		owner = s.ownerID
	}
	s.req.Owner = owner

	ids := make([]string, 0, 2+len(s.members)+len(all))
	seen := make(map[string]struct{}, cap(ids))
	add := func(id string) {
		if _, dup := seen[id]; !dup && id != "" {
			seen[id] = struct{}{}
			ids = append(ids, id)
		}
	}
	add(owner)
	add(sender)
	for _, id := range all {
		add(id)
	}
	for _, m := range s.members {
		if m.ref < 0 {
			add(m.id)
		} else if all == nil {
			add(resolved[m.ref])
		}
	}
	if len(ids) > MaxMembers {
		return Action{}, newUsageError(msgTooManyMembers, len(ids), MaxMembers)
	}
	s.req.UserIDs = ids
	if s.moSet {
		mo := s.mo
		s.req.ManagementOptions = &mo
	}
	return Action{CreateGroup: &CreateGroup{Request: s.req}}, nil
}

// apply records one argument of /newgroup.
func (s *newGroupSpec) apply(def *Definition, a Arg) error {
	opt := def.option(a.Option, false)
	switch a.Option {
	case "":
		if strings.HasPrefix(a.Value, "@") {
			s.refs = append(s.refs, a.Value)
			s.members = append(s.members, member{ref: len(s.refs) - 1})
			return nil
		}
		if id, ok := userIDValue(a.Value); ok {
			if !validID(id) {
				return newUsageError(msgBadUserID, a.Value)
			}
			s.members = append(s.members, member{ref: -1, id: id})
			return nil
		}
		s.names = append(s.names, a.Value)
	case optOwner:
		if strings.HasPrefix(a.Value, "@") {
			s.refs = append(s.refs, a.Value)
			s.ownerRef = len(s.refs) - 1
			return nil
		}
		id, ok := userIDValue(a.Value)
		if !ok {
			return optionError(def, opt, msgOwnerValue, a.Value)
		}
		if !validID(id) {
			return optionError(def, opt, msgBadUserID, a.Value)
		}
		s.ownerID = id
	case optOwnerType:
		s.req.OwnerType = a.Value
	case optType, optStandard, optInternal:
		tag := dingclient.ConversationTagInternal
		if a.Option == optStandard || (a.Option == optType && a.Value == choiceStandard) {
			tag = dingclient.ConversationTagStandard
		}
		spelled := a.Spelled
		if a.Option == optType {
			spelled += " " + a.Value
		}
		if s.tag != nil && *s.tag != tag {
			return optionError(def, opt, msgConflictingOptions, s.tagSpelled, spelled)
		}
		s.tag, s.tagSpelled = &tag, spelled
	case optExt:
		for _, id := range strings.FieldsFunc(a.Value, func(r rune) bool { return r == ',' || r == '，' || r == '、' }) {
			if !validID(id) {
				return optionError(def, opt, msgBadExtID, id)
			}
			if !contains(s.req.ExtIDs, id) {
				s.req.ExtIDs = append(s.req.ExtIDs, id)
			}
			if len(s.req.ExtIDs) > MaxExternal {
				return newUsageError(msgTooManyExt, len(s.req.ExtIDs), MaxExternal)
			}
		}
		if len(s.req.ExtIDs) == 0 {
			return optionError(def, opt, msgMissingValue, a.Spelled, expected(opt))
		}
	case optIcon:
		if !validID(a.Value) {
			return optionError(def, opt, msgBadIcon, a.Value)
		}
		s.req.Icon = a.Value
	case optMentionAll:
		s.mo.MentionAllAuthority = whoValue(a.Value)
	case optHistory:
		s.mo.ShowHistoryType = yesNoValue(a.Value)
	case optApproval:
		s.mo.ValidationType = yesNoValue(a.Value)
	case optSearchable:
		s.mo.Searchable = yesNoValue(a.Value)
	case optMute:
		s.mo.ChatBannedType = yesNoValue(a.Value)
	case optManage:
		s.mo.ManagementType = whoValue(a.Value)
	}
	switch a.Option {
	case optMentionAll, optHistory, optApproval, optSearchable, optMute, optManage:
		s.moSet = true
	}
	return nil
}

// groupName validates the group name among the positional words.
func groupName(names []string) (string, error) {
	switch len(names) {
	case 0:
		return "", newUsageError(msgNameMissing)
	case 1:
	default:
		quoted := make([]string, len(names))
		for i, n := range names {
			quoted[i] = `"` + n + `"`
		}
		e := newUsageError(msgTooManyNames, strings.Join(quoted, ", "), `"`+strings.Join(names, " ")+`"`)
		return "", e
	}
	name := strings.TrimSpace(names[0])
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return "", newUsageError(msgNameMissing)
	case n > MaxNameRunes:
		return "", newUsageError(msgNameTooLong, name, n, MaxNameRunes)
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return "", newUsageError(msgNameControl, name)
		}
	}
	return name, nil
}

// resolveMentions maps the @words to user IDs through the message's mentions
// (atUsers, the source of truth), matching them in order. It returns the user
// ID of each @word; or, when DingTalk sent more mentions than there are
// @words (it may strip mention text), all the mentions' IDs in all.
func resolveMentions(msg Message, refs []string, ownerRef int) (resolved, all []string, err error) {
	var ments []Mention
	for _, m := range msg.Mentions {
		if msg.BotUserID != "" && m.DingtalkID == msg.BotUserID {
			continue
		}
		ments = append(ments, m)
	}
	if len(refs) == 0 && len(ments) == 0 {
		return nil, nil, nil
	}
	resolved = make([]string, len(refs))
	distinct := distinctIndex(refs)
	switch {
	case len(refs) == len(ments):
		for i := range refs {
			resolved[i] = strings.TrimSpace(ments[i].StaffID)
		}
	case distinct.count == len(ments):
		for i := range refs {
			resolved[i] = strings.TrimSpace(ments[distinct.index[i]].StaffID)
		}
	default:
		all, err := mentionMismatch(msg, refs, ments, ownerRef)
		return nil, all, err
	}
	var outside []string
	for i, id := range resolved {
		if id == "" && !contains(outside, refs[i]) {
			outside = append(outside, refs[i])
		}
	}
	switch len(outside) {
	case 0:
		return resolved, nil, nil
	case 1:
		return nil, nil, newUsageError(msgMentionOutsideOne, outside[0])
	}
	return nil, nil, newUsageError(msgMentionOutsideMany, andList(outside))
}

// mentionMismatch handles @words that can't be paired with the mentions: it
// returns an error, or the IDs of all mentions when using all of them is safe.
func mentionMismatch(msg Message, refs []string, ments []Mention, ownerRef int) ([]string, error) {
	noID := 0
	for _, m := range ments {
		if strings.TrimSpace(m.StaffID) == "" {
			noID++
		}
	}
	switch {
	case noID == 1:
		return nil, newUsageError(msgMentionsOutsideCountOne)
	case noID > 1:
		return nil, newUsageError(msgMentionsOutsideCountMany, noID)
	case len(ments) == 0 && !msg.Group:
		return nil, newUsageError(msgUnresolvedDirect, refs[0])
	case len(ments) == 0:
		return nil, newUsageError(msgUnresolvedGroup, refs[0])
	case len(refs) > len(ments):
		return nil, newUsageError(msgMentionCountMismatch, len(refs), len(ments))
	}
	// Fewer @words than mentions: DingTalk stripped some mention text, so
	// the mentions themselves say who to add, but not who --owner @x is.
	if ownerRef >= 0 {
		return nil, newUsageError(msgOwnerAmbiguous, refs[ownerRef])
	}
	all := make([]string, len(ments))
	for i, m := range ments {
		all[i] = strings.TrimSpace(m.StaffID)
	}
	return all, nil
}

// distinctWords numbers the distinct @words in order of first appearance.
type distinctWords struct {
	count int
	index []int // for each @word, the number of its first appearance
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

// andList is a message argument rendered as "a, b and c".
type andList []string

// contains reports whether list has s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// yesNoValue maps yes/no to the API's 1/0.
func yesNoValue(v string) *int32 {
	n := int32(0)
	if v == valueYes {
		n = 1
	}
	return &n
}

// whoValue maps everyone/owner to the API's 0/1.
func whoValue(v string) *int32 {
	n := int32(0)
	if v == choiceOwner {
		n = 1
	}
	return &n
}
