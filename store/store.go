// Package store is dingbot's durable state: the inbox of chat messages (so a
// command is never lost and never run twice, even when DingTalk redelivers a
// message or several bot replicas receive it), the audit of created groups,
// the audit of every finished command, the msgIds admitted under each
// HTTP-callback signature and the previews waiting for a /confirm.
//
// It is a top-level package because storage is a concern of its own with two
// engines behind one interface: SQLite (modernc.org/sqlite, no cgo, WAL) as the
// embedded default, and PostgreSQL (pgx) when several replicas share state.
// Both run the same versioned migrations (migrations/) at Open and pass the same
// test suite, storetest.Run.
package store

import (
	"context"
	"errors"
	"time"
)

// State is where an inbox item is in its life:
//
//	received → calling → done | failed | unknown
//
// A received item has not called DingTalk's non-idempotent create API yet, so
// it can always be (re)processed. A calling item has: if its worker dies, the
// outcome cannot be known and the item becomes unknown — never retried.
type State string

// Inbox states.
const (
	Received State = "received" // stored, waiting for or held by a worker
	Calling  State = "calling"  // the create call may be under way
	Done     State = "done"     // finished; the command succeeded or was answered
	Failed   State = "failed"   // finished; DingTalk refused, nothing was created
	Unknown  State = "unknown"  // the worker died mid-call: the group may exist
)

// Finished reports whether s is a final state.
func (s State) Finished() bool { return s == Done || s == Failed || s == Unknown }

// ReplyState tracks the reply of a finished item.
type ReplyState string

// Reply states.
const (
	ReplyNone    ReplyState = ""        // no reply attempted yet
	ReplySending ReplyState = "sending" // a reply is being posted (if the process dies now, it may or may not have arrived)
	ReplySent    ReplyState = "sent"    // delivered
	ReplyFailed  ReplyState = "failed"  // posting failed; a redelivery of the message posts it again
)

// Item is one inbox row.
type Item struct {
	MsgID   string
	Message []byte // the transport-independent message as JSON; opaque to the store
	State   State
	Reply   string // the reply text, set when the item finishes
	// ReplyTitle is the title of a markdown reply (Reply is then its
	// markdown text); "" for a plain-text reply.
	ReplyTitle string
	ReplyState ReplyState
	Owner      string    // the worker holding the lease ("" when none)
	LeaseUntil time.Time // when the lease runs out
	ReceivedAt time.Time
	UpdatedAt  time.Time
}

// Group is the audit record of a group the bot created. Name, Owner and
// Members are the group's current ones: as created, then as the last
// lifecycle command (/rename, /owner, /addmember, …) left them
// (Audit.UpdateGroup).
type Group struct {
	MsgID              string
	OpenConversationID string
	ChatID             string
	Name               string
	Owner              string
	Members            []string
	Sender             string
	ConversationID     string // where the command was typed
	CreatedAt          time.Time
	// UpdatedAt is when UpdateGroup last stored the group's name, owner and
	// members; zero until the first update (RecordGroup ignores it).
	UpdatedAt time.Time
	// Template is the /newgroup template the group was made with, or "".
	Template string
}

// GroupFilter selects audit records of created groups.
type GroupFilter struct {
	// Sender keeps only the groups created by this userId; "" keeps all.
	Sender string
	// Limit is the most records returned; <= 0 returns all.
	Limit int
	// Offset skips that many records first (for paging).
	Offset int
}

// AuditRecord is the audit of one finished command: who typed what where,
// and what came of it. It never holds the session webhook.
type AuditRecord struct {
	MsgID string
	// At is when the message was received.
	At             time.Time
	Sender         string // senderStaffId; "" for senders outside the organisation
	SenderNick     string
	ConversationID string // where the command was typed
	// Command is the canonical command name ("newgroup", "help", "groups"),
	// or the first word when it is no known command ("" for non-text messages).
	Command string
	// Text is the command as typed.
	Text string
	// Outcome is created, refused, unknown, answered or internal_error.
	Outcome string
	// GroupOpenConversationID and ChatID identify the group the command created.
	GroupOpenConversationID string
	ChatID                  string
	// RequestID and ErrorCode are DingTalk's requestid and error code of a failed call.
	RequestID string
	ErrorCode string
	// Change is what a lifecycle command changed, for people reading the
	// audit, e.g. `name: "Release 4.2" → "Release 4.2 hotfix"` or
	// `members: +alice01, +bob02`; "" for other commands.
	Change string
}

