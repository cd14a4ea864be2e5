// Package bot is dingbot's core: the pipeline that takes a chat message from
// any transport, interprets it with package commands, calls DingTalk through
// package dingclient and replies in the chat. Transports live in sub-packages
// (bot/stream for DingTalk Stream mode, bot/httpserver for the HTTP side) and
// depend on this package, never the reverse: nothing here knows about
// websockets or gin.
package bot

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/dingbot/dingbot/access"
	"github.com/dingbot/dingbot/commands"
	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/store"
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
	// IsAdmin is DingTalk's isAdmin: the sender is an admin of the organisation.
	IsAdmin bool
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
	// ReceivedAt is when the transport received the message; Handle sets it
	// if the transport did not. Command latency is measured from it.
	ReceivedAt time.Time
}

// DingTalk is what the pipeline needs from DingTalk; *dingclient.Client implements it.
type DingTalk interface {
	Directory
	CreateGroup(ctx context.Context, req *dingclient.CreateGroupRequest) (*dingclient.CreateGroupResponse, error)
	AddGroupMembers(ctx context.Context, chatID string, userIDs []string) (notAdded []string, err error)
	ReplyBySession(ctx context.Context, webhookURL, text string) error
	// IsSessionWebhook reports whether a URL is DingTalk's session-reply URL
	// (the configured OAPI host's /robot/sendBySession); no other is ever posted to.
	IsSessionWebhook(webhookURL string) bool
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
	// Store is the durable inbox and audit. Required.
	Store store.Store
	// Language is the configured command language; nil uses the defaults (English, no aliases or templates).
	Language *commands.Language
	// LookupCacheTTL is how long look-ups by mobile and name are cached (default 1 hour).
	LookupCacheTTL time.Duration
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Metrics records Prometheus metrics; nil records nothing.
	Metrics *Metrics
	// MaxConcurrent is the number of workers, i.e. commands processed at once (default 32).
	MaxConcurrent int
	// CreateRate is the most group-create calls per second this process makes (default 20, DingTalk's per-app limit).
	CreateRate float64
	// Lease is how long a worker holds an inbox item without renewing it (default 30s).
	// A process killed mid-command loses its items after at most this long:
	// waiting ones are taken by another worker, calling ones become unknown.
	Lease time.Duration
	// PollInterval is how often an idle worker looks for items other processes stored (default 1s);
	// a worker that finds one wakes another, so a backlog is drained by every idle worker.
	PollInterval time.Duration
	// Retention is how long finished inbox items are kept (default 7 days); the audits of groups and commands are kept.
	Retention time.Duration
	// Owner names this process in leases (default host-pid-random).
	Owner string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Access decides who may run /newgroup and how often (package access);
	// nil allows everything, without rate limits.
	Access *access.Policy
	// VerifyAdmin looks up a sender's isAdmin with DingTalk's user API
	// (cached for LookupCacheTTL) instead of believing the message. HTTP
	// callback mode sets it: the callback's signature does not cover the
	// body, while a Stream frame arrives on the bot's own authenticated connection.
	VerifyAdmin bool
}

// Bot is the transport-independent pipeline: a durable inbox and the workers
// that drain it. It is safe for concurrent use.
type Bot struct {
	dt       DingTalk
	store    store.Store
	lang     *commands.Language
	people   *resolver
	access   *access.Policy
	depts    *deptCache
	admins   *ttlCache[bool] // verified isAdmin by userId, with VerifyAdmin
	log      *slog.Logger
	metrics  *Metrics
	now      func() time.Time
	limiter  *rate.Limiter
	owner    string
	lease    time.Duration
	poll     time.Duration
	keep     time.Duration
	wakeup   chan struct{}
	stopping chan struct{} // closed by Shutdown: no new messages, workers finish their item and stop

	// jobs hands the messages this process claimed (leased to itself) to its
	// workers directly, without a trip through the store's Next; slots
	// bounds it, so a claim knows before inserting whether a worker will
	// take it soon. Messages beyond it are stored unleased for Next.
	jobs  chan job
	slots chan struct{}
	// handling is held (read) by Handle while it may add a job, so Shutdown
	// can wait for those before it releases the jobs no worker took.
	handling sync.RWMutex
	// held has the msgIds of the inbox items this process queued or runs;
	// an item leased to it that is not here was stranded (see Handle).
	held sync.Map

	// work is the parent of every command's context: it outlives the
	// transport's connection and is cancelled only if Shutdown runs out of time.
	work       context.Context
	cancelWork context.CancelFunc

	stopOnce  sync.Once
	workers   sync.WaitGroup
	chores    sync.WaitGroup
	stopChore chan struct{}
	stopped   chan struct{} // closed when every worker and chore has stopped
}

