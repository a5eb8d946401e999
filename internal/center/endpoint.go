package center

import (
	"context"
	"fmt"

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
		if c.opts.BrowserAudio == nil || !c.opts.BrowserAudio.AudioConnected(t.ID, u.ID) {
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
func (c *Center) AudioChanged(ctx context.Context, tenantID, userID string) {
	c.endpointChanged(ctx, tenantID, userID, "agent audio gone; not ready")
}

// endpointChanged makes an available agent that reach refuses not ready
// with the system reason connection-lost; logMsg says what went away.
func (c *Center) endpointChanged(ctx context.Context, tenantID, userID, logMsg string) {
	ts, err := c.tenantState(tenantID)
	if err != nil {
		return
	}
	ts.mu.Lock()
	defer c.unlock(ts)
	a := ts.agents[userID]
	if a == nil || a.presence.State != cc.StateAvailable {
		return
	}
	_, err = c.reach(ctx, ts.tenant, a.user)
	if cc.ErrorCode(err) != cc.ECONFLICT {
		if err != nil {
			c.log.Error("check agent endpoint", "agent", a.user.Username, "error", err)
		}
		return
	}
	c.log.Info(logMsg, "agent", a.user.Username, "why", cc.ErrorMessage(err))
	if err := c.setPresenceLocked(ctx, ts, a, cc.PresenceChange{Op: cc.OpSystemNotReady, Reason: cc.ReasonConnectionLost}); err != nil {
		c.log.Error("not ready after the endpoint was lost", "agent", a.user.Username, "error", err)
	}
}
