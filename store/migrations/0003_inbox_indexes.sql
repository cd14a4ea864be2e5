-- 0003_inbox_indexes: fewer, better-fitting inbox indexes. Every index is
-- rewritten by the writes each message makes (claim, calling, finish), and
-- under load those writes are most of the bot's work (BENCHMARKS.md), so the
-- inbox keeps only what its queries need:
--
-- inbox_next serves Next (state = 'received' AND lease_until < now, oldest
-- first) by walking the waiting items in received_at, msg_id order and
-- checking lease_until in the index itself: it skips only the items leased
-- right now (at most a few hundred per live process) and never sorts. Before,
-- Next filtered (state, lease_until) and then sorted every waiting item,
-- ~1 ms per call when a backlog built up. It also serves ExpireCalling
-- (state = 'calling'), Renew, Prune and Counts by its leading state.
--
-- inbox_unreplied holds only the finished items whose reply was never
-- attempted (a create call cut off by a dead process): what Unreplied looks
-- for, not every item of the retention period. A message's own writes never
-- touch it.
--
-- inbox_owner is gone: Renew finds one owner's items among the unfinished
-- ones through inbox_next.

DROP INDEX inbox_state_lease;
DROP INDEX inbox_state_received;
DROP INDEX inbox_owner;

CREATE INDEX inbox_next ON inbox (state, received_at, msg_id, lease_until);
CREATE INDEX inbox_unreplied ON inbox (received_at, msg_id)
    WHERE state IN ('done', 'failed', 'unknown') AND reply_state = '';
