package cc

import (
	"context"
	"slices"
	"time"
)

// AgentState is an agent's presence.
type AgentState string

// Agent states.
const (
	StateLoggedOut AgentState = "logged_out"
	StateAvailable AgentState = "available"
	StateOffered   AgentState = "offered" // an interaction rings the agent
	StateBusy      AgentState = "busy"    // on an interaction
	StateWrapUp    AgentState = "wrap_up" // after-call work
	StateNotReady  AgentState = "not_ready"
)

// Valid reports whether s is a known state.
func (s AgentState) Valid() bool {
	switch s {
	case StateLoggedOut, StateAvailable, StateOffered, StateBusy, StateWrapUp, StateNotReady:
		return true
	}
	return false
}

// System not-ready reasons: set by Parley, never chosen by agents.
const (
	ReasonRingNoAnswer   = "ring-no-answer"  // an offer was not answered in time
	ReasonDeclined       = "declined"        // the agent's endpoint declined an offer
	ReasonConnectionLost = "connection-lost" // the agent's endpoint went away
	ReasonServerRestart  = "server-restart"  // Parley restarted mid-interaction
)

var systemReasons = []string{ReasonRingNoAnswer, ReasonDeclined, ReasonConnectionLost, ReasonServerRestart}

// IsSystemReason reports whether r is reserved for the system.
func IsSystemReason(r string) bool { return slices.Contains(systemReasons, r) }

// Presence is an agent's current state. The zero value (with IDs) is logged out.
type Presence struct {
	TenantID string
	UserID   string
	State    AgentState
	Reason   string    // the not-ready reason
	Since    time.Time // when State was entered
	// AvailableSince is when the agent last became available: the measure of
	// "longest idle" for routing.
	AvailableSince time.Time
	// InteractionID is the interaction offered, in progress or in wrap-up.
	InteractionID string
	// Outbound is set while the agent's current interaction is one the agent
	// placed; Return is the state to go back to afterwards.
	Outbound     bool
	ReturnState  AgentState
	ReturnReason string
	// PendingState is the state the agent asked for while busy; it applies
	// when the interaction (and its wrap-up) ends.
	PendingState  AgentState
	PendingReason string
	// WrapUpDeadline is when wrap-up ends on its own.
	WrapUpDeadline time.Time
	Version        int64
}

// PresenceOp is a change requested of a presence.
type PresenceOp int

// Presence operations.
const (
	OpSet            PresenceOp = iota // the agent (or a supervisor) sets State/Reason
	OpOffer                            // the ACD offers InteractionID
	OpAnswer                           // the agent answered the offer
	OpOfferFailed                      // the offer was not answered; Reason says why
	OpOfferWithdrawn                   // the caller left while the agent was offered
	OpEnd                              // the interaction ended; wrap-up follows
	OpWrapUpDone                       // wrap-up submitted or timed out
	OpOutbound                         // the agent places an outbound interaction
	OpOutboundFailed                   // the outbound attempt never connected
	OpSystemNotReady                   // Parley sets not ready with a system Reason
)

// PresenceChange is one requested change.
type PresenceChange struct {
	Op            PresenceOp
	State         AgentState // for OpSet
	Reason        string     // for OpSet (not ready), OpOfferFailed, OpSystemNotReady
	InteractionID string     // for OpOffer, OpOutbound
	WrapUp        time.Duration
	At            time.Time
}