// Outcome is what Finish records about an inbox item: its final state and
// reply and, in the same transaction, the audit of the command and of the
// group it created.
type Outcome struct {
	// MsgID is the item finished.
	MsgID string
	// Owner is the worker holding the item's lease; if it holds it no
	// longer, nothing is written and Finish returns ErrLeaseLost.
	Owner string
	// State is the final state: Done, Failed or Unknown (see State.Finished);
	// any other is refused.
	State State
	// Reply is the reply text stored with the item.
	Reply string
	// ReplyTitle is the title of a markdown reply, "" for plain text (see Item.ReplyTitle).
	ReplyTitle string
	// Now is the time of the change, the item's new UpdatedAt.
	Now time.Time
	// Audit, when not nil, is the command's audit record, written as
	// RecordCommand writes it (it replaces an earlier record of its MsgID).
	// Its MsgID must not be empty.
	Audit *AuditRecord
	// Group, when not nil, is the audit record of the group the command
	// created, written as RecordGroup writes it (an earlier record of its
	// MsgID is kept). Its MsgID must not be empty.
	Group *Group
	// FollowUps are new inbox items Finish stores in the same transaction as
	// the outcome: work the command continues after its reply (e.g. joining the
	// new group and posting a kickoff), run once by any worker like a message.
	// A follow-up whose MsgID is in the inbox already is not stored again.
	FollowUps []FollowUp
}

// FollowUp is an inbox item a finished command leaves behind.
type FollowUp struct {
	// MsgID is its inbox key, e.g. the command's msgId + "#kickoff".
	MsgID string
	// Message is the item's message, opaque to the store like Item.Message.
	Message []byte
}

// AuditFilter selects audit records.
type AuditFilter struct {
	// Sender keeps only the commands of this userId; "" keeps all.
	Sender string
	// Since keeps records at or after it; zero means no bound.
	Since time.Time
	// Until keeps records before it; zero means no bound.
	Until time.Time
	// Limit is the most records returned; <= 0 returns all.
	Limit int
	// Offset skips that many records first.
	Offset int
	// MsgID keeps only the record of this msgId; "" keeps all.
	MsgID string
}

// ErrNotFound is returned for a msgId that is not in the inbox, by
// Group and UpdateGroup for a group the bot did not create, and by Preview
// and SettlePreview for a code no stored preview has.
var ErrNotFound = errors.New("store: no such message")

// ErrLeaseLost is returned when a worker updates an item it no longer holds
// (its lease ran out and another worker took the item).
var ErrLeaseLost = errors.New("store: lease lost")

// Store is the bot's durable state: the inbox, the audit and the callback
// signatures, in one database (SQLite or PostgreSQL, see Open). All methods
// are safe for concurrent use, also from several processes sharing one
// PostgreSQL database. storetest.Run tests an implementation.
type Store interface {
	Inbox
	Audit
	Signatures
	Previews
	Liveness
	Limits
	// Close releases the database.
	Close() error
}