// New returns a Bot and starts its workers; Shutdown stops them.
func New(opts Options) *Bot {
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 32
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
	if opts.CreateRate <= 0 {
		opts.CreateRate = 20
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.Retention <= 0 {
		opts.Retention = 7 * 24 * time.Hour
	}
	if opts.Owner == "" {
		opts.Owner = defaultOwner()
	}
	if opts.Language == nil {
		var err error
		if opts.Language, err = commands.New(commands.Settings{}); err != nil {
			panic("commands: default settings rejected: " + err.Error())
		}
	}
	work, cancel := context.WithCancel(context.Background())
	b := &Bot{
		dt:         opts.DingTalk,
		store:      opts.Store,
		lang:       opts.Language,
		people:     newResolver(opts.DingTalk, opts.LookupCacheTTL, opts.Now),
		access:     opts.Access,
		depts:      newDeptCache(opts.LookupCacheTTL, opts.Now),
		log:        opts.Logger.With("owner", opts.Owner),
		metrics:    opts.Metrics,
		now:        opts.Now,
		limiter:    rate.NewLimiter(rate.Limit(opts.CreateRate), 1),
		owner:      opts.Owner,
		lease:      opts.Lease,
		poll:       opts.PollInterval,
		keep:       opts.Retention,
		wakeup:     make(chan struct{}, opts.MaxConcurrent),
		stopping:   make(chan struct{}),
		jobs:       make(chan job, queuePerWorker*opts.MaxConcurrent),
		slots:      make(chan struct{}, queuePerWorker*opts.MaxConcurrent),
		work:       work,
		cancelWork: cancel,
		stopChore:  make(chan struct{}),
		stopped:    make(chan struct{}),
	}
	if opts.VerifyAdmin {
		b.admins = newTTLCache[bool](opts.LookupCacheTTL, opts.Now)
	}
	for range opts.MaxConcurrent {
		b.workers.Add(1)
		go b.worker()
	}
	b.chores.Add(2)
	go b.housekeeping()
	go b.poller()
	return b
}

// queuePerWorker is how many claimed messages per worker wait in memory for
// a worker; the SDK hands messages over concurrently, so a burst fits.
const queuePerWorker = 8

// job is a message this process claimed and holds the lease of.
type job struct {
	item *store.Item
	msg  Message
}

func defaultOwner() string {
	host, _ := os.Hostname()
	var r [4]byte
	_, _ = crand.Read(r[:])
	return fmt.Sprintf("%s-%d-%x", host, os.Getpid(), r)
}

// Handle stores one message in the inbox and returns, so the transport can
// acknowledge it at once (DingTalk redelivers a Stream message that is not
// ACKed within ~60 s); a worker runs the command. The claim is atomic on
// msgId, across processes sharing a database: a redelivered message finds its
// row and is not run again. If its command finished but the reply could not
// be posted, the reply is posted again; otherwise the duplicate is dropped.
// Handle returns an error only if the message could not be stored.
func (b *Bot) Handle(msg Message) error {
	b.handling.RLock()
	defer b.handling.RUnlock()
	select {
	case <-b.stopping:
		return ErrStopping
	default:
	}
	if msg.MsgID == "" {
		msg.MsgID = "local-" + randomHex(12)
	}
	if msg.ReceivedAt.IsZero() {
		msg.ReceivedAt = b.now()
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(b.work, 10*time.Second)
	defer cancel()
	// With a free slot, the message is stored leased to this process and
	// handed to a worker directly; otherwise it is stored for any worker
	// (of any replica) to take through Next.
	owner := ""
	select {
	case b.slots <- struct{}{}:
		owner = b.owner
	default:
	}
	claimed, existing, err := b.store.Claim(ctx, msg.MsgID, data, owner, b.now(), b.lease)
	if owner != "" && (err != nil || !claimed) {
		<-b.slots
	}
	if err != nil {
		b.log.Error("cannot store message; it is not acknowledged", "msg_id", msg.MsgID, "error", err.Error())
		if owner != "" {
			// The insert may have committed all the same (an error from the
			// commit itself): then the row is leased to this process with no
			// worker to run it. Give it back; the redelivery finds it free.
			b.releaseStranded(msg.MsgID)
		}
		return fmt.Errorf("storing message: %w", err)
	}
	if claimed {
		if owner != "" {
			b.held.Store(msg.MsgID, struct{}{})
			b.jobs <- job{item: existing, msg: msg} // never blocks: the slot was free
			return nil
		}
		b.wake()
		return nil
	}
	if existing.State == store.Received && existing.Owner == b.owner {
		if _, ok := b.held.Load(msg.MsgID); !ok {
			// Leased to this process but neither queued nor running: a claim
			// whose error hid a commit, and the release then failed too.
			b.releaseStranded(msg.MsgID)
		}
	}
	b.metrics.duplicate()
	b.log.Info("duplicate message", "msg_id", msg.MsgID, "state", existing.State, "reply_state", existing.ReplyState)
	if existing.State.Finished() && existing.ReplyState == store.ReplyFailed {
		// The reply goes where the stored message came from, never to the
		// duplicate's session webhook or chat: a duplicate's other fields
		// are not those of the message that was run.
		var stored Message
		if err := json.Unmarshal(existing.Message, &stored); err != nil {
			b.log.Error("stored message is unreadable", "msg_id", msg.MsgID, "error", err.Error())
			return nil
		}
		b.chores.Add(1)
		go func() {
			defer b.chores.Done()
			b.deliver(existing, stored)
		}()
	}
	return nil
}

// Shutdown stops taking messages, lets each worker finish the command it is
// running, and returns when all have stopped. If ctx ends first, the DingTalk
// calls still running are cancelled (commands not yet calling DingTalk stay
// in the inbox for the next start; a cancelled create is reported to its
// user as possibly done) and ctx's error is returned.
func (b *Bot) Shutdown(ctx context.Context) error {
	b.stopOnce.Do(func() {
		close(b.stopping)
		go func() {
			// A barrier: Handles that started before stopping was closed
			// have added their jobs; later ones see stopping and add none.
			b.handling.Lock()
			b.handling.Unlock() //nolint:staticcheck // an empty critical section on purpose
			b.workers.Wait()
			b.releaseJobs()
			close(b.stopChore)
			b.chores.Wait()
			close(b.stopped)
		}()
	})
	var err error
	select {
	case <-b.stopped:
	case <-ctx.Done():
		err = ctx.Err()
		b.cancelWork()
		<-b.stopped
	}
	b.cancelWork()
	return err
}

// releaseStranded gives back an inbox item leased to this process that no
// worker of it will run, and wakes a worker to take it through Next.
func (b *Bot) releaseStranded(msgID string) {
	err := b.release(msgID)
	switch {
	case err == nil:
		b.wake()
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrLeaseLost):
		// Never stored, or not ours (any more): nothing to give back.
	default:
		b.log.Error("releasing an inbox item failed", "msg_id", msgID, "error", err.Error())
	}
}

// release gives back an inbox item this process holds in state received,
// on its own deadline (it also runs after the work context is cancelled).
func (b *Bot) release(msgID string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return b.store.Release(ctx, msgID, b.owner)
}

// releaseJobs gives back the claimed messages no worker took before
// Shutdown, so the next start (or another replica) runs them at once
// instead of after their lease.
func (b *Bot) releaseJobs() {
	for {
		select {
		case j := <-b.jobs:
			<-b.slots
			b.held.Delete(j.item.MsgID)
			if err := b.release(j.item.MsgID); err != nil {
				b.log.Error("releasing an inbox item failed", "msg_id", j.item.MsgID, "error", err.Error())
			}
		default:
			return
		}
	}
}

// worker runs the messages handed to it by Handle and, when woken, the
// inbox items no process holds (stored when every slot was taken, left by a
// stopped or dead process, or received by another replica), one at a time
// until Shutdown. A worker that finds such an item wakes another, so a
// backlog is drained by all idle workers, while an idle bot looks once per
// poll interval (poller), not once per worker.
func (b *Bot) worker() {
	defer b.workers.Done()
	scan := true // look in the inbox: at start and when woken
	for {
		select {
		case <-b.stopping:
			return
		default:
		}
		// Messages this process claimed come first: they were received
		// (and ACKed) before anything it could find in the inbox now.
		select {
		case j := <-b.jobs:
			b.runJob(j)
			continue
		default:
		}
		if scan {
			item, err := b.store.Next(b.work, b.owner, b.now(), b.lease)
			if err != nil && b.work.Err() == nil {
				b.log.Error("reading the inbox failed", "error", err.Error())
			}
			if item != nil {
				b.wake()
				b.held.Store(item.MsgID, struct{}{})
				b.processItem(item, nil)
				b.held.Delete(item.MsgID)
				continue
			}
			scan = false
		}
		select {
		case <-b.stopping:
			return
		case j := <-b.jobs:
			b.runJob(j)
		case <-b.wakeup:
			scan = true
		}
	}
}

// runJob runs a message Handle queued.
func (b *Bot) runJob(j job) {
	<-b.slots
	b.processItem(j.item, &j.msg)
	b.held.Delete(j.item.MsgID)
}

// wake asks one idle worker to look in the inbox.
func (b *Bot) wake() {
	select {
	case b.wakeup <- struct{}{}:
	default:
	}
}

// poller wakes a worker every poll interval, for items other processes stored.
func (b *Bot) poller() {
	defer b.chores.Done()
	tick := time.NewTicker(b.poll)
	defer tick.Stop()
	for {
		select {
		case <-b.stopChore:
			return
		case <-tick.C:
			b.wake()
		}
	}
}

// housekeeping renews this process's leases, turns calls interrupted by a
// dead process into "unknown" (telling their users), posts replies that were
// never attempted, and prunes old inbox items.
func (b *Bot) housekeeping() {
	defer b.chores.Done()
	b.recover()
	b.updateDepth()
	renew := time.NewTicker(b.lease / 3)
	defer renew.Stop()
	expire := time.NewTicker(b.lease / 2)
	defer expire.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	for {
		select {
		case <-b.stopChore:
			return
		case <-renew.C:
			if _, err := b.store.Renew(b.work, b.owner, b.now(), b.lease); err != nil && b.work.Err() == nil {
				b.log.Error("renewing leases failed", "error", err.Error())
			}
		case <-expire.C:
			b.recover()
			b.updateDepth()
		case <-prune.C:
			n, err := b.store.Prune(b.work, b.now().Add(-b.keep))
			if err != nil && b.work.Err() == nil {
				b.log.Error("pruning the inbox failed", "error", err.Error())
			} else if n > 0 {
				b.log.Info("pruned finished inbox items", "count", n)
			}
			if _, err := b.store.PruneSigned(b.work, b.now()); err != nil && b.work.Err() == nil {
				b.log.Error("pruning expired callback signatures failed", "error", err.Error())
			}
		}
	}
}

// updateDepth sets the inbox depth gauge from one cheap COUNT per state.
func (b *Bot) updateDepth() {
	if b.metrics == nil {
		return
	}
	counts, err := b.store.Counts(b.work)
	if err != nil {
		if b.work.Err() == nil {
			b.log.Error("counting inbox items failed", "error", err.Error())
		}
		return
	}
	b.metrics.inboxDepth(counts)
}

// recover handles what a dead process left behind.
func (b *Bot) recover() {
	items, err := b.store.ExpireCalling(b.work, b.now())
	if err != nil && b.work.Err() == nil {
		b.log.Error("checking for interrupted calls failed", "error", err.Error())
	}
	for _, it := range items {
		b.log.Warn("a create call was interrupted; its outcome is unknown", "msg_id", it.MsgID)
		var msg Message
		if err := json.Unmarshal(it.Message, &msg); err != nil {
			b.metrics.command(commandOther, outcomeUnknown)
			continue
		}
		b.metrics.command(b.metricCommand(msg), outcomeUnknown)
		b.recordCommand(it, msg, result{state: store.Unknown, outcome: outcomeUnknown})
	}
	unreplied, err := b.store.Unreplied(b.work, 100)
	if err != nil && b.work.Err() == nil {
		b.log.Error("looking for unsent replies failed", "error", err.Error())
	}
	// A reply still unattempted may be one a live worker is about to post:
	// only items that finished longer than a lease ago are orphans.
	orphans := items
	for _, it := range unreplied {
		if b.now().Sub(it.UpdatedAt) > b.lease {
			orphans = append(orphans, it)
		}
	}
	for _, it := range orphans {
		var msg Message
		if err := json.Unmarshal(it.Message, &msg); err != nil {
			b.log.Error("stored message is unreadable", "msg_id", it.MsgID, "error", err.Error())
			continue
		}
		b.deliver(it, msg)
	}
}

// processItem runs one leased inbox item and records its outcome. msg is
// the item's message when the caller has it, else nil (it is decoded).
func (b *Bot) processItem(item *store.Item, known *Message) {
	var msg Message
	if known != nil {
		msg = *known
	} else if err := json.Unmarshal(item.Message, &msg); err != nil {
		b.log.Error("stored message is unreadable", "msg_id", item.MsgID, "error", err.Error())
		b.finish(item, msg, result{reply: b.lang.FailedReply(nil, err), state: store.Failed, outcome: outcomeInternal})
		return
	}
	r := b.process(withLogAttrs(b.work, slog.String("msg_id", item.MsgID)), item, msg)
	if r.release {
		if err := b.release(item.MsgID); err != nil {
			b.log.Error("releasing an inbox item failed", "msg_id", item.MsgID, "error", err.Error())
		}
		return
	}
	b.finish(item, msg, r)
}

// finish records the outcome durably, with the command's audit record and
// the group it created, in one transaction, then posts the reply.
func (b *Bot) finish(item *store.Item, msg Message, r result) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reply := r.reply.Text
	records := []store.Record{b.commandRecord(item, msg, r)}
	if r.group != nil {
		records = append(records, *r.group)
	}
	err := b.store.Finish(ctx, item.MsgID, b.owner, r.state, reply, b.now(), records...)
	if err != nil && (errors.Is(err, store.ErrLeaseLost) || !b.finishedAnyway(item.MsgID, r.state, reply)) {
		// Our lease ran out and another process took the item: it owns the
		// reply now. The group exists all the same: keep it in the audit.
		b.log.Error("recording the outcome failed; not replying", "msg_id", item.MsgID, "error", err.Error())
		if r.group != nil {
			if err := b.store.RecordGroup(ctx, *r.group); err != nil {
				b.log.Error("recording the created group in the audit failed", "msg_id", item.MsgID, "error", err.Error())
			}
		}
		return
	}
	command := b.metricCommand(msg)
	b.metrics.command(command, r.outcome)
	item.State, item.Reply = r.state, reply
	b.post(item, msg) // Finish marked the reply as being sent
	received := msg.ReceivedAt
	if received.IsZero() {
		received = item.ReceivedAt
	}
	if !received.IsZero() {
		b.metrics.commandDuration(command, b.now().Sub(received))
	}
}

