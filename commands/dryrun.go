package commands

import (
	"encoding/json"
	"strings"

	"github.com/dingbot/dingbot/access"
	"github.com/dingbot/dingbot/dingclient"
)

// maxDryRunListed is how many members a dry run lists by name; the request
// body that follows lists them all.
const maxDryRunListed = 50

// DryRunReply says exactly what would be sent to DingTalk for cg, and that
// nothing was created: the name, the group type, the owner and the members
// (by name and user ID), the external contacts, the icon, every management
// option with its value (or DingTalk's default when it is not sent), the
// template used, the people still to look up (if cg is not final), and the
// JSON request body. With more than MaxMembers members it says that the rest
// would be added after creating the group.
func (l *Language) DryRunReply(cg *CreateGroup) Reply {
	c := l.cat(l.planLang(cg))
	if cg == nil {
		return Reply{Text: c.f(msgInternal)}
	}
	req := cg.Request
	none := c.f(msgDryRunNone)
	lines := []string{c.f(msgDryRunTitle), c.f(msgDryRunName, req.Name)}
	if req.ConversationTag != nil {
		lines = append(lines, c.f(msgDryRunType, groupTypeText(c, *req.ConversationTag), *req.ConversationTag))
	}
	owner := req.Owner
	if owner == "" {
		owner = c.f(msgTheOwner)
		for _, ref := range cg.Pending {
			if ref.Owner {
				owner = ref.Text
			}
		}
	} else {
		owner = personLabel(cg.Names, owner)
	}
	lines = append(lines, c.f(msgCreatedOwner, owner))
	switch req.OwnerType {
	case dingclient.OwnerTypeEmployee:
		lines = append(lines, c.f(msgDryRunOwnerType, c.f(msgValueEmp)))
	case dingclient.OwnerTypeExternal:
		lines = append(lines, c.f(msgDryRunOwnerType, c.f(msgValueExt)))
	default:
		lines = append(lines, c.f(msgDryRunOwnerType, c.f(msgDryRunDefault, c.f(msgValueEmp))))
	}
	members := make([]string, len(req.UserIDs))
	for i, id := range req.UserIDs {
		members[i] = personLabel(cg.Names, id)
	}
	lines = append(lines, c.f(msgDryRunMembers, len(members), shortList(c, members, maxDryRunListed)))
	if n := len(req.UserIDs); n > MaxMembers {
		lines = append(lines, c.f(msgDryRunLarge, MaxMembers, n-MaxMembers))
	}
	ext := none
	if len(req.ExtIDs) > 0 {
		ext = strings.Join(req.ExtIDs, ", ")
	}
	lines = append(lines, c.f(msgDryRunExternal, ext))
	icon := none
	if req.Icon != "" {
		icon = req.Icon
	}
	lines = append(lines, c.f(msgDryRunIcon, icon))
	var mo dingclient.ManagementOptions
	if req.ManagementOptions != nil {
		mo = *req.ManagementOptions
	}
	for _, o := range []struct {
		opt, field string
		v          *int32
		who        bool
	}{
		{optMentionAll, "managementOptions.mentionAllAuthority", mo.MentionAllAuthority, true},
		{optHistory, "managementOptions.showHistoryType", mo.ShowHistoryType, false},
		{optApproval, "managementOptions.validationType", mo.ValidationType, false},
		{optSearchable, "managementOptions.searchable", mo.Searchable, false},
		{optMute, "managementOptions.chatBannedType", mo.ChatBannedType, false},
		{optManage, "managementOptions.managementType", mo.ManagementType, true},
	} {
		// DingTalk's defaults: everyone may @all and manage; the yes/no settings are off.
		val := ""
		switch {
		case o.who && (o.v == nil || *o.v == 0):
			val = c.f(msgValueEveryone)
		case o.who:
			val = c.f(msgValueOwner)
		case o.v != nil && *o.v == 1:
			val = c.f(msgValueYes)
		default:
			val = c.f(msgValueNo)
		}
		if o.v == nil {
			val = c.f(msgDryRunDefault, val)
		}
		lines = append(lines, c.f(msgDryRunOption, "--"+o.opt, o.field, val))
	}
	if cg.Template != "" {
		lines = append(lines, c.f(msgDryRunTemplate, cg.Template))
	}
	if len(cg.Pending) > 0 {
		refs := make([]string, len(cg.Pending))
		for i, r := range cg.Pending {
			refs[i] = r.Text
		}
		lines = append(lines, c.f(msgDryRunPending, c.list(refs, msgAnd)))
	}
	body, err := json.Marshal(req)
	if err == nil {
		lines = append(lines, c.f(msgDryRunRequest), string(body))
	}
	if cg.denial != nil {
		lines = append(lines, c.f(msgDryRunDenied, l.DeniedReply(cg, cg.denial).Text))
	} else {
		lines = append(lines, c.f(msgDryRunAgain))
	}
	return Reply{Text: strings.Join(lines, "\n")}
}

// DryRunPlan is a Guarded plan that may be a dry run (its AccessRequest
// has DryRun set). A dry run creates nothing, so the access policy's rules
// on what may be created (standard_groups, owner_override) do not stop it,
// but its reply must not invite the sender to send a real command the
// policy would refuse. So the bot's access middleware also asks the policy
// whether the same command without --dry-run would be allowed (without
// spending a rate-limit token) and, when it would not, hands the denial to
// WouldBeDenied: the dry run's reply then ends with what would be refused
// and why (the DeniedReply text) instead of the invitation.
type DryRunPlan interface {
	Guarded
	// WouldBeDenied returns a copy of the plan whose dry-run reply says
	// that the real command would be denied with d.
	WouldBeDenied(d *access.Denial) DryRunPlan
	dryRunReply(l *Language) Reply
}

// DryRun is the dry run the action's Reply shows when Interpret answered
// it at once (nobody to look up), or nil. The bot asks the access policy
// about the real command and, if it would be denied, replies with
// DryRunAnswer(p.WouldBeDenied(d)) instead.
func (a Action) DryRun() DryRunPlan {
	if a.dryRun == nil {
		return nil
	}
	return a.dryRun
}

// DryRunAnswer is the reply to the final dry run p (see Action.DryRun).
func (l *Language) DryRunAnswer(p DryRunPlan) Reply {
	if p == nil {
		return Reply{Text: l.cat(l.defaultLang).f(msgInternal)}
	}
	return p.dryRunReply(l)
}

// WouldBeDenied implements DryRunPlan.
func (cg *CreateGroup) WouldBeDenied(d *access.Denial) DryRunPlan {
	if cg == nil {
		return cg
	}
	c := *cg
	c.denial = d
	return &c
}

func (cg *CreateGroup) dryRunReply(l *Language) Reply {
	return l.DryRunReply(cg)
}
