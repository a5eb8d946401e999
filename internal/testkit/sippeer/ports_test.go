package sippeer

import (
	"fmt"
	"net"
	"sync"
	"testing"
)

func TestFreePortsAreFreeAndDisjoint(t *testing.T) {
	// Eight reservations at once, all held until every one is checked (a
	// reservation released early may rightly be handed out again).
	type got struct {
		n       int
		b       PortBlock
		release func()
		err     error
	}
	results := make([]got, 8)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 1 + i*5 // 1..36 ports: one to three slots
			b, release, err := reservePorts(n)
			results[i] = got{n, b, release, err}
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r.release != nil {
			defer r.release()
		}
	}
	seen := map[int]int{}
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("reservation %d: %v", i, r.err)
		}
		b := r.b
		if b.Count != r.n || b.Last() != b.First+r.n-1 || b.First < portLow || b.Last() >= portHigh {
			t.Errorf("reservePorts(%d) = %+v", r.n, b)
		}
		for p := b.First; p <= b.Last(); p++ {
			if other, dup := seen[p]; dup {
				t.Errorf("port %d handed out twice (reservations %d and %d)", p, other, i)
			}
			seen[p] = i
			// Every port can be bound for UDP and TCP by the caller.
			addr := fmt.Sprintf("127.0.0.1:%d", p)
			c, err := net.ListenPacket("udp4", addr)
			if err != nil {
				t.Fatalf("udp %s: %v", addr, err)
			}
			l, err := net.Listen("tcp4", addr)
			if err != nil {
				t.Fatalf("tcp %s: %v", addr, err)
			}
			c.Close()
			l.Close()
		}
	}
}

func TestFreePortsSkipsBusyPorts(t *testing.T) {
	// Occupy every port of some slots with UDP sockets; reservations must
	// avoid them even though no lock file says so.
	var busy []net.PacketConn
	defer func() {
		for _, c := range busy {
			c.Close()
		}
	}()
	occupied := map[int]bool{}
	for slot := range numSlots {
		if slot%2 == 1 {
			continue
		}
		p := portLow + slot*slotSize
		c, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue // someone else has it: just as good
		}
		busy = append(busy, c)
		occupied[p] = true
	}
	for range 20 {
		b := FreePorts(t, 1)
		if occupied[b.First] {
			t.Fatalf("FreePorts returned port %d, which is bound", b.First)
		}
	}
}

func TestSlotLockIsExclusive(t *testing.T) {
	b := FreePorts(t, 1)
	slot := (b.First - portLow) / slotSize
	if _, ok := lockSlot(slot); ok {
		t.Fatalf("slot %d locked twice", slot)
	}
	// A slot nobody holds can be locked, released and locked again.
	for s := range numSlots {
		release, ok := lockSlot(s)
		if !ok {
			continue
		}
		release()
		release2, ok := lockSlot(s)
		if !ok {
			t.Fatalf("slot %d not lockable after release", s)
		}
		release2()
		return
	}
	t.Fatal("no slot could be locked")
}

// fatalTB records Fatal and Skip calls instead of ending the real test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	panic(f)
}
func (f *fatalTB) Skip(args ...any) {
	f.msg = "skip: " + fmt.Sprint(args...)
	panic(f)
}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f)
}

// fatalMessage runs fn with a testing.TB whose Fatalf stops fn and
// returns the message instead of failing t; "" means fn did not fail.
func fatalMessage(t *testing.T, fn func(tb testing.TB)) string {
	f := &fatalTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != any(f) {
				panic(r)
			}
		}()
		fn(f)
	}()
	return f.msg
}

func TestFreePortsRejectsBadCount(t *testing.T) {
	for _, n := range []int{0, -1, 64*slotSize + 1} {
		if fatalMessage(t, func(tb testing.TB) { FreePorts(tb, n) }) == "" {
			t.Errorf("FreePorts(%d) did not fail", n)
		}
	}
}

func TestPortBlock(t *testing.T) {
	b := PortBlock{First: 20000, Count: 4}
	if b.Port(3) != 20003 || b.Last() != 20003 || b.Range() != "20000-20003" {
		t.Errorf("block %+v: Port(3)=%d Last=%d Range=%s", b, b.Port(3), b.Last(), b.Range())
	}
	defer func() {
		if recover() == nil {
			t.Error("Port(4) of a 4-port block did not panic")
		}
	}()
	b.Port(4)
}
