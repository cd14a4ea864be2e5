// Package bot is dingbot's core: the pipeline that takes a chat message from
// any transport, stores it in the durable inbox, interprets it with package
// commands, applies the access policy, looks people up, runs the command's
// Run (which calls DingTalk through package dingclient), records the outcome
// and replies in the chat. It knows no particular command. Transports live in
// sub-packages (bot/stream for DingTalk Stream mode, bot/callback for HTTP
// callback mode, both mounted next to the probes by bot/httpserver) and
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
	"sync"
	"time"

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

// Defaults of Options; config documents the same values by referring to these.
const (
	// DefaultMaxConcurrent is how many commands run at once.
	DefaultMaxConcurrent = 32
	// DefaultLookupCacheTTL is how long look-ups by mobile and name are cached.
	DefaultLookupCacheTTL = time.Hour
	// DefaultCreateRate is DingTalk's per-app limit of group creates per second.
	DefaultCreateRate = 20.0
	// DefaultLease is how long a worker holds an inbox item without renewing it.
	DefaultLease = 30 * time.Second
	// DefaultPollInterval is how often an idle bot looks for items other processes stored.
	DefaultPollInterval = time.Second
	// DefaultRetention is how long finished inbox items are kept.
	DefaultRetention = 7 * 24 * time.Hour
	// DefaultMaxLookups is the most people one command may name to look up by mobile or name.
	DefaultMaxLookups = 50
	// DefaultCommandTimeout bounds one command: interpreting it, looking people
	// up and running it. A 1000-member /newgroup (1 create and 24 group
	// updates at 20/s) takes seconds; look-ups, the shared rate limits and
	// DingTalk's retries take the rest.
	DefaultCommandTimeout = 2 * time.Minute
	// DefaultHeartbeat is how often a bot tells the store it is alive.
	DefaultHeartbeat = time.Second
	// HeartbeatTTLs is how many heartbeat intervals a heartbeat is good for:
	// a process silent for that long is dead and its waiting work is taken
	// over.
	HeartbeatTTLs = 3
	// CallingGrace is how much longer a dead process's create calls wait
	// before they are reported as unknown, so that a live process whose
	// heartbeats were held up (a database restart) can still finish them.
	CallingGrace = 5 * time.Second
)

// ErrStopping is returned by Handle once Shutdown has begun.
var ErrStopping = errors.New("bot is shutting down")

// Options configures a Bot.
type Options struct {
	// DingTalk is the OpenAPI client. Required.
	DingTalk *dingclient.Client
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
	// CreateRate is the most group-create calls per second when Limiter is
	// nil (default 20, DingTalk's per-app limit), for this process alone.
	CreateRate float64
	// Limiter spaces the group-create calls (dingclient.APIGroupCreate):
	// the bot waits for a slot before it marks a command as calling, so a
	// crash while waiting is no "unknown". Give the Limiter the DingTalk
	// client uses (a SharedLimiter when replicas share PostgreSQL); nil
	// limits creates to CreateRate in this process.
	Limiter dingclient.Limiter
	// Clock, if set, is the database's clock: leases, heartbeats and
	// rate-limit slots are compared on it, and the bot keeps it in sync
	// (New measures it first if nobody has). Its local clock must be Now.
	// nil uses Now as it is.
	Clock *Clock
	// Heartbeat is how often the bot tells the store it is alive
	// (default 1s); it is judged dead HeartbeatTTLs heartbeats later, and
	// its waiting work is then taken over by any replica.
	Heartbeat time.Duration
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
	// Access decides who may run the commands whose plans ask (package
	// access) and how often; nil allows everything, without rate limits.
	Access *access.Policy
	// VerifyAdmin looks up a sender's isAdmin with DingTalk's user API
	// (cached for LookupCacheTTL) instead of believing the message. HTTP
	// callback mode sets it: the callback's signature does not cover the
	// body, while a Stream frame arrives on the bot's own authenticated connection.
	VerifyAdmin bool
	// MaxLookups is the most people one command may name to look up by mobile
	// or name (default 50); a command naming more is answered before any look-up.
	MaxLookups int
	// CommandTimeout bounds one command from interpreting it to the end of its
	// Run (default 2m); out of time before DingTalk changed anything, the
	// sender is told nothing was done.
	CommandTimeout time.Duration
}

