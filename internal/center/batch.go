package center

import (
	"context"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// batch collects the writes of one step of a tenant (everything done under
// one hold of its lock) so that they land in one transaction: a call that is
// offered writes the interaction, the agent's presence and both events in
// one commit instead of four.
type batch struct {
	change   cc.Change
	created  map[*cc.Interaction]bool
	updated  map[*cc.Interaction]bool
	presence map[string]*agentState // by user id, written as they are at flush
	order    []string
	kick     bool
}

func (b *batch) reset() {
	*b = batch{}
}

// createLocked stores a new interaction at the next flush.
func (ts *tenantState) createLocked(it *cc.Interaction) {
	b := &ts.batch
	if b.created == nil {
		b.created = map[*cc.Interaction]bool{}
	}
	b.created[it] = true
	b.change.Create = append(b.change.Create, it)
}

// touchLocked stores an interaction's current fields at the next flush.
func (ts *tenantState) touchLocked(it *cc.Interaction) {
	b := &ts.batch
	if b.created[it] || b.updated[it] {
		return
	}
	if b.updated == nil {
		b.updated = map[*cc.Interaction]bool{}
	}
	b.updated[it] = true
	b.change.Update = append(b.change.Update, it)
}

// presenceLocked stores an agent's presence at the next flush.
func (ts *tenantState) presenceLocked(a *agentState) {
	b := &ts.batch
	if b.presence == nil {
		b.presence = map[string]*agentState{}
	}
	if _, ok := b.presence[a.user.ID]; !ok {
		b.order = append(b.order, a.user.ID)
	}
	b.presence[a.user.ID] = a
}

// eventsLocked appends events, stored and published at the next flush in
// the order they happened.
func (ts *tenantState) eventsLocked(events ...*cc.Event) {
	ts.batch.change.Events = append(ts.batch.change.Events, events...)
}

// outboxLocked adds outbox items; the worker is woken after the flush.
func (ts *tenantState) outboxLocked(items ...*cc.OutboxItem) {
	if len(items) == 0 {
		return
	}
	ts.batch.change.Outbox = append(ts.batch.change.Outbox, items...)
	ts.batch.kick = true
}

// flushLocked writes the tenant's pending writes in one transaction and
// publishes their events. A failed commit is logged: the live state in
// memory stays authoritative and the next step writes it again.
func (c *Center) flushLocked(ts *tenantState) error {
	b := &ts.batch
	ch := &b.change
	for _, id := range b.order {
		p := b.presence[id].presence
		ch.Presences = append(ch.Presences, &p)
	}
	if ch.Empty() {
		b.reset()
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := c.store.Commit(ctx, ch)
	if err != nil {
		c.log.Error("store a contact-center step", "tenant", ts.tenant.Slug, "interactions", len(ch.Create)+len(ch.Update), "events", len(ch.Events), "error", err)
	} else {
		for _, e := range ch.Events {
			c.bus.Publish(e)
		}
	}
	kick := b.kick
	b.reset()
	if kick && err == nil {
		c.kickOutbox()
	}
	return err
}

// unlock flushes the tenant's pending writes and releases its lock.
func (c *Center) unlock(ts *tenantState) {
	_ = c.flushLocked(ts)
	ts.mu.Unlock()
}
