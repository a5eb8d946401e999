package acd

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// refEngine is a slow reference implementation of the routing rules, written
// from the package documentation without the engine's data structures: after
// every change it settles by brute force, repeatedly giving the best-ranked
// waiting item that has an eligible available agent to the longest idle of
// those agents. Ranks are computed with math/big.
type refEngine struct {
	step   *big.Int
	clock  func() time.Time
	queues map[string]*refQueue
	agents map[string]*refAgent
	items  map[string]*refItem
}

type refQueue struct {
	prio   int
	skills []string
}

type refAgent struct {
	skills []string
	avail  bool
	since  time.Time
}

type refItem struct {
	queue string
	at    time.Time
}

func newRef(step time.Duration, clock func() time.Time) *refEngine {
	if step == 0 {
		step = DefaultPriorityStep
	}
	return &refEngine{
		step:   big.NewInt(int64(step)),
		clock:  clock,
		queues: map[string]*refQueue{},
		agents: map[string]*refAgent{},
		items:  map[string]*refItem{},
	}
}

func (r *refEngine) eligible(a *refAgent, q *refQueue) bool {
	for _, s := range q.skills {
		if !slices.Contains(a.skills, s) {
			return false
		}
	}
	return true
}

func (r *refEngine) rank(it *refItem) *big.Int {
	ns := new(big.Int).Mul(big.NewInt(it.at.Unix()), big.NewInt(1e9))
	ns.Add(ns, big.NewInt(int64(it.at.Nanosecond())))
	off := new(big.Int).Mul(big.NewInt(int64(r.queues[it.queue].prio)), r.step)
	return ns.Sub(ns, off)
}

func (r *refEngine) itemBefore(x, y string) bool {
	a, b := r.items[x], r.items[y]
	if c := r.rank(a).Cmp(r.rank(b)); c != 0 {
		return c < 0
	}
	if c := a.at.Compare(b.at); c != 0 {
		return c < 0
	}
	return x < y
}

func (r *refEngine) agentBefore(x, y string) bool {
	a, b := r.agents[x], r.agents[y]
	if c := a.since.Compare(b.since); c != 0 {
		return c < 0
	}
	return x < y
}

func (r *refEngine) settle() []Assignment {
	var out []Assignment
	for {
		bestItem, bestAgent := "", ""
		for id, it := range r.items {
			q := r.queues[it.queue]
			agent := ""
			for aid, a := range r.agents {
				if a.avail && r.eligible(a, q) && (agent == "" || r.agentBefore(aid, agent)) {
					agent = aid
				}
			}
			if agent != "" && (bestItem == "" || r.itemBefore(id, bestItem)) {
				bestItem, bestAgent = id, agent
			}
		}
		if bestItem == "" {
			return out
		}
		out = append(out, Assignment{ItemID: bestItem, AgentID: bestAgent, QueueID: r.items[bestItem].queue})
		delete(r.items, bestItem)
		r.agents[bestAgent].avail = false
	}
}

