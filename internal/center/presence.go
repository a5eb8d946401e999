package center

import (
	"context"
	"strings"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/view"
)

// Presence returns the signed-in agent's presence.
func (c *Center) Presence(ctx context.Context, p *cc.Principal) (*cc.Presence, error) {
	ts, err := c.tenantState(p.Tenant.ID)
	if err != nil {
		return nil, err
	}
	ts.mu.Lock()
	defer c.unlock(ts)
	a := ts.agents[p.User.ID]
	if a == nil {
		return &cc.Presence{TenantID: p.Tenant.ID, UserID: p.User.ID, State: cc.StateLoggedOut}, nil
	}
	pr := a.presence
	return &pr, nil
}

// SetState changes the signed-in agent's presence. Available needs a
// reachable endpoint (see reach). While the agent is offered or busy the
// request is kept as pending and applies when the interaction (and its
// wrap-up) ends. Leaving wrap-up by choice finishes the wrap-up (the log is
// written).
func (c *Center) SetState(ctx context.Context, p *cc.Principal, state cc.AgentState, reason string) (*cc.Presence, error) {
	ts, err := c.tenantState(p.Tenant.ID)
	if err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	ts.mu.Lock()
	defer c.unlock(ts)
	a := ts.agents[p.User.ID]
	if a == nil {
		return nil, cc.Errorf(cc.EFORBIDDEN, "%s is not an agent: only users with the agent role have a presence", p.User.Username)
	}
	// Validate before doing anything with side effects.
	if _, err := a.presence.Apply(cc.PresenceChange{Op: cc.OpSet, State: state, Reason: reason, At: c.clock()}, ts.tenant.NotReadyReasons); err != nil {
		return nil, err
	}
	if state == cc.StateAvailable && (a.presence.State == cc.StateLoggedOut || a.presence.State == cc.StateNotReady || a.presence.State == cc.StateWrapUp) {
		if _, err := c.reach(ctx, ts.tenant, a.user); err != nil {
			return nil, err
		}
	}
	if a.presence.State == cc.StateWrapUp {
		if it := ts.wrapping[a.presence.InteractionID]; it != nil {
			// The chosen state wins over where wrap-up would go (after an
			// outbound call from a break, that is the break).
			if state != cc.StateAvailable || a.presence.Outbound {
				a.presence.PendingState, a.presence.PendingReason = state, reason
			}
			if err := c.finishWrapUpLocked(ctx, ts, it, nil, "agent"); err != nil {
				return nil, err
			}
			pr := a.presence
			return &pr, nil
		}
	}
	if err := c.setPresenceLocked(ctx, ts, a, cc.PresenceChange{Op: cc.OpSet, State: state, Reason: reason}); err != nil {
		return nil, err
	}
	pr := a.presence
	return &pr, nil
}

// setPresenceLocked applies a presence change, stores it, tells the engine
// and routes what the change makes possible.
func (c *Center) setPresenceLocked(ctx context.Context, ts *tenantState, a *agentState, ch cc.PresenceChange) error {
	if ch.At.IsZero() {
		ch.At = c.clock()
	}
	next, err := a.presence.Apply(ch, ts.tenant.NotReadyReasons)
	if err != nil {
		return err
	}
	// Back to available by itself (an interaction or its wrap-up ended)
	// while the agent's endpoint went away meanwhile (the browser closed
	// during the call): not ready instead, so no call is offered to nobody.
	// An agent who chooses available (OpSet) is checked before.
	if next.State == cc.StateAvailable && a.presence.State != cc.StateAvailable && ch.Op != cc.OpSet {
		if why := c.endpointGoneLocked(ctx, ts, a); why != "" {
			if nr, err := next.Apply(cc.PresenceChange{Op: cc.OpSystemNotReady, Reason: cc.ReasonConnectionLost, At: ch.At}, nil); err == nil {
				c.log.Info("agent endpoint gone by the end of the interaction; not ready", "agent", a.user.Username, "why", why)
				next = nr
			}
		}
	}
	prev := a.presence
	a.presence = next
	ts.presenceLocked(a)
	if prev.State != next.State || prev.Reason != next.Reason || prev.PendingState != next.PendingState || prev.InteractionID != next.InteractionID {
		e := cc.NewEvent(ts.tenant.ID, cc.EventAgentState, ch.At, view.AgentStateEvent{Presence: view.NewPresence(&next, a.user.Username)})
		e.UserID = a.user.ID
		e.InteractionID = next.InteractionID
		ts.eventsLocked(e)
		c.markAgentQueuesDirty(ts, a)
	}
	if next.State != cc.StateWrapUp {
		a.stopTimer()
	}
	switch {
	case next.State == cc.StateAvailable && prev.State != cc.StateAvailable:
		as, ok, err := ts.engine.AgentAvailable(a.user.ID, next.AvailableSince)
		if err != nil {
			c.log.Error("route available agent", "agent", a.user.Username, "error", err)
		} else if ok {
			c.offerLocked(ctx, ts, as)
		}
	case next.State != cc.StateAvailable && prev.State == cc.StateAvailable:
		if err := ts.engine.AgentUnavailable(a.user.ID); err != nil {
			c.log.Error("mark agent unavailable", "agent", a.user.Username, "error", err)
		}
	}
	return nil
}

// sweep removes expired SIP registrations and takes agents whose phone is
// gone out of routing (not ready, connection lost).
func (c *Center) sweep(ctx context.Context) {
	gone, err := c.store.DeleteExpiredRegistrations(ctx, c.clock())
	if err != nil {
		c.log.Warn("sweep registrations", "error", err)
		return
	}
	for _, r := range gone {
		c.RegistrationChanged(ctx, r.TenantID, r.UserID)
	}
	if err := c.store.DeleteExpiredSessions(ctx, c.clock()); err != nil {
		c.log.Warn("sweep sessions", "error", err)
	}
}

// RegistrationChanged is called by the registrar when an agent's phone
// registered or unregistered. An available agent with no endpoint left is
// made not ready (connection lost), so calls are not offered to nobody.
func (c *Center) RegistrationChanged(ctx context.Context, tenantID, userID string) {
	c.withAgent(tenantID, userID, func(ts *tenantState, a *agentState) {
		c.endpointChangedLocked(ctx, ts, a, "agent phone gone; not ready")
	})
}

func (c *Center) markAgentQueuesDirty(ts *tenantState, a *agentState) {
	for id, q := range ts.queues {
		if eligible(a.user.Skills, q.Skills) {
			ts.dirty[id] = true
		}
	}
	c.kickStatus()
}

func eligible(agentSkills, queueSkills []string) bool {
	for _, s := range queueSkills {
		found := false
		for _, h := range agentSkills {
			if h == s {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// scheduleWrapUpLocked arms the wrap-up deadline of an agent.
func (c *Center) scheduleWrapUpLocked(ts *tenantState, a *agentState, it *cc.Interaction) {
	a.stopTimer()
	d := time.Until(a.presence.WrapUpDeadline)
	if d < 0 {
		d = 0
	}
	id := it.ID
	a.timer = time.AfterFunc(d, func() {
		ts.mu.Lock()
		defer c.unlock(ts)
		if ts.closed {
			return
		}
		if it := ts.wrapping[id]; it != nil {
			if err := c.finishWrapUpLocked(c.ctx, ts, it, nil, "timeout"); err != nil {
				c.log.Error("finish wrap-up on timeout", "interaction", id, "error", err)
			}
		}
	})
}
