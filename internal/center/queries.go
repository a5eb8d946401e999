package center

import (
	"context"
	"slices"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/view"
)

// QueueStatus returns the live state of every queue of the tenant.
func (c *Center) QueueStatus(ctx context.Context, p *cc.Principal) ([]*cc.QueueStatus, error) {
	ts, err := c.tenantState(p.Tenant.ID)
	if err != nil {
		return nil, err
	}
	ts.mu.Lock()
	defer c.unlock(ts)
	out := make([]*cc.QueueStatus, 0, len(ts.queues))
	for _, q := range ts.queues {
		out = append(out, c.queueStatusLocked(ts, q))
	}
	slices.SortFunc(out, func(a, b *cc.QueueStatus) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out, nil
}

func (c *Center) queueStatusLocked(ts *tenantState, q *cc.Queue) *cc.QueueStatus {
	now := c.clock()
	st := &cc.QueueStatus{QueueID: q.ID, Name: q.Name, Priority: q.Priority, ServiceLevel: q.ServiceLevel, Agents: map[cc.AgentState]int{}}
	if qs, err := ts.engine.QueueStats(q.ID); err == nil {
		st.Waiting = qs.Waiting
		if !qs.Oldest.IsZero() {
			st.LongestWait = now.Sub(qs.Oldest)
		}
	}
	// Calls offered to an agent or still being looked up also wait.
	for _, cl := range ts.live {
		if cl.it.QueueID != q.ID || cl.it.State == cc.InteractionConnected {
			continue
		}
		if cl.it.State == cc.InteractionOffered || !cl.queued {
			st.Waiting++
			if w := now.Sub(cl.it.QueuedAt); w > st.LongestWait {
				st.LongestWait = w
			}
		}
	}
	st.LongestWait = st.LongestWait.Truncate(time.Second)
	for _, a := range ts.agents {
		if eligible(a.user.Skills, q.Skills) {
			s := a.presence.State
			if s == "" {
				s = cc.StateLoggedOut
			}
			st.Agents[s]++
		}
	}
	c.statsLocked(ts, q.ID).fill(st, now, ts.tenant)
	return st
}

// Interactions lists interactions: agents see their own, supervisors and
// admins the tenant's.
func (c *Center) Interactions(ctx context.Context, p *cc.Principal, f cc.InteractionFilter) ([]*cc.Interaction, error) {
	f.TenantID = p.Tenant.ID
	if !p.CanSeeTenant() {
		f.AgentID = p.User.ID
	}
	return c.store.Interactions(ctx, f)
}

// Interaction returns one interaction with its event history.
func (c *Center) Interaction(ctx context.Context, p *cc.Principal, id string) (*cc.Interaction, []*cc.Event, error) {
	ts, err := c.tenantState(p.Tenant.ID)
	if err != nil {
		return nil, nil, err
	}
	ts.mu.Lock()
	it, err := c.visibleInteractionLocked(ctx, ts, p, id)
	var cp cc.Interaction
	if err == nil {
		cp = *it
	}
	c.unlock(ts)
	if err != nil {
		return nil, nil, err
	}
	events, err := c.store.Events(ctx, cc.EventFilter{TenantID: p.Tenant.ID, InteractionID: id, Limit: 1000})
	if err != nil {
		return nil, nil, err
	}
	return &cp, events, nil
}

// visibleInteractionLocked returns the interaction when p may see it:
// ENOTFOUND otherwise, as for an id that does not exist.
func (c *Center) visibleInteractionLocked(ctx context.Context, ts *tenantState, p *cc.Principal, id string) (*cc.Interaction, error) {
	it, err := c.loadInteractionLocked(ctx, ts, id)
	if err != nil {
		return nil, err
	}
	if it.TenantID != p.Tenant.ID || (!p.CanSeeTenant() && it.AgentID != p.User.ID) {
		return nil, cc.ErrInteractionNotFound(id)
	}
	return it, nil
}

// Events replays stored events visible to p after a sequence number.
func (c *Center) Events(ctx context.Context, p *cc.Principal, afterSeq int64, limit int) ([]*cc.Event, error) {
	f := cc.EventFilter{TenantID: p.Tenant.ID, AfterSeq: afterSeq, Limit: limit}
	if !p.CanSeeTenant() {
		f.UserID = p.User.ID
	}
	return c.store.Events(ctx, f)
}

// Subscribe streams live events visible to p.
func (c *Center) Subscribe(p *cc.Principal) (<-chan *cc.Event, func()) {
	if p.CanSeeTenant() {
		return c.bus.Subscribe(p.Tenant.ID)
	}
	// An agent's subscription filtered by the bus buffers only what the
	// agent sees: a burst of the tenant's other events (hundreds of agents'
	// calls ending together) does not make its panel fall behind, which
	// would close its socket and so its browser audio.
	if fb, ok := c.bus.(cc.FilteringBus); ok {
		return fb.SubscribeFunc(p.Tenant.ID, func(e *cc.Event) bool { return visibleTo(e, p) })
	}
	in, cancel := c.bus.Subscribe(p.Tenant.ID)
	out := make(chan *cc.Event, 64)
	go func() {
		defer close(out)
		for e := range in {
			if visibleTo(e, p) {
				select {
				case out <- e:
				default:
					// The reader is too slow: end the stream like the bus does.
					cancel()
					return
				}
			}
		}
	}()
	return out, cancel
}

func visibleTo(e *cc.Event, p *cc.Principal) bool {
	if p.CanSeeTenant() || e.Type == cc.EventQueueStatus {
		return true
	}
	return e.UserID == p.User.ID
}

// statusLoop publishes queue.status events for queues whose state changed,
// at most every 200ms.
func (c *Center) statusLoop(ctx context.Context) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.dirty:
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, ts := range c.tenantList() {
			ts.mu.Lock()
			var events []*cc.Event
			for id := range ts.dirty {
				if q := ts.queues[id]; q != nil {
					st := view.NewQueueStatus(c.queueStatusLocked(ts, q))
					e := cc.NewEvent(ts.tenant.ID, cc.EventQueueStatus, c.clock(), view.QueueStatusEvent{Queue: st})
					e.QueueID = id
					events = append(events, e)
				}
				delete(ts.dirty, id)
			}
			c.unlock(ts)
			for _, e := range events {
				c.bus.Publish(e)
			}
		}
	}
}

func (c *Center) kickStatus() {
	select {
	case c.dirty <- struct{}{}:
	default:
	}
}

// Names returns display names for a tenant's queues and agents.
func (c *Center) Names(tenantID string) view.Names {
	ts, err := c.tenantState(tenantID)
	if err != nil {
		return nil
	}
	return lockedNames{ts}
}

type lockedNames struct{ ts *tenantState }

func (n lockedNames) QueueName(id string) string {
	n.ts.mu.Lock()
	defer n.ts.mu.Unlock()
	return names{n.ts}.QueueName(id)
}

func (n lockedNames) AgentName(id string) string {
	n.ts.mu.Lock()
	defer n.ts.mu.Unlock()
	return names{n.ts}.AgentName(id)
}
