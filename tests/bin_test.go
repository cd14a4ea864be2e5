package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dingbot/dingbot/internal/testutil"
)

// binary is the dingbot executable built once for all end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dingbot-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "dingbot")
	build := exec.Command("go", "build", "-race", "-o", binary, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building dingbot:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// process is a running dingbot binary.
type process struct {
	cmd      *exec.Cmd
	httpAddr string // DINGBOT_HTTP_ADDR's listener: the callback in http mode
	// metricsAddr is the listener of /healthz, /readyz and /metrics when
	// they are not on httpAddr (DINGBOT_METRICS_ADDR; always in http mode).
	metricsAddr string
	exited      chan struct{}
	exitErr     error

	logs testutil.SyncBuffer
}

// startProcess runs `dingbot serve` with env (on top of a minimal environment)
// and waits until its HTTP listener is up. The process is stopped with SIGTERM
// at the end of the test, which must make it exit 0.
func startProcess(t testing.TB, env map[string]string) *process {
	t.Helper()
	cmd := exec.Command(binary, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	p := &process{cmd: cmd, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			_, _ = p.logs.Write([]byte(line + "\n"))
			var rec struct {
				Msg         string `json:"msg"`
				Addr        string `json:"addr"`
				MetricsAddr string `json:"metrics_addr"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "http server listening" {
				addr <- [2]string{rec.Addr, rec.MetricsAddr}
			}
		}
		p.exitErr = cmd.Wait()
		close(p.exited)
	}()
	select {
	case a := <-addr:
		p.httpAddr, p.metricsAddr = a[0], a[1]
	case <-p.exited:
		t.Fatalf("dingbot exited early: %v\n%s", p.exitErr, p.Logs())
	case <-time.After(20 * time.Second):
		t.Fatalf("dingbot did not start listening\n%s", p.Logs())
	}
	t.Cleanup(func() {
		if p.Running() {
			p.Stop(t)
		}
		if t.Failed() {
			t.Logf("dingbot logs:\n%s", p.Logs())
		}
	})
	return p
}

// Logs returns everything the process printed so far.
func (p *process) Logs() string {
	return p.logs.String()
}

// Running reports whether the process has not exited.
func (p *process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM and requires exit status 0 within 15 s.
func (p *process) Stop(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Fatalf("dingbot did not exit after SIGTERM\n%s", p.Logs())
	}
	if p.exitErr != nil {
		t.Fatalf("dingbot exit after SIGTERM: %v (want status 0)\n%s", p.exitErr, p.Logs())
	}
}

// WaitExit waits for the process to exit by itself and returns its exit code.
func (p *process) WaitExit(t testing.TB) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("dingbot did not exit\n%s", p.Logs())
	}
	return p.cmd.ProcessState.ExitCode()
}

// get fetches path from the bot's probe and metrics listener and returns the status and body.
func (p *process) get(t testing.TB, path string) (int, string) {
	t.Helper()
	addr := p.httpAddr
	if p.metricsAddr != "" {
		addr = p.metricsAddr
	}
	return p.getFrom(t, addr, path)
}

// getFrom fetches path from addr and returns the status and body.
func (p *process) getFrom(t testing.TB, addr, path string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitReady polls /readyz until it answers want (200 or 503).
func (p *process) waitReady(t testing.TB, want int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, _ := p.get(t, "/readyz")
		if code == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz stayed %d, want %d\n%s", code, want, p.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metric returns the value of one sample line of /metrics, e.g.
// `dingbot_stream_reconnects_total`, or "" if absent.
// waitMetric polls sample until it reads want (for up to 10 s) and returns
// its last value.
func (p *process) waitMetric(t testing.TB, sample, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := p.metric(t, sample)
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *process) metric(t testing.TB, sample string) string {
	t.Helper()
	_, body := p.get(t, "/metrics")
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, sample+" ") {
			return strings.TrimPrefix(line, sample+" ")
		}
	}
	return ""
}
