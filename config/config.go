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
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dingbot/dingbot/access"
)

// Defaults for settings that are not given.
const (
	DefaultAPIURL          = "https://api.dingtalk.com"
	DefaultOAPIURL         = "https://oapi.dingtalk.com"
	DefaultHTTPAddr        = ":8080"
	DefaultShutdownTimeout = 30 * time.Second
	DefaultMaxConcurrent   = 32
	DefaultStreamCheck     = 5 * time.Second
	DefaultRetryBaseDelay  = time.Second
	DefaultAPITimeout      = 15 * time.Second
	DefaultLookupCacheTTL  = time.Hour
	DefaultDataDir         = "data"
	DefaultCreateRate      = 20.0
	DefaultLease           = 30 * time.Second
	DefaultRetention       = 7 * 24 * time.Hour
	DefaultCallbackMaxBody = 64 << 10
	// DefaultCallbackWindow is how far an HTTP callback's timestamp may be
	// from now. DingTalk's own documents allow an hour; the shorter the
	// window, the sooner a leaked header pair is useless (README, Security).
	DefaultCallbackWindow = 5 * time.Minute
	// MaxCallbackWindow is DingTalk's documented hour: a longer window is refused.
	MaxCallbackWindow = time.Hour
	// DefaultCallbackMaxPerSign is how many distinct messages one
	// (timestamp, sign) header pair admits (README, Security, has the arithmetic).
	DefaultCallbackMaxPerSign = 8
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

// Setting describes one configuration variable, for documentation and errors.
type Setting struct {
	Env     string
	YAMLKey string
	Default string
	Meaning string
}

// Settings lists every variable in the order the README documents them.
func Settings() []Setting {
	return []Setting{
		{"DINGTALK_CLIENT_ID", "dingtalk.client_id", "required for serve", "the app's AppKey (Client ID)"},
		{"DINGTALK_CLIENT_SECRET", "dingtalk.client_secret", "required for serve", "the app's AppSecret (Client Secret); never logged"},
		{"DINGTALK_ROBOT_CODE", "dingtalk.robot_code", "the client ID", "robot code used by the robot send APIs"},
		{"DINGTALK_API_URL", "dingtalk.api_url", DefaultAPIURL, "base of the Stream gateway open call, the token and all /v1.0 APIs"},
		{"DINGTALK_OAPI_URL", "dingtalk.oapi_url", DefaultOAPIURL, "base of the legacy /topapi APIs"},
		{"DINGTALK_API_TIMEOUT", "dingtalk.api_timeout", DefaultAPITimeout.String(), "timeout of one DingTalk API request"},
		{"DINGTALK_RETRY_BASE_DELAY", "dingtalk.retry_base_delay", DefaultRetryBaseDelay.String(), "first back-off after DingTalk throttles a call (doubles, with jitter)"},
		{"DINGBOT_MODE", "mode", ModeStream, "how DingTalk delivers messages: stream (the bot connects out) or http (DingTalk POSTs to /dingtalk/callback); serve --mode wins"},
		{"DINGBOT_HTTP_ADDR", "http_addr", DefaultHTTPAddr, "stream mode: listen address of /healthz, /readyz and /metrics; http mode: of POST /dingtalk/callback only"},
		{"DINGBOT_METRICS_ADDR", "metrics_addr", "stream: none (on DINGBOT_HTTP_ADDR); http: " + DefaultHTTPModeMetricsAddr, "listen address of /healthz, /readyz and /metrics when they are not on DINGBOT_HTTP_ADDR; in http mode it must differ from it"},
		{"DINGBOT_CALLBACK_MAX_BODY", "callback_max_body", "64KiB", "http mode: largest callback body accepted (bytes, or with KiB/MiB); larger is refused with 413"},
		{"DINGBOT_CALLBACK_WINDOW", "callback_window", DefaultCallbackWindow.String(), "http mode: how far a callback's timestamp may be from now (at most 1h, DingTalk's limit); older or newer is refused with 401"},
		{"DINGBOT_CALLBACK_MAX_PER_SIGN", "callback_max_per_sign", strconv.Itoa(DefaultCallbackMaxPerSign), "http mode: distinct messages one timestamp+sign header pair admits (2–100); more are refused with 401"},
		{"DINGBOT_TRUSTED_PROXIES", "trusted_proxies", "none", "comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For is believed for the client address in logs"},
		{"DINGBOT_LOG_LEVEL", "log.level", "info", "debug, info, warn or error"},
		{"DINGBOT_LOG_FORMAT", "log.format", "auto", "json, text, or auto: text on a terminal, JSON otherwise (production)"},
		{"DINGBOT_SHUTDOWN_TIMEOUT", "shutdown_timeout", DefaultShutdownTimeout.String(), "how long in-flight commands may finish after SIGTERM"},
		{"DINGBOT_MAX_CONCURRENT", "max_concurrent", strconv.Itoa(DefaultMaxConcurrent), "commands processed at once (workers); up to 8 per worker more wait in memory, the rest in the inbox for any replica"},
		{"DINGBOT_STREAM_CHECK_INTERVAL", "stream_check_interval", DefaultStreamCheck.String(), "how often the Stream connection is checked and reopened if lost"},
		{"DINGBOT_STREAM_IDLE_TIMEOUT", "stream_idle_timeout", "5m", "replace a Stream connection on which nothing (not even DingTalk's ping) arrived for this long; 0 disables"},
		{"DINGBOT_STREAM_RECYCLE", "stream_recycle", "6h", "replace the Stream connection at this age, opening the new one first; 0 disables"},
		{"DINGBOT_LANGUAGE", "language", "en", "reply language when the command does not show one: en or zh"},
		{"DINGBOT_LOOKUP_CACHE_TTL", "lookup_cache_ttl", DefaultLookupCacheTTL.String(), "how long user look-ups by mobile or name are cached"},
		{"DINGBOT_DATABASE_URL", "database_url", "SQLite in the data directory", "postgres://user:pass@host/db to share state between replicas; never logged"},
		{"DINGBOT_DATA_DIR", "data_dir", DefaultDataDir, "directory of the SQLite database (dingbot.db)"},
		{"DINGBOT_CREATE_RATE", "create_rate", "20", "group-create calls per second this process makes at most (DingTalk allows 20 per app: divide by the replicas)"},
		{"DINGBOT_LEASE", "lease", DefaultLease.String(), "how long a dead process's commands stay held: then waiting ones are taken over, interrupted creates reported"},
		{"DINGBOT_RETENTION", "retention", "168h", "how long finished commands stay in the inbox (the audit of groups is kept)"},
		{"DINGBOT_CONFIG", "", "none", "path of an optional YAML file with the same settings"},
	}
}

// fileConfig is the YAML file layout; every field is optional.
type fileConfig struct {
	DingTalk struct {
		ClientID       string `yaml:"client_id"`
		ClientSecret   string `yaml:"client_secret"`
		RobotCode      string `yaml:"robot_code"`
		APIURL         string `yaml:"api_url"`
		OAPIURL        string `yaml:"oapi_url"`
		APITimeout     string `yaml:"api_timeout"`
		RetryBaseDelay string `yaml:"retry_base_delay"`
	} `yaml:"dingtalk"`
	Mode            string `yaml:"mode"`
	HTTPAddr        string `yaml:"http_addr"`
	CallbackMaxBody string `yaml:"callback_max_body"`
	CallbackWindow  string `yaml:"callback_window"`
	CallbackMaxSign string `yaml:"callback_max_per_sign"`
	TrustedProxies  string `yaml:"trusted_proxies"`
	MetricsAddr     string `yaml:"metrics_addr"`
	Log             struct {
		Level  string `yaml:"level"`
		Format string `yaml:"format"`
	} `yaml:"log"`
	ShutdownTimeout     string `yaml:"shutdown_timeout"`
	MaxConcurrent       string `yaml:"max_concurrent"`
	StreamCheckInterval string `yaml:"stream_check_interval"`
	StreamIdleTimeout   string `yaml:"stream_idle_timeout"`
	StreamRecycle       string `yaml:"stream_recycle"`
	Language            string `yaml:"language"`
	LookupCacheTTL      string `yaml:"lookup_cache_ttl"`
	DatabaseURL         string `yaml:"database_url"`
	DataDir             string `yaml:"data_dir"`
	CreateRate          string `yaml:"create_rate"`
	Lease               string `yaml:"lease"`
	Retention           string `yaml:"retention"`

	People         map[string]IDList   `yaml:"people"`
	Names          map[string]string   `yaml:"names"`
	Templates      map[string]Template `yaml:"templates"`
	CommandAliases map[string]string   `yaml:"command_aliases"`
	Access         access.Config       `yaml:"access"`
}

// raw maps each environment variable name to its textual value after merging file and environment.
type raw map[string]string

func (f *fileConfig) raw() raw {
	return raw{
		"DINGTALK_CLIENT_ID":            f.DingTalk.ClientID,
		"DINGTALK_CLIENT_SECRET":        f.DingTalk.ClientSecret,
		"DINGTALK_ROBOT_CODE":           f.DingTalk.RobotCode,
		"DINGTALK_API_URL":              f.DingTalk.APIURL,
		"DINGTALK_OAPI_URL":             f.DingTalk.OAPIURL,
		"DINGTALK_API_TIMEOUT":          f.DingTalk.APITimeout,
		"DINGTALK_RETRY_BASE_DELAY":     f.DingTalk.RetryBaseDelay,
		"DINGBOT_MODE":                  f.Mode,
		"DINGBOT_HTTP_ADDR":             f.HTTPAddr,
		"DINGBOT_CALLBACK_MAX_BODY":     f.CallbackMaxBody,
		"DINGBOT_CALLBACK_WINDOW":       f.CallbackWindow,
		"DINGBOT_CALLBACK_MAX_PER_SIGN": f.CallbackMaxSign,
		"DINGBOT_TRUSTED_PROXIES":       f.TrustedProxies,
		"DINGBOT_METRICS_ADDR":          f.MetricsAddr,
		"DINGBOT_LOG_LEVEL":             f.Log.Level,
		"DINGBOT_LOG_FORMAT":            f.Log.Format,
		"DINGBOT_SHUTDOWN_TIMEOUT":      f.ShutdownTimeout,
		"DINGBOT_MAX_CONCURRENT":        f.MaxConcurrent,
		"DINGBOT_STREAM_CHECK_INTERVAL": f.StreamCheckInterval,
		"DINGBOT_STREAM_IDLE_TIMEOUT":   f.StreamIdleTimeout,
		"DINGBOT_STREAM_RECYCLE":        f.StreamRecycle,
		"DINGBOT_LANGUAGE":              f.Language,
		"DINGBOT_LOOKUP_CACHE_TTL":      f.LookupCacheTTL,
		"DINGBOT_DATABASE_URL":          f.DatabaseURL,
		"DINGBOT_DATA_DIR":              f.DataDir,
		"DINGBOT_CREATE_RATE":           f.CreateRate,
		"DINGBOT_LEASE":                 f.Lease,
		"DINGBOT_RETENTION":             f.Retention,
	}
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
		{"DINGBOT_STREAM_IDLE_TIMEOUT", &c.StreamIdleTimeout, 5 * time.Minute},
		{"DINGBOT_STREAM_RECYCLE", &c.StreamRecycle, 6 * time.Hour},
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
		if err != nil || f <= 0 || f > 1000 {
			return nil, fmt.Errorf("DINGBOT_CREATE_RATE: %q is not a number of calls per second above 0 (DingTalk allows 20)", v)
		}
		c.CreateRate = f
	}
	if c.Lease < 2*time.Second {
		return nil, fmt.Errorf("DINGBOT_LEASE: %s is too short; use at least 2s", c.Lease)
	}
	c.Mode = strings.ToLower(orDefault(r["DINGBOT_MODE"], ModeStream))
	if c.Mode != ModeStream && c.Mode != ModeHTTP {
		return nil, fmt.Errorf("DINGBOT_MODE: %q is not stream or http", r["DINGBOT_MODE"])
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

func baseURL(env, v string) (string, error) {
	u, err := url.Parse(v)
	if err == nil && u.User != nil {
		return "", fmt.Errorf("%s: %q must not hold a user name or password", env, redactURL(v))
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return "", fmt.Errorf("%s: %q is not an http(s) base URL such as https://api.dingtalk.com", env, redactURL(v))
	}
	return strings.TrimRight(v, "/"), nil
}

// redactURL makes a URL setting fit for an error message: whatever may be
// credentials is replaced with [redacted], even when v does not parse. That
// is everything before the last "@" (after the "//" if there is one: the user
// name and password) and the query, where tokens go.
func redactURL(v string) string {
	if at := strings.LastIndexByte(v, '@'); at >= 0 {
		start := 0
		if i := strings.Index(v, "//"); i >= 0 && i+2 <= at {
			start = i + 2
		}
		v = v[:start] + "[redacted]" + v[at:]
	}
	if q := strings.IndexByte(v, '?'); q >= 0 && q+1 < len(v) {
		v = v[:q+1] + "[redacted]"
	}
	return v
}

func duration(env, v string, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive duration such as 500ms, 5s or 1m", env, v)
	}
	return d, nil
}

// durationOrOff is duration where "0" means off (returned as a negative value).
func durationOrOff(env, v string, def time.Duration) (time.Duration, error) {
	if v == "0" || v == "off" {
		return -1, nil
	}
	return duration(env, v, def)
}

// byteSize parses a size in bytes: a whole number, optionally followed by
// KiB or MiB (also K, KB, M, MB, all powers of 1024), from 1KiB to 16MiB.
func byteSize(env, v string, def int64) (int64, error) {
	if v == "" {
		return def, nil
	}
	num, unit := v, int64(1)
	lower := strings.ToLower(v)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"kib", 1 << 10}, {"kb", 1 << 10}, {"k", 1 << 10}, {"mib", 1 << 20}, {"mb", 1 << 20}, {"m", 1 << 20}, {"b", 1}} {
		if strings.HasSuffix(lower, u.suffix) {
			num, unit = strings.TrimSpace(lower[:len(lower)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (16<<20)/unit || n*unit < 1<<10 {
		return 0, fmt.Errorf("%s: %q is not a size from 1KiB to 16MiB, such as 65536, 64KiB or 1MiB", env, v)
	}
	return n * unit, nil
}

// proxies parses DINGBOT_TRUSTED_PROXIES: comma-separated IP addresses or CIDRs.
func proxies(v string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return nil, fmt.Errorf("DINGBOT_TRUSTED_PROXIES: %q is not an IP address or CIDR (example: 10.0.0.0/8,192.168.1.5)", p)
		}
		out = append(out, p)
	}
	return out, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// decodeError describes a failed decode of the configuration file in one
// line that names lines and settings but quotes no value: yaml.v3 quotes the
// offending value (its first characters), a custom tag, an alias, or a key,
// and the value may be the client secret or a database password. Type errors
// become "line N: SETTING: cannot decode KIND into TYPE", quoted text in
// other messages becomes "…", and whatever of the secret values a tolerant
// second look at data finds is replaced with [redacted] as well.
func decodeError(err error, data []byte) string {
	var doc yaml.Node
	parsed := yaml.Unmarshal(data, &doc) == nil
	var msg string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		const most = 3
		var parts []string
		for i, e := range te.Errors {
			if i == most {
				parts = append(parts, fmt.Sprintf("and %d more", len(te.Errors)-most))
				break
			}
			parts = append(parts, typeErrorEntry(e, &doc))
		}
		msg = "yaml: unmarshal errors: " + strings.Join(parts, "; ")
	} else {
		msg = quotedText.ReplaceAllStringFunc(firstLine(err.Error()), func(q string) string {
			if len(q) <= 3 { // a quoted character, e.g. did not find expected ','
				return q
			}
			return "…"
		})
		if before, _, ok := strings.Cut(msg, "invalid map key: "); ok {
			msg = before + "invalid map key"
		}
	}
	for _, secret := range secretTexts(&doc, data, parsed) {
		msg = strings.ReplaceAll(msg, secret, "[redacted]")
	}
	return msg
}

// quotedText is a quoted span in a yaml.v3 message: 'x', `x` or "x".
var quotedText = regexp.MustCompile("'[^']*'|`[^`]*`|\"(?:[^\"\\\\]|\\\\.)*\"")

// typeEntry, fieldEntry, dupEntry and lineEntry parse the entries of a *yaml.TypeError.
var (
	typeEntry  = regexp.MustCompile(`^line (\d+): cannot unmarshal (\S+).* into (.+)$`)
	fieldEntry = regexp.MustCompile(`^line (\d+): field (.*) not found in type `)
	dupEntry   = regexp.MustCompile(`^line (\d+): mapping key .* already defined at line (\d+)$`)
	lineEntry  = regexp.MustCompile(`^line (\d+): `)
)

// typeErrorEntry rewrites one *yaml.TypeError entry without the value it quotes.
func typeErrorEntry(e string, doc *yaml.Node) string {
	if m := typeEntry.FindStringSubmatch(e); m != nil {
		line, _ := strconv.Atoi(m[1])
		kind := "a tagged value"
		switch m[2] {
		case "!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp", "!!binary":
			kind = "a " + m[2] + " value"
		case "!!seq":
			kind = "a list"
		case "!!map":
			kind = "a mapping"
		}
		into := m[3]
		if strings.HasPrefix(into, "struct") {
			into = "a section of settings"
		}
		return fmt.Sprintf("line %d: %scannot decode %s into %s", line, settingAt(doc, line), kind, into)
	}
	if m := fieldEntry.FindStringSubmatch(e); m != nil {
		line, _ := strconv.Atoi(m[1])
		if settingName.MatchString(m[2]) {
			return fmt.Sprintf("line %d: unknown setting %s", line, m[2])
		}
		return fmt.Sprintf("line %d: unknown setting", line)
	}
	if m := dupEntry.FindStringSubmatch(e); m != nil {
		line, _ := strconv.Atoi(m[1])
		return fmt.Sprintf("line %d: %sset twice (first at line %s)", line, settingAt(doc, line), m[2])
	}
	if m := lineEntry.FindStringSubmatch(e); m != nil {
		return m[0] + "invalid value"
	}
	return "invalid value"
}

// settingName is what an unknown key must look like to be quoted in an
// error: a lower-case setting name, not some pasted value.
var settingName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// settingAt names the setting whose value starts on line ("dingtalk.client_secret: "),
// or returns "" when no known setting does or several do. The file-only
// sections (people, templates, …) are named, their user-chosen keys are not.
func settingAt(doc *yaml.Node, line int) string {
	known := map[string]bool{}
	for _, s := range Settings() {
		if s.YAMLKey != "" {
			known[s.YAMLKey] = true
		}
	}
	var found []string
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			name := prefix + k.Value
			switch {
			case prefix == "" && (name == "dingtalk" || name == "log"):
				if v.Line == line && v.Kind != yaml.MappingNode {
					found = append(found, name)
				}
				walk(v, name+".")
			case known[name], prefix == "" && fileOnlySection(name):
				if v.Line == line || k.Line == line {
					found = append(found, name)
				}
			}
		}
	}
	if len(doc.Content) > 0 {
		walk(doc.Content[0], "")
	}
	if len(found) != 1 {
		return ""
	}
	return found[0] + ": "
}

