// This file is /newgroup's confirmation step: when a create is worth a
// second look (someone found by name, an alias standing for many people,
// another owner, …) Run stores the resolved request as a preview and
// answers with it and two buttons, Create and Cancel; /confirm and /cancel
// (confirm.go, cancel.go) settle it.

package commands

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/store"
)

// ConfirmMode says when /newgroup asks before creating.
type ConfirmMode string

// Confirm modes.
const (
	// ConfirmAuto asks when the create is risky (see confirmReasons).
	ConfirmAuto ConfirmMode = "auto"
	// ConfirmAlways asks before every create.
	ConfirmAlways ConfirmMode = "always"
	// ConfirmNever creates at once, as /newgroup did before previews.
	ConfirmNever ConfirmMode = "never"
)

// check returns m in canonical form ("" is ConfirmAuto) or an error.
func (m ConfirmMode) check() (ConfirmMode, error) {
	switch ConfirmMode(strings.ToLower(strings.TrimSpace(string(m)))) {
	case "", ConfirmAuto:
		return ConfirmAuto, nil
	case ConfirmAlways:
		return ConfirmAlways, nil
	case ConfirmNever, "off":
		return ConfirmNever, nil
	}
	return "", fmt.Errorf("%q is not auto, always or never", string(m))
}

// Preview limits.
const (
	// DefaultConfirmTTL is how long a preview can be confirmed by default.
	DefaultConfirmTTL = 10 * time.Minute
	// MinConfirmTTL and MaxConfirmTTL bound Settings.ConfirmTTL.
	MinConfirmTTL = time.Second
	MaxConfirmTTL = 24 * time.Hour
	// ConfirmMembers: a group with more members than this asks first (auto).
	ConfirmMembers = 20
	// codeAlphabet has no 0/O or 1/I, so a code read aloud or retyped
	// from a phone stays right.
	codeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	// codeLen is a code's length: 32^6 ≈ 10^9 codes.
	codeLen = 6
	// previewBudget bounds the preview's markdown text, in bytes, well
	// inside DingTalk's 15 000-byte msgParam: members beyond it are counted,
	// not listed.
	previewBudget = 12000
)

// confirmMode is the mode for cg: its template's, else the configured one.
func (l *Language) confirmMode(cg *CreateGroup) ConfirmMode {
	if t := l.templates[strings.ToLower(cg.Template)]; t != nil && t.Confirm != "" {
		return t.Confirm
	}
	return l.confirm
}

// confirmReasons returns why cg, sent by sender, should be confirmed
// first, as sentences in c's language; none means create at once.
func (l *Language) confirmReasons(c catalogue, cg *CreateGroup, sender string) []string {
	mode := l.confirmMode(cg)
	if mode == ConfirmNever {
		return nil
	}
	req := &cg.Request
	var why []string
	if len(cg.Searched) > 0 {
		found := make([]string, len(cg.Searched))
		for i, id := range cg.Searched {
			found[i] = personLabel(cg.Names, id)
		}
		why = append(why, c.f(msgWhySearched, c.list(found, msgAnd)))
	}
	for _, e := range cg.Expanded {
		why = append(why, c.f(msgWhyAlias, e.Alias, e.Count))
	}
	if n := len(req.UserIDs); n > ConfirmMembers {
		why = append(why, c.f(msgWhyMembers, n, ConfirmMembers))
	}
	if req.Owner != "" && req.Owner != strings.TrimSpace(sender) {
		why = append(why, c.f(msgWhyOwner, personLabel(cg.Names, req.Owner)))
	}
	if req.ConversationTag != nil && *req.ConversationTag == dingclient.ConversationTagStandard {
		why = append(why, c.f(msgWhyStandard))
	}
	if len(req.ExtIDs) > 0 {
		why = append(why, c.f(msgWhyExternal, len(req.ExtIDs)))
	}
	if len(why) == 0 && mode == ConfirmAlways {
		if t := l.templates[strings.ToLower(cg.Template)]; t != nil && t.Confirm == ConfirmAlways {
			why = append(why, c.f(msgWhyTemplate, t.name))
		} else {
			why = append(why, c.f(msgWhyAlways))
		}
	}
	return why
}

