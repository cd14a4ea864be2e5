package demo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dingbot/dingbot/dingtalktest"
)

// static holds the page: plain HTML, CSS and JavaScript, no build step and no
// external resources.
//
//go:embed static
var static embed.FS

// Error switches: what the fake answers to create-group calls.
const (
	SwitchNone           = "none"
	SwitchPermission     = "permission"
	SwitchVisibility     = "visibility"
	SwitchThrottling     = "throttling"
	SwitchSystem         = "system"
	SwitchExpiredSession = "expired_session"
)

// switchInfo describes one error switch on the page.
type switchInfo struct {
	ID     string `json:"id"`
	Label  string `json:"label"`
	Detail string `json:"detail"`
}

// What the fake delivers as the text of a group message for a mention picked
// from the @ list: some DingTalk clients keep the @Name text, others strip it
// and send only atUsers.
const (
	MentionTextKeep  = "keep"
	MentionTextStrip = "strip"
)

var mentionTexts = []switchInfo{
	{MentionTextKeep, "Keep the @Name text", "the text and atUsers, as most DingTalk clients send a mention"},
	{MentionTextStrip, "Strip the @Name text", "atUsers only, as some DingTalk clients send a mention picked from the @ list"},
}

var switches = []switchInfo{
	{SwitchNone, "No error", "DingTalk accepts every valid request"},
	{SwitchPermission, "Permission check failed", "create group: 400 permession.checkFailed 权限校验失败"},
	{SwitchVisibility, "Owner outside visibility", "create group: 400 permession.checkFailed 群主不在应用可见性内"},
	{SwitchThrottling, "Throttled", "create group: 403 Forbidden.AccessDenied.QpsLimitForAppkeyAndApi on every attempt"},
	{SwitchSystem, "System error", "create group: 500 system.error (the group may or may not exist)"},
	{SwitchExpiredSession, "Expired session", "the message's session webhook expires before the reply: the bot answers through the robot API"},
}

// entry is one message of a chat, as the page shows it.
//
// A bot message's Format is "markdown" for the bot's markdown messages (the
// kickoff, a /newgroup preview), whichever path they took: a session webhook
// or the robot API. Its ReplyTo is the msgId it answers: the message whose
// session webhook it used or, when that had expired and it came through the
// robot API, the oldest message of its chat still unanswered; "" for what the
// bot posts on its own, such as the kickoff in a group it created.
type entry struct {
	Seq      int      `json:"seq"`
	Chat     string   `json:"chat"` // "dm:USERID" or a group's openConversationId
	From     string   `json:"from"` // the sender's userId, or "bot"
	Name     string   `json:"name"`
	Text     string   `json:"text"`
	Format   string   `json:"format,omitempty"` // bot messages: "markdown", else plain text
	Title    string   `json:"title,omitempty"`  // markdown: what DingTalk's chat list shows
	Mentions []person `json:"mentions,omitempty"`
	// Delivered is the text DingTalk delivered to the bot when it is not
	// Text: the picked mentions' @Name stripped (MentionTextStrip).
	Delivered *string   `json:"delivered,omitempty"`
	MsgID     string    `json:"msgId,omitempty"`
	Via       string    `json:"via,omitempty"`     // bot replies: session, group_api, oto_api
	ReplyTo   string    `json:"replyTo,omitempty"` // bot replies: the msgId answered
	Time      time.Time `json:"time"`
}

type person struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// web is the page's backend: a JSON API over the fake DingTalk.
type web struct {
	d *Demo

	run string // this demo's ID: the page keys what it stores in the browser with it

	mu          sync.Mutex
	mode        string
	mentionText string // MentionTextKeep or MentionTextStrip
	entries     []entry
	msgChat     map[string]string   // msgId of a sent message → chat
	unanswered  map[string][]string // chat → msgIds sent there no bot reply answered yet, oldest first
	seen        int                 // fake replies already turned into entries
	changed     chan struct{}       // closed and replaced when entries change
}

func newWeb(d *Demo) *web {
	w := &web{d: d, run: randomID(), mode: SwitchNone, mentionText: MentionTextKeep, msgChat: map[string]string{}, unanswered: map[string][]string{}, changed: make(chan struct{})}
	d.fake.ScriptCreateGroup(w.scriptCreate)
	return w
}

