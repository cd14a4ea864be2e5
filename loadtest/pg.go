package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// errNoPostgres means the PostgreSQL server binaries are not installed; the
// replica scenarios are then skipped with a note in the report.
var errNoPostgres = errors.New("PostgreSQL server binaries are not installed (/usr/lib/postgresql/*/bin; apt-get install postgresql)")

// initdbGlob finds the installed PostgreSQL servers (Debian's layout, as
// .ci/run installs them); the newest is used.
var initdbGlob = "/usr/lib/postgresql/*/bin/initdb"

// pgServer is a private PostgreSQL server the driver initdb's, starts, may
// crash-restart, and removes (as tests/pgserver_test.go does for the chaos
// test; test files cannot be imported).
type pgServer struct {
	bin, dir, port string
	asRoot         bool // the commands run as the postgres user: initdb refuses root
	log            string
}

// startPostgres initdb's a fresh cluster in a temporary directory and starts
// it on a free 127.0.0.1 port. The caller must call remove. Its settings are
// the installed version's defaults but for fsync=off, as in the chaos test:
// the replica bursts measure the bots, not this machine's disk, and with
// fsync on a crash-restart spends seconds syncing the data directory
// (~1 s down with fsync off, 3–9 s with it on here, longer the busier the
// disk), which would make the chaos figure the disk's.
func startPostgres(ctx context.Context) (*pgServer, error) {
	bins, _ := filepath.Glob(initdbGlob)
	if len(bins) == 0 {
		return nil, errNoPostgres
	}
	sort.Strings(bins)
	p := &pgServer{bin: filepath.Dir(bins[len(bins)-1])}
	if u, err := user.Current(); err == nil && u.Uid == "0" {
		p.asRoot = true
		if _, err := user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("running as root, and there is no postgres user to run PostgreSQL as: %w", err)
		}
	}
	// Not under the driver's scratch directory: as root, that one is not
	// reachable by the postgres user.
	dir, err := os.MkdirTemp("", "dingbot-loadtest-pg-")
	if err != nil {
		return nil, err
	}
	p.dir = dir
	if p.asRoot {
		if out, err := exec.CommandContext(ctx, "chown", "postgres:", dir).CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("chown postgres %s: %v: %s", dir, err, out)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p.port = fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	p.log = filepath.Join(dir, "server.log")
	if err := p.run(ctx, "initdb", "-D", p.data(), "-A", "trust", "-U", "postgres"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := p.start(ctx); err != nil {
		p.remove()
		return nil, err
	}
	return p, nil
}

// pgSettings are the server settings on top of the defaults (see startPostgres).
var pgSettings = "-c fsync=off"

func (p *pgServer) data() string { return filepath.Join(p.dir, "data") }

// URL is the connection URL of database db.
func (p *pgServer) URL(db string) string {
	return "postgres://postgres@127.0.0.1:" + p.port + "/" + db + "?sslmode=disable"
}

// createDB creates an empty database named db.
func (p *pgServer) createDB(ctx context.Context, db string) error {
	return p.run(ctx, "createdb", "-h", "127.0.0.1", "-p", p.port, "-U", "postgres", db)
}

// query runs sql on database db with psql and returns its unaligned output
// (a diagnostic: the driver itself treats the database as the bots').
func (p *pgServer) query(ctx context.Context, db, sql string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(p.bin, "psql"), "-h", "127.0.0.1", "-p", p.port, "-U", "postgres", "-d", db,
		"-A", "-F", " ", "-X", "-c", sql).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("psql: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// start starts the server and waits until it accepts connections.
func (p *pgServer) start(ctx context.Context) error {
	return p.run(ctx, "pg_ctl", "-D", p.data(), "start", "-w", "-l", p.log,
		"-o", "-p "+p.port+" -k "+p.dir+" -c listen_addresses=127.0.0.1 "+pgSettings)
}

// crashRestart stops the server as a crash would (immediate: no
// checkpoint, every connection dropped; the next start replays the WAL)
// and starts it again. It returns how long the server was unreachable.
func (p *pgServer) crashRestart(ctx context.Context) (time.Duration, error) {
	t0 := time.Now()
	if err := p.run(ctx, "pg_ctl", "-D", p.data(), "stop", "-m", "immediate", "-w"); err != nil {
		return 0, err
	}
	err := p.start(ctx)
	return time.Since(t0), err
}

// remove stops the server (immediate: its data is thrown away) and removes
// its directory. It does not use the run's context, which may be cancelled.
func (p *pgServer) remove() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = p.run(ctx, "pg_ctl", "-D", p.data(), "stop", "-m", "immediate", "-w")
	os.RemoveAll(p.dir)
}

// run runs one of the server's programs, as the postgres user when root.
func (p *pgServer) run(ctx context.Context, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(p.bin, name), args...)
	if p.asRoot {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", filepath.Join(p.bin, name)}, args...)...)
	}
	cmd.Dir = p.dir
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		msg := fmt.Sprintf("%s %s: %v (after %s): %s", name, strings.Join(args, " "), err, time.Since(start).Round(time.Millisecond), strings.TrimSpace(string(out)))
		if log, _ := os.ReadFile(p.log); len(log) > 0 {
			msg += "\nserver log:\n" + lastLines(string(log), 20)
		}
		return errors.New(msg)
	}
	return nil
}

// lastLines is the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
