-- 0006_previews: the previews waiting for a /confirm, and the title of a
-- markdown reply. Portable like 0001: times are BIGINT unix milliseconds,
-- everything else TEXT.
--
-- previews holds one row per command that showed a preview and waits for its
-- sender's /confirm CODE or /cancel CODE (Store.PutPreview), so that any
-- replica, also after a restart, carries out exactly what was shown. code is
-- stored upper case (lookups upper-case what the user typed) and is the
-- primary key; msg_id, the command that asked, is unique too, so a command
-- run again after a crash finds its preview instead of making a second one.
-- plan is the resolved request, opaque to the store. state moves once from
-- pending to confirmed, cancelled or expired, each time by one conditional
-- UPDATE … WHERE state = 'pending', so two /confirm of one preview never both
-- win; settled_by is the msgId of the /confirm or /cancel that settled it
-- ('' while pending or once expired) and settled_at when it was settled or
-- expired (0 while pending).
--
-- previews_pending_expires holds only the pending rows, by expiry: what
-- ExpirePreviews scans (state = 'pending' AND expires_at <= now).
-- previews_settled holds only the settled rows, by settled_at: what
-- PrunePreviews deletes (state <> 'pending' AND settled_at < cutoff). The
-- queries repeat the indexes' WHERE terms word for word, as SQLite needs to
-- use a partial index.
--
-- inbox.reply_title is the title of a markdown reply (inbox.reply is then its
-- markdown text); '' for a plain-text reply and for the rows written before
-- this migration.

CREATE TABLE previews (
    code            TEXT PRIMARY KEY,                 -- upper case
    msg_id          TEXT NOT NULL UNIQUE,             -- the command that asked
    command         TEXT NOT NULL,                    -- canonical command name (newgroup)
    sender          TEXT NOT NULL,                    -- who may confirm or cancel it
    conversation_id TEXT NOT NULL DEFAULT '',         -- where the command was typed
    plan            TEXT NOT NULL DEFAULT '',         -- the resolved request, opaque
    created_at      BIGINT NOT NULL DEFAULT 0,
    expires_at      BIGINT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',  -- pending, confirmed, cancelled, expired
    settled_by      TEXT NOT NULL DEFAULT '',
    settled_at      BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX previews_pending_expires ON previews (expires_at) WHERE state = 'pending';
CREATE INDEX previews_settled ON previews (settled_at) WHERE state <> 'pending';

ALTER TABLE inbox ADD COLUMN reply_title TEXT NOT NULL DEFAULT '';
