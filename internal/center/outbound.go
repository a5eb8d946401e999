package center

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/phone"
)

// Click-to-dial timing.
const (
	// defaultAgentRing is how long the agent's phone rings for an outbound
	// call when no queue of the agent gives an offer timeout.
	defaultAgentRing = 30 * time.Second
	// customerRing is how long the customer's phone rings.
	customerRing = 60 * time.Second
	// defaultOutboundWrapUp is the wrap-up after an outbound call when no
	// queue of the agent gives one.
	defaultOutboundWrapUp = 30 * time.Second
)

// outCall is the center's side of one click-to-dial call. Its fields change
// under the tenant lock.
type outCall struct {
	c      *Center
	ts     *tenantState
	it     *cc.Interaction
	wrapUp time.Duration
	ctrl   cc.CallControl
	done   bool
}

var _ cc.OutboundHandle = (*outCall)(nil)

// PlaceCall starts a click-to-dial call for the signed-in agent: the
// agent's phone rings first, then the customer is dialled through the
// tenant's outbound trunk. The number is normalised with the tenant's
// region; an extension is sent as DTMF once the customer answers.
func (c *Center) PlaceCall(ctx context.Context, p *cc.Principal, req cc.DialRequest) (*cc.Interaction, error) {
	ts, err := c.tenantState(p.Tenant.ID)
	if err != nil {
		return nil, err
	}
	num, err := dialNumber(req.To, p.Tenant.Region)
	if err != nil {
		return nil, err
	}
	rec, err := req.Record()
	if err != nil {
		return nil, err
	}
	if c.opts.Dialer == nil {
		return nil, cc.Errorf(cc.EUNAVAILABLE, "outbound calls are not available: this server has no SIP side")
	}
	trunk, err := c.outboundTrunk(ctx, p.Tenant)
	if err != nil {
		return nil, err
	}
	callerID := c.callerID(ctx, p.Tenant)
	c.mu.Lock()
	draining := c.draining
	c.mu.Unlock()
	if draining {
		return nil, cc.Errorf(cc.EUNAVAILABLE, "the contact center is shutting down")
	}

	ts.mu.Lock()
	a := ts.agents[p.User.ID]
	if a == nil {
		c.unlock(ts)
		return nil, cc.Errorf(cc.EFORBIDDEN, "%s is not an agent: only agents place calls", p.User.Username)
	}
	eps, err := c.reach(ctx, ts.tenant, a.user)
	if err != nil {
		c.unlock(ts)
		return nil, err
	}
	now := c.clock()
	e164, ext := phone.DialString(num)
	it := &cc.Interaction{
		ID:           cc.NewID("int"),
		TenantID:     ts.tenant.ID,
		Channel:      cc.ChannelPhone,
		Direction:    cc.Outbound,
		State:        cc.InteractionOffered,
		Customer:     cc.Customer{Number: e164, Extension: num.Extension, Raw: req.To},
		DialedNumber: e164,
		AgentID:      a.user.ID,
		TrunkID:      trunk.ID,
		CreatedAt:    now,
		OfferedAt:    now,
	}
	if rec != nil {
		it.LinkedRecord = rec
		it.Matches = []cc.CRMRecord{*rec}
	}
	if err := c.setPresenceLocked(ctx, ts, a, cc.PresenceChange{Op: cc.OpOutbound, InteractionID: it.ID, At: now}); err != nil {
		c.unlock(ts)
		return nil, err
	}
	ring, wrap := agentTimes(ts, a.user)
	oc := &outCall{c: c, ts: ts, it: it, wrapUp: wrap}
	ts.outbound[it.ID] = oc
	ts.createLocked(it)
	ts.eventsLocked(c.interactionEvent(ts, it, cc.EventInteractionDialing, now, "", ""))
	call := cc.OutboundCall{
		InteractionID: it.ID, Tenant: ts.tenant, Agent: a.user, Endpoints: eps, AgentTimeout: ring,
		Trunk: trunk, Number: e164, Extension: ext, CallerID: callerID, CustomerTimeout: customerRing, Handle: oc,
	}
	snap := *it
	job := c.prepareLocked(ts)
	ts.mu.Unlock()
	if job != nil {
		<-job.done
		if job.err != nil {
			oc.Failed("system", "could not store the call")
			return nil, job.err
		}
	}
	c.metric.arrivals.Inc()
	if err := c.opts.Dialer.Dial(ctx, call); err != nil {
		c.log.Error("place outbound call", "interaction", it.ID, "error", err)
		oc.Failed("system", cc.ErrorMessage(err))
		return nil, err
	}
	c.log.Info("outbound call", "interaction", it.ID, "agent", a.user.Username, "to", e164)
	return &snap, nil
}

// dialNumber normalises a number to dial with the tenant's region.
func dialNumber(to, region string) (phone.Number, error) {
	to = strings.TrimSpace(to)
	example := "(201) 555-0123 or +12015550123"
	if !strings.EqualFold(region, "US") {
		example = "+12015550123 (international form), or a national number of " + region
	}
	if to == "" {
		return phone.Number{}, cc.Errorf(cc.EINVALID, "the number to call is empty: give a phone number such as %s", example)
	}
	n, err := phone.Parse(to, region)
	if err != nil || n.Withheld || n.E164 == "" {
		return phone.Number{}, cc.WrapError(cc.EINVALID, err, "number %q: give a phone number such as %s", to, example)
	}
	return n, nil
}