// Apply returns the presence after change c, or an error saying why the change
// is not allowed. reasons are the tenant's not-ready reasons.
func (p Presence) Apply(c PresenceChange, reasons []string) (Presence, error) {
	n := p
	n.Version++
	enter := func(s AgentState, reason string) {
		if s != n.State || reason != n.Reason {
			n.Since = c.At
		}
		if s == StateAvailable && n.State != StateAvailable {
			n.AvailableSince = c.At
		}
		n.State, n.Reason = s, reason
	}
	// finish leaves an interaction: pending request first, then return state
	// (outbound), else available.
	finish := func() {
		n.InteractionID = ""
		n.WrapUpDeadline = time.Time{}
		next, reason := StateAvailable, ""
		if n.Outbound {
			next, reason = n.ReturnState, n.ReturnReason
		}
		if n.PendingState != "" {
			next, reason = n.PendingState, n.PendingReason
		}
		n.Outbound, n.ReturnState, n.ReturnReason = false, "", ""
		n.PendingState, n.PendingReason = "", ""
		enter(next, reason)
	}
	// dropOffer takes an offered agent out of routing with a system reason;
	// a request made while it rang goes with the offer.
	dropOffer := func(reason string) {
		n.InteractionID = ""
		n.PendingState, n.PendingReason = "", ""
		enter(StateNotReady, reason)
	}
	cur := p.State
	if cur == "" {
		cur = StateLoggedOut
	}
	switch c.Op {
	case OpSet:
		if err := checkChosenState(c.State, c.Reason, reasons); err != nil {
			return p, err
		}
		switch cur {
		case StateLoggedOut, StateAvailable, StateNotReady:
			enter(c.State, c.Reason)
		case StateOffered, StateBusy:
			if c.State == StateAvailable && !n.Outbound {
				// back to available after the interaction is the default anyway
				n.PendingState, n.PendingReason = "", ""
			} else {
				// after an outbound call the default is the return state, so
				// available is kept too
				n.PendingState, n.PendingReason = c.State, c.Reason
			}
		case StateWrapUp:
			// Leaving wrap-up by choice is allowed; the caller finishes the
			// wrap-up (the log is written) before applying this.
			n.PendingState, n.PendingReason = c.State, c.Reason
			finish()
		}
		return n, nil
	case OpOffer:
		if cur != StateAvailable {
			return p, Errorf(ECONFLICT, "agent is %s, not available: cannot offer an interaction", cur)
		}
		n.InteractionID = c.InteractionID
		enter(StateOffered, "")
		return n, nil
	case OpAnswer:
		if cur != StateOffered && !(cur == StateBusy && n.Outbound) {
			return p, Errorf(ECONFLICT, "agent is %s: there is no offer to answer", cur)
		}
		enter(StateBusy, "")
		return n, nil
	case OpOfferFailed:
		if cur != StateOffered {
			return p, Errorf(ECONFLICT, "agent is %s: there is no offer to fail", cur)
		}
		reason := c.Reason
		if reason == "" {
			reason = ReasonRingNoAnswer
		}
		if !IsSystemReason(reason) {
			return p, Errorf(EINVALID, "offer failed with %q, which is not a system reason: use %s or %s", reason, ReasonRingNoAnswer, ReasonDeclined)
		}
		dropOffer(reason)
		return n, nil
	case OpOfferWithdrawn:
		if cur != StateOffered {
			return p, Errorf(ECONFLICT, "agent is %s: there is no offer to withdraw", cur)
		}
		// The agent did nothing wrong: back to where it would have gone, but
		// keep its place in the idle order.
		since := p.AvailableSince
		finish()
		if n.State == StateAvailable && !since.IsZero() {
			n.AvailableSince = since
		}
		return n, nil
	case OpEnd:
		if cur != StateBusy && cur != StateOffered {
			return p, Errorf(ECONFLICT, "agent is %s: there is no interaction to end", cur)
		}
		if c.WrapUp <= 0 {
			// The caller finishes the wrap-up (writes the log) at once.
			n.WrapUpDeadline = c.At
		} else {
			n.WrapUpDeadline = c.At.Add(c.WrapUp)
		}
		enter(StateWrapUp, "")
		return n, nil
	case OpWrapUpDone:
		if cur != StateWrapUp {
			return p, Errorf(ECONFLICT, "agent is %s, not in wrap-up", cur)
		}
		finish()
		return n, nil
	case OpOutbound:
		switch cur {
		case StateAvailable, StateNotReady:
		case StateLoggedOut:
			return p, Errorf(ECONFLICT, "agent is %s: go available or not ready before calling out", cur)
		default:
			return p, Errorf(ECONFLICT, "agent is %s: finish the current interaction before calling out", cur)
		}
		n.Outbound = true
		n.ReturnState, n.ReturnReason = cur, p.Reason
		n.InteractionID = c.InteractionID
		enter(StateBusy, "")
		return n, nil
	case OpOutboundFailed:
		if cur != StateBusy || !p.Outbound {
			return p, Errorf(ECONFLICT, "agent is %s: there is no outbound attempt", cur)
		}
		finish()
		return n, nil
	case OpSystemNotReady:
		if !IsSystemReason(c.Reason) {
			return p, Errorf(EINVALID, "%q is not a system reason", c.Reason)
		}
		switch cur {
		case StateLoggedOut:
			return p, Errorf(ECONFLICT, "agent is %s: a logged-out agent is already out of routing", cur)
		case StateAvailable, StateNotReady:
			enter(StateNotReady, c.Reason)
		case StateOffered:
			dropOffer(c.Reason)
		default:
			n.PendingState, n.PendingReason = StateNotReady, c.Reason
		}
		return n, nil
	}
	return p, Errorf(EINTERNAL, "unknown presence operation %d", c.Op)
}

func checkChosenState(s AgentState, reason string, reasons []string) error {
	switch s {
	case StateAvailable, StateLoggedOut:
		if reason != "" {
			return Errorf(EINVALID, "a reason goes only with not_ready, not with %s", s)
		}
		return nil
	case StateNotReady:
		if reason == "" {
			return Errorf(EINVALID, "not_ready needs a reason: one of %v", reasons)
		}
		if !slices.Contains(reasons, reason) {
			if IsSystemReason(reason) {
				return Errorf(EINVALID, "reason %q is set by the system only; choose one of %v", reason, reasons)
			}
			return Errorf(EINVALID, "unknown not-ready reason %q: choose one of %v", reason, reasons)
		}
		return nil
	case StateOffered, StateBusy, StateWrapUp:
		return Errorf(EINVALID, "state %s is set by the system; choose available, not_ready or logged_out", s)
	}
	return Errorf(EINVALID, "unknown state %q: choose available, not_ready or logged_out", s)
}

// AgentInfo is one agent of a tenant with its presence, as a transfer
// picker shows it.
type AgentInfo struct {
	ID       string
	Username string
	Name     string
	State    AgentState
	Reason   string // the not-ready reason
	// Endpoint is where the agent takes calls.
	Endpoint Endpoint
}

// PresenceStore stores agents' current presence.
type PresenceStore interface {
	// SavePresence stores p, replacing the previous value.
	SavePresence(ctx context.Context, p *Presence) error
	// Presences returns the presence of every agent of the tenant that has one.
	Presences(ctx context.Context, tenantID string) ([]*Presence, error)
}
