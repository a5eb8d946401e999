package center

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/parley-cc/parley/internal/acd"
	"github.com/parley-cc/parley/internal/cc"
)

// acceptRing bounds the re-offer of an accepted call to the agent's phone
// (with auto-answer headers) before the center gives up on it.
const acceptRing = 10 * time.Second

// Agents lists the tenant's agents with their presence, by name.
func (c *Center) Agents(ctx context.Context, p *cc.Principal) ([]cc.AgentInfo, error) {
	ts, err := c.tenantState(p.Tenant.ID)
	if err != nil {
		return nil, err
	}
	ts.mu.Lock()
	defer c.unlock(ts)
	out := make([]cc.AgentInfo, 0, len(ts.agents))
	for _, a := range ts.agents {
		st := a.presence.State
		if st == "" {
			st = cc.StateLoggedOut
		}
		out = append(out, cc.AgentInfo{ID: a.user.ID, Username: a.user.Username, Name: a.user.Name(), State: st, Reason: a.presence.Reason,
			Endpoint: a.user.EndpointKind()})
	}
	slices.SortFunc(out, func(x, y cc.AgentInfo) int {
		if c := strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name)); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out, nil
}

// controlled is a live call that a principal may control.
type controlled struct {
	it   *cc.Interaction
	in   *call    // inbound, or nil
	out  *outCall // outbound, or nil
	ctrl cc.CallControl
}

// controlLocked finds the connected call id that p may control: its agent,
// or a supervisor or admin of the tenant. ENOTFOUND for anyone else (as for
// an id that does not exist), ECONFLICT when the call is not connected.
func (c *Center) controlLocked(ctx context.Context, ts *tenantState, p *cc.Principal, id string) (*controlled, error) {
	it, err := c.visibleInteractionLocked(ctx, ts, p, id)
	if err != nil {
		return nil, err
	}
	k := &controlled{it: it}
	if cl := ts.live[id]; cl != nil && !cl.done {
		k.in, k.ctrl = cl, cl.ctrl
	} else if oc := ts.outbound[id]; oc != nil && !oc.done {
		k.out, k.ctrl = oc, oc.ctrl
	}
	if k.ctrl == nil || it.State != cc.InteractionConnected {
		return nil, cc.Errorf(cc.ECONFLICT, "interaction %s is %s, not connected: call controls work only during the call", id, it.State)
	}
	return k, nil
}

// Hold puts the customer on hold (hold audio; the agent's audio is not
// sent) or resumes the call.
func (c *Center) Hold(ctx context.Context, p *cc.Principal, id string, on bool) (*cc.Interaction, error) {
	return c.toggle(ctx, p, id, on, func(it *cc.Interaction) *bool { return &it.Held },
		func(ctrl cc.CallControl) error { return ctrl.Hold(on) }, cc.EventInteractionHeld, cc.EventInteractionResumed)
}

// Mute replaces the agent's audio to the customer with silence, or stops.
func (c *Center) Mute(ctx context.Context, p *cc.Principal, id string, on bool) (*cc.Interaction, error) {
	return c.toggle(ctx, p, id, on, func(it *cc.Interaction) *bool { return &it.Muted },
		func(ctrl cc.CallControl) error { return ctrl.Mute(on) }, cc.EventInteractionMuted, cc.EventInteractionUnmuted)
}

// toggle applies an on/off call control and records it as an event.
// Asking for the state the call is already in changes nothing.
func (c *Center) toggle(ctx context.Context, p *cc.Principal, id string, on bool, field func(*cc.Interaction) *bool, apply func(cc.CallControl) error, onEvent, offEvent cc.EventType) (*cc.Interaction, error) {
	return c.withControl(ctx, p, id, func(ts *tenantState, k *controlled) error {
		f := field(k.it)
		if *f == on {
			return nil
		}
		if err := apply(k.ctrl); err != nil {
			return err
		}
		*f = on
		typ := offEvent
		if on {
			typ = onEvent
		}
		c.saveLocked(ctx, ts, k.it, nil, c.interactionEvent(ts, k.it, typ, c.clock(), "by "+p.User.Username, ""))
		return nil
	})
}

// withControl runs fn under the tenant lock on the connected call id that
// p may control (controlLocked) and returns a copy of its interaction.
func (c *Center) withControl(ctx context.Context, p *cc.Principal, id string, fn func(ts *tenantState, k *controlled) error) (*cc.Interaction, error) {
	ts, err := c.tenantState(p.Tenant.ID)
	if err != nil {
		return nil, err
	}
	ts.mu.Lock()
	defer c.unlock(ts)
	k, err := c.controlLocked(ctx, ts, p, id)
	if err != nil {
		return nil, err
	}
	if err := fn(ts, k); err != nil {
		return nil, err
	}
	cp := *k.it
	return &cp, nil
}

