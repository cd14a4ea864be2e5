// This file answers a preview: what /confirm (confirm.go) and /cancel
// (cancel.go) share. A preview changes state once, atomically in the store,
// so a double tap, a redelivery or another replica can never create twice.

package commands

import (
	"context"
	"errors"
	"strings"

	"github.com/dingbot/dingbot/store"
)

// answerSpec is what differs between the definitions of /confirm and /cancel.
type answerSpec struct {
	name, zh             string
	summary, description msgID
}

// define is the command's Definition with texts from c.
func (s answerSpec) define(c catalogue, _ *Language) Definition {
	d := Definition{
		Name:        s.name,
		Aliases:     []string{s.zh},
		Summary:     c.f(s.summary),
		Usage:       "CODE",
		Description: c.f(s.description),
		Examples:    []string{"/" + s.name + " K7Q2XM"},
		Options:     []Option{helpOption(c)},
	}
	if c.lang == Chinese {
		d.shown = s.zh
		d.Examples = []string{"/" + s.zh + " K7Q2XM"}
	}
	return d
}

// AnswerPreview is a parsed /confirm or /cancel.
type AnswerPreview struct {
	// Code is the preview's code, normalised (upper case).
	Code string
	// Confirm is true for /confirm, false for /cancel.
	Confirm bool
	// Lang is the language of the replies.
	Lang Lang
}

// Command implements Plan.
func (a *AnswerPreview) Command() string {
	if a.Confirm {
		return cmdConfirm
	}
	return cmdCancel
}

// ReplyLang implements Plan.
func (a *AnswerPreview) ReplyLang() Lang { return a.Lang }

// answerHandler is the Handle of /confirm (name cmdConfirm) or /cancel.
func answerHandler(name string) func(l *Language, req *Request) (Action, error) {
	return func(l *Language, req *Request) (Action, error) {
		pos := req.Positionals()
		if len(pos) == 0 {
			return Action{}, newUsageError(msgAnswerCodeMissing)
		}
		code := normalizeCode(strings.Join(pos, ""))
		if code == "" {
			return Action{}, newUsageError(msgAnswerBadCode, strings.Join(pos, " "), codeLen)
		}
		lang := req.lang
		if lang == "" {
			lang = l.defaultLang
		}
		return Action{Plan: &AnswerPreview{Code: code, Confirm: name == cmdConfirm, Lang: lang}}, nil
	}
}

// runAnswer settles a preview as its plan asks, or says why it cannot.
func runAnswer(ctx context.Context, env Env, plan Plan) Result {
	l := env.Language()
	a, ok := plan.(*AnswerPreview)
	if !ok || a == nil {
		return Result{Reply: Reply{Text: catalogueFor(plan.ReplyLang()).f(msgInternal)}, Outcome: OutcomeInternal}
	}
	c := l.cat(l.replyLang(a.Lang))
	answered := func(id msgID, args ...any) Result {
		return Result{Reply: Reply{Text: c.f(id, args...)}, Outcome: OutcomeAnswered}
	}
	failed := func(what string, err error) Result {
		if ctx.Err() != nil {
			return Result{Release: true}
		}
		env.Log().Error(what, "code", a.Code, "error", err.Error())
		return Result{Reply: Reply{Text: c.f(msgInternal)}, Outcome: OutcomeInternal}
	}
	msg := env.Message()
	sender := strings.TrimSpace(msg.SenderStaffID)
	p, err := env.Previews().Preview(ctx, a.Code)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return answered(msgAnswerUnknown, a.Code)
	case err != nil:
		return failed("reading the preview failed", err)
	}
	if sender == "" || p.Sender != sender {
		return answered(msgAnswerNotYours, a.Code, personLabel(l.names, p.Sender))
	}
	cg, err := decodePreview(p.Plan)
	if err != nil || p.Command != cmdNewGroup {
		return failed("the stored preview is unreadable", errors.Join(err, errors.New("command "+p.Command)))
	}
	name := sanitizeName(cg.Request.Name)
	now := env.Now()
	if p.State == store.PreviewPending {
		to := store.PreviewCancelled
		if a.Confirm {
			to = store.PreviewConfirmed
		}
		if !now.Before(p.ExpiresAt) {
			to = store.PreviewExpired
		}
		moved, cur, err := env.Previews().SettlePreview(ctx, a.Code, to, msg.MsgID, now)
		if err != nil {
			return failed("settling the preview failed", err)
		}
		p = cur
		if moved {
			env.Log().Info("preview settled", "code", a.Code, "state", string(p.State))
		}
	}
	switch p.State {
	case store.PreviewExpired:
		return Result{Reply: Reply{Text: c.f(msgAnswerExpired, a.Code, retryText(c, p.ExpiresAt.Sub(p.CreatedAt)))},
			Outcome: OutcomeExpired, Change: "preview " + a.Code + " expired"}
	case store.PreviewCancelled:
		if p.SettledBy == msg.MsgID {
			return Result{Reply: Reply{Text: c.f(msgAnswerCancelled, name)}, Outcome: OutcomeCancelled,
				Change: "cancelled preview " + a.Code}
		}
		if a.Confirm {
			return answered(msgAnswerWasCancelled, a.Code)
		}
		return answered(msgAnswerAlreadyCancelled, a.Code)
	case store.PreviewConfirmed:
		if p.SettledBy == msg.MsgID {
			if !a.Confirm { // cannot happen: a /cancel never confirms
				return failed("a cancel confirmed a preview", errors.New("state mismatch"))
			}
			// This message took the preview (now, or before a crash that
			// came before the create call): create exactly what it showed.
			r := createGroup(ctx, env, cg)
			if !r.Release {
				r.Change = "confirmed preview " + a.Code
			}
			return r
		}
		return confirmedElsewhere(ctx, env, c, a, p, name)
	}
	return failed("the preview is in an unknown state", errors.New(string(p.State)))
}

// confirmedElsewhere answers a /confirm or /cancel of a preview another
// message confirmed: with what that message did, as far as the audit knows.
func confirmedElsewhere(ctx context.Context, env Env, c catalogue, a *AnswerPreview, p *store.Preview, name string) Result {
	answered := func(id msgID, args ...any) Result {
		return Result{Reply: Reply{Text: c.f(id, args...)}, Outcome: OutcomeAnswered}
	}
	recs, err := env.Audit().Audit(ctx, store.AuditFilter{MsgID: p.SettledBy, Limit: 1})
	if err != nil {
		if ctx.Err() != nil {
			return Result{Release: true}
		}
		env.Log().Error("reading the audit failed", "code", a.Code, "error", err.Error())
		recs = nil
	}
	outcome, chatID := "", ""
	if len(recs) > 0 {
		outcome, chatID = recs[0].Outcome, recs[0].ChatID
	}
	switch {
	case outcome == string(OutcomeCreated) && a.Confirm:
		return answered(msgAnswerDone, a.Code, name, chatID)
	case outcome == string(OutcomeCreated):
		return answered(msgAnswerCannotUndo, name, chatID)
	case outcome == "" && a.Confirm:
		return answered(msgAnswerInProgress, a.Code)
	case outcome == "":
		return answered(msgAnswerCannotCancel, a.Code)
	case outcome == string(OutcomeUnknown):
		return answered(msgAnswerOutcomeUnknown, a.Code)
	}
	return answered(msgAnswerFailed, a.Code)
}
