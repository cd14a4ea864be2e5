package config

import (
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"DINGTALK_CLIENT_ID": "id", "DINGTALK_CLIENT_SECRET": "s3cret"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Config{
		ClientID: "id", ClientSecret: "s3cret", RobotCode: "id",
		APIURL: DefaultAPIURL, OAPIURL: DefaultOAPIURL, HTTPAddr: ":8080",
		LogLevel: slog.LevelInfo, LogFormat: "auto", ShutdownTimeout: 30 * time.Second,
		MaxConcurrent: DefaultMaxConcurrent, StreamCheckInterval: DefaultStreamCheck,
		RetryBaseDelay: time.Second, APITimeout: DefaultAPITimeout,
		Language: "en", LookupCacheTTL: time.Hour, People: map[string][]string{},
		StreamIdleTimeout: 5 * time.Minute, StreamRecycle: 6 * time.Hour,
		DataDir: "data", CreateRate: 20, Lease: 30 * time.Second, Retention: 7 * 24 * time.Hour,
		Mode: ModeStream, CallbackMaxBody: DefaultCallbackMaxBody,
		CallbackWindow: DefaultCallbackWindow, CallbackMaxPerSign: DefaultCallbackMaxPerSign, Kickoff: true,
		Confirm: "auto", ConfirmTTL: 10 * time.Minute,
		MaxLookups: 50, CommandTimeout: 2 * time.Minute,
	}
	if !reflect.DeepEqual(*c, want) {
		t.Fatalf("got %+v\nwant %+v", *c, want)
	}
}

func TestLoadErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		env     map[string]string
		wantVar string
	}{
		{map[string]string{"DINGTALK_API_URL": "api.dingtalk.com"}, "DINGTALK_API_URL"},
		{map[string]string{"DINGTALK_OAPI_URL": "ftp://x"}, "DINGTALK_OAPI_URL"},
		{map[string]string{"DINGBOT_HTTP_ADDR": "8080"}, "DINGBOT_HTTP_ADDR"},
		{map[string]string{"DINGBOT_LOG_LEVEL": "loud"}, "DINGBOT_LOG_LEVEL"},
		{map[string]string{"DINGBOT_LOG_FORMAT": "xml"}, "DINGBOT_LOG_FORMAT"},
		{map[string]string{"DINGBOT_SHUTDOWN_TIMEOUT": "10"}, "DINGBOT_SHUTDOWN_TIMEOUT"},
		{map[string]string{"DINGBOT_SHUTDOWN_TIMEOUT": "-1s"}, "DINGBOT_SHUTDOWN_TIMEOUT"},
		{map[string]string{"DINGBOT_MAX_CONCURRENT": "0"}, "DINGBOT_MAX_CONCURRENT"},
		{map[string]string{"DINGBOT_STREAM_CHECK_INTERVAL": "often"}, "DINGBOT_STREAM_CHECK_INTERVAL"},
		{map[string]string{"DINGTALK_RETRY_BASE_DELAY": "x"}, "DINGTALK_RETRY_BASE_DELAY"},
		{map[string]string{"DINGBOT_LANGUAGE": "fr"}, "DINGBOT_LANGUAGE"},
		{map[string]string{"DINGBOT_CREATE_RATE": "0"}, "DINGBOT_CREATE_RATE"},
		{map[string]string{"DINGBOT_LEASE": "1s"}, "DINGBOT_LEASE"},
		{map[string]string{"DINGBOT_RETENTION": "week"}, "DINGBOT_RETENTION"},
		{map[string]string{"DINGBOT_LOOKUP_CACHE_TTL": "forever"}, "DINGBOT_LOOKUP_CACHE_TTL"},
		{map[string]string{"DINGBOT_CONFIG": "/nonexistent/dingbot.yaml"}, "DINGBOT_CONFIG"},
		{map[string]string{"DINGBOT_MAX_LOOKUPS": "0"}, "DINGBOT_MAX_LOOKUPS"},
		{map[string]string{"DINGBOT_MAX_LOOKUPS": "1001"}, "DINGBOT_MAX_LOOKUPS"},
		{map[string]string{"DINGBOT_MAX_LOOKUPS": "many"}, "DINGBOT_MAX_LOOKUPS"},
		{map[string]string{"DINGBOT_COMMAND_TIMEOUT": "soon"}, "DINGBOT_COMMAND_TIMEOUT"},
		{map[string]string{"DINGBOT_COMMAND_TIMEOUT": "0"}, "DINGBOT_COMMAND_TIMEOUT"},
		{map[string]string{"DINGBOT_COMMAND_TIMEOUT": "10s"}, "DINGBOT_COMMAND_TIMEOUT"}, // shorter than the 15s API timeout
		{map[string]string{"DINGBOT_COMMAND_TIMEOUT": "2h"}, "DINGBOT_COMMAND_TIMEOUT"},
	}
	for _, tt := range tests {
		_, err := Load(env(tt.env))
		if err == nil {
			t.Errorf("%v: no error", tt.env)
			continue
		}
		if !strings.HasPrefix(err.Error(), tt.wantVar+":") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error %q should be one line starting with %s:", tt.env, err, tt.wantVar)
		}
	}
}

