-- 0008_replier: who is posting a finished command's reply (issue #15).
-- Portable like 0001.
--
-- Finish marks a reply 'sending' and records the process posting it in
-- replier; SetReplyState(sent or failed) clears it. A process that dies
-- between the two leaves the reply 'sending' for ever: ReleaseDead finds
-- such replies by their dead replier (the owners table) and makes them
-- unattempted again (reply_state ''), so that a live process posts them.
-- inbox_replying holds only the replies being posted: a few per process.

ALTER TABLE inbox ADD COLUMN replier TEXT NOT NULL DEFAULT '';

CREATE INDEX inbox_replying ON inbox (replier) WHERE replier <> '';