// scriptCreate answers create-group calls according to the error switch.
func (w *web) scriptCreate(dingtalktest.CreateGroupRequestRecord) *dingtalktest.Response {
	w.mu.Lock()
	mode := w.mode
	w.mu.Unlock()
	switch mode {
	case SwitchPermission:
		return &dingtalktest.Response{Status: http.StatusBadRequest, Code: dingtalktest.CodePermissionFailed, Message: dingtalktest.MsgPermissionFailed}
	case SwitchVisibility:
		return &dingtalktest.Response{Status: http.StatusBadRequest, Code: dingtalktest.CodePermissionFailed, Message: dingtalktest.MsgOwnerNotVisible}
	case SwitchThrottling:
		return &dingtalktest.Response{Status: http.StatusForbidden, Code: dingtalktest.CodeQPSLimit, Message: dingtalktest.MsgQPSLimit}
	case SwitchSystem:
		return &dingtalktest.Response{Status: http.StatusInternalServerError, Code: dingtalktest.CodeSystemError, Message: dingtalktest.MsgSystemError}
	case SwitchExpiredSession:
		w.d.fake.ExpireSessions() // the session dies while the group is being created
	}
	return nil
}

func (w *web) notifyLocked() {
	close(w.changed)
	w.changed = make(chan struct{})
}

// follow turns the bot's replies, whatever path they took, into chat entries
// until ctx ends.
func (w *web) follow(ctx context.Context) {
	for {
		w.mu.Lock()
		n := w.seen
		w.mu.Unlock()
		replies, err := w.d.fake.WaitReplies(ctx, n+1)
		if err != nil {
			return
		}
		w.mu.Lock()
		for _, r := range replies[w.seen:] {
			chat := w.msgChat[r.MsgID]
			switch {
			case chat != "":
			case r.UserID != "":
				chat = "dm:" + r.UserID
			case w.msgChat["conv|"+r.ConversationID] != "":
				chat = w.msgChat["conv|"+r.ConversationID]
			default:
				chat = r.ConversationID
			}
			e := entry{Chat: chat, From: "bot", Name: "dingbot", Text: r.Text, Via: r.Via, ReplyTo: w.answeredLocked(chat, r.MsgID), Time: r.SentAt}
			if r.MsgType == "markdown" {
				e.Format, e.Title = "markdown", r.Title
			}
			w.appendLocked(e)
		}
		w.seen = len(replies)
		w.mu.Unlock()
	}
}

// answeredLocked returns the msgId a bot message in chat answers and marks
// it answered: msgID when the bot used that message's session webhook, else
// the oldest unanswered message of the chat, or "" when there is none (a
// message of the bot's own, like the kickoff it posts in a group it just
// created).
func (w *web) answeredLocked(chat, msgID string) string {
	q := w.unanswered[chat]
	if msgID != "" {
		q = slices.DeleteFunc(q, func(id string) bool { return id == msgID })
	} else if len(q) > 0 {
		msgID, q = q[0], q[1:]
	}
	if len(q) == 0 {
		delete(w.unanswered, chat)
	} else {
		w.unanswered[chat] = q
	}
	return msgID
}

func (w *web) appendLocked(e entry) {
	e.Seq = len(w.entries) + 1
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	w.entries = append(w.entries, e)
	w.notifyLocked()
}