func TestValidateRequiresCredentialsWithoutLeakingSecret(t *testing.T) {
	c, err := Load(env(map[string]string{"DINGTALK_CLIENT_SECRET": "topsecret"}))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	if err == nil || !strings.HasPrefix(err.Error(), "DINGTALK_CLIENT_ID:") {
		t.Fatalf("got %v", err)
	}
	c, _ = Load(env(map[string]string{"DINGTALK_CLIENT_ID": "id"}))
	if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "DINGTALK_CLIENT_SECRET:") {
		t.Fatalf("got %v", err)
	}
}

func TestFileThenEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dingbot.yaml")
	yaml := `
dingtalk:
  client_id: fileid
  client_secret: filesecret
  api_url: http://127.0.0.1:9999/
http_addr: 127.0.0.1:9090
log:
  level: debug
max_concurrent: 4
`
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(env(map[string]string{"DINGBOT_CONFIG": path, "DINGTALK_CLIENT_ID": "envid"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientID != "envid" || c.ClientSecret != "filesecret" || c.RobotCode != "envid" {
		t.Errorf("credentials: %+v", c)
	}
	if c.APIURL != "http://127.0.0.1:9999" || c.HTTPAddr != "127.0.0.1:9090" || c.LogLevel != slog.LevelDebug || c.MaxConcurrent != 4 {
		t.Errorf("file values not applied: %+v", c)
	}
}

func TestBadYAMLIsOneLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("dingtalk: [\n  nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(env(map[string]string{"DINGBOT_CONFIG": path}))
	if err == nil || !strings.HasPrefix(err.Error(), "DINGBOT_CONFIG:") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %v", err)
	}
}

func TestLogValueRedactsSecret(t *testing.T) {
	c := &Config{ClientID: "id", ClientSecret: "topsecret", DatabaseURL: "postgres://bot:dbpass@db/dingbot"}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("config", "config", c)
	if strings.Contains(b.String(), "topsecret") || strings.Contains(b.String(), "dbpass") || !strings.Contains(b.String(), "[redacted]") {
		t.Fatalf("log line: %s", b.String())
	}
}

// TestREADMEDocumentsEverySetting keeps the README's configuration table in step with Settings.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Settings() {
		row := "| `" + s.Env + "` |"
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md has no configuration row for %s", s.Env)
		}
	}
}

func TestFileOnlySettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dingbot.yaml")
	yaml := `
language: zh
people:
  alice: "0123456"
  "@release-team": ["0123456", "0456789"]
names:
  "0123456": Alice
templates:
  release:
    description: Release coordination
    args: "@release-team --history yes"
command_aliases:
  ng: newgroup
`
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(env(map[string]string{"DINGBOT_CONFIG": path}))
	if err != nil {
		t.Fatal(err)
	}
	wantPeople := map[string][]string{"alice": {"0123456"}, "release-team": {"0123456", "0456789"}}
	if !reflect.DeepEqual(c.People, wantPeople) {
		t.Errorf("people: %v", c.People)
	}
	if c.Language != "zh" || c.Names["0123456"] != "Alice" || c.CommandAliases["ng"] != "newgroup" {
		t.Errorf("language/names/aliases: %+v", c)
	}
	if tpl := c.Templates["release"]; tpl.Args != "@release-team --history yes" || tpl.Description != "Release coordination" {
		t.Errorf("template: %+v", tpl)
	}
}