// waiting returns a queue's items in service order.
func (r *refEngine) waiting(queue string) []string {
	var ids []string
	for id, it := range r.items {
		if it.queue == queue {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(x, y string) int {
		if r.itemBefore(x, y) {
			return -1
		}
		return 1
	})
	return ids
}

func (r *refEngine) when(t time.Time) time.Time {
	if t.IsZero() {
		return r.clock()
	}
	return t
}

func refSkills(skills []string) (string, []string) {
	if slices.Contains(skills, "") {
		return cc.EINVALID, nil
	}
	return "", slices.Clone(skills)
}

func (r *refEngine) setQueue(id string, prio int, skills []string) ([]Assignment, string) {
	if id == "" {
		return nil, cc.EINVALID
	}
	code, set := refSkills(skills)
	if code != "" {
		return nil, code
	}
	r.queues[id] = &refQueue{prio: prio, skills: set}
	return r.settle(), ""
}

func (r *refEngine) removeQueue(id string) ([]string, string) {
	if r.queues[id] == nil {
		return nil, cc.ENOTFOUND
	}
	orphans := r.waiting(id)
	for _, it := range orphans {
		delete(r.items, it)
	}
	delete(r.queues, id)
	return orphans, ""
}

func (r *refEngine) setAgent(id string, skills []string) ([]Assignment, string) {
	if id == "" {
		return nil, cc.EINVALID
	}
	code, set := refSkills(skills)
	if code != "" {
		return nil, code
	}
	if a := r.agents[id]; a != nil {
		a.skills = set
	} else {
		r.agents[id] = &refAgent{skills: set}
	}
	return r.settle(), ""
}

func (r *refEngine) agentAvailable(id string, since time.Time) ([]Assignment, string) {
	a := r.agents[id]
	if a == nil {
		return nil, cc.ENOTFOUND
	}
	a.avail, a.since = true, r.when(since)
	return r.settle(), ""
}

func (r *refEngine) enqueue(item, queue string, at time.Time) ([]Assignment, string) {
	switch {
	case item == "":
		return nil, cc.EINVALID
	case r.queues[queue] == nil:
		return nil, cc.ENOTFOUND
	case r.items[item] != nil:
		return nil, cc.ECONFLICT
	}
	r.items[item] = &refItem{queue: queue, at: r.when(at)}
	return r.settle(), ""
}

func (r *refEngine) move(item, queue string, at time.Time) ([]Assignment, string) {
	switch {
	case r.items[item] == nil, r.queues[queue] == nil:
		return nil, cc.ENOTFOUND
	}
	r.items[item] = &refItem{queue: queue, at: r.when(at)}
	return r.settle(), ""
}

// script drives an Engine and the reference with the same operations decoded
// from data and fails on the first difference.
type script struct {
	t    *testing.T
	data []byte
	e    *Engine
	r    *refEngine
	now  time.Time
	log  []string
}

var (
	scriptQueues = []string{"q0", "q1", "q2", "q3"}
	scriptAgents = []string{"a0", "a1", "a2", "a3", "a4", "a5"}
	scriptItems  = []string{"i0", "i1", "i2", "i3", "i4", "i5", "i6", "i7", "i8", "i9", "i10", "i11"}
	scriptSteps  = []time.Duration{0, 1, time.Minute, 10 * time.Minute, time.Hour, math.MaxInt64}
)

func (s *script) next() byte {
	if len(s.data) == 0 {
		return 0
	}
	b := s.data[0]
	s.data = s.data[1:]
	return b
}

func (s *script) pick(names []string) string { return names[int(s.next())%len(names)] }

func (s *script) skills() []string {
	b := s.next()
	var out []string
	for k := range 3 {
		if b&(1<<k) != 0 {
			out = append(out, fmt.Sprint("s", k))
		}
	}
	if b&0x40 != 0 && len(out) > 0 {
		out = append(out, out[0]) // a duplicate
	}
	if b == 0xff {
		out = append(out, "") // invalid
	}
	return out
}

func (s *script) priority() int {
	switch b := s.next(); b {
	case 0xff:
		return math.MaxInt
	case 0xfe:
		return math.MinInt
	default:
		return int(b%7) - 3
	}
}

func (s *script) time() time.Time {
	b := s.next()
	switch b % 32 {
	case 0:
		return time.Time{} // the clock
	case 1:
		return time.Date(-4000, 1, 1, 0, 0, 0, 0, time.UTC)
	case 2:
		return time.Date(99999, 1, 1, 0, 0, 0, 7, time.UTC)
	}
	// Whole minutes in the past make rank ties common.
	return s.now.Add(-time.Duration(b/4%40) * time.Minute)
}

func (s *script) fail(format string, args ...any) {
	s.t.Helper()
	from := max(0, len(s.log)-25)
	s.t.Fatalf("%s\nlast operations:\n  %s", fmt.Sprintf(format, args...), strings.Join(s.log[from:], "\n  "))
}

func (s *script) compare(op string, got []Assignment, err error, want []Assignment, code string) {
	s.t.Helper()
	s.log = append(s.log, fmt.Sprintf("%s -> %s %v", op, fmtAssignments(got...), err))
	if c := cc.ErrorCode(err); c != code {
		s.fail("%s: error %v (code %q), reference says code %q", op, err, c, code)
	}
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		s.fail("%s = %q, reference says %q", op, fmtAssignments(got...), fmtAssignments(want...))
	}
}

func asSlice(a Assignment, ok bool) []Assignment {
	if ok {
		return []Assignment{a}
	}
	return nil
}

