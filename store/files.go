package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
)

// privateMode is the mode of the SQLite files: they hold session webhooks,
// every message's text and the audit, for the bot's user alone.
const privateMode fs.FileMode = 0o600

// makePrivate prepares the SQLite database at path for the bot's user
// alone: it creates the file with mode 0600 if it is missing, before SQLite
// opens it (SQLite gives the -wal, -shm and -journal files it creates the
// database file's mode), and takes the group's and others' permissions away
// from an existing database file and those companions.
func makePrivate(path string) error {
	if path == ":memory:" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, privateMode)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return err
		}
	case !errors.Is(err, fs.ErrExist):
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			if err := os.Chmod(p, perm&^0o077); err != nil {
				return fmt.Errorf("%s is readable by other users and cannot be made private (chmod 600 %s): %w", p, p, err)
			}
		}
	}
	return nil
}

// DataDirWarning returns a one-line warning for the log when the data
// directory dir is accessible to other users than the bot's (any group or
// other permission), naming it and the fix, or "" when it is not, does not
// exist yet (Open creates it 0700) or the system has no such permissions.
func DataDirWarning(dir string) string {
	if dir == "" || runtime.GOOS == "windows" {
		return ""
	}
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	if err != nil {
		return fmt.Sprintf("cannot check the permissions of data directory %s: %v", dir, err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Sprintf("data directory %s is accessible to other users (mode %04o) and holds the database with session webhooks and message texts: run chmod 700 %s", dir, perm, dir)
	}
	return ""
}
