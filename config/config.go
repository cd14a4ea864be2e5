// Package config loads dingbot's settings from the environment and an optional
// YAML file, applies defaults and validates them. Environment variables win over
// the file, so a container can override a mounted file one setting at a time.
//
// Errors name the setting that is wrong and never contain a secret value.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dingbot/dingbot/access"
	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/bot/callback"
	"github.com/dingbot/dingbot/bot/stream"
	"github.com/dingbot/dingbot/commands"
	"github.com/dingbot/dingbot/dingclient"
)

// Defaults for settings that are not given. A default that a package
// applies itself to a zero option is that package's constant, so the two
// cannot drift apart; the rest belong to the configuration.
const (
	DefaultAPIURL          = dingclient.DefaultAPIURL
	DefaultOAPIURL         = dingclient.DefaultOAPIURL
	DefaultHTTPAddr        = ":8080"
	DefaultShutdownTimeout = 30 * time.Second
	DefaultMaxConcurrent   = bot.DefaultMaxConcurrent
	DefaultStreamCheck     = stream.DefaultCheckInterval
	DefaultStreamIdle      = stream.DefaultIdleTimeout
	DefaultStreamRecycle   = stream.DefaultRecycleEvery
	DefaultRetryBaseDelay  = dingclient.DefaultRetryBaseDelay
	DefaultAPITimeout      = 15 * time.Second
	DefaultLookupCacheTTL  = bot.DefaultLookupCacheTTL
	DefaultDataDir         = "data"
	DefaultCreateRate      = bot.DefaultCreateRate
	DefaultLease           = bot.DefaultLease
	DefaultRetention       = bot.DefaultRetention
	DefaultMaxLookups      = bot.DefaultMaxLookups
	DefaultCommandTimeout  = bot.DefaultCommandTimeout
	// MaxMaxLookups is the highest DINGBOT_MAX_LOOKUPS: a group's size.
	MaxMaxLookups = commands.MaxTotalMembers
	// MaxCommandTimeout is the longest DINGBOT_COMMAND_TIMEOUT.
	MaxCommandTimeout      = time.Hour
	DefaultConfirmTTL      = commands.DefaultConfirmTTL
	DefaultCallbackMaxBody = callback.DefaultMaxBody
	// DefaultCallbackWindow is how far an HTTP callback's timestamp may be
	// from now. DingTalk's own documents allow an hour; the shorter the
	// window, the sooner a leaked header pair is useless (README, Security).
	DefaultCallbackWindow = callback.DefaultWindow
	// MaxCallbackWindow is DingTalk's documented hour: a longer window is refused.
	MaxCallbackWindow = callback.MaxSkew
	// DefaultCallbackMaxPerSign is how many distinct messages one
	// (timestamp, sign) header pair admits (README, Security, has the arithmetic).
	DefaultCallbackMaxPerSign = callback.DefaultMaxPerSign
	// DefaultHTTPModeMetricsAddr is where /healthz, /readyz and /metrics
	// listen in http mode when DINGBOT_METRICS_ADDR is not set: loopback, so
	// the public callback listener serves the callback and nothing else.
	DefaultHTTPModeMetricsAddr = "127.0.0.1:9090"
)

// Modes of DINGBOT_MODE: how DingTalk delivers chat messages to the bot.
const (
	// ModeStream: the bot opens a Stream (websocket) connection; no public URL needed.
	ModeStream = "stream"
	// ModeHTTP: DingTalk POSTs each message to /dingtalk/callback on DINGBOT_HTTP_ADDR.
	ModeHTTP = "http"
)

// Modes returns every valid DINGBOT_MODE, the default (ModeStream) first.
// It is the one list of modes: main's table of intakes has one entry for
// each, in this order (a test checks), and serve --mode accepts the same.
func Modes() []string { return []string{ModeStream, ModeHTTP} }

