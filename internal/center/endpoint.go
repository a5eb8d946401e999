package center

import (
	"context"
	"fmt"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// reach answers "can the agent take a call now, and where": it returns the
// SIP URIs that ring the agent (none for a browser agent, whose offers go
// to the panel), or an ECONFLICT error for the agent saying why it cannot
// be reached and what to do. Other errors are failures to read the store.
//
//   - sip: registered contacts, newest first, then the static contact;
//   - browser: the panel's audio is connected (Options.BrowserAudio);
//   - external: the external number through the tenant's outbound trunk,
//     as click-to-dial reaches customers (Trunk.DialURI).
func (c *Center) reach(ctx context.Context, t *cc.Tenant, u *cc.User) ([]string, error) {
	switch u.EndpointKind() {
	case cc.EndpointBrowser:
		if !c.audioConnected(t, u) {
			return nil, cc.Errorf(cc.ECONFLICT, "%s takes calls in the browser panel and its audio is not connected: open the panel and allow the microphone (or choose another endpoint with parley admin user set --endpoint sip)", u.Username)
		}
		return nil, nil
	case cc.EndpointExternal:
		if u.ExternalNumber == "" {
			return nil, cc.Errorf(cc.ECONFLICT, "%s takes calls on an external number but has none: an admin sets one with `parley admin user set --tenant %s --username %s --external-number +12015550123`", u.Username, t.Slug, u.Username)
		}
		trunk, err := c.outboundTrunk(ctx, t)
		if cc.ErrorCode(err) == cc.ECONFLICT {
			return nil, cc.WrapError(cc.ECONFLICT, err, "%s takes calls on %s, which is called through the tenant's outbound trunk, and %s", u.Username, u.ExternalNumber, cc.ErrorMessage(err))
		}
		if err != nil {
			return nil, err
		}
		return []string{trunk.DialURI(u.ExternalNumber)}, nil
	}
	var out []string
	if u.SIPUsername != "" {
		regs, err := c.store.Registrations(ctx, t.ID, u.ID, c.clock())
		if err != nil {
			return nil, fmt.Errorf("agent endpoints: %w", err)
		}
		for _, r := range regs {
			out = append(out, r.Contact)
		}
	}
	if u.StaticContact != "" {
		out = append(out, u.StaticContact)
	}
	if len(out) == 0 {
		return nil, cc.Errorf(cc.ECONFLICT, "%s has no phone to ring: no phone is registered for SIP user %q and there is no static contact; register the SIP phone first (or choose another endpoint with parley admin user set --endpoint browser)", u.Username, u.SIPUsername)
	}
	return out, nil
}

// AudioChanged is called by the browser softphone when an agent's audio
// leg went live, or has been gone for its grace. An available agent that
// can no longer be reached is made not ready (connection lost), as when a
// SIP phone unregisters.
//
// An agent on an inbound call whose audio is gone has Options.AudioRescue
// to come back (the customer hears hold audio meanwhile); then the call
// goes back to its queue (watchCallAudioLocked).
func (c *Center) AudioChanged(ctx context.Context, tenantID, userID string) {
	c.withAgent(tenantID, userID, func(ts *tenantState, a *agentState) {
		a.audioGone = !c.audioConnected(ts.tenant, a.user)
		c.endpointChangedLocked(ctx, ts, a, "agent audio gone; not ready")
		c.watchCallAudioLocked(ts, a)
	})
}

// withAgent runs fn under the tenant lock on the agent, if it is one.
func (c *Center) withAgent(tenantID, userID string, fn func(*tenantState, *agentState)) {
	ts, err := c.tenantState(tenantID)
	if err != nil {
		return
	}
	ts.mu.Lock()
	defer c.unlock(ts)
	if a := ts.agents[userID]; a != nil {
		fn(ts, a)
	}
}

// endpointGoneLocked says why the agent's endpoint is known to be gone,
// or "": a browser agent's audio once the hub said it is gone past its
// grace (a reload in progress is not gone), another endpoint when reach
// refuses it.
func (c *Center) endpointGoneLocked(ctx context.Context, ts *tenantState, a *agentState) string {
	if a.user.EndpointKind() == cc.EndpointBrowser {
		if a.audioGone && !c.audioConnected(ts.tenant, a.user) {
			return "the browser panel's audio is gone"
		}
		return ""
	}
	_, err := c.reach(ctx, ts.tenant, a.user)
	switch {
	case cc.ErrorCode(err) == cc.ECONFLICT:
		return cc.ErrorMessage(err)
	case err != nil:
		c.log.Error("check agent endpoint", "agent", a.user.Username, "error", err)
	}
	return ""
}

// audioConnected reports whether the browser agent's panel has its audio.
func (c *Center) audioConnected(t *cc.Tenant, u *cc.User) bool {
	return c.opts.BrowserAudio != nil && c.opts.BrowserAudio.AudioConnected(t.ID, u.ID)
}

// watchCallAudioLocked arms or cancels the rescue of the inbound call a browser
// agent is connected to: audio gone, and still gone after
// Options.AudioRescue, the call goes back to its queue in the place it
// first had (the customer never waits behind callers who came later) and
// the agent is not ready (connection-lost) with no wrap-up. Audio back first: nothing happens. Outbound calls are
// the agent's own and stay (the agent hangs up from another device, or the
// customer does).
func (c *Center) watchCallAudioLocked(ts *tenantState, a *agentState) {
	if c.opts.AudioRescue < 0 || a.user.EndpointKind() != cc.EndpointBrowser {
		return
	}
	userID := a.user.ID
	if c.audioConnected(ts.tenant, a.user) {
		a.stopRescue()
		return
	}
	if a.rescue != nil || a.presence.State != cc.StateBusy || a.presence.Outbound {
		return
	}
	id := a.presence.InteractionID
	if cl := ts.live[id]; cl == nil || cl.done || cl.ctrl == nil {
		return
	}
	c.log.Info("agent audio gone mid-call; the call goes back to its queue unless it returns",
		"agent", a.user.Username, "interaction", id, "within", c.opts.AudioRescue)
	var timer *time.Timer
	timer = time.AfterFunc(c.opts.AudioRescue, func() {
		ts.mu.Lock()
		defer c.unlock(ts)
		if a.rescue != timer {
			return // cancelled, or another one armed since
		}
		a.rescue = nil
		if ts.closed || ts.agents[userID] != a || c.audioConnected(ts.tenant, a.user) {
			return
		}
		cl := ts.live[id]
		if cl == nil || cl.done || cl.ctrl == nil || cl.it.AgentID != userID || a.presence.InteractionID != id {
			return
		}
		c.rescueLocked(c.bg(), ts, a, cl)
	})
	a.rescue = timer
}

// rescueLocked takes the call from the agent whose audio was lost back to
// its queue.
func (c *Center) rescueLocked(ctx context.Context, ts *tenantState, a *agentState, cl *call) {
	if err := c.setPresenceLocked(ctx, ts, a, cc.PresenceChange{Op: cc.OpSystemNotReady, Reason: cc.ReasonConnectionLost}); err != nil {
		c.log.Error("not ready after the audio was lost", "agent", a.user.Username, "error", err)
	}
	place := cl.place
	if place.IsZero() {
		place = cl.it.QueuedAt
	}
	// No wrap-up: the agent is gone and the call is no longer theirs.
	detail := fmt.Sprintf("back to queue %s: %s's browser audio was lost and did not come back within %s", cl.queue.Name, a.user.Username, c.opts.AudioRescue)
	if err := c.handOverLocked(ctx, ts, cl, cl.queue, nil, "by Parley", detail, place, 0); err != nil {
		c.log.Error("call not taken back from an agent whose audio was lost", "agent", a.user.Username, "interaction", cl.it.ID, "error", err)
		return
	}
	c.log.Warn("agent audio lost mid-call; the call went back to its queue", "agent", a.user.Username, "interaction", cl.it.ID, "queue", cl.queue.Name)
}

// endpointChangedLocked makes an available agent whose endpoint is gone
// (endpointGoneLocked) not ready with the system reason connection-lost;
// logMsg says what went away.
func (c *Center) endpointChangedLocked(ctx context.Context, ts *tenantState, a *agentState, logMsg string) {
	if a.presence.State != cc.StateAvailable {
		return
	}
	why := c.endpointGoneLocked(ctx, ts, a)
	if why == "" {
		return
	}
	c.log.Info(logMsg, "agent", a.user.Username, "why", why)
	if err := c.setPresenceLocked(ctx, ts, a, cc.PresenceChange{Op: cc.OpSystemNotReady, Reason: cc.ReasonConnectionLost}); err != nil {
		c.log.Error("not ready after the endpoint was lost", "agent", a.user.Username, "error", err)
	}
}
