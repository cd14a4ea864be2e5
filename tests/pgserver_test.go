package tests

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// pgServer is a PostgreSQL server of the test's own, which the test may
// stop and start (the shared one of DINGBOT_TEST_POSTGRES_URL must stay up
// for the other tests).
type pgServer struct {
	bin, dir, port string
	asRoot         bool // the commands run as the postgres user (initdb refuses root)
	log            string
}

// startPostgres initdb's and starts a private PostgreSQL server on a free
// port, stopped and removed when the test ends. It skips the test where
// PostgreSQL is not installed, except in CI.
func startPostgres(t *testing.T) *pgServer {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("PostgreSQL is not installed (.ci/run installs it)")
		}
		t.Skip("PostgreSQL server binaries are not installed (apt-get install postgresql)")
	}
	sort.Strings(bins)
	p := &pgServer{bin: filepath.Dir(bins[len(bins)-1])}
	if u, err := user.Current(); err == nil && u.Uid == "0" {
		p.asRoot = true
	}
	dir, err := os.MkdirTemp("", "dingbot-chaos-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if p.asRoot {
		if out, err := exec.Command("chown", "postgres:", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v: %s", err, out)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.port = fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	p.log = filepath.Join(dir, "server.log")
	p.run(t, "initdb", "-D", filepath.Join(dir, "data"), "-A", "trust", "-U", "postgres")
	p.start(t)
	t.Cleanup(func() { p.pgctl(t, "stop", "-m", "immediate") })
	return p
}

// URL is the server's connection URL (database postgres).
func (p *pgServer) URL() string {
	return "postgres://postgres@127.0.0.1:" + p.port + "/postgres?sslmode=disable"
}

// start starts the server and waits until it accepts connections.
func (p *pgServer) start(t *testing.T) {
	t.Helper()
	p.pgctl(t, "start", "-w", "-l", p.log, "-o", "-p "+p.port+" -k "+p.dir+" -c listen_addresses=127.0.0.1 -c fsync=off")
}

// restart stops the server as a crash would (immediate: no checkpoint,
// connections dropped) and starts it again.
func (p *pgServer) restart(t *testing.T) {
	t.Helper()
	p.pgctl(t, "stop", "-m", "immediate", "-w")
	p.start(t)
}

// stop stops the server (connections are dropped).
func (p *pgServer) stop(t *testing.T) {
	t.Helper()
	p.pgctl(t, "stop", "-m", "immediate", "-w")
}

func (p *pgServer) pgctl(t *testing.T, args ...string) {
	t.Helper()
	p.run(t, "pg_ctl", append([]string{"-D", filepath.Join(p.dir, "data")}, args...)...)
}

func (p *pgServer) run(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(p.bin, name), args...)
	if p.asRoot {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(p.bin, name)}, args...)...)
	}
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(p.log)
		t.Fatalf("%s %s: %v (after %s)\n%s\n%s", name, strings.Join(args, " "), err, time.Since(start), out, log)
	}
}
