package store

import (
	"context"
	"errors"
	"time"
)

// admitSigned records a msgID under a signature key (AdmitSigned) in one
// statement: the row is inserted if the msgID is already live under the key
// (a redelivery) or the key has fewer than the bound of live rows; a
// conflicting row is updated, to itself if it is live (so a redelivery
// affects one row but keeps its expiry) or to the new expiry if it had
// expired. One row affected means admitted. The CASTs give PostgreSQL the
// types of the selected parameters.
const admitSigned = `INSERT INTO callback_signs (sign_key, msg_id, expires_at)
	SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS BIGINT)
	WHERE EXISTS (SELECT 1 FROM callback_signs WHERE sign_key = $1 AND msg_id = $2 AND expires_at > $4)
		OR (SELECT COUNT(*) FROM callback_signs WHERE sign_key = $1 AND expires_at > $4) < $5
	ON CONFLICT (sign_key, msg_id) DO UPDATE SET expires_at = CASE
		WHEN callback_signs.expires_at > $4 THEN callback_signs.expires_at ELSE excluded.expires_at END`

// AdmitSigned implements Store. An entry whose expires is not after now
// counts for nothing: the caller passes the end of the signature's window.
// With max <= 0 only redeliveries are admitted.
func (s *sqlStore) AdmitSigned(ctx context.Context, key, msgID string, max int, expires, now time.Time) (bool, error) {
	if key == "" || msgID == "" {
		return false, errors.New("store: admit signed: empty key or msgID")
	}
	n, err := s.db.execKeyed(ctx, key, statement{admitSigned,
		[]any{key, msgID, expires.UnixMilli(), now.UnixMilli(), int64(max)}})
	if err != nil {
		return false, opErr("admit signed", err)
	}
	return n > 0, nil
}

// PruneSigned implements Store.
func (s *sqlStore) PruneSigned(ctx context.Context, now time.Time) (int, error) {
	n, err := s.db.exec(ctx, `DELETE FROM callback_signs WHERE expires_at <= $1`, now.UnixMilli())
	return int(n), opErr("prune signed", err)
}
