package center

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/parley-cc/parley/internal/acd"
	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/view"
)

// call is the center's side of one live inbound call. Its fields change
// under the tenant lock.
type call struct {
	c     *Center
	ts    *tenantState
	it    *cc.Interaction
	queue *cc.Queue
	instr chan cc.Instruction
	offer *cc.Offer // the offer ringing now
	// ctrl drives the connected call (nil until an agent answered, and
	// again after the agent's leg was released for a transfer).
	ctrl   cc.CallControl
	done   bool
	queued bool // in the engine (the CRM lookup finished)
	// enteredQueue is when the call entered its current queue (for max wait).
	enteredQueue time.Time
	// place, when set, is the time its place in line counts from instead
	// of QueuedAt: a call rescued from an agent whose audio was lost keeps
	// the place it first had (handOverLocked).
	place      time.Time
	maxWait    *time.Timer
	maxWaitDue bool
	watchdog   *time.Timer
	closeOnce  sync.Once
}

var _ cc.CallHandle = (*call)(nil)

func (cl *call) stopTimers() {
	if cl.maxWait != nil {
		cl.maxWait.Stop()
	}
	if cl.watchdog != nil {
		cl.watchdog.Stop()
	}
}

// send delivers an instruction without blocking the tenant lock.
func (cl *call) send(in cc.Instruction) {
	if cl.done {
		return
	}
	select {
	case cl.instr <- in:
	default:
		cl.c.log.Error("call instruction buffer full; dropping", "interaction", cl.it.ID)
	}
}

// Arrive creates and stores the interaction of a new inbound call, starts
// the CRM lookup and queues the call when the lookup ends.
func (c *Center) Arrive(ctx context.Context, a cc.Arrival) (cc.CallHandle, error) {
	c.mu.Lock()
	draining := c.draining
	c.mu.Unlock()
	if draining {
		return nil, cc.Errorf(cc.EUNAVAILABLE, "the contact center is shutting down")
	}
	ts, err := c.tenantState(a.Tenant.ID)
	if err != nil {
		return nil, err
	}
	now := c.clock()
	ts.mu.Lock()
	q := ts.queues[a.EntryPoint.QueueID]
	if q == nil {
		c.unlock(ts)
		return nil, cc.Errorf(cc.ENOTFOUND, "entry point %s points to a queue that does not exist", a.EntryPoint.Number)
	}
	it := &cc.Interaction{
		ID:           cc.NewID("int"),
		TenantID:     a.Tenant.ID,
		Channel:      cc.ChannelPhone,
		Direction:    cc.Inbound,
		State:        cc.InteractionQueued,
		Customer:     a.Customer,
		DialedNumber: a.Dialed,
		EntryPointID: a.EntryPoint.ID,
		QueueID:      q.ID,
		SIPCallID:    a.SIPCallID,
		Data:         a.Data,
		ScreenPop:    q.PopTiming(),
		CreatedAt:    now,
		QueuedAt:     now,
	}
	if a.Trunk != nil {
		it.TrunkID = a.Trunk.ID
	}
	cl := &call{c: c, ts: ts, it: it, queue: q, instr: make(chan cc.Instruction, 8), enteredQueue: now}
	ts.createLocked(it)
	ts.eventsLocked(c.interactionEvent(ts, it, cc.EventInteractionQueued, now, "", ""))
	// The call exists once its interaction is stored: wait for the write
	// without holding the lock, then take the lock again to route it.
	job := c.prepareLocked(ts)
	ts.mu.Unlock()
	if job != nil {
		<-job.done
		if job.err != nil {
			return nil, job.err
		}
	}
	ts.mu.Lock()
	ts.live[it.ID] = cl
	ts.lookups[q.ID] = append(ts.lookups[q.ID], now)
	ts.dirty[q.ID] = true
	c.statsLocked(ts, q.ID).arrive(now, ts.tenant)
	c.metric.arrivals.Inc()
	if q.MaxWait > 0 {
		c.armMaxWaitLocked(cl)
	}
	c.unlock(ts)
	c.kickStatus()

	number := a.Customer.Number
	if a.Customer.Withheld {
		number = ""
	}
	qs := searchData(q.SearchFields, a.Data)
	if c.crm == nil || number == "" && len(qs) == 0 {
		c.lookedUp(cl, nil, "")
		return cl, nil
	}
	go c.lookup(cl, a.Tenant, qs, number)
	return cl, nil
}