// Inbox is the durable inbox of chat messages: every message is claimed
// once by its msgId, leased to one worker at a time, and moved through its
// States to a final one with its reply, so a command is never lost and
// never run twice. Its Finish also writes the audit records of the outcome,
// in the same transaction.
type Inbox interface {
	// Claim inserts a new item in state received, atomically keyed by msgID
	// (INSERT … ON CONFLICT DO NOTHING). With an owner, the new item is
	// leased to it until now+lease, so the process that received the message
	// runs it at once, without Next; with owner "" it waits for Next. It
	// returns true if this call inserted the item; otherwise false and the
	// existing item.
	Claim(ctx context.Context, msgID string, message []byte, owner string, now time.Time, lease time.Duration) (bool, *Item, error)
	// Next leases one received item that no live worker holds (oldest first;
	// in PostgreSQL with FOR UPDATE SKIP LOCKED) to owner until now+lease,
	// or returns nil, nil when there is none.
	Next(ctx context.Context, owner string, now time.Time, lease time.Duration) (*Item, error)
	// MarkCalling moves an item owner holds from received to calling; it is
	// called right before the non-idempotent DingTalk call.
	MarkCalling(ctx context.Context, msgID, owner string, now time.Time) error
	// Finish moves the item o.Owner holds to the final state o.State with
	// its reply text, releases it and marks the reply ReplySending by
	// o.Owner: the caller posts it next, then records ReplySent or
	// ReplyFailed (if o.Owner dies first, ReleaseDead makes the reply
	// unattempted again). In the
	// same transaction it writes o.Audit (as RecordCommand) and o.Group (as
	// RecordGroup) and stores each of o.FollowUps as Claim with owner ""
	// would (received at o.Now, held by nobody, left alone if its MsgID is
	// in the inbox already); if the lease was lost, nothing is written. An
	// invalid Outcome (no owner, a state that is not final, a record or
	// follow-up without MsgID) is refused before anything is written.
	Finish(ctx context.Context, o Outcome) error
	// Release gives back an item owner holds in state received (e.g. at shutdown), so another worker can take it.
	Release(ctx context.Context, msgID, owner string) error
	// Renew extends the lease of every unfinished item owner holds to now+lease; it returns how many.
	Renew(ctx context.Context, owner string, now time.Time, lease time.Duration) (int, error)
	// ExpireCalling turns calling items whose lease ran out into unknown and returns them.
	ExpireCalling(ctx context.Context, now time.Time) ([]*Item, error)
	// SetReplyState records the reply's progress. ReplySending succeeds only
	// from ReplyNone or ReplyFailed, so two processes never post the same reply at once;
	// it returns false (and no error) when the reply is not to be sent.
	SetReplyState(ctx context.Context, msgID string, state ReplyState, now time.Time) (bool, error)
	// Unreplied returns finished items whose reply was never attempted (ReplyNone).
	Unreplied(ctx context.Context, limit int) ([]*Item, error)
	// Get returns one item.
	Get(ctx context.Context, msgID string) (*Item, error)
	// Counts returns how many inbox items are in each state (states without
	// items are absent).
	Counts(ctx context.Context) (map[State]int, error)
	// Prune deletes finished items last updated before the cutoff and returns
	// how many; the audits (groups and commands) are kept. It also forgets
	// the heartbeats (Liveness) that ran out before the cutoff, of owners
	// that hold no item: such an owner is judged by its leases alone again.
	Prune(ctx context.Context, before time.Time) (int, error)
}

// Audit is the lasting record of what the bot did: the groups it created
// and every finished command. Pruning the inbox keeps it.
type Audit interface {
	// RecordGroup writes the audit record of a created group; a second
	// record for the same MsgID is ignored (the first one wins). Its
	// UpdatedAt is not written: a new record has not been updated.
	RecordGroup(ctx context.Context, g Group) error
	// Groups returns audit records of created groups that match f, newest
	// first (by CreatedAt), with their current name, owner and members.
	Groups(ctx context.Context, f GroupFilter) ([]Group, error)
	// CountGroups returns how many groups sender created ("" counts all).
	CountGroups(ctx context.Context, sender string) (int, error)
	// Group returns the audit record of the group the bot created whose
	// openConversationId or chatid is id (either may be given), with its
	// current name, owner and members; ErrNotFound if the bot created no such group.
	// A record whose openConversationId is id is preferred to one whose
	// chatid is; of several records with the same ID (which the exactly-once
	// create should never leave) the newest is returned. An empty id is
	// never found.
	Group(ctx context.Context, id string) (*Group, error)
	// UpdateGroup stores the current name, owner and members of a group the bot
	// created (matched by g.OpenConversationID), after a lifecycle command changed
	// them, and sets its UpdatedAt; ErrNotFound if there is no such group.
	// UpdatedAt becomes g.UpdatedAt, or the current time if that is zero; the
	// record's other fields (CreatedAt, Sender, ChatID, …) are kept. Of several
	// records with that openConversationId, the newest (the one Group
	// returns) is updated. Concurrent updates of one group are not merged:
	// the last one stored wins.
	UpdateGroup(ctx context.Context, g Group) error
	// RecordCommand writes the audit record of a finished command; a second
	// record for the same MsgID replaces the first.
	RecordCommand(ctx context.Context, r AuditRecord) error
	// Audit returns the command audit records that match f, newest first.
	Audit(ctx context.Context, f AuditFilter) ([]AuditRecord, error)
}

