// Package acd is Parley's routing engine (automatic call distribution): it
// decides which available agent gets which waiting interaction.
//
// The engine is pure logic on plain values. It does no I/O, starts no
// goroutines and takes no locks: the caller (one distributor per tenant)
// serialises every call. Time comes from the arguments, or from the injected
// Clock when an argument is the zero time.
//
// # Model
//
// A queue has an ID, a priority (higher is served first) and a set of skills.
// An agent has an ID and a set of skills, and is eligible for a queue when
// its skills include all of the queue's. An agent is either available, since
// a given time, or not; the engine knows nothing else of presence. A waiting
// item (an interaction) has an ID, a queue and its original enqueue time.
// Skills are compared exactly, as given; the domain normalises them
// (cc.User.Normalize, cc.Queue.Normalize).
//
// After every call no available agent is eligible for any waiting item:
//
//   - When an item arrives (Enqueue, Move) and eligible agents are available,
//     it goes at once to the longest idle one: the earliest available-since
//     time, ties broken by agent ID. Otherwise it waits.
//   - When an agent becomes available (AgentAvailable) it takes the best item
//     among the heads of all the queues it is eligible for. If there is none
//     it joins the pool of available agents.
//   - An agent that is assigned an item is no longer available. The caller
//     makes it available again when it is free (after wrap-up), or never for
//     this offer if it did not answer.
//   - Changes to skills, queues and agents (SetQueue, SetAgent, RemoveQueue,
//     RemoveAgent) re-match what they make possible and return the
//     assignments.
//
// # Order across queues
//
// Items are ordered by a static rank:
//
//	rank = EnqueuedAt - Priority * PriorityStep
//
// lower rank first; equal ranks go by enqueue time, then by item ID, so every
// decision is deterministic. A priority point is worth PriorityStep of
// waiting (default 10 minutes): an item in a queue of priority 2 is served
// before one of priority 0 that arrived less than 20 minutes before it, and
// after one that arrived 20 minutes or more before it. So a low-priority caller who has
// waited long enough is served before a newly arrived high-priority one, and
// no queue starves another. A very large PriorityStep (such as
// math.MaxInt64) gives strict priority. Ranks are computed exactly in 128
// bits: no priority, step or time overflows.
//
// Queues of equal priority are served strictly oldest first across queues:
// an agent who serves queues A and B takes the caller who has waited longest
// in either, so a newer caller in B never jumps an older caller in A (the
// Asterisk app_queue fault behind its force_longest_waiting_caller option).
// Agents who are not available (on a break, in wrap-up, ringing) are simply
// not in the pool: they never stop offers to the others.
//
// # Requeue
//
// After ring-no-answer the caller leaves the agent unavailable (not ready)
// and enqueues the item again with its original enqueue time: it goes back
// to the head of its queue, ahead of later arrivals, and the next agent gets
// it.
//
// # Cost
//
// Each queue keeps its waiting items and its available eligible agents in
// two indexed binary heaps; who is eligible for what is computed when skills
// change (SetQueue scans the agents, SetAgent the queues), never while
// routing. An arrival costs O(log n) to wait, or O(k log m) to be assigned
// (the agent leaves the pools of its k queues of m available agents); an
// agent that becomes available compares k queue heads and pops one in
// O(log n), or joins k pools. The routing calls do not allocate. See
// docs/benchmarks.md for measured figures.
//
// # Errors
//
// Unknown IDs are errors, never silently ignored: calls that name an agent or
// a queue the engine does not know return cc.ENOTFOUND; an empty ID or skill
// returns cc.EINVALID; enqueueing an item that is already waiting returns
// cc.ECONFLICT. A failed call changes nothing. Remove reports with a boolean
// whether the item was waiting, since an abandon may race an assignment.
package acd

