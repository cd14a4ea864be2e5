-- 0001_init: the inbox and the audit of created groups.
-- Portable between SQLite and PostgreSQL: times are BIGINT unix milliseconds,
-- JSON is TEXT, no engine-specific types. schema_migrations itself is created
-- by the migration runner before any file runs.

CREATE TABLE inbox (
    msg_id      TEXT PRIMARY KEY,
    message     TEXT NOT NULL,
    state       TEXT NOT NULL,
    reply       TEXT NOT NULL DEFAULT '',
    reply_state TEXT NOT NULL DEFAULT '',
    owner       TEXT NOT NULL DEFAULT '',
    lease_until BIGINT NOT NULL DEFAULT 0,
    received_at BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Next (state='received' AND lease_until < now) and ExpireCalling (state='calling' AND lease_until < now).
CREATE INDEX inbox_state_lease ON inbox (state, lease_until);
-- Next's and Unreplied's oldest-first order.
CREATE INDEX inbox_state_received ON inbox (state, received_at);
-- Renew (every item of one owner).
CREATE INDEX inbox_owner ON inbox (owner);

CREATE TABLE groups (
    msg_id               TEXT PRIMARY KEY,
    open_conversation_id TEXT NOT NULL DEFAULT '',
    chatid               TEXT NOT NULL DEFAULT '',
    name                 TEXT NOT NULL DEFAULT '',
    owner                TEXT NOT NULL DEFAULT '',
    members              TEXT NOT NULL DEFAULT '[]', -- JSON array of user ids
    sender               TEXT NOT NULL DEFAULT '',
    conversation_id      TEXT NOT NULL DEFAULT '',
    created_at           BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX groups_created_at ON groups (created_at);