// finishedAnyway reports whether a Finish that failed other than by a lost
// lease was stored all the same (the error came from its commit, e.g. a
// deadline): the item holds this outcome and its reply is marked as being
// sent, so nobody else will post it.
func (b *Bot) finishedAnyway(msgID string, state store.State, reply string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	it, err := b.store.Get(ctx, msgID)
	return err == nil && it.State == state && it.Reply == reply && it.ReplyState == store.ReplySending
}

// maxAuditText bounds the command text kept in the audit, in bytes.
const maxAuditText = 4000

// recordCommand writes the audit record of a command finished outside
// finish (an interrupted call). A failure is logged; it never changes the
// command's outcome or reply.
func (b *Bot) recordCommand(item *store.Item, msg Message, r result) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.store.RecordCommand(ctx, b.commandRecord(item, msg, r)); err != nil {
		b.log.Error("recording the command in the audit failed", "msg_id", item.MsgID, "error", err.Error())
	}
}

// commandRecord is the audit record of a finished command.
func (b *Bot) commandRecord(item *store.Item, msg Message, r result) store.AuditRecord {
	at := msg.ReceivedAt
	if at.IsZero() {
		at = item.ReceivedAt
	}
	text := strings.TrimSpace(msg.Text)
	if len(text) > maxAuditText {
		text = strings.ToValidUTF8(text[:maxAuditText], "")
	}
	rec := store.AuditRecord{
		MsgID: item.MsgID, At: at, Sender: msg.SenderStaffID, SenderNick: msg.SenderNick,
		ConversationID: msg.ConversationID, Command: b.auditCommand(msg), Text: text, Outcome: r.outcome,
		GroupOpenConversationID: r.openConversationID, ChatID: r.chatID,
	}
	rec.RequestID, rec.ErrorCode = dingTalkError(r.err)
	return rec
}

