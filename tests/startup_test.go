package tests

// Start-up failures and the preflight's promise to change nothing: a busy
// port is one line and exit 1, with nothing started; `dingbot preflight`
// creates no data directory or database and writes no existing one.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/store"
)

// TestServeOnBusyPort: when an address is taken, serve exits 1 with one
// line naming the setting and the address, before it starts anything (no
// preflight call, no Stream connection, no worker that would fail on the
// closed database).
func TestServeOnBusyPort(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, setting string
		env           map[string]string
	}{
		{"stream mode, DINGBOT_HTTP_ADDR", "DINGBOT_HTTP_ADDR", nil},
		{"http mode, DINGBOT_METRICS_ADDR", "DINGBOT_METRICS_ADDR",
			map[string]string{"DINGBOT_MODE": "http", "DINGBOT_HTTP_ADDR": "127.0.0.1:0"}},
		// The callback's listener is the second one: the first, already
		// bound, is closed again.
		{"http mode, DINGBOT_HTTP_ADDR", "DINGBOT_HTTP_ADDR",
			map[string]string{"DINGBOT_MODE": "http", "DINGBOT_METRICS_ADDR": "127.0.0.1:0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			busy, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer busy.Close()
			fake := dingtalktest.NewServer(dingtalktest.Options{})
			t.Cleanup(fake.Close)
			env := botEnv(fake, map[string]string{"DINGBOT_DATA_DIR": t.TempDir(), "DINGBOT_LOG_LEVEL": "debug"})
			for k, v := range tc.env {
				env[k] = v
			}
			env[tc.setting] = busy.Addr().String()

			stdout, stderr, code := runCLI(t, env, "serve")
			want := fmt.Sprintf("dingbot: %s: cannot listen on %s: address already in use\n", tc.setting, busy.Addr())
			if code != 1 || stderr != want {
				t.Errorf("exit %d, stderr %q; want exit 1 and %q\nstdout:\n%s", code, stderr, want, stdout)
			}
			if strings.Contains(stdout+stderr, "database is closed") {
				t.Errorf("output mentions the closed database:\n%s%s", stdout, stderr)
			}
			// stdout holds the start-up log lines and nothing from anything started.
			for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
				var rec struct{ Level, Msg string }
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Errorf("stdout line is not a log line: %q", line)
					continue
				}
				if rec.Level == "ERROR" || rec.Msg == "preflight" || rec.Msg == "http server listening" {
					t.Errorf("unexpected log line: %s", line)
				}
			}
			if n := fake.TokenFetches(); n != 0 {
				t.Errorf("DingTalk was asked for %d access tokens; want none (nothing starts)", n)
			}
			if n := fake.OpenAttempts(); n != 0 {
				t.Errorf("%d Stream connections were attempted; want none", n)
			}
		})
	}
}

// TestServeStopsInReverseOrder: on SIGTERM the bot stops taking messages,
// finishes, and only then stops its HTTP server and closes the store:
// nothing is logged as failing on the way.
func TestServeStopsInReverseOrder(t *testing.T) {
	t.Parallel()
	fake := dingtalktest.NewServer(dingtalktest.Options{})
	t.Cleanup(fake.Close)
	p := startProcess(t, botEnv(fake, map[string]string{"DINGBOT_DATA_DIR": t.TempDir()}))
	p.waitReady(t, 200)
	p.Stop(t)
	logs := p.Logs()
	shutting, stopped := strings.Index(logs, `"msg":"shutting down`), strings.Index(logs, `"msg":"stopped"`)
	if shutting < 0 || stopped < shutting {
		t.Errorf("want \"shutting down\" then \"stopped\" in the logs:\n%s", logs)
	}
	for _, bad := range []string{`"level":"ERROR"`, "database is closed", `"msg":"http shutdown"`} {
		if strings.Contains(logs[max(shutting, 0):], bad) {
			t.Errorf("shutdown logged %s:\n%s", bad, logs)
		}
	}
}

