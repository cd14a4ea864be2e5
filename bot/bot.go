// Package bot is dingbot's core: the pipeline that takes a chat message from
// any transport, interprets it with package commands, calls DingTalk through
// package dingclient and replies in the chat. Transports live in sub-packages
// (bot/stream for DingTalk Stream mode, bot/httpserver for the HTTP side) and
// depend on this package, never the reverse: nothing here knows about
// websockets or gin.
package bot

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/dingbot/dingbot/commands"
	"github.com/dingbot/dingbot/dingclient"
)

// Message is one chat message addressed to the bot, independent of the transport that carried it.
type Message struct {
	// MsgID is DingTalk's business message ID (msgId), stable across redeliveries.
	MsgID string
	// ConversationID is the chat's openConversationId (conversationId in the callback).
	ConversationID string
	// Group is true for a group chat (conversationType "2").
	Group bool
	// SenderStaffID is the sender's userId; empty for senders outside the organisation.
	SenderStaffID string
	// SenderNick is the sender's display name.
	SenderNick string
	// BotUserID is the bot's own dingtalkId (chatbotUserId).
	BotUserID string
	// MsgType is DingTalk's msgtype ("text", "picture", ...).
	MsgType string
	// Text is text.content for text messages.
	Text string
	// Mentions are the message's atUsers.
	Mentions []commands.Mention
	// SessionWebhook is the URL to reply to this conversation; it is a credential.
	SessionWebhook string
	// SessionExpires is when SessionWebhook stops working.
	SessionExpires time.Time
}

// DingTalk is what the pipeline needs from DingTalk; *dingclient.Client implements it.
type DingTalk interface {
	Directory
	CreateGroup(ctx context.Context, req *dingclient.CreateGroupRequest) (*dingclient.CreateGroupResponse, error)
	AddGroupMembers(ctx context.Context, chatID string, userIDs []string) (notAdded []string, err error)
	ReplyBySession(ctx context.Context, webhookURL, text string) error
	SendGroupText(ctx context.Context, openConversationID, text string) error
	SendUserText(ctx context.Context, userIDs []string, text string) error
}

// MaxMembersPerCreate is how many members the create call takes; the rest
// are added through the group-update API (DingTalk's per-call limit of 40).
const MaxMembersPerCreate = 40

// ErrStopping is returned by Handle once Shutdown has begun.
var ErrStopping = errors.New("bot is shutting down")

