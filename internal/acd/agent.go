package acd

import (
	"container/heap"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// agent is an agent as the engine sees it.
type agent struct {
	id        string
	skills    []string // sorted, no duplicates
	available bool
	since     time.Time
	sinceKey  i128      // instant(since)
	members   []*member // one per eligible queue
}

// link makes a eligible for q.
func link(a *agent, q *queue) {
	m := &member{a: a, q: q, pos: -1}
	a.members = append(a.members, m)
	q.members[a] = m
	if a.available {
		q.avail.push(a.sinceKey, a.id, &m.pos, m)
	}
}

// unlink ends m's agent's eligibility for m's queue.
func unlink(m *member) {
	if m.pos >= 0 {
		heap.Remove(&m.q.avail, m.pos)
	}
	delete(m.q.members, m.a)
	ms := m.a.members
	for i, x := range ms {
		if x == m {
			last := len(ms) - 1
			ms[i] = ms[last]
			ms[last] = nil
			m.a.members = ms[:last]
			break
		}
	}
}

// SetAgent adds an agent, not available, or changes its skills. When an
// available agent becomes eligible for a queue with waiting items it takes
// the best of them at once (it keeps its available-since time for the
// comparison), and SetAgent returns that assignment.
func (e *Engine) SetAgent(id string, skills []string) (Assignment, bool, error) {
	if err := checkID("agent", id); err != nil {
		return Assignment{}, false, err
	}
	set, err := skillSet("agent "+id, skills)
	if err != nil {
		return Assignment{}, false, err
	}
	a, ok := e.agents[id]
	if !ok {
		a = &agent{id: id}
		e.agents[id] = a
	}
	wasAvailable := a.available
	if wasAvailable {
		e.leavePools(a)
	}
	a.skills = set
	for _, q := range e.queues {
		m, was := q.members[a]
		switch now := covers(set, q.skills); {
		case now && !was:
			link(a, q)
		case !now && was:
			unlink(m)
		}
	}
	if !wasAvailable {
		return Assignment{}, false, nil
	}
	as, ok := e.offer(a)
	return as, ok, nil
}

// RemoveAgent forgets an agent. ENOTFOUND if the agent is unknown.
func (e *Engine) RemoveAgent(id string) error {
	a, ok := e.agents[id]
	if !ok {
		return errNoAgent("remove agent", id)
	}
	e.leavePools(a)
	for len(a.members) > 0 {
		unlink(a.members[len(a.members)-1])
	}
	delete(e.agents, id)
	return nil
}

// AgentAvailable reports that an agent is free since the given time (its
// longest-idle measure; the zero time means now). The agent takes the best
// waiting item among the queues it is eligible for, and AgentAvailable
// returns that assignment; the agent is then no longer available. If no
// item waits for it the agent joins the pool. Calling it for an agent that
// is already available moves its since time. ENOTFOUND if the agent is
// unknown.
func (e *Engine) AgentAvailable(id string, since time.Time) (Assignment, bool, error) {
	a, ok := e.agents[id]
	if !ok {
		return Assignment{}, false, errNoAgent("make agent available", id)
	}
	if a.available {
		e.leavePools(a)
	}
	a.since = e.now(since)
	a.sinceKey = instant(a.since)
	as, ok := e.offer(a)
	return as, ok, nil
}

// AgentUnavailable reports that an agent can take nothing (not ready, busy,
// in wrap-up, logged out). It does nothing if the agent is not available.
// ENOTFOUND if the agent is unknown.
func (e *Engine) AgentUnavailable(id string) error {
	a, ok := e.agents[id]
	if !ok {
		return errNoAgent("make agent unavailable", id)
	}
	if a.available {
		e.leavePools(a)
	}
	return nil
}

// AgentIsAvailable reports whether the engine holds the agent as available.
// An agent assigned an item is not.
func (e *Engine) AgentIsAvailable(id string) bool {
	a, ok := e.agents[id]
	return ok && a.available
}

func errNoAgent(op, id string) error {
	return cc.Errorf(cc.ENOTFOUND, "%s: agent %q is not known to the router: add it with SetAgent first", op, id)
}
