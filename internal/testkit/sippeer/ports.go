package sippeer

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"testing"
)

// The ports handed out lie in [portLow, portHigh): below Linux's default
// ephemeral range (32768-60999), so that sockets bound to port 0 by the
// system under test never collide with them. The window is cut into slots
// of slotSize ports; a reservation takes whole, consecutive slots.
const (
	portLow  = 20000
	portHigh = 32000
	slotSize = 16
	numSlots = (portHigh - portLow) / slotSize
)

// PortBlock is a run of consecutive ports on 127.0.0.1, reserved for one
// test. Each port was free for both UDP and TCP when it was reserved.
type PortBlock struct {
	First int
	Count int
}

// Port returns the i-th port of the block. It panics when i is outside the
// block, which is a bug in the caller.
func (b PortBlock) Port(i int) int {
	if i < 0 || i >= b.Count {
		panic(fmt.Sprintf("sippeer: port %d of a block of %d", i, b.Count))
	}
	return b.First + i
}

// Last returns the last port of the block.
func (b PortBlock) Last() int { return b.First + b.Count - 1 }

// Range returns the block as "first-last", the form of baresip's rtp_ports.
func (b PortBlock) Range() string { return strconv.Itoa(b.First) + "-" + strconv.Itoa(b.Last()) }

// FreePorts reserves n consecutive ports on 127.0.0.1 that are free for UDP
// and TCP, for the rest of the test. Reservations never overlap, neither
// within the test binary nor across test binaries running at the same time
// (they hold a lock file per slot of ports in the temp directory); they are
// released when the test ends. FreePorts fails the test when no block is
// free or n is out of range.
func FreePorts(tb testing.TB, n int) PortBlock {
	tb.Helper()
	if n < 1 || n > 64*slotSize {
		tb.Fatalf("sippeer: FreePorts(%d): ask for 1 to %d ports", n, 64*slotSize)
	}
	b, release, err := reservePorts(n)
	if err != nil {
		tb.Fatalf("sippeer: %v", err)
	}
	tb.Cleanup(release)
	return b
}

// reservePorts reserves n consecutive ports as FreePorts does and returns
// the function that releases them.
func reservePorts(n int) (PortBlock, func(), error) {
	slots := (n + slotSize - 1) / slotSize
	start := rand.IntN(numSlots)
	for try := range numSlots {
		first := (start + try) % numSlots
		if first+slots > numSlots {
			continue
		}
		release, ok := lockSlots(first, slots)
		if !ok {
			continue
		}
		b := PortBlock{First: portLow + first*slotSize, Count: n}
		if !portsFree(b) {
			release()
			continue
		}
		return b, release, nil
	}
	return PortBlock{}, nil, fmt.Errorf("no %d free consecutive ports in %d-%d on 127.0.0.1", n, portLow, portHigh-1)
}

// FreePort reserves one port on 127.0.0.1 that is free for UDP and TCP.
func FreePort(tb testing.TB) int {
	tb.Helper()
	return FreePorts(tb, 1).First
}

// lockSlots locks slots [first, first+n) or none of them.
func lockSlots(first, n int) (release func(), ok bool) {
	var held []func()
	releaseAll := func() {
		for _, r := range held {
			r()
		}
	}
	for s := first; s < first+n; s++ {
		r, ok := lockSlot(s)
		if !ok {
			releaseAll()
			return nil, false
		}
		held = append(held, r)
	}
	return releaseAll, true
}

// portsFree reports whether every port of b can be bound on 127.0.0.1 for
// UDP and for TCP right now.
func portsFree(b PortBlock) bool {
	for p := b.First; p <= b.Last(); p++ {
		addr := "127.0.0.1:" + strconv.Itoa(p)
		l, err := net.Listen("tcp4", addr)
		if err != nil {
			return false
		}
		l.Close()
		c, err := net.ListenPacket("udp4", addr)
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}
