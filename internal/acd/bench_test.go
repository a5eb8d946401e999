package acd

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

const (
	benchAgents     = 10_000
	benchQueues     = 200
	benchAgentQueue = 8 // queues each agent serves
)

var benchSizes = []int{1_000, 10_000, 100_000}

// benchWorld is a tenant at scale: benchQueues queues of mixed priority, one
// skill each, and benchAgents agents who each serve benchAgentQueue queues.
type benchWorld struct {
	e      *Engine
	queues []string
	agents []string
	ids    []string // item IDs not in the engine
	now    time.Time
}

// newBenchWorld builds the world. Agents of the first half serve only queues
// of the first half, agents of the second half only the second half. With
// backlogAll every queue gets a share of the waiting items and every agent
// is busy; otherwise the items wait in the first half and the second half's
// agents are available.
func newBenchWorld(b *testing.B, waiting int, backlogAll bool) *benchWorld {
	b.Helper()
	w := &benchWorld{now: t0}
	var err error
	if w.e, err = New(Options{Clock: func() time.Time { return w.now }}); err != nil {
		b.Fatal(err)
	}
	for i := range benchQueues {
		id := fmt.Sprintf("q%03d", i)
		w.queues = append(w.queues, id)
		if _, err := w.e.SetQueue(id, i%4, []string{"s-" + id}); err != nil {
			b.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(42, 42))
	half := benchQueues / 2
	for i := range benchAgents {
		id := fmt.Sprintf("agent%05d", i)
		w.agents = append(w.agents, id)
		base := 0
		if i >= benchAgents/2 {
			base = half
		}
		// Queue base+i%half guarantees every queue has agents.
		skills := []string{"s-" + w.queues[base+i%half]}
		for len(skills) < benchAgentQueue {
			skills = append(skills, "s-"+w.queues[base+rng.IntN(half)])
		}
		if _, _, err := w.e.SetAgent(id, skills); err != nil {
			b.Fatal(err)
		}
	}
	backlogged := benchQueues
	if !backlogAll {
		backlogged = half
		for i, id := range w.agents[benchAgents/2:] {
			if _, ok, err := w.e.AgentAvailable(id, t0.Add(time.Duration(i)*time.Millisecond)); ok || err != nil {
				b.Fatalf("AgentAvailable(%s) = %v, %v with nothing waiting", id, ok, err)
			}
		}
	}
	for i := range waiting + benchAgents {
		w.ids = append(w.ids, fmt.Sprintf("item%06d", i))
	}
	for i := range waiting {
		id := w.pop()
		if _, ok, err := w.e.Enqueue(id, w.queues[i%backlogged], w.tick()); ok || err != nil {
			b.Fatalf("Enqueue(%s) = %v, %v: it should wait", id, ok, err)
		}
	}
	return w
}

func (w *benchWorld) pop() string {
	id := w.ids[len(w.ids)-1]
	w.ids = w.ids[:len(w.ids)-1]
	return id
}

func (w *benchWorld) tick() time.Time {
	w.now = w.now.Add(time.Millisecond)
	return w.now
}

// cpuMeter measures the CPU time a benchmark loop uses. On a shared machine
// wall time (ns/op) includes waiting for a core; CPU time does not.
type cpuMeter struct {
	start time.Duration
	ok    bool
}

func startCPU() cpuMeter {
	d, ok := processCPU()
	return cpuMeter{start: d, ok: ok}
}

// report reports the rate of engine calls when each iteration made two of
// them, by wall time and, when known, by CPU time.
func (m cpuMeter) report(b *testing.B) {
	decisions := float64(2 * b.N)
	b.ReportMetric(decisions/b.Elapsed().Seconds(), "decisions/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/decisions, "ns/decision")
	if end, ok := processCPU(); ok && m.ok {
		b.ReportMetric(float64((end-m.start).Nanoseconds())/decisions, "cpu-ns/decision")
	}
}

// BenchmarkRoute measures routing decisions with 10,000 agents, 200 queues
// and the given number of waiting items. Every iteration makes two decisions:
//
//   - agent-available: a busy agent becomes available and takes the best of
//     the heads of its 8 queues; a new item then arrives in that queue and
//     waits (every agent is busy).
//   - item-arrives: an item arrives in an idle queue and goes to the longest
//     idle of its ~400 available agents; that agent becomes available again
//     at once and rejoins the pools of its 8 queues (nothing waits for it).
func BenchmarkRoute(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("waiting=%d/agent-available", n), func(b *testing.B) {
			w := newBenchWorld(b, n, true)
			i := 0
			cpu := startCPU()
			for b.Loop() {
				now := w.tick()
				a, ok, err := w.e.AgentAvailable(w.agents[i%benchAgents], now)
				if !ok || err != nil {
					b.Fatalf("agent got nothing: %v", err)
				}
				if _, ok, err := w.e.Enqueue(a.ItemID, a.QueueID, now); ok || err != nil {
					b.Fatalf("new item was assigned (%v) with every agent busy", err)
				}
				i++
			}
			cpu.report(b)
		})
		b.Run(fmt.Sprintf("waiting=%d/item-arrives", n), func(b *testing.B) {
			w := newBenchWorld(b, n, false)
			id := w.pop()
			i := 0
			cpu := startCPU()
			for b.Loop() {
				now := w.tick()
				a, ok, err := w.e.Enqueue(id, w.queues[benchQueues/2+i%(benchQueues/2)], now)
				if !ok || err != nil {
					b.Fatalf("item waited (%v) in an idle queue", err)
				}
				if _, ok, err := w.e.AgentAvailable(a.AgentID, now); ok || err != nil {
					b.Fatalf("agent was assigned (%v) with nothing waiting for it", err)
				}
				i++
			}
			cpu.report(b)
		})
	}
}

// BenchmarkSkillChange measures the administrative calls that recompute
// eligibility: SetAgent scans the queues, SetQueue scans the agents.
func BenchmarkSkillChange(b *testing.B) {
	b.Run("SetAgent", func(b *testing.B) {
		w := newBenchWorld(b, 10_000, true)
		skills := [2][]string{{"s-q001", "s-q002"}, {"s-q001", "s-q003", "s-q150"}}
		i := 0
		for b.Loop() {
			if _, _, err := w.e.SetAgent(w.agents[i%benchAgents], skills[i%2]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("SetQueue", func(b *testing.B) {
		w := newBenchWorld(b, 10_000, true)
		skills := [2][]string{{"s-q007"}, {"s-q008"}}
		i := 0
		for b.Loop() {
			if _, err := w.e.SetQueue("q007", 1, skills[i%2]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
