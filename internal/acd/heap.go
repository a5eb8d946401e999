package acd

import (
	"container/heap"
	"strings"
	"time"
)

// entry is one element of an indexedHeap. The sort key and the ID are kept
// in the entry itself so that comparisons touch only the heap's own array;
// pos points at the owner's index field, kept up to date on every move so
// that the owner can be removed or fixed in O(log n).
type entry[T any] struct {
	key i128
	id  string
	pos *int
	ref T
}

// entryCmp orders entries by key, then ID.
func entryCmp[T any](a, b *entry[T]) int {
	if c := a.key.cmp(b.key); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// entryLess reports whether a orders before b, as entryCmp(a, b) < 0 does;
// it is written out because every heap comparison goes through it.
func entryLess[T any](a, b *entry[T]) bool {
	if a.key.hi != b.key.hi {
		return a.key.hi < b.key.hi
	}
	if a.key.lo != b.key.lo {
		return a.key.lo < b.key.lo
	}
	return a.id < b.id
}

// indexedHeap is a binary min-heap for container/heap, ordered by key then
// ID, that keeps each element's index up to date. The least entry is at
// index 0.
//
// Entries are added with push, not heap.Push, and Pop returns nil: boxing an
// entry in an interface would allocate on every routing decision. Read an
// entry before removing it.
type indexedHeap[T any] struct {
	s []entry[T]
}

var _ heap.Interface = (*indexedHeap[*item])(nil)

func (h *indexedHeap[T]) Len() int { return len(h.s) }

func (h *indexedHeap[T]) Less(i, j int) bool { return entryLess(&h.s[i], &h.s[j]) }

func (h *indexedHeap[T]) Swap(i, j int) {
	h.s[i], h.s[j] = h.s[j], h.s[i]
	*h.s[i].pos = i
	*h.s[j].pos = j
}

// Push appends an entry; it is there for heap.Interface (push does not box).
func (h *indexedHeap[T]) Push(x any) {
	e := x.(entry[T])
	*e.pos = len(h.s)
	h.s = append(h.s, e)
}

// Pop drops the last entry and returns nil.
func (h *indexedHeap[T]) Pop() any {
	n := len(h.s) - 1
	*h.s[n].pos = -1
	h.s[n] = entry[T]{}
	h.s = h.s[:n]
	return nil
}

// push adds ref, whose index field is pos, with its key and ID.
func (h *indexedHeap[T]) push(key i128, id string, pos *int, ref T) {
	n := len(h.s)
	*pos = n
	h.s = append(h.s, entry[T]{key: key, id: id, pos: pos, ref: ref})
	heap.Fix(h, n)
}

// item is a waiting interaction.
type item struct {
	id  string
	q   *queue
	at  time.Time // the enqueue time, as given; instant(at) is its key
	pos int       // index in q.items
}

// member is one agent's eligibility for one queue. While the agent is
// available the member sits in the queue's heap of available agents, keyed
// by the agent's available-since time: the longest idle first.
type member struct {
	a   *agent
	q   *queue
	pos int // index in q.avail, -1 when the agent is not available
}
