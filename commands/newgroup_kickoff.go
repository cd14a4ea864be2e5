package commands

// /newgroup's kickoff: after a group is created (not after a dry run), the
// bot joins it and posts a kickoff message, as a follow-up step the bot
// stores with the create's outcome. Both calls are safe to repeat, so a step
// cut off by a crash is run again; a failed step never hides the group: a
// second message in the original chat says what did not happen and why.

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/dingbot/dingbot/dingclient"
)

// stepKickoff is the follow-up step of /newgroup.
const stepKickoff = "kickoff"

// maxKickoffBytes bounds a template's kickoff text; DingTalk takes 15 000
// bytes of title and text together.
const maxKickoffBytes = 12000

// kickoffOff is the template value that turns the kickoff off.
const kickoffOff = "off"

// kickoffData is what the kickoff step needs, stored with the create.
type kickoffData struct {
	OpenConversationID string    `json:"open_conversation_id"`
	Name               string    `json:"name"`
	Creator            string    `json:"creator"`
	Owner              string    `json:"owner"`
	Members            []string  `json:"members"`
	Lang               Lang      `json:"lang"`
	Text               string    `json:"text,omitempty"` // the template's text; "" for the built-in one
	At                 time.Time `json:"at"`
}

// kickoffFollowUp is the follow-up of a created group, or nil when the
// kickoff is off (DINGBOT_KICKOFF=off, or the template's kickoff: off).
func (l *Language) kickoffFollowUp(cg *CreateGroup, resp *dingclient.CreateGroupResponse, creator string, at time.Time) []FollowUp {
	text := ""
	if t := l.templates[strings.ToLower(cg.Template)]; t != nil {
		text = t.Kickoff
	}
	if l.noKickoff || strings.EqualFold(strings.TrimSpace(text), kickoffOff) || resp == nil || resp.OpenConversationID == "" {
		return nil
	}
	d := kickoffData{OpenConversationID: resp.OpenConversationID, Name: cg.Request.Name,
		Creator: personLabel(cg.Names, creator), Owner: personLabel(cg.Names, cg.Request.Owner),
		Lang: l.replyLang(cg.Lang), Text: text, At: at}
	for _, id := range cg.Request.UserIDs {
		d.Members = append(d.Members, personLabel(cg.Names, id))
	}
	data, err := json.Marshal(d)
	if err != nil {
		return nil
	}
	return []FollowUp{{Step: stepKickoff, Data: data}}
}

// resumeNewGroup runs /newgroup's follow-up: join the group, post the kickoff.
func resumeNewGroup(ctx context.Context, env Env, step string, data []byte) Result {
	l := env.Language()
	var d kickoffData
	if step != stepKickoff || json.Unmarshal(data, &d) != nil || d.OpenConversationID == "" {
		env.Log().Error("unreadable follow-up of /newgroup", "step", step)
		return Result{Outcome: OutcomeInternal}
	}
	c := l.cat(l.replyLang(d.Lang))
	dt := env.DingTalk()
	if err := dt.AddRobotToConversation(ctx, d.OpenConversationID); err != nil {
		if ctx.Err() != nil {
			return Result{Release: true}
		}
		env.Log().Warn("joining the new group failed", "open_conversation_id", d.OpenConversationID, "error", err.Error())
		return Result{Reply: Reply{Text: c.f(msgKickoffNoJoin, d.Name, kickoffReason(c, err, "qyapi_chat_manage"))},
			Outcome: OutcomeRefused, Err: err}
	}
	title, text := kickoffText(l, c, d)
	if err := dt.SendGroupMarkdown(ctx, d.OpenConversationID, title, text); err != nil {
		if ctx.Err() != nil {
			return Result{Release: true}
		}
		env.Log().Warn("posting the kickoff failed", "open_conversation_id", d.OpenConversationID, "error", err.Error())
		return Result{Reply: Reply{Text: c.f(msgKickoffNoPost, d.Name, kickoffReason(c, err, "qyapi_robot_sendmsg"))},
			Outcome: OutcomeRefused, Err: err}
	}
	env.Log().Info("kickoff posted", "open_conversation_id", d.OpenConversationID)
	return Result{Outcome: OutcomeChanged, Change: "kickoff posted in " + d.OpenConversationID}
}

// kickoffText is the kickoff's title and markdown text: the template's,
// with its placeholders filled in, or the built-in one in d's language.
func kickoffText(l *Language, c catalogue, d kickoffData) (string, string) {
	title := c.f(msgKickoffTitle, d.Name)
	members := strings.Join(d.Members, c.text(msgListSep))
	date := d.At.UTC().Format(groupsTimeLayout)
	if d.Text != "" {
		r := strings.NewReplacer("{name}", d.Name, "{creator}", d.Creator, "{owner}", d.Owner, "{members}", members, "{date}", date)
		return title, r.Replace(d.Text)
	}
	var here []string
	for _, def := range l.defs(d.Lang) {
		if def.option(optGroup, false) != nil {
			here = append(here, "/"+def.shownName())
		}
	}
	text := c.f(msgKickoffText, d.Name, d.Creator, date, d.Owner, len(d.Members), members)
	if len(here) > 0 {
		text += "\n\n" + c.f(msgKickoffCommands, strings.Join(here, c.text(msgListSep)))
	}
	return title, text
}

// kickoffReason says why a kickoff step failed, in words an admin can act on.
func kickoffReason(c catalogue, err error, scope string) string {
	var apiErr *dingclient.APIError
	if errors.As(err, &apiErr) && apiErr != nil {
		if apiErr.PermissionDenied() {
			if len(apiErr.RequiredScopes) > 0 {
				scope = safeToken(apiErr.RequiredScopes[0])
			}
			return c.f(msgKickoffScope, scope)
		}
		text := c.f(msgKickoffRefused, safeToken(apiErr.Code))
		if id := safeToken(apiErr.RequestID); id != "" {
			text += " " + c.f(msgRequestID, id)
		}
		return text
	}
	return c.f(msgKickoffUnreachable)
}
