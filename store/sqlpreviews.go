package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// previewCols are the columns of a preview row, in scanPreview's order.
const previewCols = `code, msg_id, command, sender, conversation_id, plan, created_at, expires_at, state, settled_by, settled_at`

// insertPreview stores a new pending preview unless a row with its code or
// its msg_id exists (ON CONFLICT without a target covers both unique
// constraints); it returns the row only if it inserted it.
const insertPreview = `INSERT INTO previews (` + previewCols + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', '', 0)
	ON CONFLICT DO NOTHING RETURNING ` + previewCols

// settlePreview moves the pending preview $1 to $2 (confirmed or
// cancelled), settled by $3 at $4, if it has not expired at $4.
const settlePreview = `UPDATE previews SET state = $2, settled_by = $3, settled_at = $4
	WHERE code = $1 AND state = 'pending' AND expires_at > $4
	RETURNING ` + previewCols

// expirePreview moves the pending preview $1 to expired at $2, if it has
// expired at $2.
const expirePreview = `UPDATE previews SET state = 'expired', settled_at = $2
	WHERE code = $1 AND state = 'pending' AND expires_at <= $2
	RETURNING ` + previewCols

// expirePreviews moves every pending preview expired at $1 to expired;
// its WHERE terms are those of the partial index previews_pending_expires.
const expirePreviews = `UPDATE previews SET state = 'expired', settled_at = $1
	WHERE state = 'pending' AND expires_at <= $1
	RETURNING ` + previewCols

// prunePreviews deletes the settled previews settled before $1; its WHERE
// terms are those of the partial index previews_settled.
const prunePreviews = `DELETE FROM previews WHERE state <> 'pending' AND settled_at < $1`

// scanPreview reads one row of previewCols.
func scanPreview(scan func(dest ...any) error) (Preview, error) {
	var (
		p                         Preview
		plan, state               string
		created, expires, settled int64
	)
	if err := scan(&p.Code, &p.MsgID, &p.Command, &p.Sender, &p.ConversationID, &plan,
		&created, &expires, &state, &p.SettledBy, &settled); err != nil {
		return Preview{}, err
	}
	p.Plan = []byte(plan)
	p.State = PreviewState(state)
	p.CreatedAt, p.ExpiresAt, p.SettledAt = fromMS(created), fromMS(expires), fromMS(settled)
	return p, nil
}

// previews runs q and collects the rows as previews.
func (s *sqlStore) previews(ctx context.Context, write bool, q string, args ...any) ([]Preview, error) {
	var out []Preview
	err := s.db.query(ctx, write, q, args, func(scan func(dest ...any) error) error {
		p, err := scanPreview(scan)
		if err == nil {
			out = append(out, p)
		}
		return err
	})
	return out, err
}

// previewBy returns the preview whose column col (code or msg_id) is v, or
// ErrNotFound.
func (s *sqlStore) previewBy(ctx context.Context, write bool, col, v string) (*Preview, error) {
	ps, err := s.previews(ctx, write, `SELECT `+previewCols+` FROM previews WHERE `+col+` = $1`, v)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, ErrNotFound
	}
	return &ps[0], nil
}

// checkPreview refuses a preview PutPreview cannot store.
func checkPreview(p Preview) error {
	switch {
	case p.Code == "":
		return errors.New("empty code")
	case p.MsgID == "":
		return errors.New("empty msgID")
	case p.Command == "":
		return errors.New("empty command")
	case p.Sender == "":
		return errors.New("empty sender")
	case p.ExpiresAt.IsZero():
		return errors.New("no expiry")
	case p.State != "" && p.State != PreviewPending:
		return fmt.Errorf("state %q is not pending", p.State)
	}
	return nil
}

// PutPreview implements Store. p.Code is stored upper case; an empty
// p.State means pending, and p.SettledBy and p.SettledAt are not stored (a
// new preview is unsettled). The insert is one INSERT … ON CONFLICT DO
// NOTHING: of two processes storing the same msgId or code at once, one
// inserts and the other finds its row.
func (s *sqlStore) PutPreview(ctx context.Context, p Preview) (*Preview, error) {
	if err := checkPreview(p); err != nil {
		return nil, opErr("put preview", err)
	}
	code := strings.ToUpper(p.Code)
	// A missing row after a conflict means it was pruned in between: try again.
	for range 3 {
		ps, err := s.previews(ctx, true, insertPreview, code, p.MsgID, p.Command, p.Sender, p.ConversationID,
			string(p.Plan), ms(p.CreatedAt), ms(p.ExpiresAt))
		if err != nil {
			return nil, opErr("put preview", err)
		}
		if len(ps) == 1 {
			return &ps[0], nil
		}
		// The msgId's own preview wins over a code conflict: the command ran again.
		existing, err := s.previewBy(ctx, true, "msg_id", p.MsgID)
		if err == nil {
			return existing, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, opErr("put preview", err)
		}
		if _, err := s.previewBy(ctx, true, "code", code); err == nil {
			return nil, ErrCodeTaken
		} else if !errors.Is(err, ErrNotFound) {
			return nil, opErr("put preview", err)
		}
	}
	return nil, errors.New("store: put preview: conflicting preview vanished repeatedly")
}

// Preview implements Store.
func (s *sqlStore) Preview(ctx context.Context, code string) (*Preview, error) {
	p, err := s.previewBy(ctx, false, "code", strings.ToUpper(code))
	return p, opErr("preview", err)
}

// SettlePreview implements Store: one conditional UPDATE … RETURNING, so of
// two processes settling one preview at once exactly one moves it; when it
// matched nothing, the preview is read back as the winner left it.
// PreviewConfirmed and PreviewCancelled need a by.
func (s *sqlStore) SettlePreview(ctx context.Context, code string, state PreviewState, by string, now time.Time) (bool, *Preview, error) {
	code = strings.ToUpper(code)
	var st statement
	switch state {
	case PreviewConfirmed, PreviewCancelled:
		if by == "" {
			return false, nil, fmt.Errorf("store: settle preview: %s without the msgId settling it", state)
		}
		st = statement{settlePreview, []any{code, string(state), by, ms(now)}}
	case PreviewExpired:
		st = statement{expirePreview, []any{code, ms(now)}}
	default:
		return false, nil, fmt.Errorf("store: settle preview: cannot settle to %q", state)
	}
	ps, err := s.previews(ctx, true, st.q, st.args...)
	if err != nil {
		return false, nil, opErr("settle preview", err)
	}
	if len(ps) == 1 {
		return true, &ps[0], nil
	}
	p, err := s.previewBy(ctx, true, "code", code)
	if err != nil {
		return false, nil, opErr("settle preview", err)
	}
	return false, p, nil
}

// ExpirePreviews implements Store: one UPDATE … RETURNING, so of two
// processes expiring at once each preview is returned by exactly one. They
// are returned in order of expiry (then code).
func (s *sqlStore) ExpirePreviews(ctx context.Context, now time.Time) ([]Preview, error) {
	ps, err := s.previews(ctx, true, expirePreviews, ms(now))
	if err != nil {
		return nil, opErr("expire previews", err)
	}
	slices.SortFunc(ps, func(a, b Preview) int {
		if c := a.ExpiresAt.Compare(b.ExpiresAt); c != 0 {
			return c
		}
		return strings.Compare(a.Code, b.Code)
	})
	return ps, nil
}

// PrunePreviews implements Store.
func (s *sqlStore) PrunePreviews(ctx context.Context, before time.Time) (int, error) {
	n, err := s.db.exec(ctx, prunePreviews, ms(before))
	return int(n), opErr("prune previews", err)
}