// Config is dingbot's validated configuration.
type Config struct {
	// ClientID is the DingTalk app's AppKey (DINGTALK_CLIENT_ID).
	ClientID string
	// ClientSecret is the app's AppSecret (DINGTALK_CLIENT_SECRET). Never log it.
	ClientSecret string
	// RobotCode is the robot code for the robot send APIs (DINGTALK_ROBOT_CODE); defaults to ClientID.
	RobotCode string
	// APIURL replaces https://api.dingtalk.com (DINGTALK_API_URL).
	APIURL string
	// OAPIURL replaces https://oapi.dingtalk.com (DINGTALK_OAPI_URL).
	OAPIURL string
	// HTTPAddr is where /healthz, /readyz and /metrics listen (DINGBOT_HTTP_ADDR).
	HTTPAddr string
	// LogLevel is the minimum level logged (DINGBOT_LOG_LEVEL: debug, info, warn, error).
	LogLevel slog.Level
	// LogFormat is "json", "text" or "auto" (DINGBOT_LOG_FORMAT): auto is text on a terminal, JSON otherwise.
	LogFormat string
	// ShutdownTimeout bounds how long in-flight commands may finish after SIGTERM (DINGBOT_SHUTDOWN_TIMEOUT).
	ShutdownTimeout time.Duration
	// MaxConcurrent bounds how many commands are processed at once (DINGBOT_MAX_CONCURRENT).
	MaxConcurrent int
	// StreamCheckInterval is how often the Stream connection is checked and, if gone, reopened (DINGBOT_STREAM_CHECK_INTERVAL).
	StreamCheckInterval time.Duration
	// RetryBaseDelay is the first back-off after DingTalk throttles a call (DINGTALK_RETRY_BASE_DELAY).
	RetryBaseDelay time.Duration
	// APITimeout bounds one DingTalk API request (DINGTALK_API_TIMEOUT).
	APITimeout time.Duration
	// Language is the default reply language, "en" or "zh" (DINGBOT_LANGUAGE).
	Language string
	// LookupCacheTTL is how long user look-ups (by mobile, by name) are cached (DINGBOT_LOOKUP_CACHE_TTL).
	LookupCacheTTL time.Duration
	// DatabaseURL selects the store: "" for SQLite in DataDir, postgres://… for PostgreSQL (DINGBOT_DATABASE_URL). It may hold a password: never log it.
	DatabaseURL string
	// DataDir holds the SQLite database (DINGBOT_DATA_DIR).
	DataDir string
	// CreateRate is the most group-create calls per second (DINGBOT_CREATE_RATE).
	CreateRate float64
	// Lease is how long a worker holds a command without renewing it (DINGBOT_LEASE).
	Lease time.Duration
	// Retention is how long finished inbox items are kept (DINGBOT_RETENTION).
	Retention time.Duration
	// Kickoff is whether the bot joins each group it creates and posts a
	// kickoff message there (DINGBOT_KICKOFF: on or off).
	Kickoff bool
	// Confirm says when /newgroup shows a preview to confirm first
	// (DINGBOT_CONFIRM: auto, always or never).
	Confirm string
	// ConfirmTTL is how long a preview can be confirmed (DINGBOT_CONFIRM_TTL).
	ConfirmTTL time.Duration
	// MaxLookups is the most people one command may name to look up by
	// mobile number or name (DINGBOT_MAX_LOOKUPS).
	MaxLookups int
	// CommandTimeout bounds one command, look-ups and DingTalk calls
	// included (DINGBOT_COMMAND_TIMEOUT).
	CommandTimeout time.Duration
	// StreamIdleTimeout: a connection with no frame for this long is replaced (DINGBOT_STREAM_IDLE_TIMEOUT; 0 disables).
	StreamIdleTimeout time.Duration
	// StreamRecycle is the age at which a connection is replaced, make-before-break (DINGBOT_STREAM_RECYCLE; 0 disables).
	StreamRecycle time.Duration
	// Mode is how messages arrive: ModeStream or ModeHTTP (DINGBOT_MODE, --mode).
	Mode string
	// CallbackMaxBody is the largest HTTP callback body accepted, in bytes (DINGBOT_CALLBACK_MAX_BODY).
	CallbackMaxBody int64
	// CallbackWindow is how far a callback's timestamp header may be from now, either way (DINGBOT_CALLBACK_WINDOW).
	CallbackWindow time.Duration
	// CallbackMaxPerSign is how many distinct msgIds one (timestamp, sign) header pair admits (DINGBOT_CALLBACK_MAX_PER_SIGN).
	CallbackMaxPerSign int
	// TrustedProxies are the addresses (IPs or CIDRs) whose X-Forwarded-For is
	// believed when logging a client address (DINGBOT_TRUSTED_PROXIES); none by default.
	TrustedProxies []string
	// MetricsAddr is where /healthz, /readyz and /metrics listen when they are
	// not on HTTPAddr (DINGBOT_METRICS_ADDR): "" in stream mode keeps them on
	// HTTPAddr; in http mode it defaults to DefaultHTTPModeMetricsAddr.
	MetricsAddr string

	// People maps aliases to user IDs: one person or a group of people (file only: people).
	People map[string][]string
	// Names gives display names to user IDs, for replies (file only: names).
	Names map[string]string
	// Templates are named default members and options for /newgroup --template (file only: templates).
	Templates map[string]Template
	// CommandAliases maps extra command names to commands, e.g. "ng" → "newgroup" (file only: command_aliases).
	CommandAliases map[string]string
	// Access says who may run /newgroup and how often (file only: access); validated by access.New.
	Access access.Config
}