import (
	"container/heap"
	"slices"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// DefaultPriorityStep is how much waiting one priority point is worth when
// Options.PriorityStep is zero.
const DefaultPriorityStep = 10 * time.Minute

// Options configures an Engine.
type Options struct {
	// PriorityStep is how much waiting one point of queue priority is worth.
	// Zero means DefaultPriorityStep; negative is invalid. A very large
	// value (math.MaxInt64) gives strict priority.
	PriorityStep time.Duration
	// Clock supplies the time when a call passes the zero time. Nil means
	// cc.SystemClock.
	Clock cc.Clock
}

// Assignment is a routing decision: ItemID goes to AgentID. QueueID is the
// queue the item waited in (or arrived at).
type Assignment struct {
	ItemID  string
	AgentID string
	QueueID string
}

// Engine matches waiting items to available agents. Its zero value is not
// usable; create one with New. An Engine is not safe for concurrent use.
type Engine struct {
	step   time.Duration
	clock  cc.Clock
	queues map[string]*queue
	agents map[string]*agent
	items  map[string]*item // waiting items by ID
	free   []*item          // recycled item records
}

// New returns an empty engine, or EINVALID if the options are wrong.
func New(opts Options) (*Engine, error) {
	if opts.PriorityStep < 0 {
		return nil, cc.Errorf(cc.EINVALID, "routing priority step %s is negative: use 0 for the default (%s) or a positive duration", opts.PriorityStep, DefaultPriorityStep)
	}
	e := &Engine{
		step:   opts.PriorityStep,
		clock:  opts.Clock,
		queues: make(map[string]*queue),
		agents: make(map[string]*agent),
		items:  make(map[string]*item),
	}
	if e.step == 0 {
		e.step = DefaultPriorityStep
	}
	if e.clock == nil {
		e.clock = cc.SystemClock
	}
	return e, nil
}

// PriorityStep returns the waiting time one priority point is worth.
func (e *Engine) PriorityStep() time.Duration { return e.step }

// now returns t, or the clock's time when t is zero.
func (e *Engine) now(t time.Time) time.Time {
	if t.IsZero() {
		return e.clock()
	}
	return t
}

// place routes an item that arrives at q: to the longest idle available
// eligible agent, or into the queue.
func (e *Engine) place(id string, q *queue, at time.Time) (Assignment, bool) {
	if q.avail.Len() > 0 {
		a := q.avail.s[0].ref.a
		e.leavePools(a)
		return Assignment{ItemID: id, AgentID: a.id, QueueID: q.id}, true
	}
	var it *item
	if n := len(e.free); n > 0 {
		it = e.free[n-1]
		e.free[n-1] = nil
		e.free = e.free[:n-1]
	} else {
		it = new(item)
	}
	*it = item{id: id, q: q, at: at}
	q.items.push(instant(at), id, &it.pos, it)
	e.items[id] = it
	return Assignment{}, false
}

// offer routes agent a, which is not in any pool, as it becomes available:
// it takes the best head among its queues, or joins their pools.
func (e *Engine) offer(a *agent) (Assignment, bool) {
	var best *entry[*item]
	var bestRank i128
	for _, m := range a.members {
		if m.q.items.Len() == 0 {
			continue
		}
		head := &m.q.items.s[0]
		r := head.key.sub(m.q.off)
		if best == nil {
			best, bestRank = head, r
			continue
		}
		if c := r.cmp(bestRank); c < 0 || c == 0 && entryLess(head, best) {
			best, bestRank = head, r
		}
	}
	if best == nil {
		e.joinPools(a)
		return Assignment{}, false
	}
	it := best.ref
	as := Assignment{ItemID: it.id, AgentID: a.id, QueueID: it.q.id}
	e.dropItem(it)
	return as, true
}

// drain assigns q's waiting items, in service order, to its longest idle
// available agents while both last. Only q may need it: the caller changed
// who is eligible for q.
func (e *Engine) drain(q *queue) []Assignment {
	var out []Assignment
	for q.items.Len() > 0 && q.avail.Len() > 0 {
		it := q.items.s[0].ref
		a := q.avail.s[0].ref.a
		out = append(out, Assignment{ItemID: it.id, AgentID: a.id, QueueID: q.id})
		e.dropItem(it)
		e.leavePools(a)
	}
	return out
}

// dropItem removes a waiting item from its queue and the index.
func (e *Engine) dropItem(it *item) {
	heap.Remove(&it.q.items, it.pos)
	delete(e.items, it.id)
	*it = item{}
	if len(e.free) < maxFree {
		e.free = append(e.free, it)
	}
}

// maxFree bounds the recycled item records kept after a burst drains.
const maxFree = 1024

// joinPools makes a available in every queue it is eligible for.
func (e *Engine) joinPools(a *agent) {
	a.available = true
	for _, m := range a.members {
		m.q.avail.push(a.sinceKey, a.id, &m.pos, m)
	}
}

// leavePools makes a unavailable.
func (e *Engine) leavePools(a *agent) {
	a.available = false
	for _, m := range a.members {
		if m.pos >= 0 {
			heap.Remove(&m.q.avail, m.pos)
		}
	}
}

// skillSet returns a sorted copy of skills without duplicates, or EINVALID
// naming owner if a skill is empty.
func skillSet(owner string, skills []string) ([]string, error) {
	set := slices.Clone(skills)
	slices.Sort(set)
	set = slices.Compact(set)
	if len(set) > 0 && set[0] == "" {
		return nil, cc.Errorf(cc.EINVALID, "%s has an empty skill: remove it or name the skill", owner)
	}
	return set, nil
}

// covers reports whether the sorted set have includes every skill in the
// sorted set need.
func covers(have, need []string) bool {
	i := 0
	for _, s := range need {
		for i < len(have) && have[i] < s {
			i++
		}
		if i == len(have) || have[i] != s {
			return false
		}
		i++
	}
	return true
}

func checkID(kind, id string) error {
	if id == "" {
		return cc.Errorf(cc.EINVALID, "%s ID is empty: give the %s's ID", kind, kind)
	}
	return nil
}
