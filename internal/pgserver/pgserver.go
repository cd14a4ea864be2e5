// Package pgserver runs a private PostgreSQL server for tests and the load
// driver: initdb'd in a temporary directory, on a free 127.0.0.1 port, which
// its user may crash-restart and removes at the end. The shared test server
// (DINGBOT_TEST_POSTGRES_URL) must stay up for the other tests, so what kills
// PostgreSQL on purpose (the chaos test and its load-driver twin) runs its
// own. It is internal: nothing outside dingbot's own tests and tools uses it.
package pgserver

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

// ErrNotInstalled means the PostgreSQL server binaries are not installed.
var ErrNotInstalled = errors.New("PostgreSQL server binaries are not installed (/usr/lib/postgresql/*/bin; apt-get install postgresql)")

// DefaultInitdb finds the installed PostgreSQL servers (Debian's layout, as
// .ci/run installs them); the newest is used.
const DefaultInitdb = "/usr/lib/postgresql/*/bin/initdb"

// Server is a private PostgreSQL server.
type Server struct {
	bin, dir, port string
	asRoot         bool // the commands run as the postgres user: initdb refuses root
	log            string
}

// Start initdb's a fresh cluster in a temporary directory and starts it on a
// free 127.0.0.1 port; initdb is a glob of the initdb programs to choose from
// ("" is DefaultInitdb), ErrNotInstalled when it matches none. The caller must
// call Remove. Its settings are the installed version's defaults but for
// fsync=off: the chaos runs measure the bots, not this machine's disk, and
// with fsync on a crash-restart spends seconds syncing the data directory
// (~1 s down with fsync off, 3–9 s with it on here, longer the busier the
// disk).
func Start(ctx context.Context, initdb string) (*Server, error) {
	if initdb == "" {
		initdb = DefaultInitdb
	}
	bins, _ := filepath.Glob(initdb)
	if len(bins) == 0 {
		return nil, ErrNotInstalled
	}
	sort.Strings(bins)
	p := &Server{bin: filepath.Dir(bins[len(bins)-1])}
	if u, err := user.Current(); err == nil && u.Uid == "0" {
		p.asRoot = true
		if _, err := user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("running as root, and there is no postgres user to run PostgreSQL as: %w", err)
		}
	}
	// Not under the driver's scratch directory: as root, that one is not
	// reachable by the postgres user.
	dir, err := os.MkdirTemp("", "dingbot-pg-")
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
		p.Remove()
		return nil, err
	}
	return p, nil
}

// settings are the server settings on top of the defaults (see Start).
const settings = "-c fsync=off"

func (p *Server) data() string { return filepath.Join(p.dir, "data") }

// URL is the connection URL of database db.
func (p *Server) URL(db string) string {
	return "postgres://postgres@127.0.0.1:" + p.port + "/" + db + "?sslmode=disable"
}

// Bin is the directory of the server's programs; Port its TCP port.
func (p *Server) Bin() string  { return p.bin }
func (p *Server) Port() string { return p.port }

// CreateDB creates an empty database named db.
func (p *Server) CreateDB(ctx context.Context, db string) error {
	return p.run(ctx, "createdb", "-h", "127.0.0.1", "-p", p.port, "-U", "postgres", db)
}

// Query runs sql on database db with psql and returns its unaligned output,
// for diagnostics.
func (p *Server) Query(ctx context.Context, db, sql string) (string, error) {
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
func (p *Server) start(ctx context.Context) error {
	return p.run(ctx, "pg_ctl", "-D", p.data(), "start", "-w", "-l", p.log,
		"-o", "-p "+p.port+" -k "+p.dir+" -c listen_addresses=127.0.0.1 "+settings)
}

// CrashRestart stops the server as a crash would (immediate: no
// checkpoint, every connection dropped; the next start replays the WAL)
// and starts it again. It returns how long the server was unreachable.
func (p *Server) CrashRestart(ctx context.Context) (time.Duration, error) {
	t0 := time.Now()
	if err := p.run(ctx, "pg_ctl", "-D", p.data(), "stop", "-m", "immediate", "-w"); err != nil {
		return 0, err
	}
	err := p.start(ctx)
	return time.Since(t0), err
}

// Remove stops the server (immediate: its data is thrown away) and removes
// its directory. It takes no context: the caller's may be cancelled.
func (p *Server) Remove() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = p.run(ctx, "pg_ctl", "-D", p.data(), "stop", "-m", "immediate", "-w")
	os.RemoveAll(p.dir)
}

// run runs one of the server's programs, as the postgres user when root.
func (p *Server) run(ctx context.Context, name string, args ...string) error {
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
