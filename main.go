// Command dingbot is a DingTalk ChatOps bot: people type /newgroup in a chat
// and it creates the DingTalk group. main wires the packages together and
// does nothing else.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	sdklogger "github.com/open-dingtalk/dingtalk-stream-sdk-go/logger"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/dingbot/dingbot/access"
	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/bot/httpserver"
	"github.com/dingbot/dingbot/bot/stream"
	"github.com/dingbot/dingbot/commands"
	"github.com/dingbot/dingbot/config"
	"github.com/dingbot/dingbot/demo"
	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/store"
)

// usageFormat is the help text; %s is serve's, written from the table of intakes.
const usageFormat = `dingbot: a DingTalk ChatOps bot that creates groups from chat commands.

Usage:
%s
  dingbot demo [--addr 127.0.0.1:8080] [--data DIR] [--terminal]
                    try the bot against a local fake DingTalk, on a DingTalk-like
                    web page (or in this terminal with --terminal)
  dingbot parse 'TEXT'
                    show how a command is understood, as JSON, without DingTalk
  dingbot audit [--format table|csv|json] [--since 24h|2026-11-01] [--sender ID] [--limit N]
                    print or export the command audit from the configured database
  dingbot preflight check the credentials, the database and the app's permissions;
                    exit 1 if something an admin must enable is missing
  dingbot healthcheck [--live]
                    ask the running bot's /readyz (/healthz with --live) on its
                    probe address; exit 0 if it answers 200 (container health checks)
  dingbot help      show this text

Settings come from the environment (see README.md), e.g.
  DINGTALK_CLIENT_ID=... DINGTALK_CLIENT_SECRET=... dingbot serve
`

// usage is the help text.
func usage() string { return fmt.Sprintf(usageFormat, serveUsage()) }

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main with its dependencies passed in; it returns the exit status.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return 2
	}
	switch args[0] {
	case "serve":
		getenv, err := serveFlags(args[1:], getenv)
		if err != nil {
			fmt.Fprintf(stderr, "dingbot serve: %v\n", err)
			return 2
		}
		cfg, err := config.Load(getenv)
		if err == nil {
			err = cfg.Validate()
		}
		if err != nil {
			fmt.Fprintf(stderr, "dingbot: %v\n", err)
			return 2
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := serve(ctx, cfg, newLogger(cfg, stdout)); err != nil {
			fmt.Fprintf(stderr, "dingbot: %v\n", err)
			return 1
		}
		return 0
	case "demo":
		opts, err := demo.ParseArgs(args[1:], stderr)
		if errors.Is(err, demo.ErrHelp) {
			return 0
		} else if err != nil {
			fmt.Fprintf(stderr, "dingbot demo: %v\n", err)
			return 2
		}
		if err := runDemo(opts, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "dingbot: %v\n", err)
			return 1
		}
		return 0
	case "parse":
		return runParse(args[1:], getenv, stdout, stderr)
	case "audit":
		return runAudit(args[1:], getenv, stdout, stderr)
	case "preflight":
		return runPreflight(args[1:], getenv, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage())
		return 0
	default:
		fmt.Fprintf(stderr, "dingbot: unknown command %q\n\n%s", args[0], usage())
		return 2
	}
}

// serveFlags reads serve's flags; --mode overrides DINGBOT_MODE.
func serveFlags(args []string, getenv func(string) string) (func(string) string, error) {
	mode := ""
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--mode" || a == "-mode":
			if i+1 >= len(args) {
				return nil, errors.New("--mode needs a value: " + strings.Join(modes(), " or "))
			}
			i++
			mode = args[i]
		case strings.HasPrefix(a, "--mode=") || strings.HasPrefix(a, "-mode="):
			mode = a[strings.IndexByte(a, '=')+1:]
		default:
			return nil, fmt.Errorf("unknown argument %q (want --mode %s)", a, strings.Join(modes(), " or --mode "))
		}
	}
	if mode == "" {
		return getenv, nil
	}
	if _, ok := intakeFor(mode); !ok {
		return nil, fmt.Errorf("--mode: %q is not %s", mode, strings.Join(modes(), " or "))
	}
	return func(k string) string {
		if k == "DINGBOT_MODE" {
			return mode
		}
		return getenv(k)
	}, nil
}