// Template is a named set of default members and options.
type Template struct {
	// Description is the one line /help templates shows.
	Description string `yaml:"description"`
	// Args is a command-line fragment, e.g. "@release-team --history yes".
	Args string `yaml:"args"`
	// Kickoff is the kickoff message of groups made with the template
	// (markdown with {name}, {creator}, {owner}, {members}, {date}), or "off".
	Kickoff string `yaml:"kickoff"`
	// Confirm overrides DINGBOT_CONFIRM for the template: auto, always or never.
	Confirm string `yaml:"confirm"`
}

// IDList is one user ID or a list of them in YAML.
type IDList []string

// UnmarshalYAML accepts a scalar or a sequence of scalars.
func (l *IDList) UnmarshalYAML(node *yaml.Node) error {
	switch node.Kind {
	case yaml.ScalarNode:
		*l = IDList{node.Value}
		return nil
	case yaml.SequenceNode:
		var ids []string
		if err := node.Decode(&ids); err != nil {
			return err
		}
		*l = ids
		return nil
	}
	return fmt.Errorf("line %d: want a user ID or a list of user IDs", node.Line)
}

// Load reads the configuration: the YAML file named by DINGBOT_CONFIG (if any),
// then the environment on top. getenv is os.Getenv in production.
// It does not require credentials; call Validate for that.
func Load(getenv func(string) string) (*Config, error) {
	merged := raw{}
	var fc fileConfig
	if path := strings.TrimSpace(getenv("DINGBOT_CONFIG")); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("DINGBOT_CONFIG: cannot read %s: %w", path, errors.Unwrap(err))
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("DINGBOT_CONFIG: %s: %s", path, decodeError(err, data))
		}
		merged = fc.raw()
	}
	for _, s := range Settings() {
		if v, ok := lookup(getenv, s.Env); ok {
			merged[s.Env] = v
		}
	}
	c, err := parse(merged)
	if err != nil {
		return nil, err
	}
	if err := c.setFileOnly(&fc); err != nil {
		return nil, fmt.Errorf("DINGBOT_CONFIG: %w", err)
	}
	return c, nil
}

// setFileOnly copies and checks the settings that only the file can hold.
func (c *Config) setFileOnly(fc *fileConfig) error {
	c.People = map[string][]string{}
	for alias, ids := range fc.People {
		name := strings.TrimPrefix(strings.TrimSpace(alias), "@")
		if name == "" || strings.ContainsAny(name, " \t") {
			return fmt.Errorf("people: %q is not a usable alias (one word, e.g. alice or release-team)", alias)
		}
		if len(ids) == 0 {
			return fmt.Errorf("people.%s: no user IDs", name)
		}
		for _, id := range ids {
			if strings.TrimSpace(id) == "" {
				return fmt.Errorf("people.%s: empty user ID", name)
			}
		}
		c.People[name] = ids
	}
	c.Names = fc.Names
	c.Templates = fc.Templates
	for name, t := range fc.Templates {
		if strings.TrimSpace(t.Args) == "" {
			return fmt.Errorf("templates.%s.args: empty (e.g. args: \"@release-team --history yes\")", name)
		}
	}
	c.CommandAliases = fc.CommandAliases
	c.Access = fc.Access
	if _, err := access.New(c.Access, nil); err != nil {
		return err
	}
	return nil
}