// fileOnlySection reports the top-level keys of the settings only the file holds.
func fileOnlySection(key string) bool {
	switch key {
	case "people", "names", "templates", "command_aliases", "access":
		return true
	}
	return false
}

// secretKeys are the settings whose values decodeError never shows.
func secretKeys() []string { return []string{"client_secret", "database_url"} }

// secretTexts returns the texts in data that may be secret: every scalar,
// key, tag and anchor under dingtalk.client_secret and database_url, found in
// the parsed doc or, for a file that does not parse, on the lines that set
// them. Texts shorter than 4 bytes are left out: replacing them would garble
// the message and they are no real secret.
func secretTexts(doc *yaml.Node, data []byte, parsed bool) []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); len(s) >= 4 {
			out = append(out, s)
		}
	}
	var all func(n *yaml.Node)
	all = func(n *yaml.Node) {
		add(n.Value)
		add(n.Anchor)
		if !strings.HasPrefix(n.Tag, "!!") {
			add(n.Tag)
		}
		for _, c := range n.Content {
			all(c)
		}
	}
	if len(doc.Content) > 0 && doc.Content[0].Kind == yaml.MappingNode {
		top := doc.Content[0]
		for i := 0; i+1 < len(top.Content); i += 2 {
			k, v := top.Content[i], top.Content[i+1]
			switch {
			case k.Value == "database_url":
				all(v)
			case k.Value == "dingtalk" && v.Kind == yaml.MappingNode:
				for j := 0; j+1 < len(v.Content); j += 2 {
					if v.Content[j].Value == "client_secret" {
						all(v.Content[j+1])
					}
				}
			}
		}
	}
	if !parsed {
		for _, line := range strings.Split(string(data), "\n") {
			for _, key := range secretKeys() {
				_, rest, ok := strings.Cut(line, key)
				if !ok {
					continue
				}
				rest = strings.TrimLeft(rest, " \t\"'")
				if rest, ok = strings.CutPrefix(rest, ":"); !ok {
					continue
				}
				add(rest)
				for _, f := range strings.FieldsFunc(rest, func(r rune) bool { return strings.ContainsRune(" \t[]{},:'\"&*!#|>", r) }) {
					add(f)
				}
			}
		}
	}
	// Longest first, so a value is replaced before a part of it.
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
