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
	resolved, names, reply := l.resolveLookups(c, &cg.People, lookups)
	if reply != "" {
		return replyAction(reply)
	}

	final := *cg
	final.Request = copyRequest(cg.Request)
	final.People = People{Names: names}
	final.Request.Owner, final.Request.UserIDs, final.plan = cg.People.members(resolved, cg.Request.Owner, cg.Request.UserIDs)
	if final.Request.Owner == "" || len(final.Request.UserIDs) == 0 {
		return replyAction(c.f(msgInternal))
	}
	for i, ref := range cg.Pending {
		if ref.Kind == RefName && resolved[i] != "" && !contains(final.Searched, resolved[i]) {
			final.Searched = append(final.Searched, resolved[i])
		}
	}
	if n := len(final.Request.UserIDs); n > MaxTotalMembers {
		return replyAction(c.f(msgTooManyPeople, n, MaxTotalMembers))
	}
	if final.DryRun {
		return Action{Reply: &Reply{Text: l.DryRunReply(&final).Text}}
	}
	return Action{Plan: &final}
}

// members returns the owner and the members in order once the pending
// people are resolved (resolved: their user IDs, by Pending index), and a
// copy of the plan for the final People. People built without a plan (not
// by resolvePeople) start from owner and ids, the pending owner replacing
// owner and the other pending people appended.
func (pp *People) members(resolved []string, owner string, ids []string) (string, []string, *plan) {
	if pp.plan != nil {
		p := *pp.plan
		o, m := pp.plan.assemble(resolved)
		return o, m, &p
	}
	for i, ref := range pp.Pending {
		if ref.Owner {
			owner = resolved[i]
		}
	}
	known := append([]string(nil), ids...)
	_, m := (&plan{sender: owner, owner: entry{ref: -1}, people: []entry{{ids: known, ref: -1}, {ids: resolved, ref: -1}}}).assemble(nil)
	return owner, m, nil
}

// resolveLookups matches the bot's answers to pp's pending people: it
// returns the user ID of each (by Pending index) and the display names known
// now, or the reply text when a look-up failed, someone was not found or a
// name matched several people (listed with their user IDs; a candidate who
// was also mentioned settles it). It never returns people half right.
func (l *Language) resolveLookups(c catalogue, pp *People, lookups []Lookup) (resolved []string, names map[string]string, reply string) {
	resolved = make([]string, len(pp.Pending))
	names = make(map[string]string, len(pp.Names)+len(pp.Pending))
	for id, n := range pp.Names {
		names[id] = n
	}
	var (
		failed    []string
		failErr   error
		notFound  []PersonRef
		ambiguous []ambiguity
	)
	var mentioned []string
	if pp.plan != nil {
		mentioned = pp.plan.mentions
	}
	for i, ref := range pp.Pending {
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
		return nil, nil, lookupFailedText(c, failed, failErr)
	}
	if len(notFound) > 0 || len(ambiguous) > 0 {
		return nil, nil, unresolvedText(c, pp, notFound, ambiguous)
	}
	return resolved, names, ""
}