// Signatures counts the msgIds the HTTP callback (bot/callback) admits
// under each pair of signature headers: the signature covers only the
// timestamp, so whoever holds the headers of one real request could send
// other bodies under them until its window closes. The counts are shared
// by every replica on the database.
type Signatures interface {
	// AdmitSigned records that an HTTP callback carrying msgID arrived under
	// the signature key (a digest of its timestamp and sign headers, never
	// the sign itself) and reports whether it is admitted: a msgID already
	// recorded under key is always admitted (a redelivery) and not counted
	// again; a new one is admitted and recorded only while fewer than max
	// distinct msgIDs are recorded under key. An entry counts while
	// expires is after now; an expired one is ignored (its msgID is new
	// again) until PruneSigned deletes it. It is atomic across processes
	// sharing a database.
	AdmitSigned(ctx context.Context, key, msgID string, max int, expires, now time.Time) (bool, error)
	// PruneSigned deletes the signature entries expired at now (expires not
	// after now) and returns how many.
	PruneSigned(ctx context.Context, now time.Time) (int, error)
}

// PreviewState is where a preview is in its life:
//
//	pending → confirmed | cancelled | expired
//
// Only a pending preview changes, once, so two /confirm of one preview (a
// double tap, another replica) can never both go on to create.
type PreviewState string

// Preview states.
const (
	PreviewPending   PreviewState = "pending"   // waiting for its sender's /confirm or /cancel
	PreviewConfirmed PreviewState = "confirmed" // a /confirm (SettledBy) took it: that message creates the group
	PreviewCancelled PreviewState = "cancelled" // its sender cancelled it
	PreviewExpired   PreviewState = "expired"   // nobody answered before ExpiresAt
)

// Preview is a command waiting for its sender to confirm it (/newgroup's
// preview with Create and Cancel): the resolved request, stored so that any
// replica, also after a restart, can carry out exactly what was shown.
type Preview struct {
	// Code is what the user sends back (/confirm CODE): upper case, unique
	// among all stored previews.
	Code string
	// MsgID is the msgId of the command that asked; one preview per msgId.
	MsgID string
	// Command is the canonical name of the command that asked ("newgroup").
	Command string
	// Sender is the userId of the person who may confirm or cancel it.
	Sender string
	// ConversationID is the chat where the command was typed.
	ConversationID string
	// Plan is the resolved request, opaque to the store.
	Plan []byte
	// CreatedAt is when it was stored; ExpiresAt when it can no longer be confirmed.
	CreatedAt time.Time
	ExpiresAt time.Time
	// State is where it is (see PreviewState).
	State PreviewState
	// SettledBy is the msgId of the /confirm or /cancel that settled it ("" while
	// pending or once expired); SettledAt is when it was settled or expired.
	SettledBy string
	SettledAt time.Time
}

// ErrCodeTaken is returned by PutPreview when another preview has the code.
var ErrCodeTaken = errors.New("store: preview code taken")

// Previews are the previews waiting for their sender's answer (see
// Preview). Every change is one atomic transition of a pending preview,
// safe across processes sharing a database.
type Previews interface {
	// PutPreview stores p, which must be pending with a Code, MsgID,
	// Command, Sender and ExpiresAt. If a preview of p.MsgID exists already
	// (the command ran again after a crash), nothing is stored and that
	// preview is returned; if another preview has p.Code, the error is
	// ErrCodeTaken and the caller picks another code. Otherwise it returns
	// the stored preview.
	PutPreview(ctx context.Context, p Preview) (*Preview, error)
	// Preview returns the preview whose code is code (compared without
	// regard to case), or ErrNotFound.
	Preview(ctx context.Context, code string) (*Preview, error)
	// SettlePreview moves the preview code to state, if and only if it is
	// pending and: for PreviewConfirmed and PreviewCancelled, ExpiresAt is
	// after now (by is recorded as SettledBy, now as SettledAt); for
	// PreviewExpired, ExpiresAt is not after now. It reports whether this
	// call moved it, and returns the preview as it is after the call; a
	// code that is not stored gives ErrNotFound. Other states are refused.
	SettlePreview(ctx context.Context, code string, state PreviewState, by string, now time.Time) (bool, *Preview, error)
	// ExpirePreviews moves every pending preview whose ExpiresAt is not
	// after now to PreviewExpired (SettledAt now) and returns them, each
	// once across all processes.
	ExpirePreviews(ctx context.Context, now time.Time) ([]Preview, error)
	// PrunePreviews deletes the previews that are no longer pending and
	// were settled or expired before the cutoff, and returns how many.
	PrunePreviews(ctx context.Context, before time.Time) (int, error)
}

