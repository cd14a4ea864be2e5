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
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	sdklogger "github.com/open-dingtalk/dingtalk-stream-sdk-go/logger"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/bot/httpserver"
	"github.com/dingbot/dingbot/bot/stream"
	"github.com/dingbot/dingbot/commands"
	"github.com/dingbot/dingbot/config"
	"github.com/dingbot/dingbot/demo"
	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/store"
)

const usage = `dingbot: a DingTalk ChatOps bot that creates groups from chat commands.

Usage:
  dingbot serve     connect to DingTalk (Stream mode) and answer commands
  dingbot demo      try the bot in this terminal against a local fake DingTalk
  dingbot parse 'TEXT'
                    show how a command is understood, as JSON, without DingTalk
  dingbot help      show this text

Settings come from the environment (see README.md), e.g.
  DINGTALK_CLIENT_ID=... DINGTALK_CLIENT_SECRET=... dingbot serve
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main with its dependencies passed in; it returns the exit status.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
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
		if err := runDemo(stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "dingbot: %v\n", err)
			return 1
		}
		return 0
	case "parse":
		return runParse(args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "dingbot: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

// runDemo starts the fake DingTalk, runs the real bot against it and lets the
// user chat with it from the terminal until end of input.
func runDemo(stdout, stderr io.Writer) error {
	d, err := demo.Start()
	if err != nil {
		return err
	}
	defer d.Close()
	env := d.Env()
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
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
	runErr := d.Run(ctx, os.Stdin, stdout)
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
		templates[name] = commands.Template{Description: t.Description, Args: t.Args}
	}
	lang, err := commands.New(commands.Settings{
		DefaultLang:    commands.Lang(cfg.Language),
		People:         cfg.People,
		Names:          cfg.Names,
		Templates:      templates,
		CommandAliases: cfg.CommandAliases,
	})
	if err != nil {
		return nil, fmt.Errorf("DINGBOT_CONFIG: %w", err)
	}
	return lang, nil
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
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
	defer db.Close()
	dingtalk, err := dingclient.New(dingclient.Config{
		APIURL:       cfg.APIURL,
		OAPIURL:      cfg.OAPIURL,
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		RobotCode:    cfg.RobotCode,
		HTTPClient:   &http.Client{Timeout: cfg.APITimeout},
		Logger:       log,
		Observe:      metrics.ObserveAPICall,
		Retry:        dingclient.RetryPolicy{BaseDelay: cfg.RetryBaseDelay},
		// DingTalk's limit is per app and API; every API the bot calls in bulk gets one.
		RateLimits: map[string]float64{
			"group.create": cfg.CreateRate, "group.update": cfg.CreateRate,
			"user.search": cfg.CreateRate, "user.by_mobile": cfg.CreateRate, "user.get": cfg.CreateRate,
		},
	})
	if err != nil {
		return err
	}
	core := bot.New(bot.Options{
		DingTalk:       dingtalk,
		Store:          db,
		Language:       lang,
		LookupCacheTTL: cfg.LookupCacheTTL,
		Logger:         log,
		Metrics:        metrics,
		MaxConcurrent:  cfg.MaxConcurrent,
		CreateRate:     cfg.CreateRate,
		Lease:          cfg.Lease,
		Retention:      cfg.Retention,
	})
	conn := stream.New(stream.Options{
		ClientID:      cfg.ClientID,
		ClientSecret:  cfg.ClientSecret,
		APIURL:        cfg.APIURL,
		CheckInterval: cfg.StreamCheckInterval,
		IdleTimeout:   cfg.StreamIdleTimeout,
		RecycleEvery:  cfg.StreamRecycle,
		Logger:        log,
		Metrics:       metrics,
	}, core.Handle)

	web, err := httpserver.Listen(httpserver.Options{Addr: cfg.HTTPAddr, Ready: conn.Ready, Gatherer: registry, Logger: log})
	if err != nil {
		return fmt.Errorf("DINGBOT_HTTP_ADDR: cannot listen on %s: %w", cfg.HTTPAddr, err)
	}
	webDone := make(chan error, 1)
	go func() { webDone <- web.Serve() }()
	log.Info("http server listening", "addr", web.Addr())

	streamCtx, stopStream := context.WithCancel(ctx)
	defer stopStream()
	streamDone := make(chan error, 1)
	go func() { streamDone <- conn.Run(streamCtx, nil) }()

	var runErr error
	select {
	case err := <-streamDone:
		if err != nil {
			runErr = fmt.Errorf("connecting to %s: %w", cfg.APIURL, err)
		}
	case err := <-webDone:
		runErr = fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
		log.Info("shutting down: no new messages; finishing in-flight commands", "timeout", cfg.ShutdownTimeout)
	}
	stopStream()

	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if runErr == nil {
		<-streamDone
	}
	if err := core.Shutdown(shutdownCtx); err != nil {
		log.Warn("shutdown deadline passed; unfinished commands were cancelled", "error", err.Error())
	}
	webCtx, cancelWeb := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelWeb()
	if err := web.Shutdown(webCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Warn("http shutdown", "error", err.Error())
	}
	if runErr == nil {
		log.Info("stopped")
	}
	return runErr
}
