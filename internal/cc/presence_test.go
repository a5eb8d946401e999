package cc_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// Times of the presence tests: the agent last became available at tIdle,
// entered its current state at t0, and the change happens at tNow.
var (
	tIdle = time.Date(2025, 3, 4, 8, 50, 0, 0, time.UTC)
	t0    = time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	tNow  = time.Date(2025, 3, 4, 9, 1, 0, 0, time.UTC)
)

// tenantReasons are the not-ready reasons of the test tenant.
var tenantReasons = []string{"break", "lunch"}

// Starting presences, one per state, plus outbound and pending variants.
var (
	pLoggedOut = cc.Presence{TenantID: "ten_1", UserID: "usr_1", State: cc.StateLoggedOut, Since: t0, AvailableSince: tIdle, Version: 7}
	pAvailable = with(pLoggedOut, func(p *cc.Presence) { p.State, p.Since = cc.StateAvailable, tIdle })
	pBreak     = with(pLoggedOut, func(p *cc.Presence) { p.State, p.Reason = cc.StateNotReady, "break" })
	pOffered   = with(pLoggedOut, func(p *cc.Presence) { p.State, p.InteractionID = cc.StateOffered, "int_in" })
	pBusy      = with(pOffered, func(p *cc.Presence) { p.State = cc.StateBusy })
	pWrapUp    = with(pBusy, func(p *cc.Presence) { p.State, p.WrapUpDeadline = cc.StateWrapUp, t0.Add(30*time.Second) })
	// pOutBusy placed a call from break; pOutBusyAvail from available.
	pOutBusy = with(pLoggedOut, func(p *cc.Presence) {
		p.State, p.InteractionID, p.Outbound = cc.StateBusy, "int_out", true
		p.ReturnState, p.ReturnReason = cc.StateNotReady, "break"
	})
	pOutBusyAvail = with(pOutBusy, func(p *cc.Presence) { p.ReturnState, p.ReturnReason = cc.StateAvailable, "" })
	pOutWrap      = with(pOutBusy, func(p *cc.Presence) { p.State, p.WrapUpDeadline = cc.StateWrapUp, t0.Add(30*time.Second) })
	pOutWrapAvail = with(pOutWrap, func(p *cc.Presence) { p.ReturnState, p.ReturnReason = cc.StateAvailable, "" })
)

// with returns a copy of p changed by edit.
func with(p cc.Presence, edit func(*cc.Presence)) cc.Presence {
	edit(&p)
	return p
}

// pending returns p with a pending request.
func pending(p cc.Presence, s cc.AgentState, reason string) cc.Presence {
	p.PendingState, p.PendingReason = s, reason
	return p
}

// Expected results, as edits of the starting presence (Version+1 is implied).
var (
	unchanged = func(*cc.Presence) {}
	// backIdle is leaving an interaction (or wrap-up) for available.
	backIdle = func(p *cc.Presence) {
		p.State, p.Reason, p.Since, p.AvailableSince = cc.StateAvailable, "", tNow, tNow
		clearInteraction(p)
	}
)

// enters returns the edit "the agent enters state s with reason at tNow and
// leaves its interaction".
func enters(s cc.AgentState, reason string) func(*cc.Presence) {
	return func(p *cc.Presence) {
		p.State, p.Reason, p.Since = s, reason, tNow
		if s == cc.StateAvailable {
			p.AvailableSince = tNow
		}
		clearInteraction(p)
	}
}

// wantPending returns the edit "the request is kept as pending".
func wantPending(s cc.AgentState, reason string) func(*cc.Presence) {
	return func(p *cc.Presence) { p.PendingState, p.PendingReason = s, reason }
}

func clearInteraction(p *cc.Presence) {
	p.InteractionID, p.WrapUpDeadline = "", time.Time{}
	p.Outbound, p.ReturnState, p.ReturnReason = false, "", ""
	p.PendingState, p.PendingReason = "", ""
}

func set(s cc.AgentState, reason string) cc.PresenceChange {
	return cc.PresenceChange{Op: cc.OpSet, State: s, Reason: reason}
}

func op(o cc.PresenceOp) cc.PresenceChange { return cc.PresenceChange{Op: o} }

func opReason(o cc.PresenceOp, reason string) cc.PresenceChange {
	return cc.PresenceChange{Op: o, Reason: reason}
}

func opInteraction(o cc.PresenceOp, id string) cc.PresenceChange {
	return cc.PresenceChange{Op: o, InteractionID: id}
}

func end(wrapUp time.Duration) cc.PresenceChange {
	return cc.PresenceChange{Op: cc.OpEnd, WrapUp: wrapUp}
}

