// Package commands is dingbot's command language and its commands. Each
// Command is one unit (see Command): its definition and texts, a pure Handle
// that turns the text of a chat message into either an immediate reply (help,
// a usage error, a hint) or a Plan, and a Run that carries a Plan out through
// the Env the bot passes in and says what reply a person reads. Parsing does
// no I/O and uses no clocks or globals, so it is fuzzed and `dingbot parse`
// can show it; only Run talks to DingTalk and the store, and only through Env.
package commands

import (
	"time"

	"github.com/dingbot/dingbot/access"
	"github.com/dingbot/dingbot/dingclient"
)

// Message is what the command language needs to know about an incoming chat message.
type Message struct {
	// MsgID is DingTalk's msgId of the message.
	MsgID string
	// ConversationID is the chat's openConversationId.
	ConversationID string
	// Text is text.content as DingTalk delivered it (may start with the space left by a removed @bot mention).
	Text string
	// SenderStaffID is the sender's userId (senderStaffId); empty for senders outside the organisation.
	SenderStaffID string
	// SenderNick is the sender's display name.
	SenderNick string
	// Group is true in a group chat (conversationType "2"), false in a one-to-one chat.
	Group bool
	// BotUserID is the bot's own dingtalkId (chatbotUserId), used to drop the bot from Mentions.
	BotUserID string
	// Mentions are the message's atUsers in the order DingTalk sent them.
	Mentions []Mention
}

// Mention is one entry of a message's atUsers.
type Mention struct {
	// DingtalkID is the opaque DingTalk ID of the mentioned person.
	DingtalkID string
	// StaffID is the mentioned person's userId; empty for people outside the organisation.
	StaffID string
}

// Reply is a chat message the bot sends back, as plain text.
type Reply struct {
	// Text is the message body: plain text, or markdown when Title is set.
	Text string
	// Title, when set, makes the reply a markdown message (DingTalk's
	// msgtype markdown / sampleMarkdown): Title is what notifications and
	// the chat list show, Text the markdown body.
	Title string
}

// Action is what the bot must do for one message: exactly one field is set.
type Action struct {
	// Reply is set when the answer is known without DingTalk or the store.
	Reply *Reply
	// Plan is set when the command's Run must carry something out before
	// replying (a PeoplePlan may need look-ups first).
	Plan Plan

	refusal Refusal      // why Reply turns the message down (see Action.Refusal)
	dryRun  *CreateGroup // the final dry run Reply shows (see Action.DryRun)
}

// CreateGroup is a validated /newgroup command.
//
// When Pending is empty the command is final and Request is exactly what is
// sent to POST /v1.0/im/group/create, except that UserIDs may hold up to
// MaxTotalMembers people: the bot creates the group with the first
// MaxMembers and adds the rest with the group-update API. When Pending is not
// empty, the bot must look the people up and call Language.Complete, which
// returns the final CreateGroup (or a reply); Request then holds only the IDs
// known so far, and Owner is "" if the owner is pending.
type CreateGroup struct {
	// Request is what is sent to POST /v1.0/im/group/create (see above).
	Request dingclient.CreateGroupRequest
	// Lang is the language of the replies about this command.
	Lang Lang
	// DryRun is set by --dry-run: nothing must be created. Interpret and
	// Complete answer a final dry run with Language.DryRunReply themselves, so
	// a CreateGroup with DryRun set always has Pending people.
	DryRun bool
	// denial is, for a dry run, the access policy's denial of the same
	// command without --dry-run (see WouldBeDenied); nil if it would be
	// allowed or nobody asked.
	denial *access.Denial
	// Template is the name of the template used (--template), or "".
	Template string
	// Searched are the user IDs of the people found by a name search (not
	// a mention, mobile number, alias or userid:), in order: the preview
	// asks the sender to check them.
	Searched []string
	// Expanded are the configured aliases that stood for more than one
	// person, as typed, with how many.
	Expanded []Expansion
	// People are the people the command names: Pending are those the bot
	// must look up before the request is final (empty means final), Names
	// their display names known so far.
	People
}

// Lang is a reply language.
type Lang string

// Reply languages.
const (
	// English replies.
	English Lang = "en"
	// Chinese replies, in Simplified Chinese.
	Chinese Lang = "zh"
)

