package acd

import (
	"container/heap"
	"strings"
	"time"
)

// indexed is an element of an indexedHeap: it is told its index on every
// move so that it can be removed or fixed in O(log n).
type indexed interface {
	setPos(i int)
}

// indexedHeap is a binary min-heap for container/heap that keeps each
// element's index up to date. The least element is at index 0.
type indexedHeap[T indexed] struct {
	s    []T
	less func(a, b T) bool
}

var _ heap.Interface = (*indexedHeap[*item])(nil)

func (h *indexedHeap[T]) Len() int           { return len(h.s) }
func (h *indexedHeap[T]) Less(i, j int) bool { return h.less(h.s[i], h.s[j]) }
func (h *indexedHeap[T]) Swap(i, j int) {
	h.s[i], h.s[j] = h.s[j], h.s[i]
	h.s[i].setPos(i)
	h.s[j].setPos(j)
}

func (h *indexedHeap[T]) Push(x any) {
	v := x.(T)
	v.setPos(len(h.s))
	h.s = append(h.s, v)
}

func (h *indexedHeap[T]) Pop() any {
	n := len(h.s) - 1
	v := h.s[n]
	var zero T
	h.s[n] = zero
	h.s = h.s[:n]
	v.setPos(-1)
	return v
}

// item is a waiting interaction.
type item struct {
	id  string
	q   *queue
	at  time.Time // the enqueue time, as given
	key i128      // instant(at)
	pos int       // index in q.items
}

func (it *item) setPos(i int) { it.pos = i }

// itemCmp orders items by enqueue time, then ID. Within one queue this is
// the service order; across queues it breaks rank ties.
func itemCmp(a, b *item) int {
	if c := a.key.cmp(b.key); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

func itemLess(a, b *item) bool { return itemCmp(a, b) < 0 }

// member is one agent's eligibility for one queue. While the agent is
// available the member sits in the queue's heap of available agents.
type member struct {
	a   *agent
	q   *queue
	pos int // index in q.avail, -1 when the agent is not available
}

func (m *member) setPos(i int) { m.pos = i }

// memberLess orders available agents longest idle first: earliest available
// since, then agent ID.
func memberLess(x, y *member) bool {
	a, b := x.a, y.a
	if c := a.sinceKey.cmp(b.sinceKey); c != 0 {
		return c < 0
	}
	return strings.Compare(a.id, b.id) < 0
}