// commandOther labels metrics of messages that are no known command.
const commandOther = "other"

// metricCommand is the command label of msg's metrics: the canonical
// command name, or "other" (bounded, whatever people type).
func (b *Bot) metricCommand(msg Message) string {
	if msg.MsgType != "" && msg.MsgType != "text" {
		return commandOther
	}
	if name := b.lang.CommandName(msg.Text); name != "" {
		return name
	}
	return commandOther
}

// auditCommand is the command of msg's audit record: the canonical command
// name, else the first word of a /command as typed (at most 32 characters),
// else "".
func (b *Bot) auditCommand(msg Message) string {
	if msg.MsgType != "" && msg.MsgType != "text" {
		return ""
	}
	if name := b.lang.CommandName(msg.Text); name != "" {
		return name
	}
	line := commands.Normalize(msg.Text)
	if !strings.HasPrefix(line, "/") {
		return ""
	}
	first, _, _ := strings.Cut(line[1:], " ")
	if r := []rune(first); len(r) > 32 {
		first = string(r[:32])
	}
	return strings.ToLower(first)
}

// dingTalkError returns DingTalk's requestid and error code from the
// *dingclient.APIError or *dingclient.LegacyError in err, if there is one.
func dingTalkError(err error) (requestID, code string) {
	var apiErr *dingclient.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.Code
		if code == "" && apiErr.HTTPStatus != 0 {
			code = "http_" + strconv.Itoa(apiErr.HTTPStatus)
		}
		return apiErr.RequestID, code
	}
	var legacy *dingclient.LegacyError
	if errors.As(err, &legacy) {
		return legacy.RequestID, strconv.Itoa(legacy.ErrCode)
	}
	return "", ""
}

