package cc

import (
	"context"
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
	// Answered reports that the offered agent answered. It returns an error
	// when the offer is no longer current (the caller left, or it was
	// withdrawn); the media side must then release the agent's leg.
	Answered(offer *Offer) error
	// OfferFailed reports that the agent did not answer; reason is a system
	// not-ready reason (ReasonRingNoAnswer, ReasonDeclined...).
	OfferFailed(offer *Offer, reason string, detail string)
	// Hangup reports that the call is over; by is "customer", "agent" or
	// "system". It may be called more than once; only the first counts.
	Hangup(by string, detail string)
}
