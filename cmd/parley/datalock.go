package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
)

// lockFileName is the file in the data directory that a server (serve or
// demo) holds an exclusive lock on while it uses the directory. It holds
// the process id of the holder, for the message to the next one.
const lockFileName = "parley.lock"

// errLocked is what lockFile returns when another process holds the lock.
var errLocked = errors.New("locked by another process")

// dataLock is an exclusive lock on a data directory. The operating system
// releases it when the process ends, however it ends, so a crash never
// leaves the directory locked.
type dataLock struct {
	f *os.File
}

// lockDataDir takes the lock on dir, which must exist. It returns
// ECONFLICT naming the holder's pid when another process holds it.
// `parley admin` does not take it: it changes the database beside a
// running server.
func lockDataDir(dir string) (*dataLock, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFileName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	if err := lockFile(f); err != nil {
		pid := lockHolder(f)
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, cc.Errorf(cc.ECONFLICT, "data directory %s is in use by another parley (pid %s); stop it or use --data", dir, pid)
		}
		return nil, fmt.Errorf("lock data directory %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock data directory %s: write the pid: %w", dir, err)
	}
	return &dataLock{f: f}, nil
}

// lockHolder returns the pid written in the lock file, or "unknown" while
// the holder has not written it yet.
func lockHolder(f *os.File) string {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 32))
	if _, perr := strconv.Atoi(strings.TrimSpace(string(b))); err != nil || perr != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// Close releases the lock; it may be called more than once. The file stays,
// so that the next holder locks the same inode.
func (l *dataLock) Close() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