// Bot is the transport-independent pipeline: a durable inbox and the workers
// that drain it. It is safe for concurrent use.
type Bot struct {
	dt      *dingclient.Client
	store   store.Store
	lang    *commands.Language
	people  *resolver
	access  *access.Policy
	depts   *deptCache
	admins  *ttlCache[bool] // verified isAdmin by userId, with VerifyAdmin
	log     *slog.Logger
	metrics *Metrics
	now     func() time.Time
	limiter dingclient.Limiter
	clock   *Clock
	beat    time.Duration
	storeOK atomicError // the store's health, from the last heartbeat
	owner   string
	lease   time.Duration
	poll    time.Duration
	keep    time.Duration
	// The bounds of one command: the most people it may name to look up
	// (MaxLookups) and its deadline, look-ups included (CommandTimeout).
	maxLookups int
	cmdTimeout time.Duration
	wakeup     chan struct{}
	stopping   chan struct{} // closed by Shutdown: no new messages, workers finish their item and stop

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
		opts.MaxConcurrent = DefaultMaxConcurrent
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.LookupCacheTTL <= 0 {
		opts.LookupCacheTTL = DefaultLookupCacheTTL
	}
	if opts.CreateRate <= 0 {
		opts.CreateRate = DefaultCreateRate
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.MaxLookups <= 0 {
		opts.MaxLookups = DefaultMaxLookups
	}
	if opts.CommandTimeout <= 0 {
		opts.CommandTimeout = DefaultCommandTimeout
	}
	if opts.Owner == "" {
		opts.Owner = defaultOwner()
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	if opts.Clock != nil {
		if !opts.Clock.Synced() {
			// Before anything compares a lease: a process whose clock is
			// ahead would otherwise expire another's live work at start.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := opts.Clock.Sync(ctx); err != nil {
				opts.Logger.Warn("cannot read the database's clock yet; using the local clock until the next heartbeat", "error", err.Error())
			}
			cancel()
		}
		local := opts.Now
		opts.Now = func() time.Time { return local().Add(opts.Clock.Offset()) }
	}
	if opts.Limiter == nil {
		l, err := dingclient.NewLocalLimiter(map[dingclient.API]float64{dingclient.APIGroupCreate: opts.CreateRate})
		if err != nil {
			panic("bot: CreateRate: " + err.Error())
		}
		opts.Limiter = l
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
		limiter:    opts.Limiter,
		clock:      opts.Clock,
		beat:       opts.Heartbeat,
		owner:      opts.Owner,
		lease:      opts.Lease,
		poll:       opts.PollInterval,
		keep:       opts.Retention,
		maxLookups: opts.MaxLookups,
		cmdTimeout: opts.CommandTimeout,
		wakeup:     make(chan struct{}, opts.MaxConcurrent),
		stopping:   make(chan struct{}),
		jobs:       make(chan job, queuePerWorker*opts.MaxConcurrent),
		slots:      make(chan struct{}, queuePerWorker*opts.MaxConcurrent),
		work:       work,
		cancelWork: cancel,
		stopChore:  make(chan struct{}),
		stopped:    make(chan struct{}),
	}
	opts.Metrics.knowCommands(opts.Language.CommandNames())
	if opts.VerifyAdmin {
		b.admins = newTTLCache[bool](opts.LookupCacheTTL, opts.Now)
	}
	for range opts.MaxConcurrent {
		b.workers.Add(1)
		go b.worker()
	}
	b.chores.Add(3)
	go b.housekeeping()
	go b.poller()
	go b.liveness()
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
	if isReservedMsgID(msg.MsgID) || msg.MsgType == followUpType {
		// Only the bot stores follow-ups; one claimed from outside could
		// take a follow-up's place or make it run with other data.
		b.log.Warn("message with a reserved msgId or type dropped", "msg_id", msg.MsgID, "msg_type", msg.MsgType)
		return nil
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

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}
