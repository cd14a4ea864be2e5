-- 0003_inbox_indexes: fewer, better-fitting inbox indexes. Every index is
-- rewritten by the writes each message makes (claim, calling, finish), and
-- under load those writes are most of the bot's work (BENCHMARKS.md), so the
-- inbox keeps only what its queries need:
--
-- inbox_next serves Next (state = 'received' AND lease_until < now, in
-- lease_until, received_at, msg_id order: items nobody ever held first, then
-- expired leases), ExpireCalling (state = 'calling' AND lease_until < now),
-- and Renew, Prune and Counts by its leading state. Before, Next filtered
-- (state, lease_until) and sorted by received_at, reading every waiting item
-- when a backlog built up.
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

CREATE INDEX inbox_next ON inbox (state, lease_until, received_at, msg_id);
CREATE INDEX inbox_unreplied ON inbox (received_at, msg_id)
    WHERE state IN ('done', 'failed', 'unknown') AND reply_state = '';
