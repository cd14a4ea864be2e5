package bot

import (
	"context"
	"log/slog"
)

// logAttrsKey is the context key of the log attributes a command's context carries.
type logAttrsKey struct{}

// withLogAttrs returns a context whose log lines (through a handler wrapped
// by ContextHandler) carry attrs, e.g. the message ID of the command a
// DingTalk call belongs to.
func withLogAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	if prev, ok := ctx.Value(logAttrsKey{}).([]slog.Attr); ok {
		attrs = append(append([]slog.Attr(nil), prev...), attrs...)
	}
	return context.WithValue(ctx, logAttrsKey{}, attrs)
}

// ContextHandler wraps h so that every record logged with a command's
// context also carries that command's attributes (its msg_id), including
// lines written by packages that know nothing of commands, such as the
// DingTalk client's per-call debug lines.
func ContextHandler(h slog.Handler) slog.Handler { return contextHandler{h} }

type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if attrs, ok := ctx.Value(logAttrsKey{}).([]slog.Attr); ok {
		r = r.Clone()
		r.AddAttrs(attrs...)
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}