// preflightIn runs `dingbot preflight` in dir (its working directory).
func preflightIn(t *testing.T, dir string, env map[string]string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, "preflight")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, exit := err.(*exec.ExitError); err != nil && !exit {
		t.Fatalf("running dingbot preflight: %v", err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

// snapshot lists the files under dir with their size, mode and mtime.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		out[path] = fmt.Sprintf("%d %v %d", fi.Size(), fi.Mode(), fi.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPreflightCreatesNothing: in a directory without ./data (the default
// DINGBOT_DATA_DIR), preflight creates neither the directory nor the
// database; storage is a "?" line (it cannot be checked without creating
// the database), so it exits 0 when nothing else is missing.
func TestPreflightCreatesNothing(t *testing.T) {
	t.Parallel()
	fake := dingtalktest.NewServer(dingtalktest.Options{})
	t.Cleanup(fake.Close)
	env := botEnv(fake, nil) // no DINGBOT_DATA_DIR: ./data
	dir := t.TempDir()
	out, errOut, code := preflightIn(t, dir, env)
	if code != 0 || !strings.Contains(out, "? storage") ||
		!strings.Contains(out, "SQLite "+filepath.Join("data", store.DefaultFile)+" does not exist yet: serve creates it on first start") {
		t.Errorf("preflight: exit %d, want 0 and a \"? storage … does not exist yet\" line\n%s%s", code, out, errOut)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("preflight created %v in its working directory", entries)
	}

	// A data directory that cannot be created is a ✗ line and exit 1, still creating nothing.
	if err := os.WriteFile(filepath.Join(dir, "data"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code = preflightIn(t, dir, env)
	if code != 1 || !strings.Contains(out, "✗ storage") {
		t.Errorf("preflight with ./data a file: exit %d, want 1 and a ✗ storage line\n%s", code, out)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("preflight created files: %v", entries)
	}
}

// TestPreflightWritesNoExistingDatabase: an existing database is read, not
// written: its files keep their size, mode and modification time, no -wal
// or -shm file appears, and no migration runs.
func TestPreflightWritesNoExistingDatabase(t *testing.T) {
	t.Parallel()
	fake := dingtalktest.NewServer(dingtalktest.Options{})
	t.Cleanup(fake.Close)
	dataDir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, "", dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// More open than serve leaves it: preflight reports, it does not chmod.
	if err := os.Chmod(filepath.Join(dataDir, store.DefaultFile), 0o640); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dataDir)
	time.Sleep(20 * time.Millisecond) // a write now would show in the mtime

	out, errOut, code := preflightIn(t, t.TempDir(), botEnv(fake, map[string]string{"DINGBOT_DATA_DIR": dataDir}))
	if code != 0 || !strings.Contains(out, "✓ storage") || !strings.Contains(out, "answers, schema up to date") {
		t.Errorf("preflight: exit %d, want 0 and \"✓ storage … answers, schema up to date\"\n%s%s", code, out, errOut)
	}
	after := snapshot(t, dataDir)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("preflight changed the data directory:\nbefore %v\nafter  %v", before, after)
	}
}

// TestPreflightBesideARunningBot: with the bot running (its -wal and -shm
// files open), preflight reads the same database through them.
func TestPreflightBesideARunningBot(t *testing.T) {
	t.Parallel()
	fake := dingtalktest.NewServer(dingtalktest.Options{})
	t.Cleanup(fake.Close)
	env := botEnv(fake, map[string]string{"DINGBOT_DATA_DIR": t.TempDir()})
	p := startProcess(t, env)
	p.waitReady(t, 200)
	out, errOut, code := preflightIn(t, t.TempDir(), env)
	if code != 0 || !strings.Contains(out, "✓ storage") || !strings.Contains(out, "answers, schema up to date") {
		t.Errorf("preflight beside a running bot: exit %d\n%s%s", code, out, errOut)
	}
}