// Options configures a Bot.
type Options struct {
	// DingTalk is the OpenAPI client. Required.
	DingTalk DingTalk
	// Language is the configured command language; nil uses the defaults (English, no aliases or templates).
	Language *commands.Language
	// LookupCacheTTL is how long look-ups by mobile and name are cached (default 1 hour).
	LookupCacheTTL time.Duration
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Metrics records Prometheus metrics; nil records nothing.
	Metrics *Metrics
	// MaxConcurrent bounds how many messages are processed at once (default 32).
	MaxConcurrent int
	// DedupeTTL is how long a msgId is remembered to drop redeliveries (default 10 minutes).
	DedupeTTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Bot is the transport-independent pipeline. It is safe for concurrent use.
type Bot struct {
	dt      DingTalk
	lang    *commands.Language
	people  *resolver
	log     *slog.Logger
	metrics *Metrics
	now     func() time.Time
	slots   chan struct{}
	seen    *dedupe

	// work is the parent of every command's context: it outlives the
	// transport's connection and is cancelled only if Shutdown runs out of time.
	work       context.Context
	cancelWork context.CancelFunc

	mu       sync.Mutex
	stopping bool
	inflight sync.WaitGroup
}

// New returns a Bot ready to Handle messages.
func New(opts Options) *Bot {
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 32
	}
	if opts.DedupeTTL <= 0 {
		opts.DedupeTTL = 10 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.LookupCacheTTL <= 0 {
		opts.LookupCacheTTL = time.Hour
	}
	if opts.Language == nil {
		var err error
		if opts.Language, err = commands.New(commands.Settings{}); err != nil {
			panic("commands: default settings rejected: " + err.Error())
		}
	}
	work, cancel := context.WithCancel(context.Background())
	return &Bot{
		dt:         opts.DingTalk,
		lang:       opts.Language,
		people:     newResolver(opts.DingTalk, opts.LookupCacheTTL, opts.Now),
		log:        opts.Logger,
		metrics:    opts.Metrics,
		now:        opts.Now,
		slots:      make(chan struct{}, opts.MaxConcurrent),
		seen:       newDedupe(opts.DedupeTTL),
		work:       work,
		cancelWork: cancel,
	}
}

// Handle accepts one message and returns at once; the command runs in the
// background so the transport can acknowledge the message immediately
// (DingTalk redelivers a Stream message that is not ACKed within ~60 s).
// A message whose msgId was already accepted is dropped.
func (b *Bot) Handle(msg Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopping {
		return ErrStopping
	}
	if msg.MsgID != "" && !b.seen.firstTime(msg.MsgID, b.now()) {
		b.metrics.duplicate()
		b.log.Info("duplicate message dropped", "msg_id", msg.MsgID)
		return nil
	}
	b.inflight.Add(1)
	go func() {
		defer b.inflight.Done()
		b.slots <- struct{}{}
		defer func() { <-b.slots }()
		b.process(b.work, msg)
	}()
	return nil
}

// Shutdown stops taking messages and waits for the ones in flight. If ctx ends
// first, their DingTalk calls are cancelled and ctx's error is returned.
func (b *Bot) Shutdown(ctx context.Context) error {
	b.mu.Lock()
	b.stopping = true
	b.mu.Unlock()

	done := make(chan struct{})
	go func() {
		b.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
		b.cancelWork()
		return nil
	case <-ctx.Done():
		b.cancelWork()
		<-done
		return ctx.Err()
	}
}

// process runs one message end to end: interpret, call DingTalk, reply.
func (b *Bot) process(ctx context.Context, msg Message) {
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("command panicked", "msg_id", msg.MsgID, "panic", r)
			b.metrics.command(outcomeInternal)
		}
	}()
	start := b.now()
	log := b.log.With("msg_id", msg.MsgID, "conversation", msg.ConversationID, "sender", msg.SenderStaffID)

	var reply commands.Reply
	var outcome string
	if msg.MsgType != "" && msg.MsgType != "text" {
		reply, outcome = b.lang.NonTextReply(b.lang.DefaultLang()), outcomeAnswered
	} else {
		action := b.lang.Interpret(commands.Message{
			Text:          msg.Text,
			SenderStaffID: msg.SenderStaffID,
			SenderNick:    msg.SenderNick,
			Group:         msg.Group,
			BotUserID:     msg.BotUserID,
			Mentions:      msg.Mentions,
		})
		if cg := action.CreateGroup; cg != nil && len(cg.Pending) > 0 {
			action = b.lang.Complete(cg, b.people.resolve(ctx, cg.Pending))
		}
		switch {
		case action.CreateGroup != nil:
			reply, outcome = b.createGroup(ctx, log, action.CreateGroup)
		case action.Reply != nil:
			reply, outcome = *action.Reply, outcomeAnswered
		default:
			log.Error("command language returned no action")
			return
		}
	}
	b.metrics.command(outcome)
	via, err := b.reply(ctx, msg, reply.Text)
	log.Info("command done", "outcome", outcome, "reply_via", via, "reply_error", errText(err), "duration", b.now().Sub(start))
}

// Command outcomes, the label values of dingbot_commands_total.
const (
	outcomeAnswered = "answered" // help, dry run, usage error, hint or unresolved people: no group created
	outcomeCreated  = "created"
	outcomeRefused  = "refused" // DingTalk said no; nothing was created
	outcomeUnknown  = "unknown" // the group may or may not exist
	outcomeInternal = "internal_error"
)

