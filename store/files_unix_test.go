//go:build unix

package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// permissiveUmask clears the umask for the test, so that the modes files
// are created with show.
func permissiveUmask(t *testing.T) {
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })
}

func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %04o, want %04o", filepath.Base(path), got, want)
	}
}

// TestSQLiteFilesPrivate: the database and the -wal and -shm files SQLite
// creates next to it are the bot user's alone, whatever the umask.
func TestSQLiteFilesPrivate(t *testing.T) {
	permissiveUmask(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	s, err := Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ok, _, err := s.Claim(ctx, "m", []byte(`{"text":"secret text"}`), "", t0, lease); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, err := s.AdmitSigned(ctx, "k", "m", 8, at(lease), t0); !ok || err != nil {
		t.Fatal(ok, err)
	}
	wantMode(t, dir, 0o700)
	db := filepath.Join(dir, DefaultFile)
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		wantMode(t, p, 0o600)
	}

	// sqlite:PATH too.
	p := filepath.Join(t.TempDir(), "x.db")
	s2, err := Open(ctx, "sqlite:"+p, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.PruneSigned(ctx, t0); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{p, p + "-wal", p + "-shm"} {
		wantMode(t, p, 0o600)
	}
}

// TestSQLiteFilesTightened: files an older version created readable by
// everyone are made private when the database is opened.
func TestSQLiteFilesTightened(t *testing.T) {
	permissiveUmask(t)
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, DefaultFile)
	s, err := Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ok, _, err := s.Claim(ctx, "m", []byte(`{}`), "", t0, lease); !ok || err != nil {
		t.Fatal(ok, err)
	}
	// As an older version left them, while a process has them open.
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s2, err := Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		wantMode(t, p, 0o600)
	}
	if _, err := s2.Get(ctx, "m"); err != nil {
		t.Fatal(err)
	}

	// A closed database alone, 0664.
	p := filepath.Join(t.TempDir(), "old.db")
	s3, err := Open(ctx, "file:"+p, "")
	if err != nil {
		t.Fatal(err)
	}
	s3.Close()
	if err := os.Chmod(p, 0o664); err != nil {
		t.Fatal(err)
	}
	s4, err := Open(ctx, "file:"+p, "")
	if err != nil {
		t.Fatal(err)
	}
	s4.Close()
	wantMode(t, p, 0o600)
}

func TestDataDirWarning(t *testing.T) {
	permissiveUmask(t)
	dir := filepath.Join(t.TempDir(), "data dir")
	if w := DataDirWarning(dir); w != "" {
		t.Errorf("DataDirWarning of a missing directory = %q, want none", w)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w := DataDirWarning(dir)
	if !strings.Contains(w, dir) || !strings.Contains(w, "chmod 700 "+dir) || strings.Contains(w, "\n") {
		t.Errorf("DataDirWarning of a 0755 directory = %q, want one line naming it and chmod 700", w)
	}
	for _, mode := range []os.FileMode{0o750, 0o701} {
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		if DataDirWarning(dir) == "" {
			t.Errorf("no warning for a %04o directory", mode)
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if w := DataDirWarning(dir); w != "" {
		t.Errorf("DataDirWarning of a 0700 directory = %q, want none", w)
	}
}