// serve runs the page's HTTP server on l until ctx ends.
func (w *web) serve(ctx context.Context, l net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go w.follow(ctx)
	srv := &http.Server{Handler: w.handler(ctx), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	err := srv.Shutdown(shutdownCtx)
	if e := <-done; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return err
}

// handler is the page and its API. Long polls end when ctx does.
func (w *web) handler(ctx context.Context) http.Handler {
	r := gin.New()
	r.Use(gin.Recovery(), func(c *gin.Context) {
		c.Header("Cache-Control", "no-store")
		c.Header("X-Content-Type-Options", "nosniff")
		c.Header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	})
	asset := func(name, contentType string) gin.HandlerFunc {
		return func(c *gin.Context) {
			b, err := static.ReadFile("static/" + name)
			if err != nil {
				c.Status(http.StatusNotFound)
				return
			}
			c.Data(http.StatusOK, contentType, b)
		}
	}
	r.GET("/", asset("index.html", "text/html; charset=utf-8"))
	r.GET("/app.js", asset("app.js", "text/javascript; charset=utf-8"))
	r.GET("/style.css", asset("style.css", "text/css; charset=utf-8"))
	r.GET("/api/state", func(c *gin.Context) { c.JSON(http.StatusOK, w.state()) })
	r.GET("/api/messages", func(c *gin.Context) { w.messages(ctx, c) })
	r.POST("/api/send", w.send)
	r.POST("/api/switch", w.setSwitch)
	r.POST("/api/mention-text", w.setMentionText)
	r.NoRoute(func(c *gin.Context) { c.JSON(http.StatusNotFound, gin.H{"error": "not found"}) })
	return r
}

type groupView struct {
	ID        string    `json:"id"`
	ChatID    string    `json:"chatId"`
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	Owner     person    `json:"owner"`
	Members   []person  `json:"members"`
	Options   []string  `json:"options"`
	Existing  bool      `json:"existing"` // seeded at startup; the bot is in it
	Bot       bool      `json:"bot"`      // the bot is in it (existing, or it joined after /newgroup)
	CreatedAt time.Time `json:"createdAt"`
}

type personView struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Title   string `json:"title,omitempty"`
	Mobile  string `json:"mobile"`
	Visible bool   `json:"visible"`
}

type stateView struct {
	Run      string       `json:"run"` // changes when the demo restarts
	Me       string       `json:"me"`
	People   []personView `json:"people"`
	Chats    []groupView  `json:"chats"` // the groups the bot is in: existing ones and those it created and joined
	Groups   []groupView  `json:"groups"`
	Switch   string       `json:"switch"`
	Switches []switchInfo `json:"switches"`
	// MentionText is what a group message's text keeps of a mention picked
	// from the @ list (MentionTexts).
	MentionText  string       `json:"mentionText"`
	MentionTexts []switchInfo `json:"mentionTexts"`
}

func (w *web) state() stateView {
	st := stateView{Run: w.run, Me: you().UserID, Switches: switches, MentionTexts: mentionTexts, People: []personView{}, Chats: []groupView{}, Groups: []groupView{}}
	for _, u := range People() {
		st.People = append(st.People, personView{ID: u.UserID, Name: u.Name, Title: u.Title, Mobile: u.Mobile, Visible: u.Visible})
	}
	existing := map[string]bool{}
	for _, g := range w.d.groups {
		existing[g.OpenConversationID] = true
	}
	for _, g := range w.d.fake.Groups() {
		v := groupView{
			ID: g.OpenConversationID, ChatID: g.ChatID, Name: g.Name, Type: "internal",
			Owner: person{g.Owner, nameOf(g.Owner)}, Members: []person{}, Options: options(g.Request.ManagementOptions),
			Existing: existing[g.OpenConversationID], Bot: w.d.fake.RobotInGroup(g.OpenConversationID), CreatedAt: g.CreatedAt,
		}
		if g.ConversationTag == 0 {
			v.Type = "standard"
		}
		for _, m := range g.Members {
			v.Members = append(v.Members, person{m, nameOf(m)})
		}
		st.Groups = append(st.Groups, v)
		if v.Bot {
			st.Chats = append(st.Chats, v)
		}
	}
	slices.Reverse(st.Groups) // newest first
	w.mu.Lock()
	st.Switch, st.MentionText = w.mode, w.mentionText
	w.mu.Unlock()
	return st
}

// options describes a group's management options with the bot's option names.
func options(m map[string]int64) []string {
	type opt struct{ key, name, off, on string }
	known := []opt{
		{"chatBannedType", "mute", "no", "yes"},
		{"showHistoryType", "history", "no", "yes"},
		{"searchable", "searchable", "no", "yes"},
		{"validationType", "approval", "no", "yes"},
		{"mentionAllAuthority", "mention-all", "everyone", "owner"},
		{"managementType", "manage", "everyone", "owner"},
	}
	out := []string{}
	for _, o := range known {
		if v, ok := m[o.key]; ok {
			val := o.off
			if v == 1 {
				val = o.on
			}
			out = append(out, o.name+": "+val)
		}
	}
	return out
}

func nameOf(userID string) string {
	for _, u := range People() {
		if u.UserID == userID {
			return u.Name
		}
	}
	return userID
}

