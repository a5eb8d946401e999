package cc

import (
	"context"
	"strings"
	"time"
)

// Arrival is an inbound call that passed the trunk and number checks.
type Arrival struct {
	Tenant     *Tenant
	Trunk      *Trunk
	EntryPoint *EntryPoint
	Customer   Customer
	Dialed     string // the dialled number, E.164
	SIPCallID  string
	// Data is what the call brought: X-Parley-Data pairs and the digits
	// the entry point collected (ValidDataKey keys, ValidDataValue values).
	// The queue's SearchFields search the CRM with it.
	Data map[string]string
}

// Offer asks the media side to ring an agent for an interaction.
type Offer struct {
	ID            string // unique per attempt
	InteractionID string
	Agent         *User
	// Endpoints are the SIP URIs to ring, in order of preference: the
	// agent's registered contacts, or its static contact.
	Endpoints []string
	Timeout   time.Duration
}

// Instruction tells an inbound call's media side what to do next.
type Instruction struct {
	// Offer: ring this agent while the caller keeps hearing hold audio.
	Offer *Offer
	// Queue: the call moved to this queue (overflow); play its audio.
	Queue *Queue
	// Close: play Announcement (may be empty) and hang up.
	Close        bool
	Announcement string
	Reason       string
	// Accept: the agent accepted Offer in its panel; ring the agent's
	// phone again asking it to answer at once (RFC 5373 Answer-Mode: Auto,
	// Call-Info answer-after=0, Alert-Info info=alert-autoanswer).
	Accept *Offer
	// Withdraw: the agent rejected Offer in its panel; cancel the INVITE
	// to its phone (the contact center already failed the offer).
	Withdraw *Offer
}

// CallDirector decides what happens to calls; the contact center implements
// it and the telephony adapter calls it.
type CallDirector interface {
	// Arrive registers a new inbound call: the interaction is created and
	// persisted, the customer looked up in the CRM, and the call queued.
	// The returned handle drives the call until Hangup.
	Arrive(ctx context.Context, a Arrival) (CallHandle, error)
}

// CallHandle is the contact center's side of one inbound call.
type CallHandle interface {
	// Interaction returns a snapshot of the interaction.
	Interaction() *Interaction
	// Queue returns the queue the call waits in now.
	Queue() *Queue
	// Instructions delivers what to do next. It is closed after Hangup.
	Instructions() <-chan Instruction
	// Answered reports that the offered agent answered and the legs are
	// bridged; ctrl drives the connected call (hold, mute, DTMF, hang-up,
	// release of the agent's leg for a transfer). It returns an error when
	// the offer is no longer current (the caller left, or it was
	// withdrawn); the media side must then release the agent's leg.
	Answered(offer *Offer, ctrl CallControl) error
	// OfferFailed reports that the agent did not answer; reason is a system
	// not-ready reason (ReasonRingNoAnswer, ReasonDeclined...).
	OfferFailed(offer *Offer, reason string, detail string)
	// Hangup reports that the call is over; by is "customer", "agent" or
	// "system". It may be called more than once; only the first counts.
	Hangup(by string, detail string)
}

// CallControl is what the media side hands to the contact center when a
// call connects: the controls of the agent's panel. Every method returns
// quickly (it does not wait for the far end) and is safe to call from any
// goroutine; the contact center calls it with its tenant lock held, so an
// implementation must never call back into the CallHandle or
// OutboundHandle synchronously.
type CallControl interface {
	// Hold puts the customer on hold (on: the customer hears the queue's
	// hold audio and the agent's audio is not sent) or resumes the bridge.
	Hold(on bool) error
	// Mute replaces the agent's audio to the customer with silence, or
	// stops doing so.
	Mute(on bool) error
	// SendDTMF sends digits (0-9, *, #, A-D) to the customer as RFC 4733
	// events. ECONFLICT when the customer's leg did not negotiate
	// telephone-event.
	SendDTMF(digits string) error
	// Hangup ends both legs. The media side then reports the end through
	// the handle (by "agent").
	Hangup(detail string) error
	// ReleaseAgent ends the agent's leg only: the customer stays on the
	// line and hears hold audio until the media side is told what to do
	// next (an Instruction for an inbound call).
	ReleaseAgent() error
}

// DTMFDigits are the RFC 4733 events a CallControl can send.
const DTMFDigits = "0123456789*#ABCD"

// MaxDTMFDigits bounds one SendDTMF request.
const MaxDTMFDigits = 32

