package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// releaseFlags are the build flags of the shipped binary (Dockerfile, .ci/run):
// nomsgpack leaves gin's MessagePack codec (unused) out of the binary.
var releaseFlags = []string{"-trimpath", "-tags=nomsgpack", "-ldflags=-s -w"}

// moduleRoot returns the directory of dingbot's go.mod, wherever the driver
// runs from (go run ./loadtest at the root, go test in loadtest/).
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the dingbot module (go env GOMOD is empty)")
	}
	return filepath.Dir(mod), nil
}

// build compiles pkg (relative to the module root) into dir/name with the
// release flags plus extra, and returns the path.
func build(ctx context.Context, root, dir, name, pkg string, extra []string) (string, error) {
	out := filepath.Join(dir, name)
	args := append([]string{"build"}, releaseFlags...)
	args = append(args, extra...)
	args = append(args, "-o", out, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out, nil
}

// proc is a running bot process (dingbot or echobot).
type proc struct {
	cmd     *exec.Cmd
	started time.Time
	exited  chan struct{}
	waitErr error

	mu    sync.Mutex
	logs  bytes.Buffer
	lines chan string // every output line, dropped when nobody reads
}

// startProc runs bin args with env (on top of PATH and HOME=dir) and
// collects its output. It does not wait for anything.
func startProc(bin string, args []string, env map[string]string, dir string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Dir = dir
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	p := &proc{cmd: cmd, exited: make(chan struct{}), lines: make(chan string, 64)}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			if p.logs.Len() < 4<<20 {
				p.logs.WriteString(line + "\n")
			}
			p.mu.Unlock()
			select {
			case p.lines <- line:
			default:
			}
		}
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// Logs returns what the process printed (up to 4 MiB).
func (p *proc) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// waitLine waits until match accepts an output line and returns its result.
func (p *proc) waitLine(ctx context.Context, match func(string) (string, bool)) (string, error) {
	for {
		select {
		case line := <-p.lines:
			if v, ok := match(line); ok {
				return v, nil
			}
		case <-p.exited:
			return "", fmt.Errorf("exited early: %v\n%s", p.waitErr, p.Logs())
		case <-ctx.Done():
			return "", fmt.Errorf("%w waiting for the process\n%s", ctx.Err(), p.Logs())
		}
	}
}

// listening matches dingbot's "http server listening" log line.
func listening(line string) (string, bool) {
	var rec struct {
		Msg  string `json:"msg"`
		Addr string `json:"addr"`
	}
	if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "http server listening" {
		return rec.Addr, true
	}
	return "", false
}

// waitReady polls http://addr/readyz every 2 ms until it answers 200 and
// returns the time since the process was started.
func (p *proc) waitReady(ctx context.Context, addr string) (time.Duration, error) {
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(p.started), nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("/readyz never answered 200: %w\n%s", ctx.Err(), p.Logs())
		case <-p.exited:
			return 0, fmt.Errorf("exited early: %v\n%s", p.waitErr, p.Logs())
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM and waits up to 15 s, then kills the process.
func (p *proc) stop() error {
	select {
	case <-p.exited:
		return p.waitErr
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return p.waitErr
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return errors.New("did not exit within 15 s of SIGTERM; killed")
	}
}

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat (100 on Linux).
const clockTicks = 100

// cpuTime reads the CPU time (user + system) the process used so far.
func (p *proc) cpuTime() (time.Duration, error) {
	return statCPU(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
}

// selfCPU is cpuTime of this process: the fake DingTalk and the driver.
func selfCPU() (time.Duration, error) { return statCPU("/proc/self/stat") }

// statCPU reads utime + stime from a /proc/PID/stat file.
func statCPU(path string) (time.Duration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// utime and stime are fields 14 and 15, i.e. the 12th and 13th after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// memory is a process's resident set now (VmRSS; RssAnon of it is heap,
// stacks and data, RssFile pages of the executable) and at its peak (VmHWM), in bytes.
type memory struct{ RSS, Anon, File, HWM int64 }

// readMemory reads /proc/PID/status.
func (p *proc) readMemory() (memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return memory{}, err
	}
	var m memory
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM" && k != "RssAnon" && k != "RssFile") {
			continue
		}
		f := strings.Fields(v) // "12345 kB"
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			m.RSS = n << 10
		case "RssAnon":
			m.Anon = n << 10
		case "RssFile":
			m.File = n << 10
		default:
			m.HWM = n << 10
		}
	}
	return m, nil
}