func personByID(userID string) (dingtalktest.User, bool) {
	for _, u := range People() {
		if u.UserID == userID {
			return u, true
		}
	}
	return dingtalktest.User{}, false
}

// messages returns the entries after ?since=N; with ?wait=MS it waits up to
// that long (at most 25 s) for one.
func (w *web) messages(ctx context.Context, c *gin.Context) {
	since, _ := strconv.Atoi(c.Query("since"))
	wait, _ := strconv.Atoi(c.Query("wait"))
	wait = min(max(wait, 0), 25000)
	timer := time.NewTimer(time.Duration(wait) * time.Millisecond)
	defer timer.Stop()
	for {
		w.mu.Lock()
		var out []entry
		if since >= 0 && since < len(w.entries) {
			out = slices.Clone(w.entries[since:])
		}
		ch := w.changed
		w.mu.Unlock()
		if len(out) > 0 || wait == 0 {
			c.JSON(http.StatusOK, gin.H{"messages": append([]entry{}, out...), "next": since + len(out)})
			return
		}
		select {
		case <-ch:
		case <-timer.C:
			wait = 0
		case <-ctx.Done():
			wait = 0
		case <-c.Request.Context().Done():
			return
		}
	}
}

// decodeJSON decodes the request body into v. It is gin's ShouldBindJSON
// without the struct validation (these requests have no binding tags): that
// validator looks methods up by name with reflect, which makes the linker
// keep every exported method of every type in the binary (~6 MiB more
// dingbot, and more of it paged in at startup).
func decodeJSON(c *gin.Context, v any) error {
	if c.Request.Body == nil {
		return errors.New("no body")
	}
	return json.NewDecoder(c.Request.Body).Decode(v)
}

type sendRequest struct {
	As       string   `json:"as"`
	Chat     string   `json:"chat"` // "dm" or the openConversationId of a group the bot is in
	Text     string   `json:"text"`
	Mentions []string `json:"mentions"` // userIds, in text order: atUsers
	// Picked are the mentions picked from the @ list (not typed in full):
	// their @Name text is stripped when the mention-text switch says so.
	Picked []string `json:"picked"`
}

// dmConversationID is the one-to-one conversation of a person with the bot.
func dmConversationID(userID string) string {
	sum := sha256.Sum256([]byte("dingbot-demo-dm:" + userID))
	return "cid" + base64.StdEncoding.EncodeToString(sum[:22])
}

func (w *web) send(c *gin.Context) {
	var req sendRequest
	if err := decodeJSON(c, &req); err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"error": "the body must be JSON: {as, chat, text, mentions, picked}"})
		return
	}
	sender, ok := personByID(req.As)
	if !ok {
		c.JSON(http.StatusBadRequest, gin.H{"error": fmt.Sprintf("unknown sender %q", req.As)})
		return
	}
	if strings.TrimSpace(req.Text) == "" {
		c.JSON(http.StatusBadRequest, gin.H{"error": "the message is empty"})
		return
	}
	msg := dingtalktest.Message{
		Text: req.Text, SenderID: sender.UserID, SenderNick: sender.Name,
		MsgID: "msg" + randomID(),
	}
	chat := "dm:" + sender.UserID
	var mentions []person
	if req.Chat == "dm" || req.Chat == "" {
		msg.ConversationID = dmConversationID(sender.UserID) // DingTalk sends no atUsers in 1:1 chats
	} else {
		g, ok := w.chatGroup(req.Chat)
		if !ok {
			c.JSON(http.StatusBadRequest, gin.H{"error": fmt.Sprintf("unknown chat %q", req.Chat)})
			return
		}
		chat = g.OpenConversationID
		msg.Group, msg.ConversationID, msg.ConversationTitle = true, g.OpenConversationID, g.Name
		for _, id := range req.Mentions {
			u, ok := personByID(id)
			if !ok {
				c.JSON(http.StatusBadRequest, gin.H{"error": fmt.Sprintf("unknown mentioned person %q", id)})
				return
			}
			msg.Mentions = append(msg.Mentions, dingtalktest.Mention{Name: u.Name, UserID: u.UserID})
			mentions = append(mentions, person{u.UserID, u.Name})
		}
		for _, id := range req.Picked {
			if !slices.Contains(req.Mentions, id) {
				c.JSON(http.StatusBadRequest, gin.H{"error": fmt.Sprintf("picked %q is not among the mentions", id)})
				return
			}
		}
	}
	// Held across Send so that a fast reply is never listed before the message.
	w.mu.Lock()
	defer w.mu.Unlock()
	var delivered *string
	if msg.Group && w.mentionText == MentionTextStrip && len(req.Picked) > 0 {
		var names []string
		for _, id := range req.Picked {
			names = append(names, nameOf(id))
		}
		if t := stripMentions(msg.Text, names); t != msg.Text {
			msg.Text, delivered = t, &t
		}
	}
	w.msgChat[msg.MsgID] = chat
	w.msgChat["conv|"+msg.ConversationID] = chat
	if _, err := w.d.fake.Send(msg); err != nil {
		delete(w.msgChat, msg.MsgID)
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": "the bot is not connected to the fake DingTalk: " + err.Error()})
		return
	}
	w.unanswered[chat] = append(w.unanswered[chat], msg.MsgID)
	if w.mode == SwitchExpiredSession {
		w.d.fake.ExpireSessions()
	}
	w.appendLocked(entry{Chat: chat, From: sender.UserID, Name: sender.Name, Text: req.Text, Mentions: mentions, Delivered: delivered, MsgID: msg.MsgID})
	c.JSON(http.StatusOK, gin.H{"msgId": msg.MsgID, "chat": chat, "seq": len(w.entries)})
}

