package acd

import (
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// Enqueue routes an item (an interaction) that arrives at a queue with its
// original enqueue time (the zero time means now). If eligible agents are
// available it goes to the longest idle one and Enqueue returns the
// assignment; otherwise it waits. A requeue after ring-no-answer is an
// Enqueue with the original time, which puts the item back ahead of later
// arrivals. ENOTFOUND if the queue is unknown; ECONFLICT if the item is
// already waiting (use Move to change its queue).
func (e *Engine) Enqueue(itemID, queueID string, enqueuedAt time.Time) (Assignment, bool, error) {
	if err := checkID("item", itemID); err != nil {
		return Assignment{}, false, err
	}
	q, ok := e.queues[queueID]
	if !ok {
		return Assignment{}, false, errNoQueue("enqueue item "+itemID, queueID)
	}
	if it, ok := e.items[itemID]; ok {
		return Assignment{}, false, cc.Errorf(cc.ECONFLICT, "enqueue item %s: it already waits in queue %q: use Move to change its queue", itemID, it.q.id)
	}
	as, ok := e.place(itemID, q, e.now(enqueuedAt))
	return as, ok, nil
}

// Remove takes a waiting item out of its queue (the caller abandoned, or the
// item was served elsewhere) and reports whether it was waiting.
func (e *Engine) Remove(itemID string) bool {
	it, ok := e.items[itemID]
	if ok {
		e.dropItem(it)
	}
	return ok
}

// Move takes a waiting item to another queue (overflow) with the enqueue
// time to rank it by there (the zero time means now; pass the original time
// to keep its age). It is routed as if it arrived: Move returns the
// assignment when an eligible agent is available. ENOTFOUND if the item is
// not waiting or the queue is unknown; the item then stays where it was.
func (e *Engine) Move(itemID, queueID string, enqueuedAt time.Time) (Assignment, bool, error) {
	it, ok := e.items[itemID]
	if !ok {
		return Assignment{}, false, cc.Errorf(cc.ENOTFOUND, "move item %s: it is not waiting in any queue: Enqueue it instead", itemID)
	}
	q, ok := e.queues[queueID]
	if !ok {
		return Assignment{}, false, errNoQueue("move item "+itemID, queueID)
	}
	e.dropItem(it)
	as, ok := e.place(itemID, q, e.now(enqueuedAt))
	return as, ok, nil
}

// Position returns an item's place in its queue's service order, 1 for the
// next to be served, or 0 when the item is not waiting. It counts the queue:
// it is meant for announcements and supervisors, not for every decision.
func (e *Engine) Position(itemID string) int {
	it, ok := e.items[itemID]
	if !ok {
		return 0
	}
	n := 1
	me := &it.q.items.s[it.pos]
	for i := range it.q.items.s {
		if entryLess(&it.q.items.s[i], me) {
			n++
		}
	}
	return n
}
