// This file finishes a plan whose people the bot has looked up.

package commands

import (
	"strings"
)

// Complete finishes a PeoplePlan with the bot's answers for its pending
// people (Lookups matched by Kind and Value): the final plan, or a reply
// when someone could not be resolved. The plan is not modified. Complete
// never panics.
func (l *Language) Complete(p Plan, lookups []Lookup) (act Action) {
	defer func() {
		if recover() != nil {
			act = replyAction(l.cat(l.defaultLang).f(msgInternal))
		}
	}()
	pp, ok := p.(PeoplePlan)
	if !ok || pp == nil {
		return replyAction(l.cat(l.defaultLang).f(msgInternal))
	}
	return pp.complete(l, lookups)
}

// completeGroup finishes a CreateGroup whose Pending people the bot has looked
// up, one Lookup per PersonRef (matched by Kind and Value). It returns
// Action{Plan: final} with Pending empty, or a Reply when a look-up
// failed, someone was not found, a name matched several people (the reply
// lists the candidates with their user IDs), or the group would be too big:
// never a group that is half right. A final dry run is answered with
// DryRunReply. cg is not modified. Complete never panics.
func (l *Language) completeGroup(cg *CreateGroup, lookups []Lookup) (act Action) {
	c := l.cat(l.defaultLang)
	defer func() {
		if recover() != nil {
			act = replyAction(c.f(msgInternal))
		}
	}()
	if cg == nil {
		return replyAction(c.f(msgInternal))
	}
	c = l.cat(l.replyLang(cg.Lang))
	resolved := make([]string, len(cg.Pending))
	names := make(map[string]string, len(cg.Names)+len(cg.Pending))
	for id, n := range cg.Names {
		names[id] = n
	}
	var (
		failed    []string
		failErr   error
		notFound  []PersonRef
		ambiguous []ambiguity
	)
	var mentioned []string
	if cg.plan != nil {
		mentioned = cg.plan.mentions
	}
	for i, ref := range cg.Pending {
		lk, ok := findLookup(lookups, ref)
		if !ok || lk.Err != nil {
			failed = append(failed, ref.Text)
			if ok && failErr == nil {
				failErr = lk.Err
			}
			continue
		}
		var cands []Person
		for _, p := range lk.Candidates {
			p.UserID = strings.TrimSpace(p.UserID)
			if !validID(p.UserID) || containsPerson(cands, p.UserID) {
				continue
			}
			p.Name = sanitizeName(p.Name)
			cands = append(cands, p)
		}
		if len(cands) > 1 && len(mentioned) > 0 {
			var in []Person
			for _, p := range cands {
				if contains(mentioned, p.UserID) {
					in = append(in, p)
				}
			}
			if len(in) == 1 {
				cands = in
			}
		}
		switch len(cands) {
		case 0:
			notFound = append(notFound, ref)
		case 1:
			resolved[i] = cands[0].UserID
			if _, known := names[cands[0].UserID]; !known && cands[0].Name != "" {
				names[cands[0].UserID] = cands[0].Name
			}
			if n, ok := l.names[cands[0].UserID]; ok {
				names[cands[0].UserID] = n
			}
		default:
			ambiguous = append(ambiguous, ambiguity{ref, cands})
		}
	}
	if len(failed) > 0 {
		return replyAction(lookupFailedText(c, failed, failErr))
	}
	if len(notFound) > 0 || len(ambiguous) > 0 {
		return replyAction(unresolvedText(c, cg, notFound, ambiguous))
	}

	final := *cg
	final.Request = copyRequest(cg.Request)
	final.Pending = nil
	final.Names = names
	final.plan = nil
	if cg.plan != nil {
		p := *cg.plan
		final.plan = &p
		final.Request.Owner, final.Request.UserIDs = cg.plan.assemble(resolved)
	} else {
		owner := cg.Request.Owner
		ids := append([]string(nil), cg.Request.UserIDs...)
		for i, ref := range cg.Pending {
			if ref.Owner {
				owner = resolved[i]
			}
		}
		_, final.Request.UserIDs = (&plan{sender: owner, owner: entry{ref: -1}, people: []entry{{ids: ids, ref: -1}, {ids: resolved, ref: -1}}}).assemble(nil)
		final.Request.Owner = owner
	}
	if final.Request.Owner == "" || len(final.Request.UserIDs) == 0 {
		return replyAction(c.f(msgInternal))
	}
	if n := len(final.Request.UserIDs); n > MaxTotalMembers {
		return replyAction(c.f(msgTooManyPeople, n, MaxTotalMembers))
	}
	if final.DryRun {
		return Action{Reply: &Reply{Text: l.DryRunReply(&final).Text}}
	}
	return Action{Plan: &final}
}
