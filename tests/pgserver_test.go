package tests

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/dingbot/dingbot/internal/pgserver"
)

// pgServer is a PostgreSQL server of the test's own, which the test may
// crash-restart (the shared one of DINGBOT_TEST_POSTGRES_URL must stay up
// for the other tests).
type pgServer struct{ *pgserver.Server }

// startPostgres starts a private PostgreSQL server, removed when the test
// ends. It skips the test where PostgreSQL is not installed, except in CI.
func startPostgres(t *testing.T) *pgServer {
	t.Helper()
	s, err := pgserver.Start(context.Background(), "")
	switch {
	case errors.Is(err, pgserver.ErrNotInstalled) && os.Getenv("CI") == "":
		t.Skip("PostgreSQL server binaries are not installed (apt-get install postgresql)")
	case err != nil:
		t.Fatalf("starting PostgreSQL (.ci/run installs it): %v", err)
	}
	t.Cleanup(s.Remove)
	return &pgServer{s}
}

// URL is the server's connection URL (database postgres).
func (p *pgServer) URL() string { return p.Server.URL("postgres") }

// restart stops the server as a crash would (no checkpoint, connections
// dropped) and starts it again.
func (p *pgServer) restart(t *testing.T) {
	t.Helper()
	if _, err := p.CrashRestart(context.Background()); err != nil {
		t.Fatal(err)
	}
}
