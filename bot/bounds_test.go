package bot_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/internal/testutil"
	"github.com/dingbot/dingbot/store"
)

// The pipeline's replies about the bounds of a command, word for word.
const (
	textTooManyLookups = "That command names %d people to look up by mobile number or name; I look up at most %d per command, so I did nothing. " +
		"Write some of them as userid:ID (or @mention them in a group chat), or split the command: for example /newgroup with some of them, then /addmember for the rest."
	textTooManyLookupsZh = "这条命令要按手机号或姓名查找 %d 个人；每条命令最多查找 %d 个，所以我什么也没做。" +
		"请把其中一些人写成 userid:ID（或在群聊里直接 @ 他们），或者拆成几条命令：例如先用 /建群 加一部分人，再用 /加人 加其余的人。"
	textCommandTimeout = "That took too long (over 1 second), so I stopped before changing anything in DingTalk: nothing was created or changed. " +
		"Try again in a few minutes; if it keeps happening, name fewer people, or ask an admin to check the bot's logs."
	textLookupQuota = "This organisation has used up its monthly DingTalk API quota. " +
		"An admin can buy more calls or upgrade the plan in the DingTalk developer console; otherwise it resets next month."
)

// newBoundsHarness is newHarness with the people-resolution directory (Alice,
// Bob and Carol have mobiles), connected to the fake.
func newBoundsHarness(t *testing.T, configure ...func(*bot.Options)) *harness {
	t.Helper()
	h := newHarness(t, configure...)
	h.fake.AddUser(dingtalktest.User{UserID: "alice", Name: "Alice", Mobile: "13800000001", Active: true, Visible: true})
	h.fake.AddUser(dingtalktest.User{UserID: "bob", Name: "Bob", Mobile: "13800000002", Active: true, Visible: true})
	for _, u := range directory {
		h.fake.AddUser(u)
	}
	h.wire(t)
	return h
}

// lookupCalls is how many look-up calls of every kind the fake received.
func lookupCalls(h *harness) int {
	return h.fake.LookupCalls(dingtalktest.PathUserByMobile) + h.fake.LookupCalls(dingtalktest.PathUserSearch) +
		h.fake.LookupCalls(dingtalktest.PathUserGet)
}

// mobiles returns n different mobile numbers nobody has.
func mobiles(n int) string {
	m := make([]string, n)
	for i := range m {
		m[i] = fmt.Sprintf("139%08d", i)
	}
	return strings.Join(m, " ")
}

// TestTooManyLookupsIsAnsweredBeforeAnyLookup: a command naming more people
// to look up than the cap (default 50; configurable) is answered at once in
// the command's language, with no DingTalk call; at the cap it goes ahead.
func TestTooManyLookupsIsAnsweredBeforeAnyLookup(t *testing.T) {
	t.Run("default cap", func(t *testing.T) {
		h := newBoundsHarness(t)
		reply := h.say(t, direct("/newgroup Everyone --dry-run "+mobiles(51)))
		if want := fmt.Sprintf(textTooManyLookups, 51, 50); reply != want {
			t.Errorf("reply\n%s\nwant\n%s", reply, want)
		}
		reply = h.say(t, direct("/建群 大群 "+mobiles(51)))
		if want := fmt.Sprintf(textTooManyLookupsZh, 51, 50); reply != want {
			t.Errorf("reply\n%s\nwant\n%s", reply, want)
		}
		if n := lookupCalls(h); n != 0 {
			t.Errorf("%d look-up calls, want none", n)
		}
		if n := len(h.fake.CreateRequests()); n != 0 {
			t.Errorf("%d create calls, want none", n)
		}
		// At the cap, the command is looked up as usual (nobody has these numbers).
		reply = h.say(t, direct("/newgroup Fifty "+mobiles(50)))
		if !strings.HasPrefix(reply, "I created nothing, because I couldn't tell who everyone is:") {
			t.Errorf("reply at the cap:\n%s", reply)
		}
		if n := h.fake.LookupCalls(dingtalktest.PathUserByMobile); n != 50 {
			t.Errorf("%d look-ups by mobile at the cap, want 50", n)
		}
	})
	t.Run("configured cap", func(t *testing.T) {
		h := newBoundsHarness(t, func(o *bot.Options) { o.MaxLookups = 2 })
		reply := h.say(t, direct("/newgroup Three 13800000002 13800000003 @Carol"))
		if want := fmt.Sprintf(textTooManyLookups, 3, 2); reply != want {
			t.Errorf("reply\n%s\nwant\n%s", reply, want)
		}
		if n := lookupCalls(h); n != 0 {
			t.Errorf("%d look-up calls, want none", n)
		}
		// The same person twice is one look-up; user IDs need none.
		reply = h.say(t, direct("/newgroup Two 13800000003 +8613800000003 @Bob userid:alice"))
		if !strings.HasPrefix(reply, `Created group "Two".`) {
			t.Errorf("reply:\n%s", reply)
		}
	})
}

