package softphone_test

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/softphone"
	"github.com/parley-cc/parley/internal/testkit/rtcclient"
)

// BenchmarkLegs runs n concurrent legs on loopback, audio both ways at 50
// packets a second, for 3 s per iteration, and reports the packets the
// hub moved per second, the heap allocations per packet and the process's
// CPU per leg (clients included: they run in the same process, so the
// hub's own share is lower). The SIP-bridged load test is the load tool's.
//
//	go test -run '^$' -bench BenchmarkLegs -benchtime 1x ./internal/softphone/
func BenchmarkLegs(b *testing.B) {
	for _, n := range []int{10, 50} {
		b.Run(fmt.Sprintf("legs=%d", n), func(b *testing.B) {
			for range b.N {
				benchLegs(b, n, 3*time.Second)
			}
		})
	}
}

// benchLegs sets up n legs, measures dur of traffic, and tears them down.
func benchLegs(b *testing.B, n int, dur time.Duration) {
	b.StopTimer()
	h, err := softphone.New(softphone.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	var (
		legs    []*softphone.Leg
		clients []*rtcclient.Client
	)
	for i := range n {
		k := softphone.Key{TenantID: "bench", UserID: fmt.Sprint("u", i)}
		clients = append(clients, dial(b, h, k, "bench", 440))
		legs = append(legs, wait(b, h, k))
	}

	var (
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		received atomic.Uint64
		wrote    []<-chan error
	)
	for _, l := range legs {
		wg.Add(1)
		go func() { // the bridge's read side
			defer wg.Done()
			buf := make([]byte, 1500)
			for {
				if _, err := l.Read(buf); err != nil {
					return
				}
				received.Add(1)
			}
		}()
		wrote = append(wrote, playTone(l, 1000, stop)) // the bridge's write side
	}
	time.Sleep(500 * time.Millisecond) // every leg flowing
	var (
		before, after runtime.MemStats
		ru0, ru1      syscall.Rusage
	)
	in0 := received.Load()
	out0 := sentByHub(legs)
	runtime.ReadMemStats(&before)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.StartTimer()
	start := time.Now()
	time.Sleep(dur)
	elapsed := time.Since(start)
	b.StopTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	runtime.ReadMemStats(&after)
	in := received.Load() - in0
	out := sentByHub(legs) - out0
	cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) * time.Nanosecond

	var lost, clientIn uint64
	for i, l := range legs {
		lost += l.Stats().Lost
		clientIn += clients[i].Received().Packets
	}
	b.ReportMetric(float64(in)/elapsed.Seconds(), "pkts-in/s")
	b.ReportMetric(float64(out)/elapsed.Seconds(), "pkts-out/s")
	b.ReportMetric(float64(in)/elapsed.Seconds()/float64(n), "pkts-in/s/leg")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(in+out), "allocs/pkt")
	b.ReportMetric(float64(cpu.Milliseconds())/elapsed.Seconds()/float64(n), "cpu-ms/s/leg")
	b.ReportMetric(float64(lost), "lost")
	if in == 0 || out == 0 || clientIn == 0 {
		b.Fatalf("no audio: %d in, %d out, %d at the clients", in, out, clientIn)
	}
	close(stop)
	for _, w := range wrote {
		if err := <-w; err != nil {
			b.Error(err)
		}
	}
	_ = h.Close()
	wg.Wait()
}

// sentByHub sums the packets the hub wrote to the browsers.
func sentByHub(legs []*softphone.Leg) uint64 {
	var n uint64
	for _, l := range legs {
		n += l.Stats().PacketsOut
	}
	return n
}