// runDemo starts the fake DingTalk, runs the real bot against it (exactly as
// serve does, only the URLs differ) and serves the demo page until Ctrl-C, or
// with --terminal lets the user chat from the terminal until end of input.
func runDemo(opts demo.Options, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := demo.Start(opts)
	if err != nil {
		return err
	}
	defer d.Close()
	env := d.Env()
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		return err
	}
	botCtx, stopBot := context.WithCancel(ctx)
	botDone := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	go func() { botDone <- serve(botCtx, cfg, log) }()

	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.WaitConnected(waitCtx); err != nil {
		stopBot()
		return errors.Join(errors.New("the bot did not connect to the fake DingTalk"), <-botDone)
	}
	var runErr error
	if opts.Terminal {
		runErr = d.Run(ctx, os.Stdin, stdout)
	} else {
		runErr = d.Serve(ctx, stdout)
	}
	stopBot()
	return errors.Join(runErr, <-botDone)
}

// runParse prints how the configured command language understands a message
// typed in a one-to-one chat: the request it would send, or the reply.
func runParse(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintf(stderr, "dingbot parse: want exactly one argument, the message text, e.g.\n  dingbot parse '/newgroup \"Release 4.2\" userid:alice01'\n")
		return 2
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "dingbot: %v\n", err)
		return 2
	}
	lang, err := newLanguage(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "dingbot: %v\n", err)
		return 2
	}
	result := lang.Parse(args[0])
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(result); err != nil {
		fmt.Fprintf(stderr, "dingbot: %v\n", err)
		return 1
	}
	if result.Error {
		return 1
	}
	return 0
}

// newLanguage builds the command language from the configuration file's settings.
func newLanguage(cfg *config.Config) (*commands.Language, error) {
	templates := make(map[string]commands.Template, len(cfg.Templates))
	for name, t := range cfg.Templates {
		templates[name] = commands.Template{Description: t.Description, Args: t.Args, Kickoff: t.Kickoff,
			Confirm: commands.ConfirmMode(t.Confirm)}
	}
	lang, err := commands.New(commands.Settings{
		DefaultLang:    commands.Lang(cfg.Language),
		People:         cfg.People,
		Names:          cfg.Names,
		Templates:      templates,
		CommandAliases: cfg.CommandAliases,
		Commands:       commands.Builtin(), // every command dingbot answers, in /help order
		NoKickoff:      !cfg.Kickoff,
		Confirm:        commands.ConfirmMode(cfg.Confirm),
		ConfirmTTL:     cfg.ConfirmTTL,
	})
	if err != nil {
		return nil, fmt.Errorf("DINGBOT_CONFIG: %w", err)
	}
	return lang, nil
}

// newLogger logs JSON lines, or text when asked or when w is a terminal and
// the format is auto. Durations read the same in both, as Go writes them
// ("timeout":"30s", "duration":"1.52ms"), not as JSON's nanoseconds.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel, ReplaceAttr: durationString}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if cfg.LogFormat == "text" || (cfg.LogFormat == "auto" && isTerminal(w)) {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(bot.ContextHandler(h))
}