// lookup searches the CRM for the caller (by the queue's search fields,
// then by number: findCustomer), then queues the call.
func (c *Center) lookup(cl *call, t *cc.Tenant, qs []cc.FieldQuery, number string) {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.LookupTimeout)
	defer cancel()
	start := time.Now()
	crm, err := c.crm.CRM(ctx, t)
	var recs []cc.CRMRecord
	if err == nil && crm != nil {
		recs, err = findCustomer(ctx, crm, qs, number, c.log.With("interaction", cl.it.ID))
	}
	result := "ok"
	msg := ""
	if err != nil {
		result = "error"
		msg = cc.ErrorMessage(err)
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			msg = "the CRM did not answer in time"
		}
		c.log.Warn("CRM lookup failed; routing with what it found", "interaction", cl.it.ID, "matches", len(recs), "error", err)
	}
	c.metric.lookupSeconds.WithLabelValues(result).Observe(time.Since(start).Seconds())
	c.lookedUp(cl, recs, msg)
}

// lookedUp records the matches and puts the call into its queue.
func (c *Center) lookedUp(cl *call, recs []cc.CRMRecord, lookupErr string) {
	ts := cl.ts
	ts.mu.Lock()
	defer c.unlock(ts)
	if ts.closed {
		return
	}
	it := cl.it
	c.dropLookupLocked(ts, it.QueueID, it.QueuedAt)
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if len(recs) > 0 || lookupErr != "" {
		it.Matches = recs
		it.LookupError = lookupErr
		if len(recs) == 1 {
			r := recs[0]
			it.LinkedRecord = &r
		}
		ts.touchLocked(it)
	}
	if cl.done {
		return
	}
	cl.queued = true
	if cl.maxWaitDue {
		c.maxWaitLocked(ctx, cl)
		return
	}
	as, ok, err := ts.engine.Enqueue(it.ID, it.QueueID, it.QueuedAt)
	if err != nil {
		c.log.Error("enqueue call", "interaction", it.ID, "error", err)
		return
	}
	ts.dirty[it.QueueID] = true
	c.kickStatus()
	if ok {
		c.offerLocked(ctx, ts, as)
	}
}

func (c *Center) dropLookupLocked(ts *tenantState, queueID string, at time.Time) {
	l := ts.lookups[queueID]
	if i := slices.IndexFunc(l, func(t time.Time) bool { return t.Equal(at) }); i >= 0 {
		ts.lookups[queueID] = slices.Delete(l, i, i+1)
	}
}

// offerLocked turns a routing decision into an offer to the agent's endpoint.
func (c *Center) offerLocked(ctx context.Context, ts *tenantState, as acd.Assignment) {
	a := ts.agents[as.AgentID]
	cl := ts.live[as.ItemID]
	if a == nil || cl == nil || cl.done {
		// The engine and the live calls disagree: put the agent back.
		c.log.Error("assignment for an unknown call or agent", "interaction", as.ItemID, "agent", as.AgentID)
		ts.engine.Remove(as.ItemID)
		if a != nil && a.presence.State == cc.StateAvailable {
			if next, ok, err := ts.engine.AgentAvailable(a.user.ID, a.presence.AvailableSince); err == nil && ok {
				c.offerLocked(ctx, ts, next)
			}
		}
		return
	}
	now := c.clock()
	it := cl.it
	eps, reachErr := c.reach(ctx, ts.tenant, a.user)
	if reachErr != nil && cc.ErrorCode(reachErr) != cc.ECONFLICT {
		c.log.Error("agent endpoints", "agent", a.user.Username, "error", reachErr)
	}
	if err := c.setPresenceLocked(ctx, ts, a, cc.PresenceChange{Op: cc.OpOffer, InteractionID: it.ID, At: now}); err != nil {
		c.log.Error("offer to agent", "agent", a.user.Username, "error", err)
		c.requeueLocked(ctx, cl)
		return
	}
	it.State = cc.InteractionOffered
	it.AgentID = a.user.ID
	it.OfferedAt = now
	it.Offers++
	offer := &cc.Offer{ID: cc.NewID("ofr"), InteractionID: it.ID, Agent: a.user, Endpoints: eps, Timeout: cl.queue.OfferTimeout}
	cl.offer = offer
	c.saveLocked(ctx, ts, it, nil, c.interactionEvent(ts, it, cc.EventInteractionOffered, now, "", ""))
	ts.dirty[it.QueueID] = true
	c.kickStatus()
	if reachErr != nil {
		c.offerFailedLocked(ctx, cl, offer, cc.ReasonConnectionLost, cc.ErrorMessage(reachErr))
		return
	}
	grace := offer.Timeout + c.opts.OfferGrace
	cl.watchdog = time.AfterFunc(grace, func() {
		ts.mu.Lock()
		defer c.unlock(ts)
		if !ts.closed && cl.offer == offer {
			c.log.Error("no answer from the media side for an offer; failing it", "interaction", it.ID)
			c.offerFailedLocked(c.ctx, cl, offer, cc.ReasonRingNoAnswer, "no result from the media side")
		}
	})
	cl.send(cc.Instruction{Offer: offer})
}