// createGroup creates the group with the first MaxMembersPerCreate members
// (the owner is first) and adds the rest through the group-update API.
func (b *Bot) createGroup(ctx context.Context, log *slog.Logger, cg *commands.CreateGroup) (commands.Reply, string) {
	req := cg.Request
	var rest []string
	if len(req.UserIDs) > MaxMembersPerCreate {
		req.UserIDs, rest = req.UserIDs[:MaxMembersPerCreate], req.UserIDs[MaxMembersPerCreate:]
	}
	resp, err := b.dt.CreateGroup(ctx, &req)
	if err != nil {
		outcome := outcomeRefused
		var unknown *dingclient.OutcomeUnknownError
		if errors.As(err, &unknown) {
			outcome = outcomeUnknown
		}
		log.Warn("group create failed", "name", req.Name, "outcome", outcome, "error", err.Error())
		return b.lang.FailedReply(cg, err), outcome
	}
	var notAdded []string
	if len(rest) > 0 {
		notAdded, err = b.dt.AddGroupMembers(ctx, resp.ChatID, rest)
		if err != nil {
			log.Warn("adding members beyond the first 40 failed", "chatid", resp.ChatID, "not_added", len(notAdded), "error", err.Error())
		}
	}
	log.Info("group created", "name", req.Name, "open_conversation_id", resp.OpenConversationID,
		"chatid", resp.ChatID, "owner", req.Owner, "members", len(cg.Request.UserIDs), "not_added", len(notAdded))
	return b.lang.CreatedReply(cg, resp, notAdded), outcomeCreated
}

// Reply paths, the label values of dingbot_replies_total.
const (
	viaSession  = "session_webhook"
	viaGroupAPI = "robot_group_api"
	viaUserAPI  = "robot_oto_api"
	viaNone     = "none"
)

// reply posts text to the message's session webhook and falls back to the
// robot send APIs when the session has expired or DingTalk no longer knows it.
// Other webhook failures are not retried through the API, because the first
// post may have been delivered and a duplicate reply is worse than a logged error.
func (b *Bot) reply(ctx context.Context, msg Message, text string) (string, error) {
	if msg.SessionWebhook != "" && (msg.SessionExpires.IsZero() || b.now().Before(msg.SessionExpires)) {
		err := b.dt.ReplyBySession(ctx, msg.SessionWebhook, text)
		if err == nil || !errors.Is(err, dingclient.ErrSessionGone) {
			b.metrics.reply(viaSession, err)
			return viaSession, err
		}
		b.metrics.reply(viaSession, err)
	}
	if msg.Group {
		err := b.dt.SendGroupText(ctx, msg.ConversationID, text)
		b.metrics.reply(viaGroupAPI, err)
		return viaGroupAPI, err
	}
	if msg.SenderStaffID == "" {
		err := errors.New("session expired and the sender has no userId to message directly")
		b.metrics.reply(viaNone, err)
		return viaNone, err
	}
	err := b.dt.SendUserText(ctx, []string{msg.SenderStaffID}, text)
	b.metrics.reply(viaUserAPI, err)
	return viaUserAPI, err
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// dedupe remembers message IDs for a while so redeliveries are dropped.
type dedupe struct {
	ttl  time.Duration
	seen map[string]time.Time
}

func newDedupe(ttl time.Duration) *dedupe {
	return &dedupe{ttl: ttl, seen: make(map[string]time.Time)}
}

// firstTime records id and reports whether it was not seen within the TTL.
// The caller holds the Bot's lock.
func (d *dedupe) firstTime(id string, now time.Time) bool {
	if t, ok := d.seen[id]; ok && now.Sub(t) < d.ttl {
		return false
	}
	if len(d.seen) >= 1024 {
		for k, t := range d.seen {
			if now.Sub(t) >= d.ttl {
				delete(d.seen, k)
			}
		}
	}
	d.seen[id] = now
	return true
}