// TestFirstFailedLookupStopsTheRest: once a look-up fails (here on the
// monthly quota, which is not retried), the people after it are not looked
// up, and the reply names the one that failed.
func TestFirstFailedLookupStopsTheRest(t *testing.T) {
	t.Run("search", func(t *testing.T) {
		h := newBoundsHarness(t)
		h.fake.FailNext(dingtalktest.PathUserSearch, dingtalktest.Response{Status: 403,
			Code: "Forbidden.AccessDenied.ApiCountLimitForOrg", Message: "组织的API调用量已超过限制"})
		reply := h.say(t, direct("/newgroup Stop 13800000003 @Carol @Bob @王五"))
		want := regexp.QuoteMeta("I couldn't look up @Carol in DingTalk, so I created nothing. "+textLookupQuota+"\nDingTalk request ID: ") + "[0-9A-F-]{36}$"
		if !regexp.MustCompile("^" + want).MatchString(reply) {
			t.Errorf("reply\n%s\nwant /%s/", reply, want)
		}
		if n := h.fake.LookupCalls(dingtalktest.PathUserSearch); n != 1 {
			t.Errorf("%d searches, want 1 (the failed one; @Bob and @王五 are not looked up)", n)
		}
		if n := h.fake.LookupCalls(dingtalktest.PathUserByMobile); n != 1 {
			t.Errorf("%d look-ups by mobile, want 1 (before the failure)", n)
		}
		if n := len(h.fake.CreateRequests()); n != 0 {
			t.Errorf("%d create calls, want none", n)
		}
	})
	t.Run("by mobile, legacy errcode 90020", func(t *testing.T) {
		h := newBoundsHarness(t)
		h.fake.FailNextLegacy(dingtalktest.PathUserByMobile, dingtalktest.ErrcodeMonthlyQuota, "调用量已超过限制")
		reply := h.say(t, direct("/newgroup Stop 13800000003 @Carol"))
		want := regexp.QuoteMeta("I couldn't look up 13800000003 in DingTalk, so I created nothing. "+textLookupQuota+"\nDingTalk request ID: ") + "[0-9a-f]{12}$"
		if !regexp.MustCompile("^" + want).MatchString(reply) {
			t.Errorf("reply\n%s\nwant /%s/", reply, want)
		}
		if n := h.fake.LookupCalls(dingtalktest.PathUserByMobile); n != 1 {
			t.Errorf("%d look-ups by mobile, want exactly 1 (the quota is not retried)", n)
		}
		if n := h.fake.LookupCalls(dingtalktest.PathUserSearch); n != 0 {
			t.Errorf("%d searches, want none", n)
		}
	})
}

