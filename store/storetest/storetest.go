// Package storetest tests implementations of store.Store, as testing/fstest
// tests file systems: Run is the conformance suite every engine passes
// (package store runs it on SQLite and PostgreSQL), so a new engine, SQL or
// not, is known to keep the inbox's guarantees (a message is claimed once,
// leased to one worker at a time, never run twice), the audit's and the
// previews' (each settled once).
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dingbot/dingbot/store"
)

// Run tests that the Stores open returns behave as package store documents
// its interfaces, each aspect in a subtest of t (ClaimHeld, Finish,
// UpdateGroup, AdmitSigned, SettlePreview, ConcurrentNext, …).
//
// open returns a Store on the calling subtest's own database, empty when
// the subtest first calls it; called twice in one subtest it returns a
// second independent Store on the same database, like another replica. The
// Concurrent subtests use such pairs from many goroutines. open reports a
// failure to open with t.Fatal and registers the Store's Close (and the
// database's removal, if any) with t.Cleanup; Run closes nothing itself.
//
// The subtests pass explicit times and never sleep, so a Store must use the
// times it is given, not the clock.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open) })
	}
}

// tests are Run's subtests, in order.
var tests = []struct {
	name string
	run  func(t *testing.T, open func(t *testing.T) store.Store)
}{
	{"ClaimHeld", testClaimHeld},
	{"FinishWithRecords", testFinishWithRecords},
	{"NextOrder", testNextOrder},
	{"ClaimAndGet", testClaimAndGet},
	{"NextOrderLeaseAndTakeover", testNextOrderLeaseAndTakeover},
	{"MarkCalling", testMarkCalling},
	{"Finish", testFinish},
	{"FinishReplyTitle", testFinishReplyTitle},
	{"FinishFollowUps", testFinishFollowUps},
	{"FinishFollowUpsAtomic", testFinishFollowUpsAtomic},
	{"Release", testRelease},
	{"Renew", testRenew},
	{"ExpireCalling", testExpireCalling},
	{"SetReplyState", testSetReplyState},
	{"Unreplied", testUnreplied},
	{"Groups", testGroups},
	{"GroupsFilter", testGroupsFilter},
	{"Audit", testAudit},
	{"GroupLookup", testGroupLookup},
	{"UpdateGroup", testUpdateGroup},
	{"AuditChange", testAuditChange},
	{"Counts", testCounts},
	{"Prune", testPrune},
	{"AdmitSigned", testAdmitSigned},
	{"ConcurrentAdmitSigned", testConcurrentAdmitSigned},
	{"PutPreview", testPutPreview},
	{"PreviewLookup", testPreviewLookup},
	{"SettlePreview", testSettlePreview},
	{"ExpirePreviews", testExpirePreviews},
	{"PrunePreviews", testPrunePreviews},
	{"ConcurrentSettlePreview", testConcurrentSettlePreview},
	{"ConcurrentExpirePreviews", testConcurrentExpirePreviews},
	{"ReleaseDead", testReleaseDead},
	{"ReleaseDeadReplies", testReleaseDeadReplies},
	{"Retire", testRetire},
	{"RenewItems", testRenewItems},
	{"PruneOwners", testPruneOwners},
	{"Clock", testClock},
	{"TakeSlot", testTakeSlot},
	{"TakeToken", testTakeToken},
	{"ReturnToken", testReturnToken},
	{"PruneTokens", testPruneTokens},
	{"ConcurrentReleaseDead", testConcurrentReleaseDead},
	{"ConcurrentTakeSlot", testConcurrentTakeSlot},
	{"ConcurrentTakeToken", testConcurrentTakeToken},
	{"ConcurrentClaim", testConcurrentClaim},
	{"ConcurrentNext", testConcurrentNext},
	{"ConcurrentExpireAndReply", testConcurrentExpireAndReply},
}

// ctx is the context of every call.
var ctx = context.Background()

// t0 is the tests' clock; times are stored in milliseconds.
var t0 = time.UnixMilli(1_700_000_000_000)

// lease is the lease every claim and Next takes.
const lease = 30 * time.Second

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// claim makes an item id received at now, held by nobody.
func claim(t *testing.T, s store.Store, id string, now time.Time) {
	t.Helper()
	ok, _, err := s.Claim(ctx, id, []byte(`{"text":"`+id+`"}`), "", now, lease)
	if err != nil || !ok {
		t.Fatalf("Claim(%s) = %v, %v; want true", id, ok, err)
	}
}

// next calls Next for owner at now and wants the item want leased ("" for none).
func next(t *testing.T, s store.Store, owner string, now time.Time, want string) *store.Item {
	t.Helper()
	it, err := s.Next(ctx, owner, now, lease)
	if err != nil {
		t.Fatalf("Next(%s): %v", owner, err)
	}
	got := ""
	if it != nil {
		got = it.MsgID
	}
	if got != want {
		t.Fatalf("Next(%s) = %q, want %q", owner, got, want)
	}
	return it
}

// get returns the item id, which must exist.
func get(t *testing.T, s store.Store, id string) *store.Item {
	t.Helper()
	it, err := s.Get(ctx, id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return it
}

// wantErr wants err to match want (errors.Is).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

// unreplied makes an item id (received at now) whose create call was
// interrupted: unknown, its reply never attempted (ReplyNone).
func unreplied(t *testing.T, s store.Store, id string, now time.Time) {
	t.Helper()
	if ok, _, err := s.Claim(ctx, id, []byte(`{"text":"`+id+`"}`), "dead-"+id, now, lease); !ok || err != nil {
		t.Fatalf("Claim(%s) = %v, %v", id, ok, err)
	}
	if err := s.MarkCalling(ctx, id, "dead-"+id, now); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ExpireCalling(ctx, now.Add(lease+time.Millisecond)); err != nil || len(got) != 1 {
		t.Fatalf("ExpireCalling(%s) = %v, %v", id, got, err)
	}
}

// finished makes a finished item id (received at now) in state st, its
// reply being sent.
func finished(t *testing.T, s store.Store, id string, now time.Time, st store.State) {
	t.Helper()
	claim(t, s, id, now)
	if _, err := s.Next(ctx, "fin-"+id, now, lease); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, store.Outcome{MsgID: id, Owner: "fin-" + id, State: st, Reply: "reply " + id, Now: now}); err != nil {
		t.Fatalf("Finish(%s): %v", id, err)
	}
}