// isAdmin reports whether the sender of msg may read everyone's groups
// (/groups --all): an organisation admin by DingTalk's isAdmin, or an admin of
// the access policy (access.admins). Listing is a read, so DingTalk's flag
// counts even without trust_dingtalk_admins, which governs creating.
func (b *Bot) isAdmin(msg Message) bool {
	id := strings.TrimSpace(msg.SenderStaffID)
	if id == "" {
		return false
	}
	return msg.IsAdmin || (b.access != nil && b.access.Admin(id, msg.IsAdmin))
}

// verifiedAdmin looks up whether userID is an organisation admin, for a
// message that claims so (VerifyAdmin). A failed look-up counts as no: the
// claim cannot be checked, so it is not believed.
func (b *Bot) verifiedAdmin(ctx context.Context, log *slog.Logger, userID string) bool {
	userID = strings.TrimSpace(userID)
	if userID == "" {
		return false
	}
	if admin, ok := b.admins.get(userID); ok {
		return admin
	}
	u, err := b.dt.GetUser(ctx, userID)
	switch {
	case errors.Is(err, dingclient.ErrUserNotFound):
		b.admins.put(userID, false)
		return false
	case err != nil:
		log.Warn("cannot verify the sender's isAdmin; treating them as no admin", "error", err.Error())
		return false
	}
	if !u.Admin {
		log.Warn("a message claimed isAdmin for a sender who is no admin", "sender", userID)
	}
	b.admins.put(userID, u.Admin)
	return u.Admin
}