// SendDTMF sends digits to the customer as RFC 4733 events.
func (c *Center) SendDTMF(ctx context.Context, p *cc.Principal, id, digits string) (*cc.Interaction, error) {
	if err := cc.ValidateDTMF(digits); err != nil {
		return nil, err
	}
	return c.withControl(ctx, p, id, func(ts *tenantState, k *controlled) error {
		if err := k.ctrl.SendDTMF(digits); err != nil {
			return err
		}
		// The digits themselves are not recorded: they may be a card number.
		c.saveLocked(ctx, ts, k.it, nil, c.interactionEvent(ts, k.it, cc.EventInteractionDTMF, c.clock(), "by "+p.User.Username, strings.Repeat("*", len(digits))))
		return nil
	})
}

// HangupCall ends both legs of a connected call; wrap-up follows when the
// media side reports the end.
func (c *Center) HangupCall(ctx context.Context, p *cc.Principal, id string) (*cc.Interaction, error) {
	return c.withControl(ctx, p, id, func(_ *tenantState, k *controlled) error {
		return k.ctrl.Hangup("hung up by " + p.User.Username + " in the panel")
	})
}

// Transfer sends a connected inbound call to a queue or to an agent (a
// blind transfer). The agent's leg is released and that agent goes to
// wrap-up; the customer hears hold audio meanwhile. A transfer to a queue
// is a new enqueue there at that queue's priority, timed from the
// transfer (the first queue's wait is not carried over). A transfer to an
// agent offers the call to that agent at once; ECONFLICT when the agent is
// not available.
func (c *Center) Transfer(ctx context.Context, p *cc.Principal, id string, to cc.TransferTarget) (*cc.Interaction, error) {
	if (to.QueueID == "") == (to.AgentID == "") {
		return nil, cc.Errorf(cc.EINVALID, "give either queue_id or agent_id to transfer to, not both and not neither")
	}
	ts, err := c.tenantState(p.Tenant.ID)
	if err != nil {
		return nil, err
	}
	ts.mu.Lock()
	defer c.unlock(ts)
	k, err := c.controlLocked(ctx, ts, p, id)
	if err != nil {
		return nil, err
	}
	if k.in == nil {
		return nil, cc.Errorf(cc.ECONFLICT, "interaction %s is an outbound call: only inbound calls can be transferred", id)
	}
	cl := k.in
	target := cl.queue
	var agent *agentState
	if to.QueueID != "" {
		if target = ts.queues[to.QueueID]; target == nil {
			return nil, cc.Errorf(cc.ENOTFOUND, "queue %q not found", to.QueueID)
		}
	} else {
		if agent = ts.agents[to.AgentID]; agent == nil {
			return nil, cc.Errorf(cc.ENOTFOUND, "agent %q not found", to.AgentID)
		}
		if agent.user.ID == cl.it.AgentID {
			return nil, cc.Errorf(cc.EINVALID, "the call is already with %s: pick another agent", agent.user.Username)
		}
		if agent.presence.State != cc.StateAvailable {
			return nil, cc.Errorf(cc.ECONFLICT, "%s is %s, not available: pick an available agent or a queue", agent.user.Username, agent.presence.State)
		}
	}
	detail := "to queue " + target.Name
	if agent != nil {
		detail = "to agent " + agent.user.Username
	}
	if err := c.handOverLocked(ctx, ts, cl, target, agent, "by "+p.User.Username, detail, time.Time{}, cl.queue.WrapUp); err != nil {
		return nil, err
	}
	cp := *cl.it
	return &cp, nil
}

// handOverLocked takes a connected inbound call from its agent, whose leg
// is released and who goes to wrap-up for wrapUp (writing no log; zero
// ends it at once), to the target queue, or offers it to agent there. by
// and detail go in the transferred event. place is the time the call's
// place in line counts from (zero: now, the back of the line; a rescued
// call keeps its first one).
func (c *Center) handOverLocked(ctx context.Context, ts *tenantState, cl *call, target *cc.Queue, agent *agentState, by, detail string, place time.Time, wrapUp time.Duration) error {
	if err := cl.ctrl.ReleaseAgent(); err != nil {
		return err
	}
	now := c.clock()
	it := cl.it
	from := ts.agents[it.AgentID]
	cl.ctrl = nil
	it.Held, it.Muted = false, false
	if from != nil {
		c.releaseAgentLocked(ctx, ts, from, it, wrapUp, now)
	}
	e := c.interactionEvent(ts, it, cc.EventInteractionTransferred, now, by, detail)
	ts.dirty[it.QueueID] = true
	it.State = cc.InteractionQueued
	it.AgentID = ""
	it.QueueID = target.ID
	it.QueuedAt = now
	cl.place = place
	cl.queue = target
	cl.enteredQueue = now
	c.saveLocked(ctx, ts, it, nil, e)
	c.armMaxWaitLocked(cl)
	ts.dirty[target.ID] = true
	c.kickStatus()
	if agent != nil {
		c.offerLocked(ctx, ts, acd.Assignment{ItemID: it.ID, AgentID: agent.user.ID, QueueID: target.ID})
	} else {
		c.requeueLocked(ctx, cl)
	}
	return nil
}

