package dingtalktest

import (
	"slices"
	"time"
)

// SeedGroup adds a group that already existed before the bot started (as if
// someone created it in the DingTalk app) and installs the bot in it, so that
// messages sent there reach the bot and the group robot API accepts replies.
//
// Empty fields get defaults: OpenConversationID a random "cid…", ChatID a
// random "chat…", Owner the first member, CreatedAt now. The owner is made a
// member if it is not one; ConversationTag is kept as given (2 internal,
// 0 standard). Request.Name, Owner and UserIDs are filled from the group.
// Seeded groups are listed by Groups with the created ones, and can be
// updated through the group-update API. SeedGroup returns the stored group.
func (s *Server) SeedGroup(g Group) Group {
	if g.OpenConversationID == "" {
		g.OpenConversationID = randomConversationID()
	}
	if g.ChatID == "" {
		g.ChatID = "chat" + randHex(32)
	}
	g.Members = slices.Clone(g.Members)
	if g.Owner == "" && len(g.Members) > 0 {
		g.Owner = g.Members[0]
	}
	if g.Owner != "" && !slices.Contains(g.Members, g.Owner) {
		g.Members = append([]string{g.Owner}, g.Members...)
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = time.Now()
	}
	name, owner, tag := g.Name, g.Owner, g.ConversationTag
	g.Request.Name, g.Request.Owner, g.Request.ConversationTag = &name, &owner, &tag
	g.Request.UserIDs, g.Request.HasUserIDs = slices.Clone(g.Members), true
	if g.Request.ManagementOptions != nil {
		opts := make(map[string]int64, len(g.Request.ManagementOptions))
		for k, v := range g.Request.ManagementOptions {
			opts[k] = v
		}
		g.Request.ManagementOptions = opts
	}
	s.mu.Lock()
	s.groups = append(s.groups, g)
	s.botGroups[g.OpenConversationID] = true
	s.notifyLocked()
	s.mu.Unlock()
	return g
}
