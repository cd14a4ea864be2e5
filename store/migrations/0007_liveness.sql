-- 0007_liveness: the heartbeats of the processes sharing the database and
-- the rate-limit slots they share. Portable like 0001: times are BIGINT unix
-- milliseconds, everything else TEXT.
--
-- owners holds one row per process (inbox owner) that heartbeats
-- (Store.Heartbeat, an upsert): alive_until is when its heartbeat runs out;
-- Store.Retire sets it to 0 (dead at once). Store.ReleaseDead releases the
-- received items, and expires the calling items, of the owners whose
-- alive_until has passed. An owner without a row (one that never
-- heartbeat, or whose row Store.Prune deleted) is judged by its leases
-- alone. Prune deletes the rows whose heartbeat ran out before its cutoff
-- once their owner holds nothing. The table is small (the live processes
-- and those that died within the inbox's retention) and read whole.
--
-- rate_slots holds one row per shared rate limit (Store.TakeSlot): next_at is
-- the limit's next free slot. Each TakeSlot is one INSERT … ON CONFLICT DO
-- UPDATE … RETURNING that moves it on, so of the processes taking slots at
-- once each gets its own.
--
-- inbox_held holds only the items somebody holds (owner <> ''): received or
-- calling items with a lease, a few per live process whatever the backlog or
-- the retention period. ReleaseDead looks up a dead owner's items there, and
-- Prune whether an owner still holds any; a message enters it when it is
-- leased and leaves it when it is finished or released. The queries repeat
-- its WHERE term word for word, as SQLite needs to use a partial index.

CREATE TABLE owners (
    owner       TEXT PRIMARY KEY,
    alive_until BIGINT NOT NULL
);

CREATE TABLE rate_slots (
    name    TEXT PRIMARY KEY,
    next_at BIGINT NOT NULL
);

CREATE INDEX inbox_held ON inbox (owner) WHERE owner <> '';