// storedCreate is a resolved CreateGroup as a preview stores it: exactly
// what /confirm creates.
type storedCreate struct {
	Request  dingclient.CreateGroupRequest `json:"request"`
	Lang     Lang                          `json:"lang"`
	Template string                        `json:"template,omitempty"`
	Names    map[string]string             `json:"names,omitempty"`
	Searched []string                      `json:"searched,omitempty"`
	Expanded []Expansion                   `json:"expanded,omitempty"`
}

// encodePreview is cg as a preview's Plan.
func encodePreview(cg *CreateGroup) ([]byte, error) {
	return json.Marshal(storedCreate{Request: cg.Request, Lang: cg.Lang, Template: cg.Template, Names: cg.Names,
		Searched: cg.Searched, Expanded: cg.Expanded})
}

// decodePreview is the CreateGroup a preview's Plan stores.
func decodePreview(data []byte) (*CreateGroup, error) {
	var s storedCreate
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	if s.Request.Name == "" || s.Request.Owner == "" || len(s.Request.UserIDs) == 0 {
		return nil, errors.New("incomplete stored request")
	}
	return &CreateGroup{Request: s.Request, Lang: s.Lang, Template: s.Template, Searched: s.Searched,
		Expanded: s.Expanded, People: People{Names: s.Names}}, nil
}

// newCode returns a random preview code.
func newCode() string {
	b := make([]byte, codeLen)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	return string(b)
}

// normalizeCode is a code as typed, in the form codes are stored: upper
// case, without spaces, dashes or quotes; "" when it cannot be one.
func normalizeCode(s string) string {
	s = strings.ToUpper(strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '"', '\'', '`', '“', '”', '‘', '’', '　':
			return -1
		}
		return r
	}, s))
	if len(s) != codeLen {
		return ""
	}
	for _, r := range s {
		if !strings.ContainsRune(codeAlphabet, r) {
			return ""
		}
	}
	return s
}

// preview stores cg as a preview and answers with it; why are the reasons.
func preview(ctx context.Context, env Env, cg *CreateGroup, why []string) Result {
	l := env.Language()
	c := l.cat(l.planLang(cg))
	msg := env.Message()
	plan, err := encodePreview(cg)
	if err != nil {
		return Result{Reply: Reply{Text: c.f(msgInternal)}, Outcome: OutcomeInternal}
	}
	now := env.Now()
	var stored *store.Preview
	for attempt := 0; ; attempt++ {
		stored, err = env.Previews().PutPreview(ctx, store.Preview{Code: newCode(), MsgID: msg.MsgID, Command: cmdNewGroup,
			Sender: strings.TrimSpace(msg.SenderStaffID), ConversationID: msg.ConversationID, Plan: plan,
			CreatedAt: now, ExpiresAt: now.Add(l.confirmTTL), State: store.PreviewPending})
		if !errors.Is(err, store.ErrCodeTaken) || attempt == 4 {
			break
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return Result{Release: true}
		}
		env.Log().Error("storing the preview failed", "error", err.Error())
		return Result{Reply: Reply{Text: c.f(msgInternal)}, Outcome: OutcomeInternal}
	}
	env.Log().Info("preview stored", "code", stored.Code, "name", cg.Request.Name, "reasons", len(why))
	return Result{Reply: previewReply(c, cg, stored, why, msg.Group, l.confirmTTL), Outcome: OutcomePreviewed,
		Change: "preview " + stored.Code}
}