// OutboundCall asks the media side to place a click-to-dial call: ring the
// agent's endpoint first, then, once the agent answered, dial the customer
// through the trunk and bridge the two.
type OutboundCall struct {
	InteractionID string
	Tenant        *Tenant
	Agent         *User
	// Endpoints ring the agent, as in an Offer.
	Endpoints    []string
	AgentTimeout time.Duration
	// Trunk is where the customer is dialled (its OutboundURI); Number is
	// the E.164 number that becomes the Request-URI's user part.
	Trunk  *Trunk
	Number string
	// Extension is sent as RFC 4733 digits after the customer answered.
	Extension string
	// CallerID is the number the customer sees (may be empty).
	CallerID        string
	CustomerTimeout time.Duration
	// Handle receives the progress of the call.
	Handle OutboundHandle
}

// OutboundHandle is the contact center's side of one outbound call.
type OutboundHandle interface {
	// AgentAnswered reports that the agent's phone answered; the customer
	// is being dialled. An error means the call was given up meanwhile:
	// the media side must hang up the agent's leg and report Failed.
	AgentAnswered() error
	// Connected reports that the customer answered and the legs are
	// bridged; ctrl drives the call until Hangup.
	Connected(ctrl CallControl) error
	// Failed reports that the call never connected: by is "agent",
	// "customer" or "system", detail says why ("busy (486 Busy Here)").
	Failed(by, detail string)
	// Hangup reports the end of a connected call, as CallHandle.Hangup.
	Hangup(by, detail string)
}

// OutboundDialer places outbound calls; the telephony adapter implements it.
type OutboundDialer interface {
	// Dial starts the call and returns at once; progress goes to
	// call.Handle. An error means nothing was started.
	Dial(ctx context.Context, call OutboundCall) error
}

// DialRequest is a click-to-dial request from an agent's panel.
type DialRequest struct {
	To string
	// RecordID and ObjectType name the CRM record the click came from
	// (Contact, Lead or Account); the interaction's log is linked to it.
	RecordID   string
	ObjectType string
}

// crmIDPrefixes are the key prefixes of the objects a call can be linked to.
var crmIDPrefixes = map[string]string{"003": "Contact", "00Q": "Lead", "001": "Account"}

// Record returns the CRM record the request links, nil when it names none,
// or EINVALID saying what to fix. A missing object type is taken from the
// id's key prefix (003 Contact, 00Q Lead, 001 Account).
func (r *DialRequest) Record() (*CRMRecord, error) {
	id, typ := strings.TrimSpace(r.RecordID), strings.TrimSpace(r.ObjectType)
	if id == "" {
		if typ != "" {
			return nil, Errorf(EINVALID, "object_type %q given without record_id: give both, or neither", typ)
		}
		return nil, nil
	}
	if (len(id) != 15 && len(id) != 18) || strings.ContainsFunc(id, func(c rune) bool {
		return !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')
	}) {
		return nil, Errorf(EINVALID, "record_id %q: give a CRM record id of 15 or 18 letters and digits, such as 003000000000001AAA", id)
	}
	if typ == "" {
		typ = crmIDPrefixes[id[:3]]
		if typ == "" {
			return nil, Errorf(EINVALID, "record_id %q: give object_type (Contact, Lead or Account) too", id)
		}
	}
	switch strings.ToLower(typ) {
	case "contact":
		typ = "Contact"
	case "lead":
		typ = "Lead"
	case "account":
		typ = "Account"
	default:
		return nil, Errorf(EINVALID, "object_type %q: a call can be linked to a Contact, Lead or Account", typ)
	}
	return &CRMRecord{Type: typ, ID: id}, nil
}

// TransferTarget is where a blind transfer sends a call: a queue or an agent.
type TransferTarget struct {
	QueueID string
	AgentID string
}

// ValidateDTMF returns EINVALID unless digits are 1 to MaxDTMFDigits of
// DTMFDigits.
func ValidateDTMF(digits string) error {
	if digits == "" {
		return Errorf(EINVALID, "digits is empty: give 1 to %d of 0-9, *, #, A-D", MaxDTMFDigits)
	}
	if len(digits) > MaxDTMFDigits {
		return Errorf(EINVALID, "digits has %d characters: send at most %d at a time", len(digits), MaxDTMFDigits)
	}
	for _, c := range digits {
		if !strings.ContainsRune(DTMFDigits, c) {
			return Errorf(EINVALID, "digit %q cannot be sent: use 0-9, *, #, A-D", c)
		}
	}
	return nil
}
