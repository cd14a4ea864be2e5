-- 0004_callback_signs: the msgIds admitted under each HTTP-callback header
-- pair. DingTalk's callback signature covers only a millisecond timestamp and
-- the app secret, not the body, so one captured (timestamp, sign) pair could
-- be replayed with fresh msgIds while its timestamp is within the window. The
-- callback handler admits at most a few distinct msgIds per pair
-- (Store.AdmitSigned), counted here so that every replica sharing the
-- database shares the bound. sign_key is a digest of the two headers, never
-- the sign itself; expires_at (BIGINT unix milliseconds, like every time) is
-- when the pair's timestamp leaves the window: a row counts while
-- expires_at > now and is deleted by Store.PruneSigned after that. Refused
-- msgIds are not stored, so a pair never has more rows than the bound.
--
-- The primary key serves AdmitSigned: its lookup of (sign_key, msg_id) and its
-- count of one pair's rows (a prefix scan over at most the bound plus expired
-- rows not yet pruned). callback_signs_expires serves PruneSigned.

CREATE TABLE callback_signs (
    sign_key   TEXT NOT NULL,
    msg_id     TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (sign_key, msg_id)
);

CREATE INDEX callback_signs_expires ON callback_signs (expires_at);
