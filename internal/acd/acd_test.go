package acd

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// at returns t0 plus the given minutes.
func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

// step is one call in a scenario and what it must return, formatted by fmtAssignments
// (or "removed", "not waiting", "orphans ..." for Remove and RemoveQueue).
type step struct {
	name string
	do   func(e *Engine) (string, error)
	want string
}

func fmtAssignments(as ...Assignment) string {
	var b strings.Builder
	for i, a := range as {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s>%s", a.ItemID, a.AgentID)
	}
	return b.String()
}

func one(a Assignment, ok bool, err error) (string, error) {
	if !ok {
		return "", err
	}
	return fmtAssignments(a), err
}

func setQueue(id string, prio int, skills ...string) step {
	return step{name: fmt.Sprintf("SetQueue(%s, %d, %v)", id, prio, skills), do: func(e *Engine) (string, error) {
		as, err := e.SetQueue(id, prio, skills)
		return fmtAssignments(as...), err
	}}
}

func setAgent(id string, skills ...string) step {
	return step{name: fmt.Sprintf("SetAgent(%s, %v)", id, skills), do: func(e *Engine) (string, error) {
		return one(e.SetAgent(id, skills))
	}}
}

func avail(id string, min int) step {
	return step{name: fmt.Sprintf("AgentAvailable(%s, +%dm)", id, min), do: func(e *Engine) (string, error) {
		return one(e.AgentAvailable(id, at(min)))
	}}
}

func unavail(id string) step {
	return step{name: fmt.Sprintf("AgentUnavailable(%s)", id), do: func(e *Engine) (string, error) {
		return "", e.AgentUnavailable(id)
	}}
}

func enqueue(item, queue string, min int) step {
	return step{name: fmt.Sprintf("Enqueue(%s, %s, +%dm)", item, queue, min), do: func(e *Engine) (string, error) {
		return one(e.Enqueue(item, queue, at(min)))
	}}
}

func move(item, queue string, min int) step {
	return step{name: fmt.Sprintf("Move(%s, %s, +%dm)", item, queue, min), do: func(e *Engine) (string, error) {
		return one(e.Move(item, queue, at(min)))
	}}
}

func remove(item string) step {
	return step{name: fmt.Sprintf("Remove(%s)", item), do: func(e *Engine) (string, error) {
		if e.Remove(item) {
			return "removed", nil
		}
		return "not waiting", nil
	}}
}

func removeQueue(id string) step {
	return step{name: fmt.Sprintf("RemoveQueue(%s)", id), do: func(e *Engine) (string, error) {
		orphans, err := e.RemoveQueue(id)
		return strings.TrimSpace("orphans " + strings.Join(orphans, " ")), err
	}}
}

func removeAgent(id string) step {
	return step{name: fmt.Sprintf("RemoveAgent(%s)", id), do: func(e *Engine) (string, error) {
		return "", e.RemoveAgent(id)
	}}
}

// want sets what a step must return.
func (s step) wants(w string) step { s.want = w; return s }