// Interaction returns a snapshot of the call's interaction.
func (cl *call) Interaction() *cc.Interaction {
	cl.ts.mu.Lock()
	defer cl.c.unlock(cl.ts)
	cp := *cl.it
	return &cp
}

// Queue returns the queue the call waits in now.
func (cl *call) Queue() *cc.Queue {
	cl.ts.mu.Lock()
	defer cl.c.unlock(cl.ts)
	return cl.queue
}

// Instructions delivers what the media side should do next.
func (cl *call) Instructions() <-chan cc.Instruction { return cl.instr }

// Answered reports that the offered agent answered; ctrl drives the call
// from now on.
func (cl *call) Answered(offer *cc.Offer, ctrl cc.CallControl) error {
	c, ts := cl.c, cl.ts
	ts.mu.Lock()
	defer c.unlock(ts)
	if cl.done || cl.offer != offer {
		return cc.Errorf(cc.ECONFLICT, "the offer is no longer current")
	}
	ctx := c.ctx
	now := c.clock()
	cl.offer = nil
	cl.ctrl = ctrl
	if cl.watchdog != nil {
		cl.watchdog.Stop()
	}
	if cl.maxWait != nil {
		cl.maxWait.Stop()
	}
	a := ts.agents[offer.Agent.ID]
	if a != nil {
		if err := c.setPresenceLocked(ctx, ts, a, cc.PresenceChange{Op: cc.OpAnswer, At: now}); err != nil {
			c.log.Error("agent answered", "agent", offer.Agent.Username, "error", err)
		}
	}
	it := cl.it
	it.State = cc.InteractionConnected
	it.AnsweredAt = now
	c.saveLocked(ctx, ts, it, nil, c.interactionEvent(ts, it, cc.EventInteractionConnected, now, "", ""))
	c.statsLocked(ts, it.QueueID).answer(it, cl.queue, ts.tenant)
	ts.dirty[it.QueueID] = true
	c.kickStatus()
	return nil
}

// OfferFailed reports that the agent did not answer.
func (cl *call) OfferFailed(offer *cc.Offer, reason, detail string) {
	ts := cl.ts
	ts.mu.Lock()
	defer cl.c.unlock(ts)
	if ts.closed {
		return
	}
	cl.c.offerFailedLocked(cl.c.ctx, cl, offer, reason, detail)
}

func (c *Center) offerFailedLocked(ctx context.Context, cl *call, offer *cc.Offer, reason, detail string) {
	if cl.offer != offer {
		return
	}
	ts := cl.ts
	now := c.clock()
	cl.offer = nil
	if cl.watchdog != nil {
		cl.watchdog.Stop()
	}
	if !cc.IsSystemReason(reason) {
		reason = cc.ReasonRingNoAnswer
	}
	if a := ts.agents[offer.Agent.ID]; a != nil && a.presence.State == cc.StateOffered && a.presence.InteractionID == cl.it.ID {
		if err := c.setPresenceLocked(ctx, ts, a, cc.PresenceChange{Op: cc.OpOfferFailed, Reason: reason, At: now}); err != nil {
			c.log.Error("offer failed", "agent", offer.Agent.Username, "error", err)
		}
	}
	it := cl.it
	it.State = cc.InteractionQueued
	it.AgentID = ""
	e := c.interactionEvent(ts, it, cc.EventInteractionOfferFail, now, reason, detail)
	e.UserID = offer.Agent.ID
	c.saveLocked(ctx, ts, it, nil, e)
	c.log.Info("offer failed; requeued at the head", "interaction", it.ID, "agent", offer.Agent.Username, "reason", reason, "detail", detail)
	if cl.done {
		return
	}
	if cl.maxWaitDue {
		c.maxWaitLocked(ctx, cl)
		return
	}
	c.requeueLocked(ctx, cl)
}

