// This file runs the follow-up steps a command leaves after its reply
// (commands.FollowUp): they are stored with the command's outcome as inbox
// items of their own, so any worker of any replica runs each once, after a
// crash too, through the command's Resume.

package bot

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/dingbot/dingbot/store"
)

// followUpType is the MsgType of a follow-up item. Transports never produce
// it: Handle refuses it, and msgIds with followUpPrefix, from outside.
const followUpType = "dingbot.followup"

// followUpPrefix starts the msgId of every follow-up item.
const followUpPrefix = "dingbot:"

// followUp is the Text of a follow-up item.
type followUp struct {
	Command string `json:"command"`
	Step    string `json:"step"`
	Data    []byte `json:"data"`
}

// followUpOf returns the follow-up msg carries, if it is one.
func followUpOf(msg Message) (followUp, bool) {
	var f followUp
	if msg.MsgType != followUpType || json.Unmarshal([]byte(msg.Text), &f) != nil || f.Command == "" {
		return followUp{}, false
	}
	return f, true
}

// followUpItems are the inbox items of r's follow-ups: each keeps the
// original message's chat, sender and session webhook, so a step's reply
// goes where the command was typed.
func (b *Bot) followUpItems(item *store.Item, msg Message, r result) []store.FollowUp {
	var out []store.FollowUp
	for _, f := range r.followUps {
		text, err := json.Marshal(followUp{Command: r.command, Step: f.Step, Data: f.Data})
		if err != nil {
			continue
		}
		fm := Message{
			MsgID: followUpPrefix + f.Step + ":" + item.MsgID, ConversationID: msg.ConversationID, Group: msg.Group,
			SenderStaffID: msg.SenderStaffID, SenderNick: msg.SenderNick, BotUserID: msg.BotUserID,
			MsgType: followUpType, Text: string(text), SessionWebhook: msg.SessionWebhook, SessionExpires: msg.SessionExpires,
		}
		data, err := json.Marshal(fm)
		if err != nil {
			continue
		}
		out = append(out, store.FollowUp{MsgID: fm.MsgID, Message: data})
	}
	return out
}

// runFollowUp hands a follow-up item to its command's Resume.
func (b *Bot) runFollowUp(ctx context.Context, e *env, f followUp) result {
	cmd := b.lang.Command(f.Command)
	if cmd == nil || cmd.Resume == nil {
		e.log.Error("follow-up of a command that has none", "command", f.Command, "step", f.Step)
		return result{state: store.Failed, outcome: outcomeInternal, command: f.Command}
	}
	r := resultOf(cmd.Resume(ctx, e, f.Step, f.Data))
	r.command = cmd.Name
	return r
}

// isReservedMsgID reports a msgId only the bot itself may use.
func isReservedMsgID(id string) bool { return strings.HasPrefix(id, followUpPrefix) }