// previewReply is the preview: a markdown message with what would be
// created, why the bot asks, and the Create and Cancel buttons.
func previewReply(c catalogue, cg *CreateGroup, p *store.Preview, why []string, group bool, ttl time.Duration) Reply {
	req := &cg.Request
	var b strings.Builder
	line := func(s string) { b.WriteString(s); b.WriteString("  \n") }
	fmt.Fprintf(&b, "### %s\n\n", c.f(msgPreviewTitle, mdEscape(req.Name)))
	tag := dingclient.ConversationTagInternal
	if req.ConversationTag != nil {
		tag = *req.ConversationTag
	}
	line(c.f(msgPreviewType, groupTypeText(c, tag)))
	line(c.f(msgPreviewOwner, mdEscape(personLabel(cg.Names, req.Owner))))
	if cg.Template != "" {
		line(c.f(msgPreviewTemplate, mdEscape(cg.Template)))
	}
	if opts := changedOptions(c, req); len(opts) > 0 {
		line(c.f(msgPreviewOptions, mdEscape(strings.Join(opts, c.text(msgListSep)))))
	}
	fmt.Fprintf(&b, "\n%s\n\n", c.f(msgPreviewMembers, len(req.UserIDs)))
	rest := len(req.UserIDs)
	for _, id := range req.UserIDs {
		item := "- " + mdEscape(personLabel(cg.Names, id)) + "\n"
		if b.Len()+len(item) > previewBudget/2 {
			break
		}
		b.WriteString(item)
		rest--
	}
	if rest > 0 {
		fmt.Fprintf(&b, "- %s\n", c.f(msgPreviewMore, rest))
	}
	if len(req.ExtIDs) > 0 {
		fmt.Fprintf(&b, "\n%s\n", c.f(msgPreviewExternal, mdEscape(strings.Join(req.ExtIDs, ", "))))
	}
	fmt.Fprintf(&b, "\n**%s**\n\n", c.f(msgPreviewWhy))
	for _, w := range why {
		fmt.Fprintf(&b, "- %s\n", mdEscape(w))
	}
	confirm, cancel := confirmWords(c, p.Code)
	fmt.Fprintf(&b, "\n[%s](%s)　[%s](%s)\n\n", c.f(msgPreviewCreate), sendLink(confirm), c.f(msgPreviewCancel), sendLink(cancel))
	how := msgPreviewHowDirect
	if group {
		how = msgPreviewHowGroup
	}
	b.WriteString(c.f(how, confirm, cancel, retryText(c, ttl)))
	text := b.String()
	if len(text) > previewBudget {
		text = text[:previewBudget] // unreachable with the member budget above; never cut a send link
	}
	return Reply{Title: c.f(msgPreviewTitle, req.Name), Text: text}
}

// confirmWords are the texts that confirm and cancel code, in c's language.
func confirmWords(c catalogue, code string) (confirm, cancel string) {
	if c.lang == Chinese {
		return "/" + cmdConfirmZh + " " + code, "/" + cmdCancelZh + " " + code
	}
	return "/" + cmdConfirm + " " + code, "/" + cmdCancel + " " + code
}

// sendLink is a DingTalk client link that sends text as the user's own
// message to the chat: dtmd://dingtalkclient/sendMessage?content=….
func sendLink(text string) string {
	return "dtmd://dingtalkclient/sendMessage?content=" + strings.ReplaceAll(url.QueryEscape(text), "+", "%20")
}

// changedOptions are the request's options that differ from DingTalk's
// defaults, as "--mute: yes".
func changedOptions(c catalogue, req *dingclient.CreateGroupRequest) []string {
	var out []string
	switch req.OwnerType {
	case dingclient.OwnerTypeExternal:
		out = append(out, "--owner-type: "+c.f(msgValueExt))
	}
	if req.Icon != "" {
		out = append(out, "--icon: "+req.Icon)
	}
	if mo := req.ManagementOptions; mo != nil {
		for _, o := range []struct {
			opt string
			v   *int32
			who bool
		}{
			{optMentionAll, mo.MentionAllAuthority, true},
			{optHistory, mo.ShowHistoryType, false},
			{optApproval, mo.ValidationType, false},
			{optSearchable, mo.Searchable, false},
			{optMute, mo.ChatBannedType, false},
			{optManage, mo.ManagementType, true},
		} {
			if o.v == nil || *o.v == 0 { // DingTalk's defaults: everyone; no
				continue
			}
			val := c.f(msgValueYes)
			if o.who {
				val = c.f(msgValueOwner)
			}
			out = append(out, "--"+o.opt+": "+val)
		}
	}
	return out
}