// deliver posts an item's reply once: the store's reply state makes sure no
// two processes post it at the same time and a delivered reply is not repeated.
func (b *Bot) deliver(item *store.Item, msg Message) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ok, err := b.store.SetReplyState(ctx, item.MsgID, store.ReplySending, b.now())
	if err != nil || !ok {
		if err != nil {
			b.log.Error("reply bookkeeping failed", "msg_id", item.MsgID, "error", err.Error())
		}
		return
	}
	b.post(item, msg)
}

// post posts an item's reply, whose reply state is ReplySending, and
// records whether it arrived.
func (b *Bot) post(item *store.Item, msg Message) {
	ctx, cancel := context.WithTimeout(withLogAttrs(context.Background(), slog.String("msg_id", item.MsgID)), 30*time.Second)
	defer cancel()
	text := item.Reply
	if text == "" {
		text = b.interruptedReply(msg)
	}
	via, err := b.reply(ctx, msg, text)
	state := store.ReplySent
	if err != nil {
		state = store.ReplyFailed
	}
	if _, serr := b.store.SetReplyState(ctx, item.MsgID, state, b.now()); serr != nil {
		b.log.Error("reply bookkeeping failed", "msg_id", item.MsgID, "error", serr.Error())
	}
	b.log.Info("replied", "msg_id", item.MsgID, "state", item.State, "via", via, "reply_error", errText(err))
}

