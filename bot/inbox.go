// This file is the durable inbox runtime: workers that take claimed and
// stored messages, leases, housekeeping after dead processes, and giving
// items back.

package bot

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/dingbot/dingbot/store"
)

// releaseStranded gives back an inbox item leased to this process that no
// worker of it will run, and wakes a worker to take it through Next.
func (b *Bot) releaseStranded(msgID string) {
	err := b.release(msgID)
	switch {
	case err == nil:
		b.wake()
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrLeaseLost):
		// Never stored, or not ours (any more): nothing to give back.
	default:
		b.log.Error("releasing an inbox item failed", "msg_id", msgID, "error", err.Error())
	}
}

// release gives back an inbox item this process holds in state received,
// on its own deadline (it also runs after the work context is cancelled).
func (b *Bot) release(msgID string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return b.store.Release(ctx, msgID, b.owner)
}

// releaseRetrying gives back an item this process holds, retrying with
// back-off while the store fails, so that the item is not left leased to
// a process that will not run it (until the bot's work is cancelled).
func (b *Bot) releaseRetrying(msgID string) {
	wait := finishRetryFirst
	for {
		err := b.release(msgID)
		switch {
		case err == nil, errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrLeaseLost):
			return
		}
		b.log.Error("releasing an inbox item failed; retrying", "msg_id", msgID, "error", err.Error())
		select {
		case <-b.work.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, finishRetryMax)
	}
}

// releaseJobs gives back the claimed messages no worker took before
// Shutdown, so the next start (or another replica) runs them at once
// instead of after their lease.
func (b *Bot) releaseJobs() {
	for {
		select {
		case j := <-b.jobs:
			<-b.slots
			b.held.Delete(j.item.MsgID)
			if err := b.release(j.item.MsgID); err != nil {
				b.log.Error("releasing an inbox item failed", "msg_id", j.item.MsgID, "error", err.Error())
			}
		default:
			return
		}
	}
}

// worker runs the messages handed to it by Handle and, when woken, the
// inbox items no process holds (stored when every slot was taken, left by a
// stopped or dead process, or received by another replica), one at a time
// until Shutdown. A worker that finds such an item wakes another, so a
// backlog is drained by all idle workers, while an idle bot looks once per
// poll interval (poller), not once per worker.
func (b *Bot) worker() {
	defer b.workers.Done()
	scan := true // look in the inbox: at start and when woken
	for {
		select {
		case <-b.stopping:
			return
		default:
		}
		// Messages this process claimed come first: they were received
		// (and ACKed) before anything it could find in the inbox now.
		select {
		case j := <-b.jobs:
			b.runJob(j)
			continue
		default:
		}
		if scan {
			item, err := b.store.Next(b.work, b.owner, b.now(), b.lease)
			if err != nil && b.work.Err() == nil {
				b.log.Error("reading the inbox failed", "error", err.Error())
			}
			if item != nil {
				b.wake()
				b.held.Store(item.MsgID, struct{}{})
				b.processItem(item, nil)
				b.held.Delete(item.MsgID)
				continue
			}
			scan = false
		}
		select {
		case <-b.stopping:
			return
		case j := <-b.jobs:
			b.runJob(j)
		case <-b.wakeup:
			scan = true
		}
	}
}

// runJob runs a message Handle queued.
func (b *Bot) runJob(j job) {
	<-b.slots
	b.processItem(j.item, &j.msg)
	b.held.Delete(j.item.MsgID)
}

// wake asks one idle worker to look in the inbox.
func (b *Bot) wake() {
	select {
	case b.wakeup <- struct{}{}:
	default:
	}
}

// poller wakes a worker every poll interval, for items other processes stored.
func (b *Bot) poller() {
	defer b.chores.Done()
	tick := time.NewTicker(b.poll)
	defer tick.Stop()
	for {
		select {
		case <-b.stopChore:
			return
		case <-tick.C:
			b.wake()
		}
	}
}