// requeueLocked puts the call back with its original enqueue time.
func (c *Center) requeueLocked(ctx context.Context, cl *call) {
	ts := cl.ts
	it := cl.it
	it.State = cc.InteractionQueued
	at := it.QueuedAt
	if !cl.place.IsZero() {
		at = cl.place
	}
	as, ok, err := ts.engine.Enqueue(it.ID, it.QueueID, at)
	if err != nil {
		c.log.Error("requeue call", "interaction", it.ID, "error", err)
		return
	}
	ts.dirty[it.QueueID] = true
	c.kickStatus()
	if ok {
		c.offerLocked(ctx, ts, as)
	}
}

// Hangup reports that the call is over.
func (cl *call) Hangup(by, detail string) {
	c, ts := cl.c, cl.ts
	ts.mu.Lock()
	defer c.unlock(ts)
	if cl.done || ts.closed {
		return
	}
	ctx := c.ctx
	if ctx == nil || ctx.Err() != nil {
		ctx = context.Background()
	}
	c.hangupLocked(ctx, cl, by, detail, cc.OutcomeAbandoned)
}

func (c *Center) hangupLocked(ctx context.Context, cl *call, by, detail string, unanswered cc.Outcome) {
	ts := cl.ts
	now := c.clock()
	cl.done = true
	cl.stopTimers()
	cl.closeOnce.Do(func() { close(cl.instr) })
	delete(ts.live, cl.it.ID)
	it := cl.it
	if !cl.queued {
		c.dropLookupLocked(ts, it.QueueID, it.QueuedAt)
	}
	ts.dirty[it.QueueID] = true
	c.kickStatus()
	reason := by
	if detail != "" {
		reason = by + ": " + detail
	}
	switch it.State {
	case cc.InteractionConnected:
		c.endConnectedLocked(ctx, ts, it, by, detail, cl.queue.WrapUp)
	default:
		ts.engine.Remove(it.ID)
		if cl.offer != nil {
			offer := cl.offer
			cl.offer = nil
			if a := ts.agents[offer.Agent.ID]; a != nil && a.presence.State == cc.StateOffered && a.presence.InteractionID == it.ID {
				c.setPresenceLocked(ctx, ts, a, cc.PresenceChange{Op: cc.OpOfferWithdrawn, At: now})
			}
		}
		it.State = cc.InteractionEnded
		if it.Outcome == "" {
			it.Outcome = unanswered
		}
		it.AgentID = ""
		it.EndedAt = now
		it.EndReason = reason
		c.metric.ended.WithLabelValues(string(it.Outcome)).Inc()
		c.statsLocked(ts, it.QueueID).abandon(it, ts.tenant)
		ended := c.interactionEvent(ts, it, cc.EventInteractionEnded, now, by, detail)
		c.logLocked(ctx, ts, it, []*cc.Event{ended})
	}
}

// endConnectedLocked ends a connected interaction (inbound or outbound):
// the agent goes to wrap-up for wrapUp, after which the log is written.
func (c *Center) endConnectedLocked(ctx context.Context, ts *tenantState, it *cc.Interaction, by, detail string, wrapUp time.Duration) {
	now := c.clock()
	reason := by
	if detail != "" {
		reason = by + ": " + detail
	}
	it.State = cc.InteractionEnded
	it.Outcome = cc.OutcomeAnswered
	it.EndedAt = now
	it.EndReason = reason
	it.Held, it.Muted = false, false
	c.metric.ended.WithLabelValues(string(it.Outcome)).Inc()
	a := ts.agents[it.AgentID]
	if a == nil {
		c.saveLocked(ctx, ts, it, nil, c.interactionEvent(ts, it, cc.EventInteractionEnded, now, by, detail))
		c.finishWrapUpLocked(ctx, ts, it, nil, "system")
		return
	}
	c.setPresenceLocked(ctx, ts, a, cc.PresenceChange{Op: cc.OpEnd, WrapUp: wrapUp, At: now})
	c.saveLocked(ctx, ts, it, nil, c.interactionEvent(ts, it, cc.EventInteractionEnded, now, by, detail))
	ts.wrapping[it.ID] = it
	if wrapUp <= 0 {
		c.finishWrapUpLocked(ctx, ts, it, nil, "no wrap-up")
		return
	}
	c.scheduleWrapUpLocked(ts, a, it)
}

