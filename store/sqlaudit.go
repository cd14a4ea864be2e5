package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// insertGroup is the statement that records g: a second record for the
// same msgID is ignored (the first one wins), so a retried write is harmless.
func insertGroup(g Group) (statement, error) {
	if g.MsgID == "" {
		return statement{}, errors.New("group record: empty msgID")
	}
	mj, err := membersJSON(g.Members)
	if err != nil {
		return statement{}, err
	}
	return statement{`INSERT INTO groups
		(msg_id, open_conversation_id, chatid, name, owner, members, sender, conversation_id, created_at, template)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (msg_id) DO NOTHING`,
		[]any{g.MsgID, g.OpenConversationID, g.ChatID, g.Name, g.Owner, mj, g.Sender, g.ConversationID, ms(g.CreatedAt), g.Template}}, nil
}

// membersJSON is the stored form of a member list: a JSON array, [] for nil.
func membersJSON(members []string) (string, error) {
	if members == nil {
		members = []string{}
	}
	mj, err := json.Marshal(members)
	return string(mj), err
}

// outcomeRecords are the statements Finish runs after the outcome's update
// to write its audit records: the command's first, then the group's.
func outcomeRecords(o Outcome) ([]statement, error) {
	var then []statement
	if o.Audit != nil {
		st, err := insertCommand(*o.Audit)
		if err != nil {
			return nil, err
		}
		then = append(then, st)
	}
	if o.Group != nil {
		st, err := insertGroup(*o.Group)
		if err != nil {
			return nil, err
		}
		then = append(then, st)
	}
	return then, nil
}

// RecordGroup implements Store.
func (s *sqlStore) RecordGroup(ctx context.Context, g Group) error {
	st, err := insertGroup(g)
	return s.record(ctx, "record group", st, err)
}

// record writes one audit record on its own: st, unless building it failed
// with err.
func (s *sqlStore) record(ctx context.Context, op string, st statement, err error) error {
	if err != nil {
		return opErr(op, err)
	}
	_, err = s.db.exec(ctx, st.q, st.args...)
	return opErr(op, err)
}

const groupCols = `msg_id, open_conversation_id, chatid, name, owner, members, sender, conversation_id, created_at, updated_at, template`

// scanGroup reads one row of groupCols.
func scanGroup(scan func(dest ...any) error) (Group, error) {
	var (
		g                Group
		members          string
		created, updated int64
	)
	if err := scan(&g.MsgID, &g.OpenConversationID, &g.ChatID, &g.Name, &g.Owner, &members, &g.Sender, &g.ConversationID,
		&created, &updated, &g.Template); err != nil {
		return Group{}, err
	}
	if err := json.Unmarshal([]byte(members), &g.Members); err != nil {
		return Group{}, fmt.Errorf("group %q: members: %w", g.MsgID, err)
	}
	g.CreatedAt, g.UpdatedAt = fromMS(created), fromMS(updated)
	return g, nil
}

// Groups implements Store.
func (s *sqlStore) Groups(ctx context.Context, f GroupFilter) ([]Group, error) {
	var w where
	if f.Sender != "" {
		w.add("sender = $%d", f.Sender)
	}
	q := `SELECT ` + groupCols + ` FROM groups` + w.String() + ` ORDER BY created_at DESC, msg_id DESC` + w.page(f.Limit, f.Offset)
	var out []Group
	err := s.db.query(ctx, false, q, w.args,
		func(scan func(dest ...any) error) error {
			g, err := scanGroup(scan)
			if err == nil {
				out = append(out, g)
			}
			return err
		})
	return out, opErr("groups", err)
}

// newestByOpenConversationID and newestByChatID select the msg_id of the
// newest group with the ID $1; each walks its index (0005) backwards.
const (
	newestByOpenConversationID = `SELECT msg_id FROM groups WHERE open_conversation_id = $1
		ORDER BY created_at DESC, msg_id DESC LIMIT 1`
	newestByChatID = `SELECT msg_id FROM groups WHERE chatid = $1
		ORDER BY created_at DESC, msg_id DESC LIMIT 1`
)

// groupQuery is Group's statement: the newest group whose
// openConversationId is $1, else the newest whose chatid is.
const groupQuery = `SELECT ` + groupCols + ` FROM groups WHERE msg_id = COALESCE((` +
	newestByOpenConversationID + `), (` + newestByChatID + `))`