// mdEscape keeps text typed by people (names, group names) from being read
// as DingTalk markdown or breaking the preview's lines.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n', '\r':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// The preview's texts and the answers of /confirm and /cancel, part of
// /newgroup's texts (newGroupTexts).
const (
	msgPreviewTitle msgID = msgNewGroupTextsEnd + iota
	msgPreviewType
	msgPreviewOwner
	msgPreviewTemplate
	msgPreviewOptions
	msgPreviewMembers
	msgPreviewExternal
	msgPreviewWhy
	msgPreviewCreate
	msgPreviewCancel
	msgPreviewHowDirect
	msgPreviewHowGroup
	msgWhySearched
	msgWhyAlias
	msgWhyMembers
	msgWhyOwner
	msgWhyStandard
	msgWhyExternal
	msgWhyTemplate
	msgWhyAlways
	msgAnswerCodeMissing
	msgAnswerBadCode
	msgAnswerUnknown
	msgAnswerNotYours
	msgAnswerExpired
	msgAnswerCancelled
	msgAnswerWasCancelled
	msgAnswerAlreadyCancelled
	msgAnswerDone
	msgAnswerInProgress
	msgAnswerFailed
	msgAnswerOutcomeUnknown
	msgAnswerCannotUndo
	msgAnswerCannotCancel
	msgPreviewMore
	msgPreviewTextsEnd
)

func previewEnglish(id msgID) string {
	switch id {
	case msgPreviewTitle:
		return "Create “%[1]s”?"
	case msgPreviewType:
		return "**Type:** %[1]s"
	case msgPreviewOwner:
		return "**Owner:** %[1]s"
	case msgPreviewTemplate:
		return "**Template:** %[1]s"
	case msgPreviewOptions:
		return "**Options:** %[1]s"
	case msgPreviewMembers:
		return "**Members (%[1]d):**"
	case msgPreviewExternal:
		return "**External contacts:** %[1]s"
	case msgPreviewWhy:
		return "Please check before I create it:"
	case msgPreviewCreate:
		return "Create"
	case msgPreviewCancel:
		return "Cancel"
	case msgPreviewHowDirect:
		return "If the buttons do nothing, send me `%[1]s` to create it or `%[2]s` to drop it. Nothing is created until then; this preview expires in %[3]s."
	case msgPreviewHowGroup:
		return "If the buttons do nothing, @mention me with `%[1]s` to create it or `%[2]s` to drop it. Nothing is created until then; this preview expires in %[3]s."
	case msgWhySearched:
		return "found by name search rather than a mention: %[1]s. Check that this is who you meant."
	case msgWhyAlias:
		return "%[1]s stands for %[2]d people."
	case msgWhyMembers:
		return "the group would have %[1]d members (more than %[2]d)."
	case msgWhyOwner:
		return "the owner would be %[1]s, not you."
	case msgWhyStandard:
		return "it would be a standard group, not an internal one."
	case msgWhyExternal:
		return "it would include external contacts (%[1]d)."
	case msgWhyTemplate:
		return "the template %[1]s always asks first."
	case msgWhyAlways:
		return "I ask before every new group here."
	case msgAnswerCodeMissing:
		return "Which preview? Send the code the preview shows, e.g. /confirm K7Q2XM (tapping its button does that for you)."
	case msgAnswerBadCode:
		return "%[1]q is not a preview code: a code is %[2]d letters and digits, e.g. K7Q2XM."
	case msgAnswerUnknown:
		return "I have no preview %[1]s. Check the code in the preview message, or send the /newgroup command again."
	case msgAnswerNotYours:
		return "Preview %[1]s belongs to %[2]s: only the person who sent the /newgroup can confirm or cancel it."
	case msgAnswerExpired:
		return "Preview %[1]s has expired (a preview lasts %[2]s); nothing was created. Send the /newgroup command again to start over."
	case msgAnswerCancelled:
		return "Cancelled: “%[1]s” was not created."
	case msgAnswerWasCancelled:
		return "Preview %[1]s was cancelled, so nothing was created. Send the /newgroup command again to start over."
	case msgAnswerAlreadyCancelled:
		return "Preview %[1]s is already cancelled; nothing was created."
	case msgAnswerDone:
		return "Preview %[1]s was already confirmed: “%[2]s” has been created (chat ID %[3]s). Nothing more was created."
	case msgAnswerInProgress:
		return "Preview %[1]s was already confirmed and I am creating the group now; my reply to that confirmation follows."
	case msgAnswerFailed:
		return "Preview %[1]s was already confirmed, but the group could not be created (see my reply to that confirmation). Send the /newgroup command again to try again."
	case msgAnswerOutcomeUnknown:
		return "Preview %[1]s was already confirmed, but I cannot tell whether the group was created (see my reply to that confirmation). Check your group list before trying again."
	case msgAnswerCannotUndo:
		return "“%[1]s” has already been created (chat ID %[2]s) and cannot be cancelled; its owner can dismiss it in the group's settings in DingTalk."
	case msgAnswerCannotCancel:
		return "Preview %[1]s was already confirmed and the group is being created; it can no longer be cancelled."
	case msgPreviewMore:
		return "… and %[1]d more"
	}
	return ""
}