// housekeeping turns calls interrupted by a process whose leases ran out
// into "unknown" (telling their users), posts replies that were never
// attempted, expires unanswered previews, and prunes old inbox items and
// previews. Heartbeats and lease renewals are liveness's.
func (b *Bot) housekeeping() {
	defer b.chores.Done()
	b.recoverOrphans()
	b.updateDepth()
	expire := time.NewTicker(b.lease / 2)
	defer expire.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	for {
		select {
		case <-b.stopChore:
			return
		case <-expire.C:
			b.recoverOrphans()
			b.expirePreviews()
			b.updateDepth()
		case <-prune.C:
			n, err := b.store.Prune(b.work, b.now().Add(-b.keep))
			if err != nil && b.work.Err() == nil {
				b.log.Error("pruning the inbox failed", "error", err.Error())
			} else if n > 0 {
				b.log.Info("pruned finished inbox items", "count", n)
			}
			if _, err := b.store.PruneSigned(b.work, b.now()); err != nil && b.work.Err() == nil {
				b.log.Error("pruning expired callback signatures failed", "error", err.Error())
			}
			b.prunePreviews()
		}
	}
}

// updateDepth sets the inbox depth gauge from one cheap COUNT per state.
func (b *Bot) updateDepth() {
	if b.metrics == nil {
		return
	}
	counts, err := b.store.Counts(b.work)
	if err != nil {
		if b.work.Err() == nil {
			b.log.Error("counting inbox items failed", "error", err.Error())
		}
		return
	}
	b.metrics.inboxDepth(counts)
}

// recoverOrphans handles what a dead process left behind.
func (b *Bot) recoverOrphans() {
	items, err := b.store.ExpireCalling(b.work, b.now())
	if err != nil && b.work.Err() == nil {
		b.log.Error("checking for interrupted calls failed", "error", err.Error())
	}
	b.recordInterrupted(items)
	unreplied, err := b.store.Unreplied(b.work, 100)
	if err != nil && b.work.Err() == nil {
		b.log.Error("looking for unsent replies failed", "error", err.Error())
	}
	// A reply still unattempted may be one a live worker is about to post:
	// only items that finished longer than a lease ago are orphans.
	orphans := items
	for _, it := range unreplied {
		if b.now().Sub(it.UpdatedAt) > b.lease {
			orphans = append(orphans, it)
		}
	}
	b.deliverStored(orphans)
}

// deliverStored posts the replies of finished items, each to where its
// stored message came from.
func (b *Bot) deliverStored(items []*store.Item) {
	for _, it := range items {
		var msg Message
		if err := json.Unmarshal(it.Message, &msg); err != nil {
			b.log.Error("stored message is unreadable", "msg_id", it.MsgID, "error", err.Error())
			continue
		}
		b.deliver(it, msg)
	}
}

// recordInterrupted records in the audit the create calls a dead process
// left (now unknown); their replies are posted by the caller.
func (b *Bot) recordInterrupted(items []*store.Item) {
	for _, it := range items {
		b.log.Warn("a create call was interrupted; its outcome is unknown", "msg_id", it.MsgID)
		var msg Message
		if err := json.Unmarshal(it.Message, &msg); err != nil {
			b.metrics.command(commandOther, outcomeUnknown)
			continue
		}
		b.metrics.command(b.metricCommand(msg), outcomeUnknown)
		b.recordCommand(it, msg, result{state: store.Unknown, outcome: outcomeUnknown})
	}
}

// processItem runs one leased inbox item and records its outcome. msg is
// the item's message when the caller has it, else nil (it is decoded).
func (b *Bot) processItem(item *store.Item, known *Message) {
	var msg Message
	if known != nil {
		msg = *known
	} else if err := json.Unmarshal(item.Message, &msg); err != nil {
		b.log.Error("stored message is unreadable", "msg_id", item.MsgID, "error", err.Error())
		b.finish(item, msg, result{reply: b.lang.FailedReply(nil, err), state: store.Failed, outcome: outcomeInternal})
		return
	}
	r := b.process(withLogAttrs(b.work, slog.String("msg_id", item.MsgID)), item, msg)
	if r.release {
		b.releaseRetrying(item.MsgID)
		return
	}
	b.finish(item, msg, r)
}
