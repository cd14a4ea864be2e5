// Package commands is dingbot's command language: it turns the text of a chat
// message into either an immediate reply (help, a usage error, a hint) or a
// DingTalk request to perform, and turns the outcome of that request into the
// reply a person reads. It is pure: no I/O, no clocks, no globals.
package commands

import "github.com/dingbot/dingbot/dingclient"

// Message is what the command language needs to know about an incoming chat message.
type Message struct {
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
	// Text is the message body.
	Text string
}

// Action is what the bot must do for one message: exactly one field is set.
type Action struct {
	// Reply is set when the answer is known without calling DingTalk.
	Reply *Reply
	// CreateGroup is set when a group must be created before replying.
	CreateGroup *CreateGroup
}

// CreateGroup is a validated /newgroup command.
type CreateGroup struct {
	// Request is exactly what is sent to POST /v1.0/im/group/create.
	Request dingclient.CreateGroupRequest
}