// interruptedReply tells the user that a create call was cut off by a dead
// process: the group may exist, so they must check before trying again.
func (b *Bot) interruptedReply(msg Message) string {
	act := b.lang.Interpret(b.commandMessage(msg))
	return b.lang.FailedReply(act.CreateGroup, context.Canceled).Text
}

func (b *Bot) commandMessage(msg Message) commands.Message {
	return commands.Message{
		Text:          msg.Text,
		SenderStaffID: msg.SenderStaffID,
		SenderNick:    msg.SenderNick,
		Group:         msg.Group,
		BotUserID:     msg.BotUserID,
		Mentions:      msg.Mentions,
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

// result is what processing one message decided.
type result struct {
	reply   commands.Reply
	state   store.State
	outcome string
	release bool // stopped before calling DingTalk: give the item back

	// For the audit: the group created, and the DingTalk error that decided
	// the outcome (its requestid and code are recorded).
	openConversationID, chatID string
	err                        error
	group                      *store.Group // recorded with the outcome
}

// process runs one message: interpret, look people up, call DingTalk. It
// does not reply; the caller records the outcome first.
func (b *Bot) process(ctx context.Context, item *store.Item, msg Message) (r result) {
	defer func() {
		if p := recover(); p != nil {
			b.log.Error("command panicked", "msg_id", msg.MsgID, "panic", p)
			r = result{reply: b.lang.FailedReply(nil, errors.New("internal error")), state: store.Failed, outcome: outcomeInternal}
		}
	}()
	log := b.log.With("msg_id", msg.MsgID, "conversation", msg.ConversationID, "sender", msg.SenderStaffID)
	if msg.MsgType != "" && msg.MsgType != "text" {
		return result{reply: b.lang.NonTextReply(b.lang.DefaultLang()), state: store.Done, outcome: outcomeAnswered}
	}
	if b.admins != nil && msg.IsAdmin {
		msg.IsAdmin = b.verifiedAdmin(ctx, log, msg.SenderStaffID)
	}
	action := b.lang.Interpret(b.commandMessage(msg))
	if cg := action.CreateGroup; cg != nil {
		if denied := b.admit(ctx, log, msg, cg); denied != nil {
			return *denied
		}
	}
	var lookupErr error // a failed look-up, for the audit
	if cg := action.CreateGroup; cg != nil && len(cg.Pending) > 0 {
		lookups := b.people.resolve(ctx, cg.Pending)
		action = b.lang.Complete(cg, lookups)
		if ctx.Err() != nil {
			return result{release: true}
		}
		for _, lk := range lookups {
			if lk.Err != nil && lookupErr == nil {
				lookupErr = lk.Err
			}
		}
	}
	switch {
	case action.CreateGroup != nil:
		return b.createGroup(ctx, log, item, msg, action.CreateGroup)
	case action.ListGroups != nil:
		return b.listGroups(ctx, log, msg, action.ListGroups)
	case action.Reply != nil:
		return result{reply: *action.Reply, state: store.Done, outcome: outcomeAnswered, err: lookupErr}
	}
	log.Error("command language returned no action")
	return result{reply: b.lang.FailedReply(nil, errors.New("no action")), state: store.Failed, outcome: outcomeInternal}
}

// Command outcomes, the label values of dingbot_commands_total.
const (
	outcomeAnswered = "answered" // help, dry run, usage error, hint or unresolved people: no group created
	outcomeCreated  = "created"
	outcomeRefused  = "refused" // DingTalk said no; nothing was created
	outcomeUnknown  = "unknown" // the group may or may not exist
	outcomeInternal = "internal_error"
)

// createGroup waits for the create rate limit, marks the item as calling
// (from here on a crash means "unknown", never a retry), creates the group
// with the first MaxMembersPerCreate members (the owner is first) and adds the
// rest through the group-update API.
func (b *Bot) createGroup(ctx context.Context, log *slog.Logger, item *store.Item, msg Message, cg *commands.CreateGroup) result {
	waitStart := time.Now()
	err := b.limiter.Wait(ctx)
	b.metrics.rateLimitWait("group.create", time.Since(waitStart))
	if err != nil {
		return result{release: true}
	}
	if err := b.store.MarkCalling(ctx, item.MsgID, b.owner, b.now()); err != nil {
		if ctx.Err() != nil {
			return result{release: true}
		}
		log.Error("cannot mark the command as calling; not calling DingTalk", "error", err.Error())
		return result{release: true}
	}
	req := cg.Request
	var rest []string
	if len(req.UserIDs) > MaxMembersPerCreate {
		req.UserIDs, rest = req.UserIDs[:MaxMembersPerCreate], req.UserIDs[MaxMembersPerCreate:]
	}
	resp, err := b.dt.CreateGroup(ctx, &req)
	if err != nil {
		outcome, state := outcomeRefused, store.Failed
		var unknown *dingclient.OutcomeUnknownError
		if errors.As(err, &unknown) || ctx.Err() != nil {
			outcome, state = outcomeUnknown, store.Unknown
		}
		log.Warn("group create failed", "name", req.Name, "outcome", outcome, "error", err.Error())
		return result{reply: b.lang.FailedReply(cg, err), state: state, outcome: outcome, err: err}
	}
	group := &store.Group{
		MsgID: item.MsgID, OpenConversationID: resp.OpenConversationID, ChatID: resp.ChatID,
		Name: req.Name, Owner: req.Owner, Members: cg.Request.UserIDs, Sender: msg.SenderStaffID,
		ConversationID: msg.ConversationID, CreatedAt: b.now(),
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
	return result{reply: b.lang.CreatedReply(cg, resp, notAdded), state: store.Done, outcome: outcomeCreated,
		openConversationID: resp.OpenConversationID, chatID: resp.ChatID, err: err, group: group}
}

// listGroups answers /groups: one page of the groups the sender created
// (or, with --all and only for admins, everyone's), newest first.
func (b *Bot) listGroups(ctx context.Context, log *slog.Logger, msg Message, lg *commands.ListGroups) result {
	if lg.All && !b.isAdmin(msg) {
		return result{reply: b.lang.GroupsAdminOnlyReply(lg), state: store.Done, outcome: outcomeAnswered}
	}
	sender := lg.Sender
	if lg.All {
		sender = ""
	}
	total, err := b.store.CountGroups(ctx, sender)
	var groups []store.Group
	if err == nil && total > lg.Offset() {
		groups, err = b.store.Groups(ctx, store.GroupFilter{Sender: sender, Limit: commands.GroupsPerPage, Offset: lg.Offset()})
	}
	if err != nil {
		if ctx.Err() != nil {
			return result{release: true}
		}
		log.Error("reading the groups audit failed", "error", err.Error())
		return result{reply: b.lang.GroupsFailedReply(lg), state: store.Failed, outcome: outcomeInternal}
	}
	page := commands.GroupsPage{Total: total}
	for _, g := range groups {
		page.Groups = append(page.Groups, commands.GroupSummary{Name: g.Name, OpenConversationID: g.OpenConversationID,
			Creator: g.Sender, Members: len(g.Members), CreatedAt: g.CreatedAt})
	}
	return result{reply: b.lang.GroupsReply(lg, page), state: store.Done, outcome: outcomeAnswered}
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
	if msg.SessionWebhook != "" && !b.dt.IsSessionWebhook(msg.SessionWebhook) {
		// Not DingTalk's session-reply URL: a forged message wants the reply
		// (group IDs and all) somewhere else. Use the robot API instead.
		b.log.Warn("suspicious session webhook ignored; replying through the robot API",
			"msg_id", msg.MsgID, "conversation", msg.ConversationID, "sender", msg.SenderStaffID,
			"webhook_host", dingclient.WebhookHost(msg.SessionWebhook))
		msg.SessionWebhook = ""
	}
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