func TestFileOnlySettingsErrors(t *testing.T) {
	cases := map[string]string{
		"unknown key":         "peeple:\n  alice: x\n",
		"empty alias list":    "people:\n  alice: []\n",
		"alias with a space":  "people:\n  \"two words\": x\n",
		"empty template args": "templates:\n  release:\n    description: x\n",
		"map for user ID":     "people:\n  alice: {a: b}\n",
	}
	for name, body := range cases {
		path := filepath.Join(t.TempDir(), "dingbot.yaml")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(env(map[string]string{"DINGBOT_CONFIG": path}))
		if err == nil || !strings.HasPrefix(err.Error(), "DINGBOT_CONFIG:") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func TestStreamTimersCanBeSwitchedOff(t *testing.T) {
	c, err := Load(env(map[string]string{"DINGBOT_STREAM_IDLE_TIMEOUT": "0", "DINGBOT_STREAM_RECYCLE": "30m"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.StreamIdleTimeout >= 0 || c.StreamRecycle != 30*time.Minute {
		t.Errorf("idle %s recycle %s; want off (negative) and 30m", c.StreamIdleTimeout, c.StreamRecycle)
	}
}

// TestURLErrorsHideCredentials: a base URL with a user name and password, or
// a token in its query, is refused without echoing them, even when it does
// not parse.
func TestURLErrorsHideCredentials(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  string // what the message still shows
	}{
		{"https://bob-admin:pa55w0rd-XYZ@api.example.com", `"https://[redacted]@api.example.com" must not hold a user name or password`},
		{"https://bob-admin:pa55w0rd-XYZ@api.example.com/v1", "api.example.com/v1"},
		{"https://bob-admin@api.example.com", "[redacted]@api.example.com"},
		{"https://bob-admin:pa55w0rd-XYZ@api example.com", "[redacted]@api example.com"},         // does not parse
		{"https://bob-admin:pa55w0rd/XYZ@api.example.com", "https://[redacted]@api.example.com"}, // '/' in the password
		{"https://bob-admin:pa55w0rd%zzXYZ@api.example.com", "https://[redacted]@api.example.com"},
		{"bob-admin:pa55w0rd-XYZ@api.example.com", `"[redacted]@api.example.com"`}, // no scheme
		{"ftp://bob-admin:pa55w0rd-XYZ@api.example.com", "[redacted]@api.example.com"},
		{"https://api.example.com/?access_token=pa55w0rd-XYZ&u=bob-admin", `"https://api.example.com/?[redacted]"`},
	} {
		for _, name := range []string{"DINGTALK_API_URL", "DINGTALK_OAPI_URL"} {
			_, err := Load(env(map[string]string{name: tc.value}))
			if err == nil {
				t.Errorf("%s=%s: no error", name, tc.value)
				continue
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, name+": ") || !strings.Contains(msg, tc.want) {
				t.Errorf("%s=%s: error %q, want it to start with %s: and show %q", name, tc.value, msg, name, tc.want)
			}
			for _, secret := range []string{"pa55w0rd", "XYZ", "bob-admin"} {
				if strings.Contains(msg, secret) {
					t.Errorf("%s=%s: error %q shows %q", name, tc.value, msg, secret)
				}
			}
		}
	}
}

// TestFileErrorsHideSecret: whatever is wrong with the file, the error
// quotes nothing of the client secret or the database URL, not even the
// first characters yaml.v3 would show, and still says where the problem is.
func TestFileErrorsHideSecret(t *testing.T) {
	const secret = "TOPSECRET-9f8e7d"
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"list", "dingtalk: {client_secret: [" + secret + "]}\n", []string{"line 1: dingtalk.client_secret: cannot decode a list into string"}},
		{"mapping", "dingtalk:\n  client_id: x\n  client_secret: {a: " + secret + "}\n", []string{"line 3: dingtalk.client_secret: cannot decode a mapping"}},
		{"secret as a key", "dingtalk:\n  client_secret: {" + secret + ": 1}\n", []string{"line 2: dingtalk.client_secret:"}},
		{"int tag", "dingtalk:\n  client_secret: !!int " + secret + "\n", []string{"cannot decode !!str … as a !!int"}},
		{"float tag, short", "dingtalk:\n  client_secret: !!float TOPSECRET\n", []string{"as a !!float"}},
		{"custom tag", "dingtalk:\n  client_secret: !" + secret + " [x]\n", []string{"line 2: dingtalk.client_secret: cannot decode a tagged value"}},
		{"alias", "dingtalk:\n  client_secret: *" + secret + "\n", []string{"unknown anchor"}},
		{"anchor reused", "dingtalk:\n  client_secret: &" + secret + " [x]\n", []string{"line 2"}},
		{"secret as the section", "dingtalk: " + secret + "\n", []string{"line 1: dingtalk: cannot decode a !!str value into a section of settings"}},
		{"set twice", "dingtalk:\n  client_secret: " + secret + "\n  client_secret: " + secret + "x\n", []string{"line 3: dingtalk.client_secret: set twice (first at line 2)"}},
		{"unterminated quote", "dingtalk:\n  client_secret: \"" + secret + "\n", []string{"line 2"}},
		{"colon in the value", "dingtalk:\n  client_secret: " + secret + ": x\n", []string{"line 2: mapping values are not allowed"}},
		{"bad escape", "dingtalk:\n  client_secret: \"" + secret + "\\q\"\n", []string{"line 2"}},
		{"database URL", "database_url: !!int postgres://bot:" + secret + "@db/dingbot\n", []string{"as a !!int"}},
		{"unknown key next to the secret", "dingtalk:\n  client_secret: " + secret + "\n  client_secre: 1\n", []string{"line 3: unknown setting client_secre"}},
		{"pasted secret as a key", "dingtalk:\n  client_id: x\n  " + secret + ": 1\n", []string{"line 3: unknown setting"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dingbot.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(env(map[string]string{"DINGBOT_CONFIG": path}))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "DINGBOT_CONFIG: ") || strings.Contains(msg, "\n") {
				t.Errorf("error %q should be one line starting with DINGBOT_CONFIG:", msg)
			}
			if strings.Contains(msg, "TOPSEC") || strings.Contains(msg, "9f8e7d") {
				t.Errorf("error shows the secret: %s", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

// TestFileErrorsStillExplain: the errors of other settings keep naming them.
func TestFileErrorsStillExplain(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"max_concurrent: [1]\n", "yaml: unmarshal errors: line 1: max_concurrent: cannot decode a list into string"},
		{"log:\n  level: {a: b}\n", "line 2: log.level: cannot decode a mapping into string"},
		{"people:\n  alice: {a: b}\n", "line 2"},
		{"dingtalk: [\n  nope", "line 2: did not find expected ',' or ']'"},
		{"mode: [a]\nlanguage: [b]\nhttp_addr: [c]\ndata_dir: [d]\nlease: [e]\n", "line 3: http_addr: cannot decode a list into string; and 2 more"},
	} {
		path := filepath.Join(t.TempDir(), "dingbot.yaml")
		if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(env(map[string]string{"DINGBOT_CONFIG": path}))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to contain %q", tc.yaml, err, tc.want)
		}
	}
}

// TestCommandBounds: the look-up cap and the command deadline, from the
// environment or the file, and the deadline's floor (the API timeout).
func TestCommandBounds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dingbot.yaml")
	if err := os.WriteFile(path, []byte("max_lookups: 20\ncommand_timeout: 90s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(env(map[string]string{"DINGBOT_CONFIG": path}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxLookups != 20 || c.CommandTimeout != 90*time.Second {
		t.Errorf("from the file: MaxLookups %d, CommandTimeout %s", c.MaxLookups, c.CommandTimeout)
	}
	c, err = Load(env(map[string]string{"DINGBOT_CONFIG": path, "DINGBOT_MAX_LOOKUPS": "1000", "DINGBOT_COMMAND_TIMEOUT": "2s", "DINGTALK_API_TIMEOUT": "2s"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxLookups != 1000 || c.CommandTimeout != 2*time.Second {
		t.Errorf("from the environment: MaxLookups %d, CommandTimeout %s", c.MaxLookups, c.CommandTimeout)
	}
	_, err = Load(env(map[string]string{"DINGBOT_COMMAND_TIMEOUT": "10s"}))
	if want := "DINGBOT_COMMAND_TIMEOUT: 10s is shorter than DINGTALK_API_TIMEOUT (15s); a command needs time for at least one DingTalk call"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
	_, err = Load(env(map[string]string{"DINGBOT_MAX_LOOKUPS": "0"}))
	if want := `DINGBOT_MAX_LOOKUPS: "0" is not a whole number of people from 1 to 1000`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}