func newTestEngine(t testing.TB, stepSize time.Duration) *Engine {
	t.Helper()
	e, err := New(Options{PriorityStep: stepSize, Clock: func() time.Time { return at(1000) }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestScenarios(t *testing.T) {
	tests := []struct {
		name    string
		step    time.Duration // 0: the default
		steps   []step
		waiting map[string][]string // queue -> items in service order, checked at the end
	}{
		{
			name: "new item goes to the longest idle agent",
			steps: []step{
				setQueue("sales", 0, "sales"),
				setAgent("a1", "sales"), setAgent("a2", "sales"), setAgent("a3", "sales"),
				avail("a2", 1), avail("a1", 2), avail("a3", 3),
				enqueue("i1", "sales", 10).wants("i1>a2"),
				enqueue("i2", "sales", 11).wants("i2>a1"),
				enqueue("i3", "sales", 12).wants("i3>a3"),
				enqueue("i4", "sales", 13),
			},
			waiting: map[string][]string{"sales": {"i4"}},
		},
		{
			name: "equal idle time goes by agent ID",
			steps: []step{
				setQueue("q", 0), setAgent("b"), setAgent("a"), setAgent("c"),
				avail("c", 1), avail("b", 1), avail("a", 1),
				enqueue("i1", "q", 2).wants("i1>a"),
				enqueue("i2", "q", 2).wants("i2>b"),
			},
		},
		{
			name: "available again moves the agent to the back",
			steps: []step{
				setQueue("q", 0), setAgent("a1"), setAgent("a2"),
				avail("a1", 1), avail("a2", 2), avail("a1", 3),
				enqueue("i1", "q", 4).wants("i1>a2"),
			},
		},
		{
			name: "higher priority first at equal waiting",
			steps: []step{
				setQueue("low", 0, "x"), setQueue("high", 1, "x"), setAgent("a", "x"),
				enqueue("l1", "low", 0), enqueue("h1", "high", 0),
				avail("a", 1).wants("h1>a"),
				avail("a", 2).wants("l1>a"),
			},
		},
		{
			name: "a priority point is worth one step of waiting",
			steps: []step{
				setQueue("low", 0, "x"), setQueue("high", 1, "x"), setAgent("a", "x"),
				enqueue("l1", "low", 0),
				enqueue("h1", "high", 11), // rank +1m, after l1's 0
				enqueue("h2", "high", 9),  // rank -1m, before l1
				avail("a", 12).wants("h2>a"),
				avail("a", 13).wants("l1>a"),
				avail("a", 14).wants("h1>a"),
			},
		},
		{
			name: "strict priority with a very large step",
			step: math.MaxInt64,
			steps: []step{
				setQueue("low", 0, "x"), setQueue("high", 100, "x"), setAgent("a", "x"),
				enqueue("l1", "low", -10_000_000), enqueue("h1", "high", 0), enqueue("h2", "high", 5),
				avail("a", 6).wants("h1>a"),
				avail("a", 7).wants("h2>a"),
				avail("a", 8).wants("l1>a"),
			},
		},
		{
			name: "equal priority is oldest first across queues",
			steps: []step{
				setQueue("A", 0, "x"), setQueue("B", 0, "x"), setAgent("ag", "x"),
				enqueue("b1", "B", 5), enqueue("a1", "A", 1), enqueue("b2", "B", 6), enqueue("a2", "A", 7),
				avail("ag", 8).wants("a1>ag"),
				avail("ag", 9).wants("b1>ag"),
				avail("ag", 10).wants("b2>ag"),
				avail("ag", 11).wants("a2>ag"),
			},
		},
		{
			name: "equal rank goes by enqueue time, then item ID",
			steps: []step{
				setQueue("A", 1, "x"), setQueue("B", 0, "x"), setQueue("C", 0, "x"), setAgent("ag", "x"),
				enqueue("a1", "A", 10), // rank 0, enqueued at 10
				enqueue("zz", "B", 0),  // rank 0, enqueued at 0
				enqueue("yy", "C", 0),  // rank 0, enqueued at 0, smaller ID
				avail("ag", 11).wants("yy>ag"),
				avail("ag", 12).wants("zz>ag"),
				avail("ag", 13).wants("a1>ag"),
			},
		},
		{
			name: "ring-no-answer requeue goes to the head and the next agent gets it",
			steps: []step{
				setQueue("s", 0), setAgent("a1"), setAgent("a2"),
				avail("a1", 0),
				enqueue("i1", "s", 1).wants("i1>a1"),
				enqueue("i2", "s", 2), enqueue("i3", "s", 3),
				unavail("a1"), // not ready: ring-no-answer
				enqueue("i1", "s", 1),
				avail("a2", 4).wants("i1>a2"),
			},
			waiting: map[string][]string{"s": {"i2", "i3"}},
		},
		{
			name: "ring-no-answer requeue goes to an agent already available, not the one who failed",
			steps: []step{
				setQueue("s", 0), setAgent("a1"), setAgent("a2"),
				avail("a1", 0), avail("a2", 1),
				enqueue("i1", "s", 2).wants("i1>a1"),
				unavail("a1"),
				enqueue("i1", "s", 2).wants("i1>a2"),
			},
		},
		{
			name: "the last agent on a break does not stop offers to the others",
			steps: []step{
				setQueue("s", 0), setAgent("a1"), setAgent("a2"), setAgent("a3"),
				avail("a1", 0), avail("a2", 1), avail("a3", 2),
				unavail("a3"),
				enqueue("i1", "s", 3).wants("i1>a1"),
				enqueue("i2", "s", 4).wants("i2>a2"),
				enqueue("i3", "s", 5),
			},
			waiting: map[string][]string{"s": {"i3"}},
		},
		{
			name: "the first agent on a break is skipped",
			steps: []step{
				setQueue("s", 0), setAgent("a1"), setAgent("a2"), setAgent("a3"),
				avail("a1", 0), avail("a2", 1), avail("a3", 2),
				unavail("a1"),
				enqueue("i1", "s", 3).wants("i1>a2"),
				enqueue("i2", "s", 4).wants("i2>a3"),
			},
		},
		{
			name: "an agent in wrap-up gets nothing until available again",
			steps: []step{
				setQueue("s", 0), setAgent("a1"), setAgent("a2"),
				avail("a1", 0), avail("a2", 1),
				enqueue("i1", "s", 2).wants("i1>a1"),
				enqueue("i2", "s", 3).wants("i2>a2"),
				enqueue("i3", "s", 4), enqueue("i4", "s", 5),
				avail("a2", 6).wants("i3>a2"),
				avail("a1", 7).wants("i4>a1"),
			},
		},
		{
			name: "an agent needs all of the queue's skills",
			steps: []step{
				setQueue("fr-billing", 0, "fr", "billing"),
				setAgent("a1", "fr"), setAgent("a2", "billing"), setAgent("a3", "en", "fr", "billing"),
				avail("a1", 0), avail("a2", 1), avail("a3", 2),
				enqueue("i1", "fr-billing", 3).wants("i1>a3"),
				enqueue("i2", "fr-billing", 4),
				avail("a1", 5), avail("a2", 6),
			},
			waiting: map[string][]string{"fr-billing": {"i2"}},
		},
		{
			name: "a multi-skill agent takes the best item across its queues",
			steps: []step{
				setQueue("en", 0, "en"), setQueue("fr", 0, "fr"), setQueue("de", 0, "de"),
				setAgent("a", "en", "fr"),
				enqueue("de1", "de", 0), enqueue("fr1", "fr", 2), enqueue("en1", "en", 1),
				avail("a", 3).wants("en1>a"),
				avail("a", 4).wants("fr1>a"),
				avail("a", 5),
			},
			waiting: map[string][]string{"de": {"de1"}, "en": {}, "fr": {}},
		},
		{
			name: "a queue without skills takes any agent",
			steps: []step{
				setQueue("any", 0), setAgent("a", "whatever"), avail("a", 0),
				enqueue("i1", "any", 1).wants("i1>a"),
			},
		},
		{
			name: "an available agent gaining a skill takes the waiting item",
			steps: []step{
				setQueue("s", 0, "s"), setQueue("t", 0, "t"), setAgent("a1", "x"), avail("a1", 0),
				enqueue("t1", "t", 1), enqueue("s1", "s", 2),
				setAgent("a1", "x", "s", "t").wants("t1>a1"),
			},
			waiting: map[string][]string{"s": {"s1"}},
		},
		{
			name: "an unavailable agent gaining a skill takes nothing yet",
			steps: []step{
				setQueue("s", 0, "s"), setAgent("a1", "x"),
				enqueue("s1", "s", 1),
				setAgent("a1", "s"),
				avail("a1", 2).wants("s1>a1"),
			},
		},
		{
			name: "an agent losing a skill gets no more offers for it",
			steps: []step{
				setQueue("s", 0, "s"), setAgent("a1", "s"), avail("a1", 0),
				setAgent("a1", "x"),
				enqueue("s1", "s", 1),
			},
			waiting: map[string][]string{"s": {"s1"}},
		},
		{
			name: "a queue dropping a skill serves its items in order to the longest idle",
			steps: []step{
				setQueue("s", 0, "s", "vip"), setAgent("a1", "s"), setAgent("a2", "s"), setAgent("a3", "x"),
				avail("a2", 0), avail("a1", 1), avail("a3", 2),
				enqueue("i3", "s", 5), enqueue("i1", "s", 3), enqueue("i2", "s", 4),
				setQueue("s", 0, "s").wants("i1>a2 i2>a1"),
			},
			waiting: map[string][]string{"s": {"i3"}},
		},
		{
			name: "a queue adding a skill loses the agents without it",
			steps: []step{
				setQueue("s", 0, "s"), setAgent("a1", "s"), avail("a1", 0),
				setQueue("s", 0, "s", "vip"),
				enqueue("i1", "s", 1),
			},
			waiting: map[string][]string{"s": {"i1"}},
		},
		{
			name: "a priority change re-ranks waiting items",
			steps: []step{
				setQueue("A", 0, "x"), setQueue("B", 0, "x"), setAgent("ag", "x"),
				enqueue("a1", "A", 0), enqueue("b1", "B", 5),
				setQueue("B", 1, "x"),
				avail("ag", 6).wants("b1>ag"),
			},
		},
		{
			name: "abandon removes the item",
			steps: []step{
				setQueue("s", 0), setAgent("a"),
				enqueue("i1", "s", 0), enqueue("i2", "s", 1),
				remove("i1").wants("removed"),
				remove("i1").wants("not waiting"),
				avail("a", 2).wants("i2>a"),
				remove("i2").wants("not waiting"),
			},
			waiting: map[string][]string{"s": {}},
		},
		{
			name: "overflow moves the item to a queue with an agent",
			steps: []step{
				setQueue("A", 0, "a"), setQueue("B", 0, "b"), setAgent("x", "b"), avail("x", 0),
				enqueue("i1", "A", 1), enqueue("i2", "A", 2),
				move("i1", "B", 1).wants("i1>x"),
				move("i2", "B", 2),
			},
			waiting: map[string][]string{"A": {}, "B": {"i2"}},
		},
		{
			name: "moving within a queue re-times the item",
			steps: []step{
				setQueue("A", 0), setAgent("x"),
				enqueue("i1", "A", 1), enqueue("i2", "A", 2),
				move("i1", "A", 3),
			},
			waiting: map[string][]string{"A": {"i2", "i1"}},
		},
		{
			name: "removing an available agent keeps items waiting",
			steps: []step{
				setQueue("s", 0), setAgent("a"), avail("a", 0), removeAgent("a"),
				enqueue("i1", "s", 1),
			},
			waiting: map[string][]string{"s": {"i1"}},
		},
		{
			name: "removing a queue returns its items and agents serve the rest",
			steps: []step{
				setQueue("A", 5, "x"), setQueue("B", 0, "x"), setAgent("ag", "x"),
				enqueue("a2", "A", 2), enqueue("a1", "A", 1), enqueue("b1", "B", 3),
				removeQueue("A").wants("orphans a1 a2"),
				avail("ag", 4).wants("b1>ag"),
				avail("ag", 5),
				enqueue("b2", "B", 6).wants("b2>ag"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(t, tt.step)
			for i, s := range tt.steps {
				got, err := s.do(e)
				if err != nil {
					t.Fatalf("step %d %s: %v", i, s.name, err)
				}
				if got != s.want {
					t.Fatalf("step %d %s = %q, want %q", i, s.name, got, s.want)
				}
				checkInvariant(t, e)
			}
			for q, want := range tt.waiting {
				got, err := e.Waiting(q)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
					t.Errorf("Waiting(%s) = %v, want %v", q, got, want)
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	e := newTestEngine(t, 0)
	if _, err := e.SetQueue("q", 0, []string{"s"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.SetAgent("a", []string{"s"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Enqueue("i", "q", at(0)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		code string
		text string // a part of the message
	}{
		{"queue with an empty ID", func() error { _, err := e.SetQueue("", 0, nil); return err }, cc.EINVALID, "queue ID is empty"},
		{"queue with an empty skill", func() error { _, err := e.SetQueue("q2", 0, []string{"a", ""}); return err }, cc.EINVALID, "queue q2 has an empty skill"},
		{"agent with an empty ID", func() error { _, _, err := e.SetAgent("", nil); return err }, cc.EINVALID, "agent ID is empty"},
		{"agent with an empty skill", func() error { _, _, err := e.SetAgent("a2", []string{""}); return err }, cc.EINVALID, "agent a2 has an empty skill"},
		{"remove unknown queue", func() error { _, err := e.RemoveQueue("nope"); return err }, cc.ENOTFOUND, `queue "nope" is not known`},
		{"stats of unknown queue", func() error { _, err := e.QueueStats("nope"); return err }, cc.ENOTFOUND, `queue "nope"`},
		{"waiting of unknown queue", func() error { _, err := e.Waiting("nope"); return err }, cc.ENOTFOUND, `queue "nope"`},
		{"remove unknown agent", func() error { return e.RemoveAgent("nope") }, cc.ENOTFOUND, `agent "nope" is not known`},
		{"unknown agent available", func() error { _, _, err := e.AgentAvailable("nope", at(0)); return err }, cc.ENOTFOUND, `agent "nope"`},
		{"unknown agent unavailable", func() error { return e.AgentUnavailable("nope") }, cc.ENOTFOUND, `agent "nope"`},
		{"enqueue with an empty ID", func() error { _, _, err := e.Enqueue("", "q", at(0)); return err }, cc.EINVALID, "item ID is empty"},
		{"enqueue to unknown queue", func() error { _, _, err := e.Enqueue("j", "nope", at(0)); return err }, cc.ENOTFOUND, `enqueue item j: queue "nope"`},
		{"enqueue an item already waiting", func() error { _, _, err := e.Enqueue("i", "q", at(0)); return err }, cc.ECONFLICT, "use Move"},
		{"move an item not waiting", func() error { _, _, err := e.Move("j", "q", at(0)); return err }, cc.ENOTFOUND, "not waiting"},
		{"move to unknown queue", func() error { _, _, err := e.Move("i", "nope", at(0)); return err }, cc.ENOTFOUND, `queue "nope"`},
		{"negative priority step", func() error { _, err := New(Options{PriorityStep: -time.Second}); return err }, cc.EINVALID, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if cc.ErrorCode(err) != tt.code || !strings.Contains(cc.ErrorMessage(err), tt.text) {
				t.Fatalf("error = %v (code %q), want code %q with %q", err, cc.ErrorCode(err), tt.code, tt.text)
			}
		})
	}
	// Failed calls change nothing.
	if got, _ := e.Waiting("q"); !slices.Equal(got, []string{"i"}) {
		t.Errorf("after failed calls Waiting(q) = %v, want [i]", got)
	}
	if _, ok := e.agents["a2"]; ok {
		t.Error("a failed SetAgent added the agent")
	}
	if _, ok := e.queues["q2"]; ok {
		t.Error("a failed SetQueue added the queue")
	}
}

func TestZeroTimesUseTheClock(t *testing.T) {
	now := at(0)
	e, err := New(Options{Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	mustQueue(t, e, "q", 0)
	mustAgent(t, e, "old")
	mustAgent(t, e, "new")
	if _, ok, _ := e.AgentAvailable("old", time.Time{}); ok {
		t.Fatal("an agent was assigned with nothing waiting")
	}
	now = at(1)
	if _, _, err := e.AgentAvailable("new", at(-5)); err != nil {
		t.Fatal(err)
	}
	// "new" passed an explicit time earlier than the clock time of "old".
	if a, _, _ := e.Enqueue("i1", "q", time.Time{}); a.AgentID != "new" {
		t.Errorf("Enqueue went to %q, want the agent with the explicit earlier time", a.AgentID)
	}
	if a, _, _ := e.Enqueue("i2", "q", time.Time{}); a.AgentID != "old" {
		t.Errorf("Enqueue went to %q, want old", a.AgentID)
	}
	now = at(7)
	if _, ok, _ := e.Enqueue("i3", "q", time.Time{}); ok {
		t.Fatal("assigned with no agent available")
	}
	st, err := e.QueueStats("q")
	if err != nil {
		t.Fatal(err)
	}
	if want := (QueueStats{Waiting: 1, Oldest: at(7), Eligible: 2}); st != want {
		t.Errorf("QueueStats = %+v, want %+v", st, want)
	}
}

func TestQueueStatsAndPosition(t *testing.T) {
	e := newTestEngine(t, 0)
	mustQueue(t, e, "q", 0, "s")
	mustQueue(t, e, "r", 0, "r")
	for _, id := range []string{"a1", "a2", "a3"} {
		mustAgent(t, e, id, "s")
	}
	mustAgent(t, e, "x", "r")
	e.AgentAvailable("a1", at(0))
	e.AgentAvailable("a2", at(0))
	e.AgentAvailable("x", at(0))
	st, _ := e.QueueStats("q")
	if want := (QueueStats{Waiting: 0, Available: 2, Eligible: 3}); st != want {
		t.Errorf("idle QueueStats = %+v, want %+v", st, want)
	}
	e.AgentUnavailable("a1")
	e.AgentUnavailable("a2")
	for i, min := range []int{5, 3, 4, 3} {
		if _, ok, err := e.Enqueue(fmt.Sprint("i", i), "q", at(min)); ok || err != nil {
			t.Fatalf("Enqueue i%d = %v, %v", i, ok, err)
		}
	}
	st, _ = e.QueueStats("q")
	if want := (QueueStats{Waiting: 4, Oldest: at(3), Eligible: 3}); st != want {
		t.Errorf("busy QueueStats = %+v, want %+v", st, want)
	}
	// Service order: i1 (3m), i3 (3m, larger ID), i2 (4m), i0 (5m).
	for id, want := range map[string]int{"i1": 1, "i3": 2, "i2": 3, "i0": 4, "nope": 0} {
		if got := e.Position(id); got != want {
			t.Errorf("Position(%s) = %d, want %d", id, got, want)
		}
	}
	if !e.AgentIsAvailable("x") || e.AgentIsAvailable("a1") || e.AgentIsAvailable("nope") {
		t.Error("AgentIsAvailable disagrees with the calls made")
	}
}

// TestStarvationEqualPriority floods queue B while one caller waits in queue
// A: the agents serve strictly oldest first across both queues.
func TestStarvationEqualPriority(t *testing.T) {
	e := newTestEngine(t, 0)
	mustQueue(t, e, "A", 0, "x")
	mustQueue(t, e, "B", 0, "x")
	mustAgent(t, e, "ag1", "x")
	mustAgent(t, e, "ag2", "x")
	// Three B callers are already waiting when the A caller arrives; then
	// two more B callers arrive every minute while the agents serve one each.
	for i := range 3 {
		e.Enqueue(fmt.Sprint("b-old", i), "B", at(i-3))
	}
	e.Enqueue("a1", "A", at(0))
	enqueued := map[string]time.Time{"a1": at(0)}
	for i := range 3 {
		enqueued[fmt.Sprint("b-old", i)] = at(i - 3)
	}
	var served []string
	for min := 1; min <= 30; min++ {
		for k := range 2 {
			id := fmt.Sprintf("b%d-%d", min, k)
			enqueued[id] = at(min)
			e.Enqueue(id, "B", at(min))
		}
		for _, ag := range []string{"ag1", "ag2"} {
			a, ok, err := e.AgentAvailable(ag, at(min))
			if err != nil || !ok {
				t.Fatalf("minute %d: %s got nothing (%v)", min, ag, err)
			}
			served = append(served, a.ItemID)
			checkInvariant(t, e)
		}
	}
	for i := 1; i < len(served); i++ {
		if enqueued[served[i]].Before(enqueued[served[i-1]]) {
			t.Fatalf("served %s (%s) after %s (%s): not oldest first", served[i], enqueued[served[i]].Format("15:04"), served[i-1], enqueued[served[i-1]].Format("15:04"))
		}
	}
	if i := slices.Index(served, "a1"); i != 3 {
		t.Fatalf("a1 was served as number %d, want 4 (after the three older B callers): %v", i+1, served[:min(len(served), 8)])
	}
}

// TestStarvationPriority floods a high-priority queue: the low-priority
// caller is served exactly when it has waited PriorityStep times the
// priority difference, and not before.
func TestStarvationPriority(t *testing.T) {
	for _, tt := range []struct {
		step  time.Duration
		delta int
	}{
		{10 * time.Minute, 2},
		{5 * time.Minute, 3},
		{time.Minute, 1},
	} {
		t.Run(fmt.Sprintf("step=%s/delta=%d", tt.step, tt.delta), func(t *testing.T) {
			e := newTestEngine(t, tt.step)
			mustQueue(t, e, "low", 1, "x")
			mustQueue(t, e, "high", 1+tt.delta, "x")
			mustAgent(t, e, "ag", "x")
			e.Enqueue("low1", "low", at(0))
			due := at(0).Add(time.Duration(tt.delta) * tt.step)
			// One high-priority caller a minute; the agent serves one a minute.
			for now := at(1); !now.After(due.Add(10 * time.Minute)); now = now.Add(time.Minute) {
				e.Enqueue("high@"+now.Format("15:04"), "high", now)
				a, ok, err := e.AgentAvailable("ag", now)
				if err != nil || !ok {
					t.Fatalf("%s: agent got nothing (%v)", now.Format("15:04"), err)
				}
				if a.ItemID == "low1" {
					if !now.Equal(due) {
						t.Fatalf("low1 served at %s, want at %s", now.Format("15:04"), due.Format("15:04"))
					}
					return
				}
			}
			t.Fatalf("low1 never served; due at %s", due.Format("15:04"))
		})
	}
}

func mustQueue(t testing.TB, e *Engine, id string, prio int, skills ...string) {
	t.Helper()
	if _, err := e.SetQueue(id, prio, skills); err != nil {
		t.Fatal(err)
	}
}

func mustAgent(t testing.TB, e *Engine, id string, skills ...string) {
	t.Helper()
	if _, _, err := e.SetAgent(id, skills); err != nil {
		t.Fatal(err)
	}
}