// chatGroup finds a group people can talk to the bot in: one the fake
// DingTalk has, with the bot in it (an existing group, or one the bot created
// and then joined). Its name is the current one, after any /rename.
func (w *web) chatGroup(openConversationID string) (dingtalktest.Group, bool) {
	if openConversationID == "" || !w.d.fake.RobotInGroup(openConversationID) {
		return dingtalktest.Group{}, false
	}
	groups := w.d.fake.Groups()
	i := slices.IndexFunc(groups, func(g dingtalktest.Group) bool { return g.OpenConversationID == openConversationID })
	if i < 0 {
		return dingtalktest.Group{}, false
	}
	return groups[i], true
}

func (w *web) setSwitch(c *gin.Context) {
	var req struct {
		Error string `json:"error"`
	}
	if err := decodeJSON(c, &req); err != nil || !slices.ContainsFunc(switches, func(s switchInfo) bool { return s.ID == req.Error }) {
		ids := make([]string, len(switches))
		for i, s := range switches {
			ids[i] = s.ID
		}
		c.JSON(http.StatusBadRequest, gin.H{"error": "error must be one of " + strings.Join(ids, ", ")})
		return
	}
	w.mu.Lock()
	w.mode = req.Error
	w.mu.Unlock()
	c.JSON(http.StatusOK, gin.H{"switch": req.Error})
}

// stripMentions removes from text every @Name of the names that is a whole
// word, with the space after it (or, at the end, before it), as a DingTalk
// client that strips picked mentions does. What is left may be empty: the
// message is then atUsers only.
func stripMentions(text string, names []string) string {
	for _, name := range names {
		token := "@" + name
		for i := 0; i < len(text); {
			j := strings.Index(text[i:], token)
			if j < 0 {
				break
			}
			at, end := i+j, i+j+len(token)
			if (at > 0 && !isSpace(text[at-1])) || (end < len(text) && !isSpace(text[end])) {
				i = at + 1
				continue
			}
			if end < len(text) {
				end++
			} else if at > 0 {
				at--
			}
			text = text[:at] + text[end:]
			i = at
		}
	}
	return text
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (w *web) setMentionText(c *gin.Context) {
	var req struct {
		Mode string `json:"mode"`
	}
	if err := decodeJSON(c, &req); err != nil || (req.Mode != MentionTextKeep && req.Mode != MentionTextStrip) {
		c.JSON(http.StatusBadRequest, gin.H{"error": "mode must be " + MentionTextKeep + " or " + MentionTextStrip})
		return
	}
	w.mu.Lock()
	w.mentionText = req.Mode
	w.mu.Unlock()
	c.JSON(http.StatusOK, gin.H{"mentionText": req.Mode})
}

func randomID() string { return rand.Text() }
