// This file keeps this process's place among the replicas: it heartbeats,
// so that the others know it is alive; it renews the leases of the items
// it works on (and only those); it takes over the work of processes that
// stopped heartbeating; and it tracks whether the store can be reached,
// for /readyz.

package bot

import (
	"context"
	"sync/atomic"
	"time"
)

// clockSyncEvery is how many heartbeats pass between two measurements of
// the database's clock.
const clockSyncEvery = 10

// liveness is the chore that heartbeats, renews and takes over.
func (b *Bot) liveness() {
	defer b.chores.Done()
	beat := time.NewTicker(b.beat)
	defer beat.Stop()
	renew := time.NewTicker(b.lease / 3)
	defer renew.Stop()
	b.heartbeat(true)
	for n := 1; ; n++ {
		select {
		case <-b.stopChore:
			b.retire()
			return
		case <-renew.C:
			b.renewHeld()
		case <-beat.C:
			b.heartbeat(n%clockSyncEvery == 0)
		}
	}
}

// heartbeat records that this process is alive, then releases the waiting
// work of dead ones (and reports their cut-off creates as unknown). With
// sync it first measures the database's clock.
func (b *Bot) heartbeat(sync bool) {
	ctx, cancel := context.WithTimeout(b.work, max(b.beat, time.Second))
	defer cancel()
	if sync && b.clock != nil {
		if err := b.clock.Sync(ctx); err != nil {
			b.storeFailed("measuring the database's clock failed", err)
			return
		}
	}
	now := b.now()
	if err := b.store.Heartbeat(ctx, b.owner, now.Add(HeartbeatTTLs*b.beat)); err != nil {
		b.storeFailed("heartbeat failed", err)
		return
	}
	released, expired, err := b.store.ReleaseDead(ctx, now, now.Add(-CallingGrace))
	if err != nil {
		b.storeFailed("taking over the work of dead processes failed", err)
		return
	}
	b.storeRecovered()
	if released > 0 {
		b.log.Warn("took over the waiting commands and replies of a process that stopped", "count", released)
		b.wake()
		// Replies it was posting are unattempted again: post them now (the
		// store's reply state lets only one process post each).
		if unreplied, err := b.store.Unreplied(ctx, 100); err == nil {
			b.deliverStored(unreplied)
		}
	}
	b.recordInterrupted(expired)
	b.deliverStored(expired)
}

// renewHeld extends the leases of the items this process queued or runs.
func (b *Bot) renewHeld() {
	var ids []string
	b.held.Range(func(k, _ any) bool {
		ids = append(ids, k.(string))
		return true
	})
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(b.work, max(b.lease/3, time.Second))
	defer cancel()
	if _, err := b.store.RenewItems(ctx, b.owner, ids, b.now(), b.lease); err != nil {
		b.storeFailed("renewing leases failed", err)
	}
}

// retire tells the store this process has stopped, so what it may still
// hold is taken over at once.
func (b *Bot) retire() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := b.store.Retire(ctx, b.owner); err != nil {
		b.log.Warn("cannot record the shutdown in the store", "error", err.Error())
	}
}

// storeFailed records that the store could not be reached; the first
// failure after a success is logged as an error.
func (b *Bot) storeFailed(what string, err error) {
	if b.work.Err() != nil {
		return
	}
	if b.storeOK.swap(err) == nil {
		b.log.Error(what+"; the store is unreachable and /readyz says so", "error", err.Error())
	}
}

// storeRecovered records that the store answered again.
func (b *Bot) storeRecovered() {
	if b.storeOK.swap(nil) != nil {
		b.log.Info("the store answers again")
	}
}

// StoreError is the error of the last heartbeat when it failed (the store
// cannot be reached: the bot cannot take messages), else nil.
func (b *Bot) StoreError() error { return b.storeOK.load() }

// atomicError holds an error, safe for concurrent use.
type atomicError struct{ p atomic.Pointer[error] }

func (a *atomicError) load() error {
	if p := a.p.Load(); p != nil {
		return *p
	}
	return nil
}

// swap stores err (nil: none) and returns the previous one.
func (a *atomicError) swap(err error) error {
	var p *error
	if err != nil {
		p = &err
	}
	if old := a.p.Swap(p); old != nil {
		return *old
	}
	return nil
}
