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
	// MaxMembers is the most user IDs (owner included) one create call may
	// carry (DingTalk's per-call limit); the others are added with the
	// group-update API.
	MaxMembers = dingclient.MaxMembersPerCall
	// MaxTotalMembers is the most people (owner included) one /newgroup may name.
	MaxTotalMembers = 1000
	// MaxExternal is the most external contacts one create call may carry.
	MaxExternal = 40
	// maxIDLen bounds user IDs, unionIds and mediaIds, in bytes.
	maxIDLen = 128
	// maxPersonRunes bounds a name to look up and a display name, in runes.
	maxPersonRunes = 64
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
		if r > ' ' && r < 0x7f {
			continue // printable ASCII other than space: graphic
		}
		if !unicode.IsGraphic(r) || unicode.IsSpace(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
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

// apiValue maps the canonical value of a management option to the API's
// 1/0: yes and owner are 1; no and everyone are 0.
func apiValue(v string) int32 {
	if v == valueYes || v == choiceOwner {
		return 1
	}
	return 0
}

// requestValues holds what the pointer fields of a /newgroup request point
// to, so that one allocation serves the conversation tag, the management
// options and their values.
type requestValues struct {
	tag int64
	mo  dingclient.ManagementOptions
	set [6]int32 // the management options' values; mo's fields point here once set
}

// setManagement sets the management option opt (optHistory, …) from its
// canonical value, and reports whether opt is one.
func (v *requestValues) setManagement(opt, value string) bool {
	fields := [len(v.set)]struct {
		opt   string
		field **int32
	}{
		{optMentionAll, &v.mo.MentionAllAuthority},
		{optHistory, &v.mo.ShowHistoryType},
		{optApproval, &v.mo.ValidationType},
		{optSearchable, &v.mo.Searchable},
		{optMute, &v.mo.ChatBannedType},
		{optManage, &v.mo.ManagementType},
	}
	for i, f := range fields {
		if f.opt == opt {
			v.set[i] = apiValue(value)
			*f.field = &v.set[i]
			return true
		}
	}
	return false
}

// personWord is one person as written: a positional word after NAME, an
// --owner value, or a word of a template.
type personWord struct {
	text  string
	owner bool // the --owner value
	typed bool // written in the message, so it may be a real @mention; false for template words
}

// newGroupSpec collects what the arguments of /newgroup say.
type newGroupSpec struct {
	name       string
	hasName    bool
	nameRun    []string // NAME and the bare words written right after it; nil if there are none
	runOpen    bool
	numbers    []string // bare words without letters that are no mobile numbers: parts of a name
	people     []personWord
	tmplPeople []personWord
	tag        *int64
	tagSpelled string
	req        dingclient.CreateGroupRequest
	vals       *requestValues // where req's pointer fields point
	moSet      bool           // a management option was given
	dryRun     bool
	template   string
}

// optionFamily groups options that set the same request field, so that a
// user's --internal overrides a template's --type standard.
func optionFamily(opt string) string {
	switch opt {
	case optType, optStandard, optInternal:
		return optType
	}
	return opt
}

// givesFamily reports whether args have an option of opt's family.
func givesFamily(args []Arg, opt string) bool {
	family := optionFamily(opt)
	for _, a := range args {
		if a.Option != "" && optionFamily(a.Option) == family {
			return true
		}
	}
	return false
}

// newGroup implements /newgroup.
func (l *Language) newGroup(req *Request) (Action, error) {
	msg := req.Message
	def := req.Definition
	sender := strings.TrimSpace(msg.SenderStaffID)
	if !validID(sender) {
		e := newUsageError(msgExternalSender)
		e.plain = true
		return Action{}, e
	}
	s := &newGroupSpec{vals: &requestValues{}}
	tmplName, hasTmpl := "", false
	for _, a := range req.Args {
		if a.Option == optTemplate {
			tmplName, hasTmpl = a.Value, true
			break
		}
	}
	if hasTmpl {
		t, err := l.findTemplate(def, tmplName)
		if err != nil {
			return Action{}, err
		}
		// One allocation: the people, then room for the template's people,
		// which are appended to them at the end.
		n := len(req.Args) + len(t.args)
		backing := make([]personWord, 0, n+len(t.args))
		s.people, s.tmplPeople = backing[:0:n], backing[n:n]
		s.template = t.name
		for _, a := range t.args {
			if a.Option != "" && a.Option != optExt && givesFamily(req.Args, a.Option) {
				continue // the user's option wins
			}
			if err := s.apply(def, a, true); err != nil {
				return Action{}, err
			}
		}
	}
	if s.people == nil {
		s.people = make([]personWord, 0, len(req.Args))
	}
	for _, a := range req.Args {
		if err := s.apply(def, a, false); err != nil {
			return Action{}, err
		}
	}
	s.people = append(s.people, s.tmplPeople...)

	if len(s.numbers) > 0 {
		// NAME and the words up to the last number right after it, if
		// they directly follow NAME ("Release 4.2"); else NAME and the numbers.
		words := append([]string{s.name}, s.numbers...)
		for i := len(s.nameRun) - 1; i > 0; i-- {
			if contains(s.numbers, s.nameRun[i]) {
				words = s.nameRun[:i+1]
				break
			}
		}
		return Action{}, tooManyNames(words)
	}
	name, err := groupName(s.name)
	if err != nil {
		return Action{}, err
	}
	s.req.Name = name

	tag := &s.vals.tag
	*tag = dingclient.ConversationTagInternal
	if s.tag != nil {
		*tag = *s.tag
	}
	s.req.ConversationTag = tag
	if *tag != dingclient.ConversationTagStandard {
		if len(s.req.ExtIDs) > 0 {
			return Action{}, optionError(def, def.option(optExt, false), msgExtNeedsStandard)
		}
		if s.req.OwnerType == dingclient.OwnerTypeExternal {
			e := newUsageError(msgOwnerExtNeedsStandard)
			e.example = def.Examples[0] + " --standard --owner-type ext --owner userid:ID"
			return Action{}, e
		}
	}
	if s.moSet {
		s.req.ManagementOptions = &s.vals.mo
	}
	// One allocation for the CreateGroup and its people's plan, which live together.
	both := &struct {
		cg CreateGroup
		p  plan
	}{cg: CreateGroup{Request: s.req}}
	cg := &both.cg
	owner, ids, err := l.resolvePeople(def, s.people, s.name, s.nameRun, msg, &cg.People, &both.p)
	if err != nil {
		return Action{}, err
	}
	cg.Request.Owner, cg.Request.UserIDs = owner, ids
	cg.Expanded = both.p.expanded
	cg.Lang, cg.DryRun, cg.Template = req.lang, s.dryRun, s.template
	if cg.Lang == "" {
		cg.Lang = l.defaultLang
	}
	return Action{Plan: cg}, nil
}

// findTemplate returns the template called name, or a usage error with a
// did-you-mean over the template names.
func (l *Language) findTemplate(def *Definition, name string) (*template, error) {
	key := strings.ToLower(name)
	if t := l.templates[key]; t != nil {
		return t, nil
	}
	opt := def.option(optTemplate, false)
	if len(l.templateList) == 0 {
		e := newUsageError(msgNoTemplates)
		e.plain = true
		return nil, e
	}
	e := optionError(def, opt, msgUnknownTemplate, name)
	if s, ok := suggest(key, l.templateList); ok {
		e.add(msgDidYouMean, "--template "+s)
	}
	e.add(msgSeeTemplates)
	e.example = def.Examples[0] + " --template " + l.templateList[0]
	return nil, e
}

// tooManyNames is the error for a group name that was split into words.
func tooManyNames(words []string) *UsageError {
	quoted := make([]string, len(words))
	for i, n := range words {
		quoted[i] = `"` + n + `"`
	}
	return newUsageError(msgTooManyNames, strings.Join(quoted, ", "), `"`+strings.Join(words, " ")+`"`)
}

// apply records one argument of /newgroup; fromTemplate marks the
// arguments of a template, whose positional words are all people.
func (s *newGroupSpec) apply(def *Definition, a Arg, fromTemplate bool) error {
	// optErr is a usage error about a's option, looked up only then.
	optErr := func(id msgID, args ...any) error {
		return optionError(def, def.option(a.Option, false), id, args...)
	}
	if a.Option != "" && !fromTemplate {
		s.runOpen = false
	}
	switch a.Option {
	case "":
		if fromTemplate {
			s.tmplPeople = append(s.tmplPeople, personWord{text: a.Value})
			return nil
		}
		if _, isID := userIDValue(a.Value); isID || strings.HasPrefix(a.Value, "@") {
			s.runOpen = false
			s.people = append(s.people, personWord{text: a.Value, typed: true})
			return nil
		}
		// A quoted name is whole as written, and a quoted word after it is
		// a person on purpose: neither starts or extends the run of bare
		// words a name split by mistake leaves (nameRun), so no reply
		// suggests quoting what was quoted.
		if !s.hasName {
			s.name, s.hasName, s.runOpen = a.Value, true, !a.Quoted
			return nil
		}
		s.people = append(s.people, personWord{text: a.Value, typed: true})
		if a.Quoted {
			s.runOpen = false
		}
		if s.runOpen {
			if s.nameRun == nil {
				s.nameRun = []string{s.name, a.Value}
			} else {
				s.nameRun = append(s.nameRun, a.Value)
			}
		}
		if _, mobile := mobileValue(a.Value); !mobile && !hasLetter(a.Value) {
			s.numbers = append(s.numbers, a.Value)
		}
	case optOwner:
		v := strings.TrimSpace(a.Value)
		if id, isID := userIDValue(v); isID {
			if !validID(id) {
				return optErr(msgBadUserID, a.Value)
			}
		} else if _, mobile := mobileValue(v); !mobile && !hasLetter(v) {
			return optErr(msgOwnerValue, a.Value)
		}
		w := personWord{text: v, owner: true, typed: !fromTemplate}
		if fromTemplate {
			s.tmplPeople = append(s.tmplPeople, w)
		} else {
			s.people = append(s.people, w)
		}
	case optTemplate:
		// Read by newGroup before the other arguments.
	case optDryRun:
		s.dryRun = true
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
			return optErr(msgConflictingOptions, s.tagSpelled, spelled)
		}
		s.tag, s.tagSpelled = &tag, spelled
	case optExt:
		n := 0
		for _, id := range strings.FieldsFunc(a.Value, func(r rune) bool { return r == ',' || r == '，' || r == '、' }) {
			if !validID(id) {
				return optErr(msgBadExtID, id)
			}
			n++
			if !contains(s.req.ExtIDs, id) {
				s.req.ExtIDs = append(s.req.ExtIDs, id)
			}
			if len(s.req.ExtIDs) > MaxExternal {
				return newUsageError(msgTooManyExt, len(s.req.ExtIDs), MaxExternal)
			}
		}
		if n == 0 {
			return optErr(msgMissingValue, a.Spelled, expected(def.option(a.Option, false)))
		}
	case optIcon:
		if !validID(a.Value) {
			return optErr(msgBadIcon, a.Value)
		}
		s.req.Icon = a.Value
	default:
		if s.vals.setManagement(a.Option, a.Value) {
			s.moSet = true
		}
	}
	return nil
}

// groupName validates the group name.
func groupName(name string) (string, error) {
	name = strings.TrimSpace(name)
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

// mobileValue returns the 11-digit Chinese mobile number w spells, and
// whether it is one: 13800000000, @13800000000, +8613800000000,
// 008613800000000, 8613800000000, with dashes or spaces anywhere.
func mobileValue(w string) (string, bool) {
	w = strings.TrimPrefix(w, "@")
	if len(w) > 32 {
		return "", false
	}
	plus := strings.HasPrefix(w, "+")
	if plus {
		w = w[1:]
	}
	d := make([]byte, 0, len(w))
	for i := 0; i < len(w); i++ {
		switch c := w[i]; {
		case c >= '0' && c <= '9':
			d = append(d, c)
		case c == '-' || c == ' ':
		default:
			return "", false
		}
	}
	switch {
	case plus && len(d) == 13 && string(d[:2]) == "86":
		d = d[2:]
	case plus:
		return "", false
	case len(d) == 15 && string(d[:4]) == "0086":
		d = d[4:]
	case len(d) == 13 && string(d[:2]) == "86":
		d = d[2:]
	}
	if len(d) != 11 || d[0] != '1' {
		return "", false
	}
	return string(d), true
}
