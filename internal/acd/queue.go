package acd

import (
	"slices"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// queue is a queue as the engine sees it.
type queue struct {
	id       string
	priority int
	skills   []string // sorted, no duplicates
	off      i128     // priority * step: subtracted from enqueue times to rank
	items    indexedHeap[*item]
	avail    indexedHeap[*member]
	members  map[*agent]*member // eligible agents, available or not
}

func newQueue(id string) *queue {
	return &queue{
		id:      id,
		members: make(map[*agent]*member),
	}
}

// QueueStats is a queue's live state.
type QueueStats struct {
	// Waiting is the number of waiting items.
	Waiting int
	// Oldest is the enqueue time of the item served next in this queue
	// (the earliest), or the zero time when none waits.
	Oldest time.Time
	// Available is the number of available agents eligible for the queue.
	// It is zero whenever Waiting is not.
	Available int
	// Eligible is the number of agents eligible for the queue, available or
	// not.
	Eligible int
}

// SetQueue adds a queue or changes its priority and skills, and returns the
// assignments the change makes possible: when agents who are available become
// eligible, the queue's items go to them in service order, each to the
// longest idle. Changing only the priority never assigns anything; it
// re-ranks the waiting items for the next decisions.
func (e *Engine) SetQueue(id string, priority int, skills []string) ([]Assignment, error) {
	if err := checkID("queue", id); err != nil {
		return nil, err
	}
	set, err := skillSet("queue "+id, skills)
	if err != nil {
		return nil, err
	}
	q, ok := e.queues[id]
	if !ok {
		q = newQueue(id)
		e.queues[id] = q
	} else if slices.Equal(q.skills, set) {
		q.priority, q.off = priority, offset(priority, e.step)
		return nil, nil
	}
	q.priority, q.off, q.skills = priority, offset(priority, e.step), set
	for _, a := range e.agents {
		m, was := q.members[a]
		switch now := covers(a.skills, set); {
		case now && !was:
			link(a, q)
		case !now && was:
			unlink(m)
		}
	}
	return e.drain(q), nil
}

// RemoveQueue removes a queue and returns the IDs of the items that were
// waiting in it, in service order; the engine forgets them. ENOTFOUND if the
// queue is unknown.
func (e *Engine) RemoveQueue(id string) (orphans []string, err error) {
	q, ok := e.queues[id]
	if !ok {
		return nil, errNoQueue("remove queue", id)
	}
	orphans = waitingIDs(q)
	for _, m := range q.members {
		unlink(m)
	}
	for q.items.Len() > 0 {
		e.dropItem(q.items.s[0].ref)
	}
	delete(e.queues, id)
	return orphans, nil
}

// QueueStats returns a queue's live state. ENOTFOUND if the queue is unknown.
func (e *Engine) QueueStats(id string) (QueueStats, error) {
	q, ok := e.queues[id]
	if !ok {
		return QueueStats{}, errNoQueue("queue stats", id)
	}
	st := QueueStats{Waiting: q.items.Len(), Available: q.avail.Len(), Eligible: len(q.members)}
	if st.Waiting > 0 {
		st.Oldest = q.items.s[0].ref.at
	}
	return st, nil
}

// Waiting returns the IDs of a queue's waiting items in service order.
// ENOTFOUND if the queue is unknown. It sorts a copy: it is meant for
// supervisors and tests, not for every routing decision.
func (e *Engine) Waiting(queueID string) ([]string, error) {
	q, ok := e.queues[queueID]
	if !ok {
		return nil, errNoQueue("list waiting items", queueID)
	}
	return waitingIDs(q), nil
}

func waitingIDs(q *queue) []string {
	its := slices.Clone(q.items.s)
	slices.SortFunc(its, func(a, b entry[*item]) int { return entryCmp(&a, &b) })
	ids := make([]string, len(its))
	for i, it := range its {
		ids[i] = it.id
	}
	return ids
}

func errNoQueue(op, id string) error {
	return cc.Errorf(cc.ENOTFOUND, "%s: queue %q is not known to the router: add it with SetQueue first", op, id)
}