func runScript(t *testing.T, data []byte) {
	s := &script{t: t, data: data, now: t0}
	clock := func() time.Time { return s.now }
	stepSize := scriptSteps[int(s.next())%len(scriptSteps)]
	var err error
	s.e, err = New(Options{PriorityStep: stepSize, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	s.r = newRef(stepSize, clock)
	s.log = append(s.log, fmt.Sprintf("New(step %s)", stepSize))
	for len(s.data) > 0 {
		switch s.next() % 12 {
		case 0, 1:
			id, prio, skills := s.pick(scriptQueues), s.priority(), s.skills()
			got, err := s.e.SetQueue(id, prio, skills)
			want, code := s.r.setQueue(id, prio, skills)
			s.compare(fmt.Sprintf("SetQueue(%s, %d, %q)", id, prio, skills), got, err, want, code)
		case 2:
			id := s.pick(scriptQueues)
			got, err := s.e.RemoveQueue(id)
			want, code := s.r.removeQueue(id)
			s.compare(fmt.Sprintf("RemoveQueue(%s) orphans %v", id, got), nil, err, nil, code)
			if !slices.Equal(got, want) {
				s.fail("RemoveQueue(%s) orphans %v, reference says %v", id, got, want)
			}
			s.compare("settle after RemoveQueue", nil, nil, s.r.settle(), "")
		case 3:
			id, skills := s.pick(scriptAgents), s.skills()
			a, ok, err := s.e.SetAgent(id, skills)
			want, code := s.r.setAgent(id, skills)
			s.compare(fmt.Sprintf("SetAgent(%s, %q)", id, skills), asSlice(a, ok), err, want, code)
		case 4:
			id := s.pick(scriptAgents)
			err := s.e.RemoveAgent(id)
			code := ""
			if s.r.agents[id] == nil {
				code = cc.ENOTFOUND
			}
			delete(s.r.agents, id)
			s.compare(fmt.Sprintf("RemoveAgent(%s)", id), nil, err, s.r.settle(), code)
		case 5, 6:
			id, since := s.pick(scriptAgents), s.time()
			a, ok, err := s.e.AgentAvailable(id, since)
			want, code := s.r.agentAvailable(id, since)
			s.compare(fmt.Sprintf("AgentAvailable(%s, %s)", id, since), asSlice(a, ok), err, want, code)
		case 7:
			id := s.pick(scriptAgents)
			err := s.e.AgentUnavailable(id)
			code := cc.ENOTFOUND
			if a := s.r.agents[id]; a != nil {
				a.avail, code = false, ""
			}
			s.compare(fmt.Sprintf("AgentUnavailable(%s)", id), nil, err, s.r.settle(), code)
		case 8, 9:
			id, q, when := s.pick(scriptItems), s.pick(scriptQueues), s.time()
			a, ok, err := s.e.Enqueue(id, q, when)
			want, code := s.r.enqueue(id, q, when)
			s.compare(fmt.Sprintf("Enqueue(%s, %s, %s)", id, q, when), asSlice(a, ok), err, want, code)
		case 10:
			id := s.pick(scriptItems)
			got := s.e.Remove(id)
			want := s.r.items[id] != nil
			delete(s.r.items, id)
			s.compare(fmt.Sprintf("Remove(%s) = %v", id, got), nil, nil, s.r.settle(), "")
			if got != want {
				s.fail("Remove(%s) = %v, reference says %v", id, got, want)
			}
		case 11:
			if b := s.next(); b < 128 {
				id, q, when := s.pick(scriptItems), s.pick(scriptQueues), s.time()
				a, ok, err := s.e.Move(id, q, when)
				want, code := s.r.move(id, q, when)
				s.compare(fmt.Sprintf("Move(%s, %s, %s)", id, q, when), asSlice(a, ok), err, want, code)
			} else {
				s.now = s.now.Add(time.Duration(b) * 7 * time.Second)
				s.log = append(s.log, "clock "+s.now.String())
			}
		}
		checkInvariant(t, s.e)
		s.compareState()
	}
}

// compareState checks every query against the reference.
func (s *script) compareState() {
	s.t.Helper()
	for _, q := range scriptQueues {
		got, err := s.e.Waiting(q)
		st, stErr := s.e.QueueStats(q)
		rq := s.r.queues[q]
		if rq == nil {
			if !cc.IsCode(err, cc.ENOTFOUND) || !cc.IsCode(stErr, cc.ENOTFOUND) {
				s.fail("queue %s was removed, but Waiting and QueueStats say %v, %v", q, err, stErr)
			}
			continue
		}
		want := s.r.waiting(q)
		if err != nil || stErr != nil || !slices.Equal(got, want) && len(got)+len(want) > 0 {
			s.fail("Waiting(%s) = %v, %v; reference says %v", q, got, err, want)
		}
		ws := QueueStats{Waiting: len(want)}
		if len(want) > 0 {
			ws.Oldest = s.r.items[want[0]].at
		}
		for _, a := range s.r.agents {
			if s.r.eligible(a, rq) {
				ws.Eligible++
				if a.avail {
					ws.Available++
				}
			}
		}
		if st != ws {
			s.fail("QueueStats(%s) = %+v, reference says %+v", q, st, ws)
		}
		for i, id := range want {
			if p := s.e.Position(id); p != i+1 {
				s.fail("Position(%s) = %d, reference says %d", id, p, i+1)
			}
		}
	}
	for _, id := range scriptItems {
		if s.r.items[id] == nil && s.e.Position(id) != 0 {
			s.fail("Position(%s) = %d for an item that is not waiting", id, s.e.Position(id))
		}
	}
	for _, id := range scriptAgents {
		a := s.r.agents[id]
		if got, want := s.e.AgentIsAvailable(id), a != nil && a.avail; got != want {
			s.fail("AgentIsAvailable(%s) = %v, reference says %v", id, got, want)
		}
	}
}

// checkInvariant checks the engine's internal bookkeeping and the routing
// invariant: no available agent is eligible for any waiting item.
func checkInvariant(t testing.TB, e *Engine) {
	t.Helper()
	nItems := 0
	for qid, q := range e.queues {
		if q.id != qid {
			t.Fatalf("queue %q filed under %q", q.id, qid)
		}
		if q.items.Len() > 0 && q.avail.Len() > 0 {
			t.Fatalf("queue %s has %d waiting items and %d available agents", qid, q.items.Len(), q.avail.Len())
		}
		for i, en := range q.items.s {
			it := en.ref
			if it.pos != i || it.q != q || e.items[it.id] != it || en.id != it.id || en.key != instant(it.at) {
				t.Fatalf("queue %s: item %s at %d has pos %d, queue %s, indexed %v, entry %s", qid, it.id, i, it.pos, it.q.id, e.items[it.id] == it, en.id)
			}
			if i > 0 && q.items.Less(i, (i-1)/2) {
				t.Fatalf("queue %s: item heap out of order at %d", qid, i)
			}
			nItems++
		}
		for i, en := range q.avail.s {
			m := en.ref
			if m.pos != i || m.q != q || !m.a.available || q.members[m.a] != m || en.id != m.a.id || en.key != m.a.sinceKey {
				t.Fatalf("queue %s: member %s at %d is inconsistent", qid, m.a.id, i)
			}
			if i > 0 && q.avail.Less(i, (i-1)/2) {
				t.Fatalf("queue %s: agent heap out of order at %d", qid, i)
			}
		}
		for a, m := range q.members {
			if m.a != a || m.q != q || e.agents[a.id] != a || !slices.Contains(a.members, m) {
				t.Fatalf("queue %s: member %s is not linked both ways", qid, a.id)
			}
		}
	}
	if nItems != len(e.items) {
		t.Fatalf("%d items in queues, %d indexed", nItems, len(e.items))
	}
	for aid, a := range e.agents {
		if a.id != aid {
			t.Fatalf("agent %q filed under %q", a.id, aid)
		}
		n := 0
		for _, q := range e.queues {
			m := q.members[a]
			if (m != nil) != covers(a.skills, q.skills) {
				t.Fatalf("agent %s %v, queue %s %v: member %v", aid, a.skills, q.id, q.skills, m != nil)
			}
			if m == nil {
				continue
			}
			n++
			if inHeap := m.pos >= 0; inHeap != a.available {
				t.Fatalf("agent %s available %v but in queue %s's pool %v", aid, a.available, q.id, inHeap)
			}
			if a.available && q.items.Len() > 0 {
				t.Fatalf("available agent %s is eligible for queue %s with %d waiting", aid, q.id, q.items.Len())
			}
		}
		if n != len(a.members) {
			t.Fatalf("agent %s has %d members, %d queues list it", aid, len(a.members), n)
		}
	}
}

// TestAgainstReference runs random scripts with a fixed seed.
func TestAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(20260302, 7))
	runs := 400
	if testing.Short() {
		runs = 40
	}
	for run := range runs {
		data := make([]byte, 100+rng.IntN(900))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		t.Run(fmt.Sprint(run), func(t *testing.T) { runScript(t, data) })
	}
}

func FuzzEngine(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 0, 0, 1, 3, 0, 1, 5, 0, 40, 8, 0, 0, 44})
	f.Add([]byte("\x05\x00\x01\xff\x07\x03\x02\x03\x08\x01\x00\x80\x09\x02\x01\x04\x05\x02\x08"))
	f.Add([]byte("\x01\x00\x00\xfe\x01\x00\x01\xff\x01\x03\x03\x03\x05\x03\x00\x08\x00\x00\x40\x08\x01\x01\x40\x06\x03\x00"))
	f.Fuzz(runScript)
}