func lookup(getenv func(string) string, name string) (string, bool) {
	v := strings.TrimSpace(getenv(name))
	return v, v != ""
}

func parse(r raw) (*Config, error) {
	c := &Config{
		ClientID:     r["DINGTALK_CLIENT_ID"],
		ClientSecret: r["DINGTALK_CLIENT_SECRET"],
		RobotCode:    r["DINGTALK_ROBOT_CODE"],
		LogFormat:    strings.ToLower(orDefault(r["DINGBOT_LOG_FORMAT"], "auto")),
		HTTPAddr:     orDefault(r["DINGBOT_HTTP_ADDR"], DefaultHTTPAddr),
	}
	if c.RobotCode == "" {
		c.RobotCode = c.ClientID
	}
	var err error
	if c.APIURL, err = baseURL("DINGTALK_API_URL", orDefault(r["DINGTALK_API_URL"], DefaultAPIURL)); err != nil {
		return nil, err
	}
	if c.OAPIURL, err = baseURL("DINGTALK_OAPI_URL", orDefault(r["DINGTALK_OAPI_URL"], DefaultOAPIURL)); err != nil {
		return nil, err
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		return nil, fmt.Errorf("DINGBOT_HTTP_ADDR: %q is not host:port (example: :8080 or 127.0.0.1:8080)", c.HTTPAddr)
	}
	if err := c.LogLevel.UnmarshalText([]byte(orDefault(r["DINGBOT_LOG_LEVEL"], "info"))); err != nil {
		return nil, fmt.Errorf("DINGBOT_LOG_LEVEL: %q is not one of debug, info, warn, error", r["DINGBOT_LOG_LEVEL"])
	}
	if c.LogFormat != "json" && c.LogFormat != "text" && c.LogFormat != "auto" {
		return nil, fmt.Errorf("DINGBOT_LOG_FORMAT: %q is not json, text or auto", c.LogFormat)
	}
	durations := []struct {
		env string
		dst *time.Duration
		def time.Duration
	}{
		{"DINGBOT_SHUTDOWN_TIMEOUT", &c.ShutdownTimeout, DefaultShutdownTimeout},
		{"DINGBOT_STREAM_CHECK_INTERVAL", &c.StreamCheckInterval, DefaultStreamCheck},
		{"DINGTALK_RETRY_BASE_DELAY", &c.RetryBaseDelay, DefaultRetryBaseDelay},
		{"DINGTALK_API_TIMEOUT", &c.APITimeout, DefaultAPITimeout},
		{"DINGBOT_LOOKUP_CACHE_TTL", &c.LookupCacheTTL, DefaultLookupCacheTTL},
		{"DINGBOT_LEASE", &c.Lease, DefaultLease},
		{"DINGBOT_RETENTION", &c.Retention, DefaultRetention},
		{"DINGBOT_CONFIRM_TTL", &c.ConfirmTTL, DefaultConfirmTTL},
		{"DINGBOT_COMMAND_TIMEOUT", &c.CommandTimeout, DefaultCommandTimeout},
	}
	for _, d := range durations {
		if *d.dst, err = duration(d.env, r[d.env], d.def); err != nil {
			return nil, err
		}
	}
	c.Language = strings.ToLower(orDefault(r["DINGBOT_LANGUAGE"], "en"))
	if c.Language != "en" && c.Language != "zh" {
		return nil, fmt.Errorf("DINGBOT_LANGUAGE: %q is not en or zh", r["DINGBOT_LANGUAGE"])
	}
	for _, d := range []struct {
		env string
		dst *time.Duration
		def time.Duration
	}{
		{"DINGBOT_STREAM_IDLE_TIMEOUT", &c.StreamIdleTimeout, DefaultStreamIdle},
		{"DINGBOT_STREAM_RECYCLE", &c.StreamRecycle, DefaultStreamRecycle},
	} {
		if *d.dst, err = durationOrOff(d.env, r[d.env], d.def); err != nil {
			return nil, err
		}
	}
	c.DatabaseURL = r["DINGBOT_DATABASE_URL"]
	c.DataDir = orDefault(r["DINGBOT_DATA_DIR"], DefaultDataDir)
	c.CreateRate = DefaultCreateRate
	if v := r["DINGBOT_CREATE_RATE"]; v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0 && f <= 1000) { // NaN fails too
			return nil, fmt.Errorf("DINGBOT_CREATE_RATE: %q is not a number of calls per second above 0 (DingTalk allows 20)", v)
		}
		c.CreateRate = f
	}
	if c.Lease < 2*time.Second {
		return nil, fmt.Errorf("DINGBOT_LEASE: %s is too short; use at least 2s", c.Lease)
	}
	c.Mode = strings.ToLower(orDefault(r["DINGBOT_MODE"], ModeStream))
	if !slices.Contains(Modes(), c.Mode) {
		return nil, fmt.Errorf("DINGBOT_MODE: %q is not %s", r["DINGBOT_MODE"], strings.Join(Modes(), " or "))
	}
	if c.CallbackMaxBody, err = byteSize("DINGBOT_CALLBACK_MAX_BODY", r["DINGBOT_CALLBACK_MAX_BODY"], DefaultCallbackMaxBody); err != nil {
		return nil, err
	}
	if c.CallbackWindow, err = duration("DINGBOT_CALLBACK_WINDOW", r["DINGBOT_CALLBACK_WINDOW"], DefaultCallbackWindow); err != nil {
		return nil, err
	}
	if c.CallbackWindow > MaxCallbackWindow {
		return nil, fmt.Errorf("DINGBOT_CALLBACK_WINDOW: %s is longer than DingTalk's 1h", c.CallbackWindow)
	}
	c.CallbackMaxPerSign = DefaultCallbackMaxPerSign
	if v := r["DINGBOT_CALLBACK_MAX_PER_SIGN"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 || n > 100 {
			return nil, fmt.Errorf("DINGBOT_CALLBACK_MAX_PER_SIGN: %q is not a whole number from 2 to 100", v)
		}
		c.CallbackMaxPerSign = n
	}
	if c.TrustedProxies, err = proxies(r["DINGBOT_TRUSTED_PROXIES"]); err != nil {
		return nil, err
	}
	c.MetricsAddr = r["DINGBOT_METRICS_ADDR"]
	if c.MetricsAddr == "" && c.Mode == ModeHTTP {
		c.MetricsAddr = DefaultHTTPModeMetricsAddr
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return nil, fmt.Errorf("DINGBOT_METRICS_ADDR: %q is not host:port (example: 127.0.0.1:9090 or :9090)", c.MetricsAddr)
		}
		if _, port, _ := net.SplitHostPort(c.MetricsAddr); c.Mode == ModeHTTP && c.MetricsAddr == c.HTTPAddr && port != "0" {
			return nil, fmt.Errorf("DINGBOT_METRICS_ADDR: %s is also DINGBOT_HTTP_ADDR; in http mode the callback listener serves only the callback, so give metrics another address", c.MetricsAddr)
		}
	}
	switch strings.ToLower(orDefault(r["DINGBOT_KICKOFF"], "on")) {
	case "on", "yes", "true", "1":
		c.Kickoff = true
	case "off", "no", "false", "0":
	default:
		return nil, fmt.Errorf("DINGBOT_KICKOFF: %q is not on or off", r["DINGBOT_KICKOFF"])
	}
	c.Confirm = strings.ToLower(strings.TrimSpace(orDefault(r["DINGBOT_CONFIRM"], "auto")))
	if c.Confirm != "auto" && c.Confirm != "always" && c.Confirm != "never" {
		return nil, fmt.Errorf("DINGBOT_CONFIRM: %q is not auto, always or never", r["DINGBOT_CONFIRM"])
	}
	if c.ConfirmTTL < commands.MinConfirmTTL || c.ConfirmTTL > commands.MaxConfirmTTL {
		return nil, fmt.Errorf("DINGBOT_CONFIRM_TTL: %s is not between %s and %s", c.ConfirmTTL, commands.MinConfirmTTL, shortDuration(commands.MaxConfirmTTL))
	}
	for name, t := range c.Templates {
		switch strings.ToLower(strings.TrimSpace(t.Confirm)) {
		case "", "auto", "always", "never":
		default:
			return nil, fmt.Errorf("templates.%s.confirm: %q is not auto, always or never", name, t.Confirm)
		}
	}
	c.MaxLookups = DefaultMaxLookups
	if v := r["DINGBOT_MAX_LOOKUPS"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxMaxLookups {
			return nil, fmt.Errorf("DINGBOT_MAX_LOOKUPS: %q is not a whole number of people from 1 to %d", v, MaxMaxLookups)
		}
		c.MaxLookups = n
	}
	if c.CommandTimeout < c.APITimeout {
		return nil, fmt.Errorf("DINGBOT_COMMAND_TIMEOUT: %s is shorter than DINGTALK_API_TIMEOUT (%s); a command needs time for at least one DingTalk call",
			shortDuration(c.CommandTimeout), shortDuration(c.APITimeout))
	}
	if c.CommandTimeout > MaxCommandTimeout {
		return nil, fmt.Errorf("DINGBOT_COMMAND_TIMEOUT: %s is longer than %s", shortDuration(c.CommandTimeout), shortDuration(MaxCommandTimeout))
	}
	c.MaxConcurrent = DefaultMaxConcurrent
	if v := r["DINGBOT_MAX_CONCURRENT"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return nil, fmt.Errorf("DINGBOT_MAX_CONCURRENT: %q is not a whole number from 1 to 10000", v)
		}
		c.MaxConcurrent = n
	}
	return c, nil
}

