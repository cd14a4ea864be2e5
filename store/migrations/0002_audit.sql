-- 0002_audit: one row per finished command (who typed what where, and what
-- came of it), kept when the inbox is pruned. Portable like 0001: times are
-- BIGINT unix milliseconds, everything else TEXT. The session webhook (a
-- short-lived credential) is never stored here.

CREATE TABLE audit (
    msg_id                     TEXT PRIMARY KEY,
    at                         BIGINT NOT NULL DEFAULT 0, -- when the message was received
    sender                     TEXT NOT NULL DEFAULT '',  -- senderStaffId ('' outside the organisation)
    sender_nick                TEXT NOT NULL DEFAULT '',
    conversation_id            TEXT NOT NULL DEFAULT '',  -- where the command was typed
    command                    TEXT NOT NULL DEFAULT '',  -- canonical command name (newgroup, help, groups) or the first word
    text                       TEXT NOT NULL DEFAULT '',  -- the command as typed
    outcome                    TEXT NOT NULL DEFAULT '',  -- created, refused, unknown, answered, internal_error
    group_open_conversation_id TEXT NOT NULL DEFAULT '',
    chatid                     TEXT NOT NULL DEFAULT '',
    request_id                 TEXT NOT NULL DEFAULT '',  -- DingTalk's requestid of a failed call
    error_code                 TEXT NOT NULL DEFAULT ''   -- DingTalk's error code of a failed call
);

-- Audit (newest first, optionally since/until) and Audit by sender.
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_sender_at ON audit (sender, at);
-- /groups: one sender's groups, newest first.
CREATE INDEX groups_sender_created_at ON groups (sender, created_at);
