package commands

import (
	"context"
	"log/slog"
	"time"

	"github.com/dingbot/dingbot/access"
	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/store"
)

// Command is one chat command, the unit dingbot grows by: what it is called
// and accepts (Define, from which help, usage errors and did-you-mean are
// generated), its own sentences in every language (Texts), what a parsed
// request means (Handle: pure, fuzzed, shown by `dingbot parse`) and how a
// Plan is carried out against DingTalk and the store (Run). The bot's
// pipeline knows no command: it stores, admits, looks people up, runs,
// records and replies the same way for all of them.
//
// Commands are registered explicitly, in the order /help lists them, through
// Settings.Commands (Builtin lists the built-in ones); there is no init()
// registry.
type Command struct {
	// Name is the canonical name: lower case, without the slash ("newgroup").
	Name string
	// Define returns the command's definition with texts from c (the reply
	// language's catalogue) and settings from l (e.g. templates for examples).
	Define func(c catalogue, l *Language) Definition
	// Texts are the command's own sentences.
	Texts Texts
	// Handle turns a parsed request into an Action: a Reply, or a Plan for
	// Run. It does no I/O. nil answers every use with the command's help.
	Handle func(l *Language, req *Request) (Action, error)
	// Run carries out one of the command's Plans through env; nil for a
	// command that only replies.
	Run func(ctx context.Context, env Env, plan Plan) Result
	// Resume carries out a follow-up step that Run left in its Result
	// (FollowUps), once, after the reply; nil for a command that leaves none.
	Resume func(ctx context.Context, env Env, step string, data []byte) Result
}

// FollowUp is work a command continues after it replied (e.g. posting a
// kickoff into the group it created). The bot stores it with the command's
// outcome, in the same transaction, and any worker later hands it to the
// command's Resume, once; a step cut off by a crash is run again, so a step
// must be safe to repeat.
type FollowUp struct {
	// Step names the step for Resume ("kickoff").
	Step string
	// Data is what Resume needs, in the command's own encoding.
	Data []byte
}

// Builtin returns dingbot's commands in the order /help lists them. Each call
// builds fresh values.
func Builtin() []Command {
	return []Command{
		NewGroupCommand(),
		HelpCommand(),
		GroupsCommand(),
		GroupInfoCommand(),
		RenameCommand(),
		OwnerCommand(),
		AddMemberCommand(),
		RemoveMemberCommand(),
		ConfirmCommand(),
		CancelCommand(),
	}
}

// Plan is what a command asks the bot to do beyond replying: the bot hands
// it back to the command's Run.
type Plan interface {
	// Command is the canonical name of the command that carries it out.
	Command() string
	// ReplyLang is the language of the replies about it.
	ReplyLang() Lang
}

// PeoplePlan is a Plan that names people only DingTalk can resolve (by
// mobile number or name): the bot looks up PendingPeople and passes the
// answers to Language.Complete, which returns the final Plan or a reply.
type PeoplePlan interface {
	Plan
	// PendingPeople are the people to look up; empty means the plan is final.
	PendingPeople() []PersonRef
	complete(l *Language, lookups []Lookup) Action
}

// Guarded is a Plan the access policy (package access) decides on before
// anyone is looked up or anything is done. AccessRequest fills in what the
// plan knows (command, dry run, group type, owner); the bot adds the sender,
// their admin flag and the chat.
type Guarded interface {
	Plan
	AccessRequest() access.Request
}

// Env is what a command's Run may use. The bot implements it for the
// message being run.
type Env interface {
	// Language is the configured command language, for the replies.
	Language() *Language
	// DingTalk is the OpenAPI client.
	DingTalk() *dingclient.Client
	// Audit reads the records of what the bot did (e.g. the groups created).
	Audit() store.Audit
	// Previews holds the previews waiting for their sender's /confirm.
	Previews() store.Previews
	// Calling waits for the rate limit of non-idempotent calls and records
	// that the command is about to make one: from then on a crash leaves
	// the outcome unknown, and the command is never run again. The call
	// must be made with the returned context, which holds its rate-limit
	// slot. After an error the command must not make the call; Run returns
	// Result{Release: true}.
	Calling(ctx context.Context) (context.Context, error)
	// Message is the message being run.
	Message() Message
	// SenderIsAdmin reports whether the sender is an admin: of the
	// organisation (DingTalk's isAdmin, verified in HTTP mode) or of the
	// access policy.
	SenderIsAdmin() bool
	// AnyoneMayManage reports whether the access policy lets anyone change
	// a group with command (access.commands.NAME.manage: everyone).
	AnyoneMayManage(command string) bool
	// Log is the command's logger (message ID, chat and sender attached).
	Log() *slog.Logger
	// Now is the clock.
	Now() time.Time
}

// Outcome is what came of a command, the label value of
// dingbot_commands_total and the audit's outcome.
type Outcome string

// Outcomes.
const (
	// OutcomeAnswered: help, a dry run, a usage error, a hint or an
	// unresolved person: nothing changed in DingTalk.
	OutcomeAnswered Outcome = "answered"
	// OutcomeCreated: a group was created.
	OutcomeCreated Outcome = "created"
	// OutcomeChanged: the command changed a group (its name, owner or members).
	OutcomeChanged Outcome = "changed"
	// OutcomeRefused: DingTalk said no; nothing changed.
	OutcomeRefused Outcome = "refused"
	// OutcomeUnknown: the call may or may not have taken effect.
	OutcomeUnknown Outcome = "unknown"
	// OutcomeDenied: the access policy denied the command; nothing was looked up or done.
	OutcomeDenied Outcome = "denied"
	// OutcomeInternal: the bot failed (its store, a panic).
	OutcomeInternal Outcome = "internal_error"
	// OutcomePreviewed: the bot asked the sender to confirm (a preview
	// with Create and Cancel); nothing was created yet.
	OutcomePreviewed Outcome = "previewed"
	// OutcomeCancelled: the sender cancelled a preview; nothing was created.
	OutcomeCancelled Outcome = "cancelled"
	// OutcomeExpired: a preview was confirmed too late, or expired
	// unanswered; nothing was created.
	OutcomeExpired Outcome = "expired"
)

// Result is what a command's Run decided: the reply, the outcome, and what
// the audit records with it.
type Result struct {
	// Reply is posted in the chat.
	Reply Reply
	// Outcome classifies the result.
	Outcome Outcome
	// Err is the DingTalk error that decided the outcome, if any: its
	// request ID and code go to the audit.
	Err error
	// Group is the group the command created, recorded with the outcome.
	Group *store.Group
	// Change says what the command changed, for the audit, e.g.
	// `name: "Release 4.2" → "Release 4.2 hotfix"`; "" for none.
	Change string
	// FollowUps are steps to run after the reply (see FollowUp). A
	// Resume's Reply may be empty: then nothing is posted.
	FollowUps []FollowUp
	// Release is set when Run stopped before doing anything (the bot is
	// shutting down): the message goes back to the inbox to be run again.
	Release bool
}
