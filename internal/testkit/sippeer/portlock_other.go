//go:build !unix

package sippeer

import "sync"

var (
	slotMu   sync.Mutex
	slotHeld = map[int]bool{}
)

// lockSlot reserves the slot within this process only: without flock there
// is no cheap lock that the kernel drops when a process dies.
func lockSlot(slot int) (release func(), ok bool) {
	slotMu.Lock()
	defer slotMu.Unlock()
	if slotHeld[slot] {
		return nil, false
	}
	slotHeld[slot] = true
	return func() {
		slotMu.Lock()
		delete(slotHeld, slot)
		slotMu.Unlock()
	}, true
}