// Liveness tells the processes sharing a database which of them are alive,
// so that the work of a dead one is taken over in seconds, not after its
// leases run out: each process heartbeats (Heartbeat) well within its TTL,
// and any process releases what dead ones held (ReleaseDead). A process
// that never heartbeat is judged by its leases alone.
type Liveness interface {
	// Heartbeat records that owner is alive until until (an upsert).
	Heartbeat(ctx context.Context, owner string, until time.Time) error
	// Retire records that owner has stopped (a graceful shutdown): what
	// it still holds is released by the next ReleaseDead.
	Retire(ctx context.Context, owner string) error
	// ReleaseDead gives back (as Release would) every received item held
	// by an owner whose heartbeat ran out at or before now. For an owner
	// whose heartbeat ran out at or before deadBefore it also makes the
	// replies the owner was posting (Finish marked them sending) unattempted
	// again (ReplyNone, for Unreplied), and turns its calling items into
	// unknown (as ExpireCalling would, returning those). deadBefore is
	// earlier than now: a cut-off create or reply is dealt with a little
	// later than waiting work is taken over, so that a live process whose
	// heartbeat was held up can still finish (and never posts a reply twice).
	// Each item is returned by exactly one call, across processes; released
	// counts the items given back and the replies made unattempted.
	ReleaseDead(ctx context.Context, now, deadBefore time.Time) (released int, expired []*Item, err error)
	// RenewItems extends to now+lease the leases of those of msgIDs that
	// owner holds unfinished, and returns how many: a process renews only
	// the items it is working on, so an item it holds by mistake (a claim
	// whose error hid its commit) runs out.
	RenewItems(ctx context.Context, owner string, msgIDs []string, now time.Time, lease time.Duration) (int, error)
	// Clock returns the database's current time (PostgreSQL's clock,
	// shared by every replica; SQLite, used by one process, returns the
	// local clock), so that leases and heartbeats of processes whose clocks
	// differ are compared on one clock.
	Clock(ctx context.Context) (time.Time, error)
}

// Limits are rate-limit slots and token buckets shared by every process on
// the database, so that all replicas together keep DingTalk's per-app
// limits (TakeSlot) and the access policy's per-user and per-chat rates
// (TakeToken).
type Limits interface {
	// TakeSlot reserves the next free slot of the limit name: the later of
	// now and the limit's next free time, which moves spacing past it (one
	// atomic statement). It returns the slot's time; the caller waits
	// until then and makes its call.
	TakeSlot(ctx context.Context, name string, spacing time.Duration, now time.Time) (time.Time, error)
	// TakeToken takes a token from the token bucket key, shared like the
	// slots (key and TakeSlot's names are one namespace, so callers prefix
	// theirs, e.g. "access:user:<id>"). The bucket holds burst tokens and
	// gets one back every interval; it follows the generic cell rate
	// algorithm: key has a theoretical arrival time TAT (none: now), and a
	// take at now is allowed if and only if max(TAT, now) − now ≤
	// (burst−1)×interval, which moves TAT to max(TAT, now) + interval. A
	// denied take changes nothing and returns how long until a take would
	// be allowed: max(TAT, now) − (burst−1)×interval − now (positive). Each
	// take is atomic across processes: of the processes taking from one
	// bucket at one instant, at most burst are allowed. Times are whole
	// milliseconds (interval rounded up, at least 1 ms). A bucket whose TAT
	// has passed is full, the same as none: Prune forgets those whose TAT
	// was more than a day before its cutoff.
	TakeToken(ctx context.Context, key string, interval time.Duration, burst int, now time.Time) (ok bool, retryAfter time.Duration, err error)
	// ReturnToken gives back to the bucket key a token TakeToken took a
	// moment ago with the same interval (e.g. when a second bucket denied
	// the command the first one allowed): TAT moves back by interval, but
	// not below now, so a bucket never holds more than burst tokens. A
	// bucket that is full already is left alone.
	ReturnToken(ctx context.Context, key string, interval time.Duration, now time.Time) error
}
