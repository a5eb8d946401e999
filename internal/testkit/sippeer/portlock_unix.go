//go:build unix

package sippeer

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockSlot takes an exclusive, non-blocking flock on the slot's lock file.
// flock locks belong to the open file, so a second lock of the same slot
// fails in this process as in any other; the kernel drops the lock when the
// process dies, so a crashed test binary leaves nothing behind.
func lockSlot(slot int) (release func(), ok bool) {
	dir := filepath.Join(os.TempDir(), "parley-sippeer-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, false
	}
	f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("slot-%04d.lock", slot)), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return func() { f.Close() }, true
}
