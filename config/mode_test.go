package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestModeSetting(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, ModeStream},
		{map[string]string{"DINGBOT_MODE": "stream"}, ModeStream},
		{map[string]string{"DINGBOT_MODE": "http"}, ModeHTTP},
		{map[string]string{"DINGBOT_MODE": " HTTP "}, ModeHTTP},
	} {
		c, err := Load(env(tc.env))
		if err != nil {
			t.Fatalf("%v: %v", tc.env, err)
		}
		if c.Mode != tc.want {
			t.Errorf("%v: mode %q, want %q", tc.env, c.Mode, tc.want)
		}
	}
	_, err := Load(env(map[string]string{"DINGBOT_MODE": "webhook"}))
	if err == nil || err.Error() != `DINGBOT_MODE: "webhook" is not stream or http` {
		t.Errorf("bad mode: error %v", err)
	}
}

func TestCallbackMaxBodySetting(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want int64
	}{
		{"", 64 << 10},
		{"65536", 65536},
		{"1024", 1024},
		{"64KiB", 64 << 10},
		{"64 kib", 64 << 10},
		{"128k", 128 << 10},
		{"128KB", 128 << 10},
		{"1MiB", 1 << 20},
		{"2M", 2 << 20},
		{"16MiB", 16 << 20},
		{"4096B", 4096},
	} {
		c, err := Load(env(map[string]string{"DINGBOT_CALLBACK_MAX_BODY": tc.v}))
		if err != nil {
			t.Errorf("%q: %v", tc.v, err)
			continue
		}
		if c.CallbackMaxBody != tc.want {
			t.Errorf("%q: %d bytes, want %d", tc.v, c.CallbackMaxBody, tc.want)
		}
	}
	for _, v := range []string{"0", "-1", "1023", "17MiB", "lots", "1.5MiB", "KiB", "64GiB", "99999999999999999999"} {
		_, err := Load(env(map[string]string{"DINGBOT_CALLBACK_MAX_BODY": v}))
		if err == nil {
			t.Errorf("%q: no error", v)
			continue
		}
		if !strings.HasPrefix(err.Error(), "DINGBOT_CALLBACK_MAX_BODY: ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %q should be one line naming DINGBOT_CALLBACK_MAX_BODY", v, err)
		}
	}
}

func TestModeSettingsFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dingbot.yaml")
	if err := os.WriteFile(path, []byte("mode: http\ncallback_max_body: 128KiB\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(env(map[string]string{"DINGBOT_CONFIG": path}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != ModeHTTP || c.CallbackMaxBody != 128<<10 {
		t.Errorf("mode %q, max body %d; want http, %d", c.Mode, c.CallbackMaxBody, 128<<10)
	}
	c, err = Load(env(map[string]string{"DINGBOT_CONFIG": path, "DINGBOT_MODE": "stream"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != ModeStream {
		t.Errorf("environment did not win over the file: mode %q", c.Mode)
	}
}