type presenceCase struct {
	name    string
	from    cc.Presence
	change  cc.PresenceChange // At is tNow
	reasons []string          // the tenant's reasons; tenantReasons when nil
	want    func(*cc.Presence)
	code    string // the error code, when the change is refused
	msg     string // a substring of the refusal's message
}

var presenceCases = []presenceCase{
	// Agent-chosen states from the states an agent may leave at will.
	{name: "logged out chooses available", from: pLoggedOut, change: set(cc.StateAvailable, ""), want: enters(cc.StateAvailable, "")},
	{name: "logged out chooses break", from: pLoggedOut, change: set(cc.StateNotReady, "break"), want: enters(cc.StateNotReady, "break")},
	{name: "logged out chooses logged out", from: pLoggedOut, change: set(cc.StateLoggedOut, ""), want: unchanged},
	{name: "zero presence is logged out and may go available", from: cc.Presence{TenantID: "ten_1", UserID: "usr_1"}, change: set(cc.StateAvailable, ""),
		want: func(p *cc.Presence) { p.State, p.Since, p.AvailableSince = cc.StateAvailable, tNow, tNow }},
	{name: "available chooses lunch", from: pAvailable, change: set(cc.StateNotReady, "lunch"), want: enters(cc.StateNotReady, "lunch")},
	{name: "available chooses available again keeps its idle position", from: pAvailable, change: set(cc.StateAvailable, ""), want: unchanged},
	{name: "available logs out", from: pAvailable, change: set(cc.StateLoggedOut, ""), want: enters(cc.StateLoggedOut, "")},
	{name: "break changes to lunch", from: pBreak, change: set(cc.StateNotReady, "lunch"), want: enters(cc.StateNotReady, "lunch")},
	{name: "break chooses break again", from: pBreak, change: set(cc.StateNotReady, "break"), want: unchanged},
	{name: "break chooses available", from: pBreak, change: set(cc.StateAvailable, ""), want: enters(cc.StateAvailable, "")},
	{name: "break logs out", from: pBreak, change: set(cc.StateLoggedOut, ""), want: enters(cc.StateLoggedOut, "")},
	{name: "a reason of another tenant's list is refused", from: pAvailable, change: set(cc.StateNotReady, "lunch"), reasons: []string{"coaching"},
		code: cc.EINVALID, msg: `unknown not-ready reason "lunch"`},
	{name: "the tenant's own reason is accepted", from: pAvailable, change: set(cc.StateNotReady, "coaching"), reasons: []string{"coaching"},
		want: enters(cc.StateNotReady, "coaching")},

	// Refused choices.
	{name: "not ready without a reason", from: pAvailable, change: set(cc.StateNotReady, ""), code: cc.EINVALID, msg: "not_ready needs a reason"},
	{name: "not ready with an unknown reason", from: pAvailable, change: set(cc.StateNotReady, "away"), code: cc.EINVALID, msg: `unknown not-ready reason "away"`},
	{name: "a system reason chosen by an agent", from: pAvailable, change: set(cc.StateNotReady, cc.ReasonRingNoAnswer), code: cc.EINVALID, msg: "set by the system only"},
	{name: "a system reason chosen while busy", from: pBusy, change: set(cc.StateNotReady, cc.ReasonConnectionLost), code: cc.EINVALID, msg: "set by the system only"},
	{name: "a reason with available", from: pBreak, change: set(cc.StateAvailable, "break"), code: cc.EINVALID, msg: "a reason goes only with not_ready"},
	{name: "a reason with logged out", from: pAvailable, change: set(cc.StateLoggedOut, "lunch"), code: cc.EINVALID, msg: "a reason goes only with not_ready"},
	{name: "offered cannot be chosen", from: pAvailable, change: set(cc.StateOffered, ""), code: cc.EINVALID, msg: "state offered is set by the system"},
	{name: "busy cannot be chosen", from: pAvailable, change: set(cc.StateBusy, ""), code: cc.EINVALID, msg: "state busy is set by the system"},
	{name: "wrap-up cannot be chosen", from: pBreak, change: set(cc.StateWrapUp, ""), code: cc.EINVALID, msg: "state wrap_up is set by the system"},
	{name: "wrap-up cannot be chosen while busy", from: pBusy, change: set(cc.StateWrapUp, ""), code: cc.EINVALID, msg: "state wrap_up is set by the system"},
	{name: "an unknown state", from: pAvailable, change: set("dnd", ""), code: cc.EINVALID, msg: `unknown state "dnd"`},
	{name: "an empty state", from: pAvailable, change: set("", ""), code: cc.EINVALID, msg: `unknown state ""`},

	// Choices while offered or busy wait for the interaction to end.
	{name: "offered asks for lunch", from: pOffered, change: set(cc.StateNotReady, "lunch"), want: wantPending(cc.StateNotReady, "lunch")},
	{name: "offered asks to log out", from: pOffered, change: set(cc.StateLoggedOut, ""), want: wantPending(cc.StateLoggedOut, "")},
	{name: "offered asks for available: the pending request is dropped", from: pending(pOffered, cc.StateNotReady, "lunch"), change: set(cc.StateAvailable, ""), want: wantPending("", "")},
	{name: "busy asks for lunch", from: pBusy, change: set(cc.StateNotReady, "lunch"), want: wantPending(cc.StateNotReady, "lunch")},
	{name: "busy asks to log out", from: pBusy, change: set(cc.StateLoggedOut, ""), want: wantPending(cc.StateLoggedOut, "")},
	{name: "busy asks for available: the pending request is dropped", from: pending(pBusy, cc.StateLoggedOut, ""), change: set(cc.StateAvailable, ""), want: wantPending("", "")},
	{name: "outbound from break asks for available: kept, so it wins over the return", from: pOutBusy, change: set(cc.StateAvailable, ""),
		want: wantPending(cc.StateAvailable, "")},
	{name: "outbound from available asks for lunch", from: pOutBusyAvail, change: set(cc.StateNotReady, "lunch"), want: wantPending(cc.StateNotReady, "lunch")},

	// Leaving wrap-up by choice.
	{name: "wrap-up chooses available", from: pWrapUp, change: set(cc.StateAvailable, ""), want: backIdle},
	{name: "wrap-up chooses lunch", from: pWrapUp, change: set(cc.StateNotReady, "lunch"), want: enters(cc.StateNotReady, "lunch")},
	{name: "wrap-up logs out", from: pWrapUp, change: set(cc.StateLoggedOut, ""), want: enters(cc.StateLoggedOut, "")},
	{name: "wrap-up with a pending request chooses available", from: pending(pWrapUp, cc.StateNotReady, "lunch"), change: set(cc.StateAvailable, ""), want: backIdle},
	{name: "outbound wrap-up chooses available: no return state is left behind", from: pOutWrap, change: set(cc.StateAvailable, ""), want: backIdle},

	// Offers go only to available agents.
	{name: "available is offered", from: pAvailable, change: opInteraction(cc.OpOffer, "int_new"),
		want: func(p *cc.Presence) { p.State, p.Since, p.InteractionID = cc.StateOffered, tNow, "int_new" }},
	{name: "logged out is not offered", from: pLoggedOut, change: opInteraction(cc.OpOffer, "int_new"), code: cc.ECONFLICT, msg: "agent is logged_out, not available"},
	{name: "zero presence is not offered", from: cc.Presence{}, change: opInteraction(cc.OpOffer, "int_new"), code: cc.ECONFLICT, msg: "agent is logged_out, not available"},
	{name: "break is not offered", from: pBreak, change: opInteraction(cc.OpOffer, "int_new"), code: cc.ECONFLICT, msg: "agent is not_ready, not available"},
	{name: "offered is not offered twice", from: pOffered, change: opInteraction(cc.OpOffer, "int_new"), code: cc.ECONFLICT, msg: "agent is offered, not available"},
	{name: "busy is not offered", from: pBusy, change: opInteraction(cc.OpOffer, "int_new"), code: cc.ECONFLICT, msg: "agent is busy, not available"},
	{name: "wrap-up is not offered", from: pWrapUp, change: opInteraction(cc.OpOffer, "int_new"), code: cc.ECONFLICT, msg: "agent is wrap_up, not available"},

	// Answer.
	{name: "offered answers", from: pOffered, change: op(cc.OpAnswer), want: func(p *cc.Presence) { p.State, p.Since = cc.StateBusy, tNow }},
	{name: "an outbound call is answered by the customer", from: pOutBusy, change: op(cc.OpAnswer), want: unchanged},
	{name: "logged out has nothing to answer", from: pLoggedOut, change: op(cc.OpAnswer), code: cc.ECONFLICT, msg: "agent is logged_out: there is no offer to answer"},
	{name: "available has nothing to answer", from: pAvailable, change: op(cc.OpAnswer), code: cc.ECONFLICT, msg: "agent is available: there is no offer to answer"},
	{name: "break has nothing to answer", from: pBreak, change: op(cc.OpAnswer), code: cc.ECONFLICT, msg: "agent is not_ready: there is no offer to answer"},
	{name: "busy inbound answers twice", from: pBusy, change: op(cc.OpAnswer), code: cc.ECONFLICT, msg: "agent is busy: there is no offer to answer"},
	{name: "wrap-up has nothing to answer", from: pWrapUp, change: op(cc.OpAnswer), code: cc.ECONFLICT, msg: "agent is wrap_up: there is no offer to answer"},

	// The offer fails: not ready with a system reason.
	{name: "offer not answered", from: pOffered, change: op(cc.OpOfferFailed), want: enters(cc.StateNotReady, cc.ReasonRingNoAnswer)},
	{name: "offer not answered, reason given", from: pOffered, change: opReason(cc.OpOfferFailed, cc.ReasonRingNoAnswer), want: enters(cc.StateNotReady, cc.ReasonRingNoAnswer)},
	{name: "offer declined", from: pOffered, change: opReason(cc.OpOfferFailed, cc.ReasonDeclined), want: enters(cc.StateNotReady, cc.ReasonDeclined)},
	{name: "offer fails with a pending request: the system reason wins", from: pending(pOffered, cc.StateNotReady, "lunch"), change: op(cc.OpOfferFailed),
		want: enters(cc.StateNotReady, cc.ReasonRingNoAnswer)},
	{name: "offer fails with a tenant reason", from: pOffered, change: opReason(cc.OpOfferFailed, "lunch"), code: cc.EINVALID, msg: `"lunch", which is not a system reason`},
	{name: "logged out has no offer to fail", from: pLoggedOut, change: op(cc.OpOfferFailed), code: cc.ECONFLICT, msg: "agent is logged_out: there is no offer to fail"},
	{name: "available has no offer to fail", from: pAvailable, change: op(cc.OpOfferFailed), code: cc.ECONFLICT, msg: "agent is available: there is no offer to fail"},
	{name: "break has no offer to fail", from: pBreak, change: op(cc.OpOfferFailed), code: cc.ECONFLICT, msg: "agent is not_ready: there is no offer to fail"},
	{name: "busy has no offer to fail", from: pBusy, change: op(cc.OpOfferFailed), code: cc.ECONFLICT, msg: "agent is busy: there is no offer to fail"},
	{name: "wrap-up has no offer to fail", from: pWrapUp, change: op(cc.OpOfferFailed), code: cc.ECONFLICT, msg: "agent is wrap_up: there is no offer to fail"},

	// The caller leaves while the agent rings.
	{name: "offer withdrawn keeps the idle position", from: pOffered, change: op(cc.OpOfferWithdrawn),
		want: func(p *cc.Presence) { p.State, p.Since, p.InteractionID = cc.StateAvailable, tNow, "" }},
	{name: "offer withdrawn of an agent never idle before", from: with(pOffered, func(p *cc.Presence) { p.AvailableSince = time.Time{} }), change: op(cc.OpOfferWithdrawn),
		want: backIdle},
	{name: "offer withdrawn applies the pending request", from: pending(pOffered, cc.StateNotReady, "lunch"), change: op(cc.OpOfferWithdrawn),
		want: enters(cc.StateNotReady, "lunch")},
	{name: "logged out has no offer to withdraw", from: pLoggedOut, change: op(cc.OpOfferWithdrawn), code: cc.ECONFLICT, msg: "agent is logged_out: there is no offer to withdraw"},
	{name: "available has no offer to withdraw", from: pAvailable, change: op(cc.OpOfferWithdrawn), code: cc.ECONFLICT, msg: "agent is available: there is no offer to withdraw"},
	{name: "break has no offer to withdraw", from: pBreak, change: op(cc.OpOfferWithdrawn), code: cc.ECONFLICT, msg: "agent is not_ready: there is no offer to withdraw"},
	{name: "busy has no offer to withdraw", from: pBusy, change: op(cc.OpOfferWithdrawn), code: cc.ECONFLICT, msg: "agent is busy: there is no offer to withdraw"},
	{name: "wrap-up has no offer to withdraw", from: pWrapUp, change: op(cc.OpOfferWithdrawn), code: cc.ECONFLICT, msg: "agent is wrap_up: there is no offer to withdraw"},

	// The interaction ends: wrap-up with a deadline.
	{name: "busy ends into wrap-up", from: pBusy, change: end(30 * time.Second),
		want: func(p *cc.Presence) {
			p.State, p.Since, p.WrapUpDeadline = cc.StateWrapUp, tNow, tNow.Add(30*time.Second)
		}},
	{name: "busy ends with no wrap-up time: the deadline is now", from: pBusy, change: end(0),
		want: func(p *cc.Presence) { p.State, p.Since, p.WrapUpDeadline = cc.StateWrapUp, tNow, tNow }},
	{name: "a negative wrap-up time is no wrap-up time", from: pBusy, change: end(-time.Second),
		want: func(p *cc.Presence) { p.State, p.Since, p.WrapUpDeadline = cc.StateWrapUp, tNow, tNow }},
	{name: "busy with a pending request ends: still pending", from: pending(pBusy, cc.StateNotReady, "lunch"), change: end(30 * time.Second),
		want: func(p *cc.Presence) {
			p.State, p.Since, p.WrapUpDeadline = cc.StateWrapUp, tNow, tNow.Add(30*time.Second)
		}},
	{name: "an interaction ends while it rings", from: pOffered, change: end(30 * time.Second),
		want: func(p *cc.Presence) {
			p.State, p.Since, p.WrapUpDeadline = cc.StateWrapUp, tNow, tNow.Add(30*time.Second)
		}},
	{name: "an outbound call ends: the return state is kept", from: pOutBusy, change: end(30 * time.Second),
		want: func(p *cc.Presence) {
			p.State, p.Since, p.WrapUpDeadline = cc.StateWrapUp, tNow, tNow.Add(30*time.Second)
		}},
	{name: "logged out has nothing to end", from: pLoggedOut, change: end(30 * time.Second), code: cc.ECONFLICT, msg: "agent is logged_out: there is no interaction to end"},
	{name: "available has nothing to end", from: pAvailable, change: end(30 * time.Second), code: cc.ECONFLICT, msg: "agent is available: there is no interaction to end"},
	{name: "break has nothing to end", from: pBreak, change: end(30 * time.Second), code: cc.ECONFLICT, msg: "agent is not_ready: there is no interaction to end"},
	{name: "wrap-up has nothing to end", from: pWrapUp, change: end(30 * time.Second), code: cc.ECONFLICT, msg: "agent is wrap_up: there is no interaction to end"},

	// Wrap-up done.
	{name: "wrap-up done: available", from: pWrapUp, change: op(cc.OpWrapUpDone), want: backIdle},
	{name: "wrap-up done applies pending lunch", from: pending(pWrapUp, cc.StateNotReady, "lunch"), change: op(cc.OpWrapUpDone), want: enters(cc.StateNotReady, "lunch")},
	{name: "wrap-up done applies pending log out", from: pending(pWrapUp, cc.StateLoggedOut, ""), change: op(cc.OpWrapUpDone), want: enters(cc.StateLoggedOut, "")},
	{name: "outbound wrap-up done: back to break", from: pOutWrap, change: op(cc.OpWrapUpDone), want: enters(cc.StateNotReady, "break")},
	{name: "outbound wrap-up done: back to available", from: pOutWrapAvail, change: op(cc.OpWrapUpDone), want: backIdle},
	{name: "outbound wrap-up done: the pending request wins over the return", from: pending(pOutWrap, cc.StateLoggedOut, ""), change: op(cc.OpWrapUpDone),
		want: enters(cc.StateLoggedOut, "")},
	{name: "logged out is not in wrap-up", from: pLoggedOut, change: op(cc.OpWrapUpDone), code: cc.ECONFLICT, msg: "agent is logged_out, not in wrap-up"},
	{name: "available is not in wrap-up", from: pAvailable, change: op(cc.OpWrapUpDone), code: cc.ECONFLICT, msg: "agent is available, not in wrap-up"},
	{name: "break is not in wrap-up", from: pBreak, change: op(cc.OpWrapUpDone), code: cc.ECONFLICT, msg: "agent is not_ready, not in wrap-up"},
	{name: "offered is not in wrap-up", from: pOffered, change: op(cc.OpWrapUpDone), code: cc.ECONFLICT, msg: "agent is offered, not in wrap-up"},
	{name: "busy is not in wrap-up", from: pBusy, change: op(cc.OpWrapUpDone), code: cc.ECONFLICT, msg: "agent is busy, not in wrap-up"},

	// Outbound calls.
	{name: "available calls out", from: pAvailable, change: opInteraction(cc.OpOutbound, "int_out"),
		want: func(p *cc.Presence) {
			p.State, p.Since, p.InteractionID, p.Outbound = cc.StateBusy, tNow, "int_out", true
			p.ReturnState, p.ReturnReason = cc.StateAvailable, ""
		}},
	{name: "break calls out", from: pBreak, change: opInteraction(cc.OpOutbound, "int_out"),
		want: func(p *cc.Presence) {
			p.State, p.Reason, p.Since, p.InteractionID, p.Outbound = cc.StateBusy, "", tNow, "int_out", true
			p.ReturnState, p.ReturnReason = cc.StateNotReady, "break"
		}},
	{name: "logged out cannot call out", from: pLoggedOut, change: opInteraction(cc.OpOutbound, "int_out"), code: cc.ECONFLICT, msg: "agent is logged_out: go available or not ready"},
	{name: "offered cannot call out", from: pOffered, change: opInteraction(cc.OpOutbound, "int_out"), code: cc.ECONFLICT, msg: "agent is offered: finish the current interaction"},
	{name: "busy cannot call out", from: pBusy, change: opInteraction(cc.OpOutbound, "int_out"), code: cc.ECONFLICT, msg: "agent is busy: finish the current interaction"},
	{name: "wrap-up cannot call out", from: pWrapUp, change: opInteraction(cc.OpOutbound, "int_out"), code: cc.ECONFLICT, msg: "agent is wrap_up: finish the current interaction"},

	// The outbound attempt never connected.
	{name: "failed attempt from break goes back to break", from: pOutBusy, change: op(cc.OpOutboundFailed), want: enters(cc.StateNotReady, "break")},
	{name: "failed attempt from available goes back to available", from: pOutBusyAvail, change: op(cc.OpOutboundFailed), want: backIdle},
	{name: "failed attempt applies the pending request", from: pending(pOutBusy, cc.StateNotReady, "lunch"), change: op(cc.OpOutboundFailed), want: enters(cc.StateNotReady, "lunch")},
	{name: "busy inbound has no outbound attempt", from: pBusy, change: op(cc.OpOutboundFailed), code: cc.ECONFLICT, msg: "agent is busy: there is no outbound attempt"},
	{name: "logged out has no outbound attempt", from: pLoggedOut, change: op(cc.OpOutboundFailed), code: cc.ECONFLICT, msg: "agent is logged_out: there is no outbound attempt"},
	{name: "available has no outbound attempt", from: pAvailable, change: op(cc.OpOutboundFailed), code: cc.ECONFLICT, msg: "agent is available: there is no outbound attempt"},
	{name: "break has no outbound attempt", from: pBreak, change: op(cc.OpOutboundFailed), code: cc.ECONFLICT, msg: "agent is not_ready: there is no outbound attempt"},
	{name: "offered has no outbound attempt", from: pOffered, change: op(cc.OpOutboundFailed), code: cc.ECONFLICT, msg: "agent is offered: there is no outbound attempt"},
	{name: "outbound wrap-up has no attempt left", from: pOutWrap, change: op(cc.OpOutboundFailed), code: cc.ECONFLICT, msg: "agent is wrap_up: there is no outbound attempt"},

	// System not ready.
	{name: "available loses its connection", from: pAvailable, change: opReason(cc.OpSystemNotReady, cc.ReasonConnectionLost),
		want: enters(cc.StateNotReady, cc.ReasonConnectionLost)},
	{name: "break loses its connection", from: pBreak, change: opReason(cc.OpSystemNotReady, cc.ReasonConnectionLost),
		want: enters(cc.StateNotReady, cc.ReasonConnectionLost)},
	{name: "the same system reason again", from: with(pBreak, func(p *cc.Presence) { p.Reason = cc.ReasonConnectionLost }),
		change: opReason(cc.OpSystemNotReady, cc.ReasonConnectionLost), want: unchanged},
	{name: "offered loses its connection: the offer is dropped", from: pOffered, change: opReason(cc.OpSystemNotReady, cc.ReasonConnectionLost),
		want: enters(cc.StateNotReady, cc.ReasonConnectionLost)},
	{name: "offered with a pending request loses its connection: nothing stays pending", from: pending(pOffered, cc.StateLoggedOut, ""),
		change: opReason(cc.OpSystemNotReady, cc.ReasonConnectionLost), want: enters(cc.StateNotReady, cc.ReasonConnectionLost)},
	{name: "busy loses its connection: pending", from: pBusy, change: opReason(cc.OpSystemNotReady, cc.ReasonConnectionLost),
		want: wantPending(cc.StateNotReady, cc.ReasonConnectionLost)},
	{name: "busy with a pending request: the system reason replaces it", from: pending(pBusy, cc.StateNotReady, "lunch"),
		change: opReason(cc.OpSystemNotReady, cc.ReasonServerRestart), want: wantPending(cc.StateNotReady, cc.ReasonServerRestart)},
	{name: "outbound busy loses its connection: pending", from: pOutBusy, change: opReason(cc.OpSystemNotReady, cc.ReasonConnectionLost),
		want: wantPending(cc.StateNotReady, cc.ReasonConnectionLost)},
	{name: "wrap-up loses its connection: pending", from: pWrapUp, change: opReason(cc.OpSystemNotReady, cc.ReasonConnectionLost),
		want: wantPending(cc.StateNotReady, cc.ReasonConnectionLost)},
	{name: "logged out cannot be made not ready", from: pLoggedOut, change: opReason(cc.OpSystemNotReady, cc.ReasonConnectionLost),
		code: cc.ECONFLICT, msg: "agent is logged_out"},
	{name: "system not ready with a tenant reason", from: pAvailable, change: opReason(cc.OpSystemNotReady, "lunch"), code: cc.EINVALID, msg: `"lunch" is not a system reason`},
	{name: "system not ready without a reason", from: pBusy, change: opReason(cc.OpSystemNotReady, ""), code: cc.EINVALID, msg: `"" is not a system reason`},

	{name: "an unknown operation", from: pAvailable, change: op(cc.PresenceOp(99)), code: cc.EINTERNAL, msg: "unknown presence operation 99"},
}