// armMaxWaitLocked starts the queue's maximum wait for the call.
func (c *Center) armMaxWaitLocked(cl *call) {
	if cl.maxWait != nil {
		cl.maxWait.Stop()
	}
	cl.maxWaitDue = false
	if cl.queue.MaxWait <= 0 {
		return
	}
	d := time.Until(cl.enteredQueue.Add(cl.queue.MaxWait))
	ts := cl.ts
	q := cl.queue
	cl.maxWait = time.AfterFunc(max(d, 0), func() {
		ts.mu.Lock()
		defer c.unlock(ts)
		if ts.closed || cl.done || cl.queue != q {
			return
		}
		cl.maxWaitDue = true
		// Ringing an agent: let the offer finish; it is decided afterwards.
		if cl.offer == nil && cl.it.State == cc.InteractionQueued && cl.queued {
			c.maxWaitLocked(c.ctx, cl)
		}
	})
}

// maxWaitLocked moves a call whose wait ran out to the overflow queue, or
// closes it.
func (c *Center) maxWaitLocked(ctx context.Context, cl *call) {
	ts := cl.ts
	it := cl.it
	now := c.clock()
	if next := ts.queues[cl.queue.OverflowQueueID]; next != nil {
		from := cl.queue
		ts.dirty[it.QueueID] = true
		it.QueueID = next.ID
		it.ScreenPop = next.PopTiming()
		cl.queue = next
		cl.enteredQueue = now
		c.saveLocked(ctx, ts, it, nil, c.interactionEvent(ts, it, cc.EventInteractionOverflowed, now, "max wait in "+from.Name, ""))
		c.armMaxWaitLocked(cl)
		cl.send(cc.Instruction{Queue: next})
		as, ok, err := ts.engine.Move(it.ID, next.ID, it.QueuedAt)
		if err != nil {
			// not waiting (e.g. between offers): enqueue there
			as, ok, err = ts.engine.Enqueue(it.ID, next.ID, it.QueuedAt)
		}
		if err != nil {
			c.log.Error("overflow call", "interaction", it.ID, "error", err)
			return
		}
		ts.dirty[next.ID] = true
		c.kickStatus()
		if ok {
			c.offerLocked(ctx, ts, as)
		}
		return
	}
	it.Outcome = cc.OutcomeMaxWait
	cl.send(cc.Instruction{Close: true, Announcement: "closed", Reason: "max wait"})
	c.hangupLocked(ctx, cl, "system", "max wait of "+cl.queue.MaxWait.String()+" reached in "+cl.queue.Name, cc.OutcomeMaxWait)
}

// saveLocked stores an interaction with its events and outbox items at the
// end of the current step (see batch.go).
func (c *Center) saveLocked(_ context.Context, ts *tenantState, it *cc.Interaction, outbox []*cc.OutboxItem, events ...*cc.Event) {
	ts.touchLocked(it)
	ts.eventsLocked(events...)
	ts.outboxLocked(outbox...)
}

// interactionEvent builds an interaction event with a snapshot.
func (c *Center) interactionEvent(ts *tenantState, it *cc.Interaction, typ cc.EventType, at time.Time, reason, detail string) *cc.Event {
	e := cc.NewEvent(ts.tenant.ID, typ, at, view.InteractionEvent{
		Interaction: view.NewInteraction(it, ts.tenant.Region, names{ts}),
		Reason:      reason,
		Detail:      detail,
	})
	e.InteractionID = it.ID
	e.QueueID = it.QueueID
	e.UserID = it.AgentID
	return e
}

// names resolves ids to names for views; callers hold the tenant lock.
type names struct{ ts *tenantState }

func (n names) QueueName(id string) string {
	if q := n.ts.queues[id]; q != nil {
		return q.Name
	}
	return ""
}

func (n names) AgentName(id string) string {
	if u := n.ts.users[id]; u != nil {
		return u.Name()
	}
	return ""
}