// Group implements Store.
func (s *sqlStore) Group(ctx context.Context, id string) (*Group, error) {
	if id == "" {
		return nil, ErrNotFound // records without IDs (a failed create) are no group
	}
	var found *Group
	err := s.db.query(ctx, false, groupQuery, []any{id}, func(scan func(dest ...any) error) error {
		g, err := scanGroup(scan)
		found = &g
		return err
	})
	if err == nil && found == nil {
		err = ErrNotFound
	}
	if err != nil {
		return nil, opErr("group", err)
	}
	return found, nil
}

// updateGroupQuery is UpdateGroup's statement: the newest group whose
// openConversationId is $1 gets its current name, owner and members.
const updateGroupQuery = `UPDATE groups SET name = $2, owner = $3, members = $4, updated_at = $5
	WHERE msg_id = (` + newestByOpenConversationID + `)`

// UpdateGroup implements Store.
func (s *sqlStore) UpdateGroup(ctx context.Context, g Group) error {
	if g.OpenConversationID == "" {
		return ErrNotFound
	}
	mj, err := membersJSON(g.Members)
	if err != nil {
		return opErr("update group", err)
	}
	updated := g.UpdatedAt
	if updated.IsZero() {
		updated = time.Now()
	}
	n, err := s.db.exec(ctx, updateGroupQuery, g.OpenConversationID, g.Name, g.Owner, mj, ms(updated))
	if err == nil && n == 0 {
		err = ErrNotFound
	}
	return opErr("update group", err)
}

// CountGroups implements Store.
func (s *sqlStore) CountGroups(ctx context.Context, sender string) (int, error) {
	var w where
	if sender != "" {
		w.add("sender = $%d", sender)
	}
	var n int64
	err := s.db.query(ctx, false, `SELECT COUNT(*) FROM groups`+w.String(), w.args,
		func(scan func(dest ...any) error) error { return scan(&n) })
	return int(n), opErr("count groups", err)
}

const auditCols = `msg_id, at, sender, sender_nick, conversation_id, command, text, outcome,
	group_open_conversation_id, chatid, request_id, error_code, change`

// insertCommand is the statement that records r: an upsert keyed by
// msg_id, so the record of a command finished again (e.g. after a lease was
// lost) replaces the first.
func insertCommand(r AuditRecord) (statement, error) {
	if r.MsgID == "" {
		return statement{}, errors.New("command record: empty msgID")
	}
	return statement{`INSERT INTO audit (` + auditCols + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (msg_id) DO UPDATE SET at = excluded.at, sender = excluded.sender,
			sender_nick = excluded.sender_nick, conversation_id = excluded.conversation_id,
			command = excluded.command, text = excluded.text, outcome = excluded.outcome,
			group_open_conversation_id = excluded.group_open_conversation_id, chatid = excluded.chatid,
			request_id = excluded.request_id, error_code = excluded.error_code, change = excluded.change`,
		[]any{r.MsgID, ms(r.At), r.Sender, r.SenderNick, r.ConversationID, r.Command, r.Text, r.Outcome,
			r.GroupOpenConversationID, r.ChatID, r.RequestID, r.ErrorCode, r.Change}}, nil
}

// RecordCommand implements Store.
func (s *sqlStore) RecordCommand(ctx context.Context, r AuditRecord) error {
	st, err := insertCommand(r)
	return s.record(ctx, "record command", st, err)
}

// Audit implements Store.
func (s *sqlStore) Audit(ctx context.Context, f AuditFilter) ([]AuditRecord, error) {
	var w where
	if f.MsgID != "" {
		w.add("msg_id = $%d", f.MsgID)
	}
	if f.Sender != "" {
		w.add("sender = $%d", f.Sender)
	}
	if !f.Since.IsZero() {
		w.add("at >= $%d", f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		w.add("at < $%d", f.Until.UnixMilli())
	}
	q := `SELECT ` + auditCols + ` FROM audit` + w.String() + ` ORDER BY at DESC, msg_id DESC` + w.page(f.Limit, f.Offset)
	var out []AuditRecord
	err := s.db.query(ctx, false, q, w.args, func(scan func(dest ...any) error) error {
		var (
			r  AuditRecord
			at int64
		)
		if err := scan(&r.MsgID, &at, &r.Sender, &r.SenderNick, &r.ConversationID, &r.Command, &r.Text, &r.Outcome,
			&r.GroupOpenConversationID, &r.ChatID, &r.RequestID, &r.ErrorCode, &r.Change); err != nil {
			return err
		}
		r.At = fromMS(at)
		out = append(out, r)
		return nil
	})
	return out, opErr("audit", err)
}