// TestCommandDeadlineDuringLookups: DingTalk's search does not answer and
// the command runs out of its time: the sender is told nothing was created,
// the call is cut off, the item is finished, and nothing is created.
func TestCommandDeadlineDuringLookups(t *testing.T) {
	h := newBoundsHarness(t, func(o *bot.Options) { o.CommandTimeout = time.Second })
	h.fake.FailNext(dingtalktest.PathUserSearch, dingtalktest.Response{Delay: time.Hour})
	d := h.send(t, direct("/newgroup Slow @Carol"))
	if reply := h.waitReplies(t, 1)[0].Text; reply != textCommandTimeout {
		t.Errorf("reply\n%s\nwant\n%s", reply, textCommandTimeout)
	}
	testutil.WaitFor(t, wait, "the search to end", func() bool { return len(h.fake.Calls(dingtalktest.PathUserSearch)) == 1 })
	if n := len(h.fake.CreateRequests()); n != 0 {
		t.Errorf("%d create calls, want none", n)
	}
	it, err := h.db.Get(testutil.Ctx(t), d.MsgID())
	if err != nil || it.State != store.Done {
		t.Errorf("item %+v (%v), want it done", it, err)
	}
}

// gateLimiter holds every group create until its context ends, and says
// when one is waiting: a create rate limit whose next slot is far away.
type gateLimiter struct{ waiting chan struct{} }

func (g gateLimiter) Wait(ctx context.Context, api dingclient.API) error {
	if api != dingclient.APIGroupCreate {
		return nil
	}
	g.waiting <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

func (g gateLimiter) Reserve(ctx context.Context, api dingclient.API) (time.Duration, error) {
	if err := g.Wait(ctx, api); err != nil {
		return 0, err
	}
	return 0, nil
}

func (g gateLimiter) Limited(api dingclient.API) bool { return api == dingclient.APIGroupCreate }

// TestCommandDeadlineBeforeTheCreate: the command runs out of time while it
// waits for its create slot: it is finished with the timeout reply, not
// given back for another try, and DingTalk gets no create call.
func TestCommandDeadlineBeforeTheCreate(t *testing.T) {
	gate := gateLimiter{waiting: make(chan struct{}, 8)}
	h := newBoundsHarness(t, func(o *bot.Options) { o.CommandTimeout = time.Second; o.Limiter = gate })
	d := h.send(t, direct("/newgroup Waits userid:bob"))
	receive(t, gate.waiting, "the wait for the create slot")
	if reply := h.waitReplies(t, 1)[0].Text; reply != textCommandTimeout {
		t.Errorf("reply\n%s\nwant\n%s", reply, textCommandTimeout)
	}
	if n := len(h.fake.CreateRequests()); n != 0 {
		t.Errorf("%d create calls, want none", n)
	}
	it, err := h.db.Get(testutil.Ctx(t), d.MsgID())
	if err != nil || it.State != store.Done {
		t.Errorf("item %+v (%v), want it done", it, err)
	}
	h.shutdown(t)
	if n := len(gate.waiting); n != 0 {
		t.Errorf("the command was run %d more times, want none", n)
	}
}

// TestShutdownWhileWaitingForTheCreateStillReleases: a bot that stops (its
// shutdown out of time) while a command waits for its create slot gives the
// command back for another process, without a reply: that is no time-out.
func TestShutdownWhileWaitingForTheCreateStillReleases(t *testing.T) {
	gate := gateLimiter{waiting: make(chan struct{}, 8)}
	h := newBoundsHarness(t, func(o *bot.Options) { o.Limiter = gate })
	d := h.send(t, direct("/newgroup Waits userid:bob"))
	receive(t, gate.waiting, "the wait for the create slot")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the shutdown deadline has already passed
	_ = h.bot.Shutdown(ctx)
	testutil.WaitFor(t, wait, "the command to be given back", func() bool {
		it, err := h.db.Get(context.Background(), d.MsgID())
		return err == nil && it.State == store.Received && it.Owner == ""
	})
	if replies := h.fake.Replies(); len(replies) != 0 {
		t.Errorf("replies %+v, want none", replies)
	}
	if n := len(h.fake.CreateRequests()); n != 0 {
		t.Errorf("%d create calls, want none", n)
	}
}