func TestPresenceApply(t *testing.T) {
	for _, tc := range presenceCases {
		t.Run(tc.name, func(t *testing.T) {
			reasons := tc.reasons
			if reasons == nil {
				reasons = tenantReasons
			}
			c := tc.change
			c.At = tNow
			got, err := tc.from.Apply(c, reasons)
			if tc.code != "" {
				if err == nil {
					t.Fatalf("Apply = %+v, want a %s error", got, tc.code)
				}
				if code := cc.ErrorCode(err); code != tc.code {
					t.Errorf("error code %q, want %q (%v)", code, tc.code, err)
				}
				if msg := cc.ErrorMessage(err); !strings.Contains(msg, tc.msg) {
					t.Errorf("error message %q does not contain %q", msg, tc.msg)
				}
				if d := presenceDiff(got, tc.from); d != "" {
					t.Errorf("a refused change altered the presence:\n%s", d)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			want := with(tc.from, tc.want)
			want.Version++
			if d := presenceDiff(got, want); d != "" {
				t.Errorf("presence (got, want):\n%s", d)
			}
			// Since moves exactly when the state or the reason does.
			from := tc.from
			if from.State == "" {
				from.State = cc.StateLoggedOut
				from.Since = time.Time{}
			}
			moved := got.State != from.State || got.Reason != from.Reason
			if moved && !got.Since.Equal(tNow) {
				t.Errorf("%s/%s -> %s/%s: Since %v, want %v", from.State, from.Reason, got.State, got.Reason, got.Since, tNow)
			}
			if !moved && !got.Since.Equal(from.Since) {
				t.Errorf("state and reason unchanged but Since moved from %v to %v", from.Since, got.Since)
			}
			if got.State == cc.StateWrapUp && got.WrapUpDeadline.IsZero() {
				t.Error("wrap-up without a deadline")
			}
			if got.State != cc.StateWrapUp && !got.WrapUpDeadline.IsZero() {
				t.Errorf("%s with a wrap-up deadline %v", got.State, got.WrapUpDeadline)
			}
		})
	}
}

// TestPresenceCasesCoverEveryStateAndOperation keeps the table complete:
// every state meets every operation at least once.
func TestPresenceCasesCoverEveryStateAndOperation(t *testing.T) {
	states := []cc.AgentState{cc.StateLoggedOut, cc.StateAvailable, cc.StateNotReady, cc.StateOffered, cc.StateBusy, cc.StateWrapUp}
	ops := map[cc.PresenceOp]string{
		cc.OpSet: "set", cc.OpOffer: "offer", cc.OpAnswer: "answer", cc.OpOfferFailed: "offer failed",
		cc.OpOfferWithdrawn: "offer withdrawn", cc.OpEnd: "end", cc.OpWrapUpDone: "wrap-up done",
		cc.OpOutbound: "outbound", cc.OpOutboundFailed: "outbound failed", cc.OpSystemNotReady: "system not ready",
	}
	type key struct {
		s  cc.AgentState
		op cc.PresenceOp
	}
	seen := map[key]bool{}
	for _, tc := range presenceCases {
		s := tc.from.State
		if s == "" {
			s = cc.StateLoggedOut
		}
		seen[key{s, tc.change.Op}] = true
	}
	for _, s := range states {
		for o, name := range ops {
			if !seen[key{s, o}] {
				t.Errorf("no presence case applies %s to %s", name, s)
			}
		}
	}
}

// TestPresenceFlows follows whole interactions step by step.
func TestPresenceFlows(t *testing.T) {
	type step struct {
		change cc.PresenceChange
		state  cc.AgentState
		reason string
	}
	flows := []struct {
		name  string
		from  cc.Presence
		steps []step
	}{
		{"inbound call", pAvailable, []step{
			{opInteraction(cc.OpOffer, "int_1"), cc.StateOffered, ""},
			{op(cc.OpAnswer), cc.StateBusy, ""},
			{end(time.Minute), cc.StateWrapUp, ""},
			{op(cc.OpWrapUpDone), cc.StateAvailable, ""},
		}},
		{"lunch asked for while busy applies after wrap-up", pAvailable, []step{
			{opInteraction(cc.OpOffer, "int_1"), cc.StateOffered, ""},
			{op(cc.OpAnswer), cc.StateBusy, ""},
			{set(cc.StateNotReady, "lunch"), cc.StateBusy, ""},
			{end(time.Minute), cc.StateWrapUp, ""},
			{op(cc.OpWrapUpDone), cc.StateNotReady, "lunch"},
		}},
		{"ring no answer, then back by choice", pAvailable, []step{
			{opInteraction(cc.OpOffer, "int_1"), cc.StateOffered, ""},
			{op(cc.OpOfferFailed), cc.StateNotReady, cc.ReasonRingNoAnswer},
			{set(cc.StateAvailable, ""), cc.StateAvailable, ""},
		}},
		{"outbound from available", pAvailable, []step{
			{opInteraction(cc.OpOutbound, "int_2"), cc.StateBusy, ""},
			{op(cc.OpAnswer), cc.StateBusy, ""},
			{end(time.Minute), cc.StateWrapUp, ""},
			{op(cc.OpWrapUpDone), cc.StateAvailable, ""},
		}},
		{"outbound from break", pBreak, []step{
			{opInteraction(cc.OpOutbound, "int_2"), cc.StateBusy, ""},
			{op(cc.OpAnswer), cc.StateBusy, ""},
			{end(time.Minute), cc.StateWrapUp, ""},
			{op(cc.OpWrapUpDone), cc.StateNotReady, "break"},
		}},
		{"failed outbound from break, twice", pBreak, []step{
			{opInteraction(cc.OpOutbound, "int_2"), cc.StateBusy, ""},
			{op(cc.OpOutboundFailed), cc.StateNotReady, "break"},
			{opInteraction(cc.OpOutbound, "int_3"), cc.StateBusy, ""},
			{op(cc.OpOutboundFailed), cc.StateNotReady, "break"},
		}},
		{"connection lost on an outbound call from break", pBreak, []step{
			{opInteraction(cc.OpOutbound, "int_2"), cc.StateBusy, ""},
			{opReason(cc.OpSystemNotReady, cc.ReasonConnectionLost), cc.StateBusy, ""},
			{end(0), cc.StateWrapUp, ""},
			{op(cc.OpWrapUpDone), cc.StateNotReady, cc.ReasonConnectionLost},
		}},
		{"a request left while ringing does not outlive the offer", pAvailable, []step{
			{opInteraction(cc.OpOffer, "int_1"), cc.StateOffered, ""},
			{set(cc.StateLoggedOut, ""), cc.StateOffered, ""},
			{opReason(cc.OpSystemNotReady, cc.ReasonConnectionLost), cc.StateNotReady, cc.ReasonConnectionLost},
			{set(cc.StateAvailable, ""), cc.StateAvailable, ""},
			{opInteraction(cc.OpOffer, "int_2"), cc.StateOffered, ""},
			{op(cc.OpAnswer), cc.StateBusy, ""},
			{end(time.Minute), cc.StateWrapUp, ""},
			{op(cc.OpWrapUpDone), cc.StateAvailable, ""},
		}},
	}
	for _, f := range flows {
		t.Run(f.name, func(t *testing.T) {
			p := f.from
			at := tNow
			for i, s := range f.steps {
				c := s.change
				c.At = at
				next, err := p.Apply(c, tenantReasons)
				if err != nil {
					t.Fatalf("step %d: %v", i+1, err)
				}
				if next.State != s.state || next.Reason != s.reason {
					t.Fatalf("step %d: %s/%s, want %s/%s", i+1, next.State, next.Reason, s.state, s.reason)
				}
				if next.Version != p.Version+1 {
					t.Errorf("step %d: version %d after %d", i+1, next.Version, p.Version)
				}
				if next.State == cc.StateAvailable && p.State != cc.StateAvailable && !next.AvailableSince.Equal(at) {
					t.Errorf("step %d: became available at %v but AvailableSince is %v", i+1, at, next.AvailableSince)
				}
				p = next
				at = at.Add(time.Minute)
			}
			if p.InteractionID != "" || p.Outbound || p.ReturnState != "" || p.PendingState != "" || !p.WrapUpDeadline.IsZero() {
				t.Errorf("left over after the flow: %+v", p)
			}
		})
	}
}

// presenceDiff lists the fields in which got and want differ, or "".
func presenceDiff(got, want cc.Presence) string {
	var b strings.Builder
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if !reflect.DeepEqual(g, w) {
			fmt.Fprintf(&b, "\t%s: %v, want %v\n", gv.Type().Field(i).Name, g, w)
		}
	}
	return b.String()
}
