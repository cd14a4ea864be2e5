package access

import "testing"

// TestAllowedAppliesTheRulesWithoutTakingTokens: Allowed answers like Check
// for the rules (what-may rules included for a real command) but leaves out
// the rate limits and takes no token, however often it is asked.
func TestAllowedAppliesTheRulesWithoutTakingTokens(t *testing.T) {
	p := mustNew(t, Config{Admins: []string{"boss"}, AllowUsers: []string{"u1", "boss"}, Rate: RateConfig{PerUser: "1/h", PerConversation: "1/h"}}, newClock())
	for _, tc := range []struct {
		r    Request
		want string
	}{
		{Request{UserID: "u1", ConversationID: "a"}, "allowed"},
		{Request{UserID: "u1", ConversationID: "a", Owner: "u2"}, "owner_override"},
		{Request{UserID: "u1", ConversationID: "a", OwnerPending: true}, "owner_override"},
		{Request{UserID: "u1", ConversationID: "a", Standard: true}, "standard_groups"},
		{Request{UserID: "u1", ConversationID: "a", Standard: true, DryRun: true}, "allowed"},
		{Request{UserID: "u2", ConversationID: "a"}, "allow_users"},
		{Request{UserID: "", ConversationID: "a"}, "external"},
		{Request{UserID: "boss", ConversationID: "a", Owner: "u2", Standard: true}, "allowed"},
	} {
		for range 3 {
			if got := rule(p.Allowed(tc.r)); got != tc.want {
				t.Errorf("Allowed(%+v) = %s, want %s", tc.r, got, tc.want)
			}
		}
	}
	// No token was taken: the sender's one command and the chat's are there.
	if d := p.Check(Request{UserID: "u1", ConversationID: "a"}); d != nil {
		t.Fatalf("Check after Allowed: %v", d)
	}
	if got := rule(p.Check(Request{UserID: "u1", ConversationID: "a"})); got != "rate.per_user" {
		t.Fatalf("second Check: %s, want rate.per_user", got)
	}
	if got := rule(p.Allowed(Request{UserID: "u1", ConversationID: "a"})); got != "allowed" {
		t.Errorf("Allowed with an empty bucket = %s, want allowed (rate limits are left out)", got)
	}
}