// durationString is newLogger's ReplaceAttr: a time.Duration value becomes
// its String form ("1.5s"), which slog's JSON handler would write as an
// integer of nanoseconds and its text handler writes already.
func durationString(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// serve runs the bot until ctx is cancelled (SIGINT/SIGTERM), then stops
// taking messages, lets in-flight commands finish and returns nil.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	log.Info("starting dingbot", "config", cfg)
	sdklogger.SetLogger(stream.SDKLogger(log))
	gin.SetMode(gin.ReleaseMode)

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := bot.NewMetrics(registry)

	lang, err := newLanguage(cfg)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	// Start-up order: the store, the listeners (bound before anything else
	// starts, so that a busy port is reported alone), the startup
	// preflight, the workers, serving HTTP, the intake. What was started is
	// stopped in reverse order on every return: the intake (no new
	// messages), the workers (in-flight commands finish), the HTTP servers,
	// the store.
	stops := []func(){func() { db.Close() }}
	stopAll := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
		stops = nil
	}
	defer stopAll()
	if cfg.DatabaseURL == "" {
		// The files are created 0600, but a readable directory still shows
		// their names and lets others list and, with write access, replace them.
		if warning := store.DataDirWarning(cfg.DataDir); warning != "" {
			log.Warn(warning)
		}
	}
	// DingTalk's limits are per app, in any one-second window. With
	// PostgreSQL every replica takes its slots from the database, on the
	// database's clock, so together they keep them; with SQLite (one
	// process) the slots are kept in memory.
	clock := bot.NewClock(db, nil)
	if err := clock.Sync(ctx); err != nil {
		return fmt.Errorf("reading the database's clock: %w", err)
	}
	rates := map[dingclient.API]float64{
		dingclient.APIGroupCreate: cfg.CreateRate, dingclient.APIGroupUpdate: cfg.CreateRate,
		dingclient.APIUserSearch: cfg.CreateRate, dingclient.APIUserByMobile: cfg.CreateRate,
		dingclient.APIUserGet: cfg.CreateRate, dingclient.APIRobotAdd: cfg.CreateRate,
		dingclient.APIRobotGroupSend: cfg.CreateRate, dingclient.APIRobotOTOSend: cfg.CreateRate,
	}
	var limiter dingclient.Limiter
	if cfg.DatabaseURL != "" {
		limiter, err = bot.NewSharedLimiter(db, rates, clock.Now, log)
	} else {
		limiter, err = dingclient.NewLocalLimiter(rates)
	}
	if err != nil {
		return err
	}
	dingtalk, err := dingclient.New(dingclient.Config{
		APIURL:       cfg.APIURL,
		OAPIURL:      cfg.OAPIURL,
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		RobotCode:    cfg.RobotCode,
		HTTPClient:   dingclient.NewHTTPClient(cfg.APITimeout, cfg.MaxConcurrent),
		Logger:       log,
		Observe:      metrics.ObserveAPICall,
		Retry:        dingclient.RetryPolicy{BaseDelay: cfg.RetryBaseDelay},
		// group.create's first attempt waits in the bot, before the call is
		// marked as calling (bot.Options.Limiter); retries wait here.
		Limiter: limiter,
	})
	if err != nil {
		return err
	}
	policy, err := access.New(cfg.Access, nil)
	if err != nil {
		return fmt.Errorf("DINGBOT_CONFIG: %w", err)
	}
	if cfg.DatabaseURL != "" {
		// The per-user and per-chat buckets too are shared by every replica
		// on PostgreSQL, on its clock; with SQLite they stay in memory.
		policy.ShareBuckets(db, clock.Now, log)
	}
	// The intake, picked by mode, is built here but runs last. Probes and
	// metrics are served on DINGBOT_HTTP_ADDR together with the intake's
	// routes, unless DINGBOT_METRICS_ADDR moves them (in http mode it always
	// does): then DINGBOT_HTTP_ADDR serves the intake's routes and nothing
	// else, and is not listened on at all if there are none (stream mode).
	kind, ok := intakeFor(cfg.Mode)
	if !ok {
		return fmt.Errorf("DINGBOT_MODE: %q has no intake", cfg.Mode) // config checked it against config.Modes
	}
	// core is the pipeline, started after the listeners are bound; nothing
	// calls it before: the listeners serve, and the intake runs, only once
	// it is set.
	var core *bot.Bot
	handle := func(msg bot.Message) error { return core.Handle(msg) }
	in := kind.new(intakeDeps{cfg: cfg, handle: handle, log: log, registry: registry, signatures: db})
	probes := httpserver.Options{Addr: cfg.HTTPAddr, Gatherer: registry, Logger: log, TrustedProxies: cfg.TrustedProxies,
		Ready: in.Ready, NotReadyReason: in.NotReadyReason(), Unhealthy: func() string {
			if core.StoreError() != nil {
				return "the store is unreachable"
			}
			return ""
		}}
	var public *httpserver.Options // DINGBOT_HTTP_ADDR when probes are elsewhere
	if routes := in.Routes(); cfg.MetricsAddr == "" {
		probes.Routes = routes
	} else {
		probes.Addr = cfg.MetricsAddr
		if len(routes) > 0 {
			public = &httpserver.Options{Addr: cfg.HTTPAddr, Routes: routes, RoutesOnly: true,
				Logger: log, TrustedProxies: cfg.TrustedProxies}
		}
	}

	// The listeners are bound now and serve once the workers run.
	webDone := make(chan error, 2)
	var serveAll []func()
	listen := func(opts httpserver.Options, setting string) (*httpserver.Server, error) {
		srv, err := httpserver.Listen(opts)
		if err != nil {
			return nil, fmt.Errorf("%s: cannot listen on %s: %w", setting, opts.Addr, listenCause(err))
		}
		served := false
		stops = append(stops, func() {
			webCtx, cancelWeb := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancelWeb()
			if err := srv.Shutdown(webCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				log.Warn("http shutdown", "error", err.Error())
			}
			if !served {
				_ = srv.Serve() // after Shutdown it returns at once, closing the listener
			}
		})
		serveAll = append(serveAll, func() {
			served = true
			go func() { webDone <- srv.Serve() }()
		})
		return srv, nil
	}
	probeSetting := "DINGBOT_HTTP_ADDR"
	if cfg.MetricsAddr != "" {
		probeSetting = "DINGBOT_METRICS_ADDR"
	}
	probeSrv, err := listen(probes, probeSetting)
	if err != nil {
		return err
	}
	// One line names every listener: addr is DINGBOT_HTTP_ADDR's (the
	// callback in http mode), metrics_addr is set when probes and metrics
	// listen elsewhere.
	listening := []any{"mode", cfg.Mode}
	switch {
	case public != nil:
		publicSrv, err := listen(*public, "DINGBOT_HTTP_ADDR")
		if err != nil {
			return err
		}
		listening = append(listening, "addr", publicSrv.Addr(), "metrics_addr", probeSrv.Addr())
	case cfg.MetricsAddr != "":
		listening = append(listening, "addr", "", "metrics_addr", probeSrv.Addr())
	default:
		listening = append(listening, "addr", probeSrv.Addr())
	}

	startupPreflight(ctx, cfg, dingtalk, db, log) // logs a checklist line per item; never stops startup

	core = bot.New(bot.Options{
		Access:         policy,
		DingTalk:       dingtalk,
		Store:          db,
		Language:       lang,
		LookupCacheTTL: cfg.LookupCacheTTL,
		Logger:         log,
		Metrics:        metrics,
		MaxConcurrent:  cfg.MaxConcurrent,
		Limiter:        limiter,
		Clock:          clock,
		Lease:          cfg.Lease,
		Retention:      cfg.Retention,
		MaxLookups:     cfg.MaxLookups,
		CommandTimeout: cfg.CommandTimeout,
		// A Stream frame arrives on the bot's own authenticated connection; an
		// HTTP callback's signature does not cover the body.
		VerifyAdmin: cfg.Mode == config.ModeHTTP,
	})
	stops = append(stops, func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if err := core.Shutdown(shutdownCtx); err != nil {
			log.Warn("shutdown deadline passed; unfinished commands were cancelled", "error", err.Error())
		}
	})

	for _, start := range serveAll {
		start()
	}
	log.Info("http server listening", listening...)

	intakeCtx, stopIntake := context.WithCancel(ctx)
	intakeDone := make(chan error, 1)
	go func() { intakeDone <- in.Run(intakeCtx) }()
	intakeEnded := false // intakeDone was received from
	stops = append(stops, func() {
		stopIntake()
		if !intakeEnded {
			<-intakeDone
		}
	})

	var runErr error
	select {
	case err := <-intakeDone:
		intakeEnded = true
		if err != nil {
			runErr = fmt.Errorf("connecting to %s: %w", cfg.APIURL, err)
		}
	case err := <-webDone:
		runErr = fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
		log.Info("shutting down: no new messages; finishing in-flight commands", "timeout", cfg.ShutdownTimeout)
	}
	stopAll()
	if runErr == nil {
		log.Info("stopped")
	}
	return runErr
}

// listenCause is the reason in a listen error, without the address net
// repeats ("listen tcp :8080: bind: address already in use" → "address
// already in use"): the caller names the address and its setting.
func listenCause(err error) error {
	var opErr *net.OpError
	if !errors.As(err, &opErr) || opErr.Err == nil {
		return err
	}
	var sysErr *os.SyscallError
	if errors.As(opErr.Err, &sysErr) && sysErr.Err != nil {
		return sysErr.Err
	}
	return opErr.Err
}
