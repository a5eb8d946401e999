package center

import (
	"context"
	"sync/atomic"
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

// A commitJob is one step's writes on their way to the store.
type commitJob struct {
	ts      *tenantState
	ch      *cc.Change
	kick    bool
	pending []*pendingWrite
	err     error
	done    chan struct{}
}

// prepareLocked turns the tenant's pending writes into a job for the writer
// and hands it over, in the order of the steps: it must be called with the
// tenant lock held, so that jobs of one tenant reach the writer in the order
// their steps happened (the versions of their interactions depend on it).
// Interactions are copied: the next step may change them while this one is
// being written. It returns nil when there is nothing to write.
func (c *Center) prepareLocked(ts *tenantState) *commitJob {
	b := &ts.batch
	if ts.pending == nil {
		ts.pending = map[string]*pendingWrite{}
	}
	ch := &cc.Change{Events: b.change.Events, Outbox: b.change.Outbox, Completed: b.change.Completed}
	for _, it := range b.change.Create {
		cp := *it
		ch.Create = append(ch.Create, &cp)
		ts.pending[it.ID] = &pendingWrite{it: cp}
	}
	for _, it := range b.change.Update {
		cp := *it
		ch.Update = append(ch.Update, &cp)
		it.Version++ // what the store will hold once this job is written
		after := cp
		after.Version++
		ts.pending[it.ID] = &pendingWrite{it: after}
	}
	for _, id := range b.order {
		p := b.presence[id].presence
		ch.Presences = append(ch.Presences, &p)
	}
	kick := b.kick
	b.reset()
	if ch.Empty() {
		return nil
	}
	if len(ts.pending) > 256 {
		for id, pw := range ts.pending {
			if pw.written.Load() {
				delete(ts.pending, id)
			}
		}
	}
	job := &commitJob{ts: ts, ch: ch, kick: kick, done: make(chan struct{})}
	for _, it := range ch.Create {
		job.mark(ts.pending[it.ID])
	}
	for _, it := range ch.Update {
		job.mark(ts.pending[it.ID])
	}
	c.writeMu.RLock()
	defer c.writeMu.RUnlock()
	if c.writerShut {
		c.log.Error("a contact-center step after shutdown was not stored", "tenant", ts.tenant.Slug, "events", len(ch.Events))
		job.err = cc.Errorf(cc.EUNAVAILABLE, "the contact center is shut down")
		close(job.done)
		return job
	}
	c.writes <- job
	return job
}

// pendingWrite is the latest state of an interaction the center has sent to
// the writer: reads that do not find it in memory use it, so that a step
// never works on a stored copy older than what an earlier step wrote.
type pendingWrite struct {
	it      cc.Interaction
	written atomic.Bool
}

func (j *commitJob) mark(pw *pendingWrite) {
	if pw != nil {
		j.pending = append(j.pending, pw)
	}
}

// flushLocked writes the tenant's pending writes and waits for them; the
// caller holds the tenant lock and keeps it (used where a step must know
// that its writes landed before it goes on).
func (c *Center) flushLocked(ts *tenantState) error {
	job := c.prepareLocked(ts)
	if job == nil {
		return nil
	}
	<-job.done
	return job.err
}

// unlock hands the tenant's pending writes to the writer, releases the
// tenant lock, and waits until they are written: other steps of the tenant
// go on meanwhile, and the caller still returns only once its step is stored.
func (c *Center) unlock(ts *tenantState) {
	job := c.prepareLocked(ts)
	ts.mu.Unlock()
	if job != nil {
		<-job.done
	}
}

// Writer limits: how many waiting jobs one transaction may take together.
const maxGroup = 64

// writeLoop commits the jobs in order. Jobs that queued up while a commit
// was running are written together in one transaction (group commit): one
// fsync for many steps when calls come fast. If a group fails, its jobs are
// retried one by one so that one bad step does not fail the others.
func (c *Center) writeLoop() {
	defer close(c.writerDone)
	for job := range c.writes {
		group := []*commitJob{job}
	more:
		for len(group) < maxGroup {
			select {
			case j, ok := <-c.writes:
				if !ok {
					break more
				}
				group = append(group, j)
			default:
				break more
			}
		}
		if err := c.commit(group); err != nil && len(group) > 1 {
			for _, j := range group {
				_ = c.commit([]*commitJob{j})
			}
			continue
		}
	}
}

// commit writes a group of jobs in one transaction and finishes them.
func (c *Center) commit(group []*commitJob) error {
	ch := group[0].ch
	if len(group) > 1 {
		ch = &cc.Change{}
		for _, j := range group {
			ch.Create = append(ch.Create, j.ch.Create...)
			ch.Update = append(ch.Update, j.ch.Update...)
			ch.Presences = append(ch.Presences, j.ch.Presences...)
			ch.Events = append(ch.Events, j.ch.Events...)
			ch.Outbox = append(ch.Outbox, j.ch.Outbox...)
			ch.Completed = append(ch.Completed, j.ch.Completed...)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err := c.store.Commit(ctx, ch)
	cancel()
	if err != nil && len(group) > 1 {
		return err // retried one by one
	}
	kick := false
	for _, j := range group {
		j.err = err
		if err != nil {
			c.log.Error("store a contact-center step", "tenant", j.ts.tenant.Slug, "interactions", len(j.ch.Create)+len(j.ch.Update), "events", len(j.ch.Events), "error", err)
		} else {
			for _, e := range j.ch.Events {
				c.bus.Publish(e)
			}
			for _, pw := range j.pending {
				pw.written.Store(true)
			}
			kick = kick || j.kick
		}
		close(j.done)
	}
	if kick {
		c.kickOutbox()
	}
	return err
}
