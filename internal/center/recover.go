package center

import (
	"context"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// recover closes what a previous run left open. Calls do not survive the
// process that carried their media: queued and ringing calls end as
// system-ended (not customer abandons), connected calls end now and go to
// wrap-up so the agent can still write notes; every one gets its CRM log.
// Agents left offered go back to available; available agents stay available.
func (c *Center) recover(ctx context.Context) error {
	open, err := c.store.OpenInteractions(ctx)
	if err != nil {
		return err
	}
	for _, it := range open {
		ts, err := c.tenantState(it.TenantID)
		if err != nil {
			c.log.Error("open interaction of an unknown tenant", "interaction", it.ID)
			continue
		}
		ts.mu.Lock()
		c.recoverLocked(ctx, ts, it)
		c.unlock(ts)
	}
	for _, ts := range c.tenantList() {
		ts.mu.Lock()
		for _, a := range ts.agents {
			c.recoverAgentLocked(ctx, ts, a)
		}
		c.unlock(ts)
	}
	return nil
}

func (c *Center) recoverLocked(ctx context.Context, ts *tenantState, it *cc.Interaction) {
	now := c.clock()
	// The end of a call that a crash cut: the previous run's last sign of
	// life, not the restart.
	ended := now
	if la := c.opts.LastAlive; !la.IsZero() && la.Before(now) {
		ended = la
	}
	ended = latest(ended, it.QueuedAt, it.OfferedAt, it.AnsweredAt)
	c.log.Info("closing interaction left open by the previous run", "interaction", it.ID, "state", it.State)
	switch it.State {
	case cc.InteractionConnected:
		it.State = cc.InteractionEnded
		it.Outcome = cc.OutcomeAnswered
		it.EndedAt = ended
		it.EndReason = "system: " + cc.ReasonServerRestart
		c.saveLocked(ctx, ts, it, nil, c.interactionEvent(ts, it, cc.EventInteractionEnded, now, "system", cc.ReasonServerRestart))
		fallthrough
	case cc.InteractionEnded:
		a := ts.agents[it.AgentID]
		q := ts.queues[it.QueueID]
		if a != nil && q != nil && q.WrapUp > 0 && (a.presence.State == cc.StateBusy || a.presence.State == cc.StateWrapUp || a.presence.State == cc.StateOffered) && a.presence.InteractionID == it.ID {
			// Give the agent a fresh wrap-up period.
			a.presence.State = cc.StateBusy
			if err := c.setPresenceLocked(ctx, ts, a, cc.PresenceChange{Op: cc.OpEnd, WrapUp: q.WrapUp, At: now}); err == nil {
				ts.wrapping[it.ID] = it
				c.scheduleWrapUpLocked(ts, a, it)
				return
			}
		}
		if err := c.finishWrapUpLocked(ctx, ts, it, nil, "system"); err != nil {
			c.log.Error("finish wrap-up after restart", "interaction", it.ID, "error", err)
		}
	default:
		it.State = cc.InteractionEnded
		it.Outcome = cc.OutcomeSystem
		it.AgentID = ""
		it.EndedAt = ended
		it.EndReason = "system: " + cc.ReasonServerRestart
		c.logLocked(ctx, ts, it, []*cc.Event{c.interactionEvent(ts, it, cc.EventInteractionEnded, now, "system", cc.ReasonServerRestart)})
	}
}

// recoverAgentLocked puts an agent whose interaction is gone back in a
// state the center can route, and available agents back into the engine.
func (c *Center) recoverAgentLocked(ctx context.Context, ts *tenantState, a *agentState) {
	p := a.presence
	if p.InteractionID != "" && ts.wrapping[p.InteractionID] == nil && p.State != cc.StateWrapUp {
		// offered or busy on an interaction that no longer exists
		next := cc.StateAvailable
		reason := ""
		if p.Outbound && p.ReturnState != "" {
			next, reason = p.ReturnState, p.ReturnReason
		}
		if p.PendingState != "" {
			next, reason = p.PendingState, p.PendingReason
		}
		a.presence = cc.Presence{TenantID: p.TenantID, UserID: p.UserID, State: cc.StateNotReady, AvailableSince: p.AvailableSince, Version: p.Version}
		if next == cc.StateAvailable {
			c.setPresenceLocked(ctx, ts, a, cc.PresenceChange{Op: cc.OpSet, State: cc.StateAvailable})
		} else {
			a.presence.State = next
			a.presence.Reason = reason
			a.presence.Since = c.clock()
			ts.presenceLocked(a)
		}
		return
	}
	if p.State == cc.StateWrapUp && ts.wrapping[p.InteractionID] == nil {
		// wrap-up of an interaction already finished
		c.setPresenceLocked(ctx, ts, a, cc.PresenceChange{Op: cc.OpWrapUpDone})
		return
	}
	if p.State == cc.StateAvailable {
		as, ok, err := ts.engine.AgentAvailable(a.user.ID, p.AvailableSince)
		if err != nil {
			c.log.Error("restore available agent", "agent", a.user.Username, "error", err)
		} else if ok {
			c.offerLocked(ctx, ts, as)
		}
	}
}

// latest returns the latest of the times.
func latest(t time.Time, more ...time.Time) time.Time {
	for _, m := range more {
		if m.After(t) {
			t = m
		}
	}
	return t
}