// Validate checks what the serve command needs beyond Load: the app credentials.
func (c *Config) Validate() error {
	if c.ClientID == "" {
		return errors.New("DINGTALK_CLIENT_ID: required (the app's AppKey / Client ID from the DingTalk developer console)")
	}
	if c.ClientSecret == "" {
		return errors.New("DINGTALK_CLIENT_SECRET: required (the app's AppSecret / Client Secret from the DingTalk developer console)")
	}
	return nil
}

// LogValue shows the configuration in logs with the secret redacted.
func (c *Config) LogValue() slog.Value {
	secret := ""
	if c.ClientSecret != "" {
		secret = "[redacted]"
	}
	return slog.GroupValue(
		slog.String("client_id", c.ClientID),
		slog.String("client_secret", secret),
		slog.String("robot_code", c.RobotCode),
		slog.String("api_url", c.APIURL),
		slog.String("oapi_url", c.OAPIURL),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("log_level", c.LogLevel.String()),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.Int("max_concurrent", c.MaxConcurrent),
		slog.Duration("stream_check_interval", c.StreamCheckInterval),
		slog.Duration("retry_base_delay", c.RetryBaseDelay),
		slog.Duration("api_timeout", c.APITimeout),
		slog.String("language", c.Language),
		slog.Duration("lookup_cache_ttl", c.LookupCacheTTL),
		slog.Bool("postgres", strings.HasPrefix(c.DatabaseURL, "postgres")),
		slog.String("data_dir", c.DataDir),
		slog.Float64("create_rate", c.CreateRate),
		slog.Duration("lease", c.Lease),
		slog.Duration("retention", c.Retention),
		slog.Bool("kickoff", c.Kickoff),
		slog.String("confirm", c.Confirm),
		slog.Duration("confirm_ttl", c.ConfirmTTL),
		slog.Int("max_lookups", c.MaxLookups),
		slog.Duration("command_timeout", c.CommandTimeout),
		slog.String("mode", c.Mode),
		slog.Int64("callback_max_body", c.CallbackMaxBody),
		slog.Duration("callback_window", c.CallbackWindow),
		slog.Int("callback_max_per_sign", c.CallbackMaxPerSign),
		slog.Any("trusted_proxies", c.TrustedProxies),
		slog.String("metrics_addr", c.MetricsAddr),
		slog.Int("people", len(c.People)),
		slog.Int("templates", len(c.Templates)),
	)
}
