package main

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/bot/callback"
	"github.com/dingbot/dingbot/bot/stream"
	"github.com/dingbot/dingbot/config"
)

// intake is how chat messages reach the bot; serve runs the one DINGBOT_MODE names.
type intake interface {
	// Run takes messages until ctx ends, then stops taking them. An error
	// stops dingbot.
	Run(ctx context.Context) error
	// Ready is /readyz; NotReadyReason its reason when not ready ("" for the default).
	Ready() bool
	NotReadyReason() string
	// Routes are mounted on DINGBOT_HTTP_ADDR, keyed by "METHOD /path".
	Routes() map[string]http.Handler
}

// intakeDeps is what an intake is built from.
type intakeDeps struct {
	cfg        *config.Config
	handle     bot.HandlerFunc
	log        *slog.Logger
	registry   prometheus.Registerer
	signatures callback.Signatures // the store, shared by replicas
}

// intakeKind is one mode: its name, its phrase in the help text, its constructor.
type intakeKind struct {
	mode, help string
	new        func(intakeDeps) intake
}

// intakes is the table of modes, in config.Modes order (a test checks): it
// builds the intake, validates --mode and writes serve's help.
func intakes() []intakeKind {
	return []intakeKind{
		{config.ModeStream, "connect to DingTalk in Stream mode (default)", newStreamIntake},
		{config.ModeHTTP, "take DingTalk's HTTP callback on POST " + callback.Path, newCallbackIntake},
	}
}

func intakeFor(mode string) (intakeKind, bool) {
	for _, k := range intakes() {
		if k.mode == mode {
			return k, true
		}
	}
	return intakeKind{}, false
}

// modes are the modes of the table.
func modes() []string {
	var out []string
	for _, k := range intakes() {
		out = append(out, k.mode)
	}
	return out
}

// streamIntake is a supervised Stream connection; it serves no route.
type streamIntake struct{ *stream.Stream }

func newStreamIntake(d intakeDeps) intake {
	return streamIntake{stream.New(stream.Options{
		ClientID:      d.cfg.ClientID,
		ClientSecret:  d.cfg.ClientSecret,
		APIURL:        d.cfg.APIURL,
		CheckInterval: d.cfg.StreamCheckInterval,
		IdleTimeout:   d.cfg.StreamIdleTimeout,
		RecycleEvery:  d.cfg.StreamRecycle,
		Logger:        d.log,
		Registerer:    d.registry,
	}, d.handle)}
}

func (s streamIntake) Run(ctx context.Context) error { return s.Stream.Run(ctx, nil) }
func (streamIntake) NotReadyReason() string          { return "" }
func (streamIntake) Routes() map[string]http.Handler { return nil }

// callbackIntake is DingTalk's HTTP callback: ready from the start, it
// answers 503 and stores nothing once Run's context ends.
type callbackIntake struct{ *callback.Callback }

func newCallbackIntake(d intakeDeps) intake {
	stream.RegisterMetrics(d.registry) // http mode has always exported the Stream series, at 0
	return callbackIntake{callback.New(callback.Options{
		AppSecret: d.cfg.ClientSecret, MaxBody: d.cfg.CallbackMaxBody, Logger: d.log, Registerer: d.registry,
		Window: d.cfg.CallbackWindow, MaxPerSign: d.cfg.CallbackMaxPerSign, Signatures: d.signatures,
		TrustedProxies: d.cfg.TrustedProxies,
	}, d.handle)}
}

func (c callbackIntake) Run(ctx context.Context) error { <-ctx.Done(); c.Stop(); return nil }
func (c callbackIntake) Ready() bool                   { return c.Accepting() }
func (callbackIntake) NotReadyReason() string          { return "shutting down" }
func (c callbackIntake) Routes() map[string]http.Handler {
	return map[string]http.Handler{http.MethodPost + " " + callback.Path: c.Callback}
}

// serveUsage is serve's part of the help text: one line of the mode flag
// and one phrase per intake.
func serveUsage() string {
	var b strings.Builder
	b.WriteString("  dingbot serve [--mode " + strings.Join(modes(), "|") + "]\n")
	b.WriteString("                    answer commands: ")
	for i, k := range intakes() {
		if i > 0 {
			b.WriteString(",\n                    or ")
		}
		b.WriteString(k.help)
	}
	return b.String()
}