// Settings is the configured, static part of the command language (from the
// bot's configuration file). The zero value is valid: English, no aliases, no
// templates.
type Settings struct {
	// DefaultLang is the reply language when the command's language is not
	// evident (plain chat text, an unknown command, a configured alias without
	// Chinese characters); "" means English.
	DefaultLang Lang
	// People maps an alias to user IDs. Keys are matched case-insensitively,
	// without the leading @: "alice" → ["0123456"], "release-team" → ["a", "b", "c"].
	People map[string][]string
	// Names are optional display names for user IDs, used in replies.
	Names map[string]string
	// Templates maps a template name (case-insensitive) to the template.
	Templates map[string]Template
	// CommandAliases maps an extra command name (with or without the leading
	// "/") to a command name or built-in alias: "ng" → "newgroup".
	CommandAliases map[string]string
	// Commands are the commands the bot answers, in the order /help lists
	// them; nil means Builtin(). Names and aliases must be unique.
	Commands []Command
	// NoKickoff turns off the kickoff after /newgroup: the bot neither
	// joins the new group nor posts a kickoff message (DINGBOT_KICKOFF=off).
	NoKickoff bool
	// Confirm says when /newgroup shows a preview with Create and Cancel
	// before creating (DINGBOT_CONFIRM); "" means ConfirmAuto.
	Confirm ConfirmMode
	// ConfirmTTL is how long a preview can be confirmed
	// (DINGBOT_CONFIRM_TTL); 0 means DefaultConfirmTTL.
	ConfirmTTL time.Duration
}

// Expansion is a configured alias that stood for several people.
type Expansion struct {
	// Alias is the word as typed ("@release-team").
	Alias string `json:"alias"`
	// Count is how many people it stood for.
	Count int `json:"count"`
}

// Template is a named set of default members and options for /newgroup --template NAME.
type Template struct {
	// Description is one line for /help templates.
	Description string
	// Args is a command-line fragment parsed like /newgroup's arguments, e.g.
	// `@release-team --history yes --mute no`. It holds people and options,
	// no group name. Options given by the user override the template's;
	// people are added to the user's.
	Args string
	// Kickoff is the markdown text of the kickoff message posted into each
	// group made with the template, with placeholders {name}, {creator},
	// {owner}, {members} and {date}; "" uses the built-in text, "off" posts
	// none (and the bot does not join the group).
	Kickoff string
	// Confirm, when set, replaces Settings.Confirm for groups made with
	// the template (e.g. ConfirmNever for a trusted routine template).
	Confirm ConfirmMode
}

// PersonRef is a person named in a command whom only DingTalk can resolve:
// the bot looks each one up and hands the answers to Language.Complete.
type PersonRef struct {
	// Text is the word as typed: "@13800000000", "+8613800000000", "@Alice", "Alice".
	Text string `json:"text"`
	// Kind says how to look the person up.
	Kind RefKind `json:"kind"`
	// Value is what to look up: for RefMobile the 11-digit mobile number
	// (+86/0086/86 prefix, spaces and dashes removed); for RefName the name
	// without the @.
	Value string `json:"value"`
	// Owner is true when the person was named by --owner.
	Owner bool `json:"owner,omitempty"`
}

// RefKind says how the bot must look a PersonRef up.
type RefKind string

// Kinds of PersonRef.
const (
	// RefMobile is a look-up by mobile number (DingTalk: get user by mobile).
	RefMobile RefKind = "mobile"
	// RefName is an exact-name search in the organisation's address book.
	RefName RefKind = "name"
)

// Lookup is the bot's answer for one PersonRef.
type Lookup struct {
	// Ref is the PersonRef that was looked up (matched by Kind and Value).
	Ref PersonRef
	// Candidates are the people found: none means not found, one is the
	// person, more than one is ambiguous.
	Candidates []Person
	// Err is set when the look-up itself failed (a DingTalk error); the
	// reply then says so without Go error text.
	Err error
}

// Person is someone in the organisation's address book.
type Person struct {
	// UserID is the person's userId (staffId).
	UserID string `json:"userid"`
	// Name is the display name.
	Name string `json:"name"`
}
