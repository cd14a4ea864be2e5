-- 0005_group_lifecycle: what the lifecycle commands typed inside a group the
-- bot created (/addmember, /removemember, /rename, /owner, /groupinfo) need
-- (issue #13). Portable like 0001: times are BIGINT unix milliseconds,
-- everything else TEXT.
--
-- groups.updated_at is when a lifecycle command last changed the group's
-- name, owner or members (Audit.UpdateGroup), which the row then holds as
-- they are now; 0 until the first change. created_at is never updated.
--
-- audit.change is what a lifecycle command changed, for people reading the
-- audit (e.g. members: +alice01, +bob02); '' for every other command and for
-- the rows written before this migration.
--
-- groups_open_conversation_id and groups_chatid serve Audit.Group, which
-- finds a group by either ID, and UpdateGroup (by openConversationId). The
-- create is exactly-once, so an ID names one row; should two share one, the
-- newest wins, which the trailing (created_at, msg_id) yields by walking the
-- index backwards, without sorting.

ALTER TABLE groups ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE groups ADD COLUMN template TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN change TEXT NOT NULL DEFAULT '';

CREATE INDEX groups_open_conversation_id ON groups (open_conversation_id, created_at, msg_id);
CREATE INDEX groups_chatid ON groups (chatid, created_at, msg_id);
