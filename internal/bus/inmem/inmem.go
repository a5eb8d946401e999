// Package inmem is the single-node event bus: it fans events out to the
// subscribers of a tenant inside one process. A subscriber that falls more
// than its buffer behind is dropped (its channel is closed) so that one slow
// WebSocket never slows the contact center; it resubscribes and replays the
// gap from the event store by sequence number.
package inmem

import (
	"sync"

	"github.com/parley-cc/parley/internal/cc"
)

// Bus is an in-process cc.EventBus.
type Bus struct {
	mu     sync.Mutex
	subs   map[string]map[*sub]struct{}
	buffer int
	closed bool
}

var _ cc.FilteringBus = (*Bus)(nil)

type sub struct {
	ch     chan *cc.Event
	keep   func(*cc.Event) bool // nil keeps every event
	closed bool
}

// New returns a bus whose subscribers buffer up to buffer events (256 when 0).
func New(buffer int) *Bus {
	if buffer <= 0 {
		buffer = 256
	}
	return &Bus{subs: map[string]map[*sub]struct{}{}, buffer: buffer}
}

// Publish delivers e to the tenant's subscribers without blocking.
func (b *Bus) Publish(e *cc.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs[e.TenantID] {
		if s.keep != nil && !s.keep(e) {
			continue
		}
		select {
		case s.ch <- e:
		default:
			b.dropLocked(e.TenantID, s)
		}
	}
}

// Subscribe returns the tenant's live events and a cancel function.
func (b *Bus) Subscribe(tenantID string) (<-chan *cc.Event, func()) {
	return b.SubscribeFunc(tenantID, nil)
}

// SubscribeFunc returns the tenant's live events that keep (nil: all)
// returns true for: only those count against the subscriber's buffer.
func (b *Bus) SubscribeFunc(tenantID string, keep func(*cc.Event) bool) (<-chan *cc.Event, func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := &sub{ch: make(chan *cc.Event, b.buffer), keep: keep}
	if b.closed {
		close(s.ch)
		return s.ch, func() {}
	}
	m := b.subs[tenantID]
	if m == nil {
		m = map[*sub]struct{}{}
		b.subs[tenantID] = m
	}
	m[s] = struct{}{}
	return s.ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.dropLocked(tenantID, s)
	}
}

// Subscribers counts live subscribers (for metrics).
func (b *Bus) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, m := range b.subs {
		n += len(m)
	}
	return n
}

// Close ends every subscription.
func (b *Bus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for t, m := range b.subs {
		for s := range m {
			b.dropLocked(t, s)
		}
	}
	return nil
}

func (b *Bus) dropLocked(tenantID string, s *sub) {
	if s.closed {
		return
	}
	s.closed = true
	close(s.ch)
	delete(b.subs[tenantID], s)
	if len(b.subs[tenantID]) == 0 {
		delete(b.subs, tenantID)
	}
}