func previewChinese(id msgID) string {
	switch id {
	case msgPreviewTitle:
		return "创建 “%[1]s”？"
	case msgPreviewType:
		return "**类型：** %[1]s"
	case msgPreviewOwner:
		return "**群主：** %[1]s"
	case msgPreviewTemplate:
		return "**模板：** %[1]s"
	case msgPreviewOptions:
		return "**选项：** %[1]s"
	case msgPreviewMembers:
		return "**成员（%[1]d 人）：**"
	case msgPreviewExternal:
		return "**外部联系人：** %[1]s"
	case msgPreviewWhy:
		return "建群前请确认："
	case msgPreviewCreate:
		return "创建"
	case msgPreviewCancel:
		return "取消"
	case msgPreviewHowDirect:
		return "如果按钮没有反应，请给我发送 `%[1]s` 来建群，或 `%[2]s` 来放弃。在此之前不会建群；这条预览 %[3]s后过期。"
	case msgPreviewHowGroup:
		return "如果按钮没有反应，请 @我 并发送 `%[1]s` 来建群，或 `%[2]s` 来放弃。在此之前不会建群；这条预览 %[3]s后过期。"
	case msgWhySearched:
		return "按姓名搜索找到（不是 @ 提及）：%[1]s。请确认是你要找的人。"
	case msgWhyAlias:
		return "%[1]s 代表 %[2]d 个人。"
	case msgWhyMembers:
		return "群将有 %[1]d 名成员（超过 %[2]d 人）。"
	case msgWhyOwner:
		return "群主将是 %[1]s，而不是你。"
	case msgWhyStandard:
		return "这将是一个普通群，而不是企业内部群。"
	case msgWhyExternal:
		return "群里将有 %[1]d 位外部联系人。"
	case msgWhyTemplate:
		return "模板 %[1]s 总是先确认。"
	case msgWhyAlways:
		return "这里每次建群前我都会先确认。"
	case msgAnswerCodeMissing:
		return "要确认哪条预览？请发送预览中的代码，例如 /确认 K7Q2XM（点预览里的按钮会替你发送）。"
	case msgAnswerBadCode:
		return "“%[1]s” 不是预览代码：代码由 %[2]d 个字母和数字组成，例如 K7Q2XM。"
	case msgAnswerUnknown:
		return "我没有代码为 %[1]s 的预览。请核对预览消息里的代码，或重新发送建群命令。"
	case msgAnswerNotYours:
		return "预览 %[1]s 属于 %[2]s：只有发送建群命令的人可以确认或取消。"
	case msgAnswerExpired:
		return "预览 %[1]s 已过期（预览有效期 %[2]s），没有建群。请重新发送建群命令。"
	case msgAnswerCancelled:
		return "已取消：没有创建 “%[1]s”。"
	case msgAnswerWasCancelled:
		return "预览 %[1]s 已被取消，没有建群。请重新发送建群命令。"
	case msgAnswerAlreadyCancelled:
		return "预览 %[1]s 已经取消过了，没有建群。"
	case msgAnswerDone:
		return "预览 %[1]s 已经确认过：“%[2]s” 已创建（chatid %[3]s），没有重复建群。"
	case msgAnswerInProgress:
		return "预览 %[1]s 已经确认，正在建群；稍后会回复那条确认。"
	case msgAnswerFailed:
		return "预览 %[1]s 已经确认，但建群没有成功（见我对那条确认的回复）。请重新发送建群命令再试。"
	case msgAnswerOutcomeUnknown:
		return "预览 %[1]s 已经确认，但无法确定群是否已创建（见我对那条确认的回复）。再试之前请先查看你的群列表。"
	case msgAnswerCannotUndo:
		return "“%[1]s” 已经创建（chatid %[2]s），无法取消；群主可以在钉钉的群设置里解散它。"
	case msgAnswerCannotCancel:
		return "预览 %[1]s 已经确认，正在建群，无法再取消。"
	case msgPreviewMore:
		return "……还有 %[1]d 人"
	}
	return ""
}