// releaseAgentLocked sends the agent whose leg was released by a transfer
// to wrap-up. The interaction goes on with another agent, so this wrap-up
// writes no log: it ends when its time runs out or when the agent picks a
// state.
func (c *Center) releaseAgentLocked(ctx context.Context, ts *tenantState, a *agentState, it *cc.Interaction, wrapUp time.Duration, now time.Time) {
	if err := c.setPresenceLocked(ctx, ts, a, cc.PresenceChange{Op: cc.OpEnd, WrapUp: wrapUp, At: now}); err != nil {
		c.log.Error("release agent after transfer", "agent", a.user.Username, "error", err)
		return
	}
	id := it.ID
	a.stopTimer()
	a.timer = time.AfterFunc(max(time.Until(a.presence.WrapUpDeadline), 0), func() {
		ts.mu.Lock()
		defer c.unlock(ts)
		if ts.closed || a.presence.State != cc.StateWrapUp || a.presence.InteractionID != id {
			return
		}
		if live := ts.wrapping[id]; live != nil && live.AgentID == a.user.ID {
			return // the call came back to this agent and ended: its own wrap-up
		}
		if err := c.setPresenceLocked(c.bg(), ts, a, cc.PresenceChange{Op: cc.OpWrapUpDone}); err != nil {
			c.log.Error("end wrap-up after transfer", "agent", a.user.Username, "error", err)
		}
	})
}

// offeredLocked finds the inbound call id ringing p now.
func (c *Center) offeredLocked(ctx context.Context, ts *tenantState, p *cc.Principal, id string) (*call, error) {
	it, err := c.visibleInteractionLocked(ctx, ts, p, id)
	if err != nil {
		return nil, err
	}
	cl := ts.live[id]
	if cl == nil || cl.done || cl.offer == nil || cl.offer.Agent.ID != p.User.ID {
		return nil, cc.Errorf(cc.ECONFLICT, "interaction %s is %s and not ringing for %s: there is no offer to answer", id, it.State, p.User.Username)
	}
	return cl, nil
}

// Accept answers the offer ringing the agent: the agent's phone is rung
// again with a request to answer at once (auto-answer headers).
func (c *Center) Accept(ctx context.Context, p *cc.Principal, id string) (*cc.Interaction, error) {
	return c.withOffer(ctx, p, id, func(ts *tenantState, cl *call, offer *cc.Offer) {
		if cl.watchdog != nil {
			cl.watchdog.Stop()
		}
		cl.watchdog = time.AfterFunc(acceptRing+c.opts.OfferGrace, func() {
			ts.mu.Lock()
			defer c.unlock(ts)
			if !ts.closed && cl.offer == offer {
				c.offerFailedLocked(c.bg(), cl, offer, cc.ReasonRingNoAnswer, "the phone did not answer after accept")
			}
		})
		c.saveLocked(ctx, ts, cl.it, nil, c.interactionEvent(ts, cl.it, cc.EventInteractionAccepted, c.clock(), "by "+p.User.Username, ""))
		cl.send(cc.Instruction{Accept: offer})
	})
}

// withOffer runs fn under the tenant lock on the inbound call id ringing p
// (offeredLocked), with its current offer, and returns a copy of its
// interaction.
func (c *Center) withOffer(ctx context.Context, p *cc.Principal, id string, fn func(ts *tenantState, cl *call, offer *cc.Offer)) (*cc.Interaction, error) {
	ts, err := c.tenantState(p.Tenant.ID)
	if err != nil {
		return nil, err
	}
	ts.mu.Lock()
	defer c.unlock(ts)
	cl, err := c.offeredLocked(ctx, ts, p, id)
	if err != nil {
		return nil, err
	}
	offer := cl.offer
	fn(ts, cl, offer)
	cp := *cl.it
	return &cp, nil
}

// Reject declines the offer ringing the agent: the INVITE to its phone is
// cancelled, the agent goes not ready (declined) and the call keeps its
// place at the head of its queue for the next agent.
func (c *Center) Reject(ctx context.Context, p *cc.Principal, id string) (*cc.Interaction, error) {
	return c.withOffer(ctx, p, id, func(ts *tenantState, cl *call, offer *cc.Offer) {
		cl.send(cc.Instruction{Withdraw: offer})
		c.saveLocked(ctx, ts, cl.it, nil, c.interactionEvent(ts, cl.it, cc.EventInteractionRejected, c.clock(), "by "+p.User.Username, ""))
		c.offerFailedLocked(ctx, cl, offer, cc.ReasonDeclined, "rejected in the panel")
	})
}