// outboundTrunk returns the tenant's trunk for outbound calls: the first by
// name with an outbound URI. Click-to-dial reaches customers through it and
// offers reach agents on external numbers through it (Trunk.DialURI).
func (c *Center) outboundTrunk(ctx context.Context, t *cc.Tenant) (*cc.Trunk, error) {
	trunks, err := c.store.Trunks(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(trunks, func(tr *cc.Trunk) bool { return tr.OutboundURI != "" })
	if i < 0 {
		return nil, cc.Errorf(cc.ECONFLICT, "tenant %s has no outbound trunk: an admin sets one with `parley admin trunk set --tenant %s --name NAME --outbound-uri sip:gateway.example.net:5060`", t.Slug, t.Slug)
	}
	return trunks[i], nil
}

// callerID is the number customers see on outbound calls: the tenant's
// first E.164 entry point, or "" when it has none (or they cannot be read).
func (c *Center) callerID(ctx context.Context, t *cc.Tenant) string {
	eps, err := c.store.EntryPoints(ctx, t.ID)
	if err != nil {
		return ""
	}
	for _, ep := range eps {
		if strings.HasPrefix(ep.Number, "+") {
			return ep.Number
		}
	}
	return ""
}

// agentTimes are the ring time and wrap-up of an agent's outbound calls:
// the longest offer timeout and wrap-up of the queues the agent serves.
func agentTimes(ts *tenantState, u *cc.User) (ring, wrap time.Duration) {
	for _, q := range ts.queues {
		if !eligible(u.Skills, q.Skills) {
			continue
		}
		ring = max(ring, q.OfferTimeout)
		wrap = max(wrap, q.WrapUp)
	}
	if ring <= 0 {
		ring = defaultAgentRing
	}
	if wrap <= 0 {
		wrap = defaultOutboundWrapUp
	}
	return ring, wrap
}

// AgentAnswered reports that the agent's phone answered.
func (oc *outCall) AgentAnswered() error {
	c, ts := oc.c, oc.ts
	ts.mu.Lock()
	defer c.unlock(ts)
	if oc.done || ts.closed {
		return cc.Errorf(cc.ECONFLICT, "the call was given up")
	}
	return nil
}

// Connected reports that the customer answered.
func (oc *outCall) Connected(ctrl cc.CallControl) error {
	c, ts := oc.c, oc.ts
	ts.mu.Lock()
	defer c.unlock(ts)
	if oc.done || ts.closed {
		return cc.Errorf(cc.ECONFLICT, "the call was given up")
	}
	ctx := c.bg()
	now := c.clock()
	oc.ctrl = ctrl
	if a := ts.agents[oc.it.AgentID]; a != nil {
		if err := c.setPresenceLocked(ctx, ts, a, cc.PresenceChange{Op: cc.OpAnswer, At: now}); err != nil {
			c.log.Error("outbound call connected", "agent", a.user.Username, "error", err)
		}
	}
	it := oc.it
	it.State = cc.InteractionConnected
	it.AnsweredAt = now
	c.saveLocked(ctx, ts, it, nil, c.interactionEvent(ts, it, cc.EventInteractionConnected, now, "", ""))
	return nil
}

// Failed reports that the call never connected: the interaction ends
// failed (its log is still written) and the agent returns to the state it
// called from.
func (oc *outCall) Failed(by, detail string) {
	c, ts := oc.c, oc.ts
	ts.mu.Lock()
	defer c.unlock(ts)
	if oc.done || ts.closed {
		return
	}
	oc.failLocked(by, detail)
}

func (oc *outCall) failLocked(by, detail string) {
	c, ts := oc.c, oc.ts
	oc.done = true
	delete(ts.outbound, oc.it.ID)
	ctx := c.bg()
	now := c.clock()
	it := oc.it
	if a := ts.agents[it.AgentID]; a != nil && a.presence.InteractionID == it.ID && a.presence.State == cc.StateBusy {
		if err := c.setPresenceLocked(ctx, ts, a, cc.PresenceChange{Op: cc.OpOutboundFailed, At: now}); err != nil {
			c.log.Error("outbound call failed", "agent", a.user.Username, "error", err)
		}
	}
	it.State = cc.InteractionEnded
	it.Outcome = cc.OutcomeFailed
	it.EndedAt = now
	it.EndReason = by
	if detail != "" {
		it.EndReason = by + ": " + detail
	}
	c.metric.ended.WithLabelValues(string(it.Outcome)).Inc()
	c.log.Info("outbound call failed", "interaction", it.ID, "by", by, "detail", detail)
	c.logLocked(ctx, ts, it, []*cc.Event{c.interactionEvent(ts, it, cc.EventInteractionEnded, now, by, detail)})
}

// Hangup reports the end of a connected outbound call; wrap-up follows.
func (oc *outCall) Hangup(by, detail string) {
	c, ts := oc.c, oc.ts
	ts.mu.Lock()
	defer c.unlock(ts)
	if oc.done || ts.closed {
		return
	}
	if oc.it.State != cc.InteractionConnected {
		oc.failLocked(by, detail)
		return
	}
	oc.done = true
	delete(ts.outbound, oc.it.ID)
	c.endConnectedLocked(c.bg(), ts, oc.it, by, detail, oc.wrapUp)
}

// bg is the context for steps that outlive the request that caused them.
func (c *Center) bg() context.Context {
	if c.ctx == nil || c.ctx.Err() != nil {
		return context.Background()
	}
	return c.ctx
}
