// This file lists every setting: its variable, YAML key, default and
// meaning (the README's configuration table), and the YAML file's layout.

package config

import (
	"strconv"
	"strings"
	"time"

	"github.com/dingbot/dingbot/access"
)

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
		{"DINGBOT_CALLBACK_MAX_BODY", "callback_max_body", strconv.Itoa(DefaultCallbackMaxBody>>10) + "KiB", "http mode: largest callback body accepted (bytes, or with KiB/MiB); larger is refused with 413"},
		{"DINGBOT_CALLBACK_WINDOW", "callback_window", DefaultCallbackWindow.String(), "http mode: how far a callback's timestamp may be from now (at most 1h, DingTalk's limit); older or newer is refused with 401"},
		{"DINGBOT_CALLBACK_MAX_PER_SIGN", "callback_max_per_sign", strconv.Itoa(DefaultCallbackMaxPerSign), "http mode: distinct messages one timestamp+sign header pair admits (2–100); more are refused with 401"},
		{"DINGBOT_TRUSTED_PROXIES", "trusted_proxies", "none", "comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For is believed for the client address in logs"},
		{"DINGBOT_LOG_LEVEL", "log.level", "info", "debug, info, warn or error"},
		{"DINGBOT_LOG_FORMAT", "log.format", "auto", "json, text, or auto: text on a terminal, JSON otherwise (production)"},
		{"DINGBOT_SHUTDOWN_TIMEOUT", "shutdown_timeout", DefaultShutdownTimeout.String(), "how long in-flight commands may finish after SIGTERM"},
		{"DINGBOT_MAX_CONCURRENT", "max_concurrent", strconv.Itoa(DefaultMaxConcurrent), "commands processed at once (workers); up to 8 per worker more wait in memory, the rest in the inbox for any replica"},
		{"DINGBOT_STREAM_CHECK_INTERVAL", "stream_check_interval", DefaultStreamCheck.String(), "how often the Stream connection is checked and reopened if lost"},
		{"DINGBOT_STREAM_IDLE_TIMEOUT", "stream_idle_timeout", shortDuration(DefaultStreamIdle), "replace a Stream connection on which nothing (not even DingTalk's ping) arrived for this long; 0 disables"},
		{"DINGBOT_STREAM_RECYCLE", "stream_recycle", shortDuration(DefaultStreamRecycle), "replace the Stream connection at this age, opening the new one first; 0 disables"},
		{"DINGBOT_LANGUAGE", "language", "en", "reply language when the command does not show one: en or zh"},
		{"DINGBOT_LOOKUP_CACHE_TTL", "lookup_cache_ttl", DefaultLookupCacheTTL.String(), "how long user look-ups by mobile or name are cached"},
		{"DINGBOT_DATABASE_URL", "database_url", "SQLite in the data directory", "postgres://user:pass@host/db to share state between replicas; never logged"},
		{"DINGBOT_DATA_DIR", "data_dir", DefaultDataDir, "directory of the SQLite database (dingbot.db), relative to the working directory; serve creates it (preflight does not); /data/ is git-ignored"},
		{"DINGBOT_CREATE_RATE", "create_rate", strconv.FormatFloat(DefaultCreateRate, 'f', -1, 64), "DingTalk calls per second per API (creates, group updates, look-ups, robot messages), in any one-second window; with PostgreSQL shared by every replica (DingTalk allows 20 per app: do not divide)"},
		{"DINGBOT_LEASE", "lease", DefaultLease.String(), "how long a worker holds a command without renewing it; a process that stops heartbeating (3 s) loses its waiting commands sooner, any replica reports its cut-off creates 5 s later"},
		{"DINGBOT_RETENTION", "retention", shortDuration(DefaultRetention), "how long finished commands stay in the inbox (the audit of groups is kept)"},
		{"DINGBOT_KICKOFF", "kickoff", "on", "on: after /newgroup the bot joins the new group and posts a kickoff message there (two more DingTalk calls); off: neither"},
		{"DINGBOT_CONFIRM", "confirm", "auto", "when /newgroup shows a preview with Create and Cancel first: auto (when someone was found by name, an alias stands for several people, more than 20 members, another owner, a standard group or external members), always, or never; a template's confirm: overrides it"},
		{"DINGBOT_CONFIRM_TTL", "confirm_ttl", shortDuration(DefaultConfirmTTL), "how long a preview can be confirmed (1s to 24h); later, /confirm says it expired"},
		{"DINGBOT_MAX_LOOKUPS", "max_lookups", strconv.Itoa(DefaultMaxLookups), "most people one command may name to look up by mobile number or name (1–1000); a command naming more is answered at once, before any DingTalk call"},
		{"DINGBOT_COMMAND_TIMEOUT", "command_timeout", shortDuration(DefaultCommandTimeout), "deadline of one command, look-ups and DingTalk calls included (from DINGTALK_API_TIMEOUT to 1h); out of time before the create, the sender is told nothing was created"},
		{"DINGBOT_CONFIG", "", "none", "path of an optional YAML file with the same settings"},
	}
}

// shortDuration writes d as people write it: 5m, 6h, 168h, 1m30s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
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
	Kickoff             string `yaml:"kickoff"`
	Confirm             string `yaml:"confirm"`
	ConfirmTTL          string `yaml:"confirm_ttl"`
	MaxLookups          string `yaml:"max_lookups"`
	CommandTimeout      string `yaml:"command_timeout"`

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
		"DINGBOT_KICKOFF":               f.Kickoff,
		"DINGBOT_CONFIRM":               f.Confirm,
		"DINGBOT_CONFIRM_TTL":           f.ConfirmTTL,
		"DINGBOT_MAX_LOOKUPS":           f.MaxLookups,
		"DINGBOT_COMMAND_TIMEOUT":       f.CommandTimeout,
	}
}
