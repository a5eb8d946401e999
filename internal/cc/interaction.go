package cc

import (
	"context"
	"time"
)

// Channel is how a customer reaches the contact center.
type Channel string

// Channels.
const (
	ChannelPhone     Channel = "phone"
	ChannelChat      Channel = "chat"
	ChannelVoicemail Channel = "voicemail"
)

// Direction says who started an interaction.
type Direction string

// Directions.
const (
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
)

// InteractionState is where an interaction is in its life.
type InteractionState string

// Interaction states, in order. Ended is final for the conversation; the
// wrap-up and the CRM log follow (WrappedAt, LogStatus).
const (
	InteractionQueued    InteractionState = "queued"
	InteractionOffered   InteractionState = "offered"
	InteractionConnected InteractionState = "connected"
	InteractionEnded     InteractionState = "ended"
)

// Outcome says how an interaction ended.
type Outcome string

// Outcomes.
const (
	OutcomeAnswered  Outcome = "answered"  // talked to an agent
	OutcomeAbandoned Outcome = "abandoned" // the caller left before an agent answered
	OutcomeMaxWait   Outcome = "max_wait"  // the queue's maximum wait ran out
	OutcomeFailed    Outcome = "failed"    // an outbound call did not connect
	OutcomeSystem    Outcome = "system"    // Parley stopped mid-interaction
)

// LogStatus is the state of the interaction's CRM log.
type LogStatus string

// CRM log states.
const (
	LogNone      LogStatus = ""          // not due yet
	LogPending   LogStatus = "pending"   // in the outbox
	LogDelivered LogStatus = "delivered" // written to the CRM
	LogSkipped   LogStatus = "skipped"   // the tenant has no CRM
)

// Customer identifies the other party.
type Customer struct {
	Number    string // E.164, empty when withheld or unparseable
	Extension string // split off the number, kept for display and dialling
	Raw       string // as received
	Name      string // display name as received
	Withheld  bool
	Email     string
}

// CRMRecord is a CRM record matched to a customer.
type CRMRecord struct {
	Type    string `json:"type"` // Contact, Lead or Account
	ID      string `json:"id"`
	Name    string `json:"name"`
	Phone   string `json:"phone,omitempty"`
	Company string `json:"company,omitempty"` // the account name or the lead's company
	// MatchedBy says what found the record: the data key of the queue's
	// search field ("account_number"), or MatchedByPhone.
	MatchedBy string `json:"matched_by,omitempty"`
}

// MatchedByPhone is the CRMRecord.MatchedBy of a record found by the
// caller's number.
const MatchedByPhone = "phone"

// Interaction is one customer contact: a call, a chat, a voicemail.
type Interaction struct {
	ID           string
	TenantID     string
	Channel      Channel
	Direction    Direction
	State        InteractionState
	Outcome      Outcome
	Customer     Customer
	DialedNumber string
	EntryPointID string
	QueueID      string
	AgentID      string
	TrunkID      string
	SIPCallID    string
	// Data is what an IVR step or a SIP header collected.
	Data map[string]string
	// ScreenPop is when the agent's panel pops the record: the setting of
	// the queue the call arrived in (or overflowed to).
	ScreenPop ScreenPop
	// Timestamps. QueuedAt is the original enqueue time: a requeue after ring
	// no answer keeps it, so the interaction keeps its place.
	CreatedAt  time.Time
	QueuedAt   time.Time
	OfferedAt  time.Time
	AnsweredAt time.Time
	EndedAt    time.Time
	WrappedAt  time.Time
	Offers     int // how many times it was offered
	EndReason  string
	// Held and Muted are the call controls in force while connected.
	Held  bool
	Muted bool
	// Wrap-up.
	Disposition string
	Notes       string
	// CRM.
	Matches      []CRMRecord
	LookupError  string // why the CRM lookup failed, if it did
	LinkedRecord *CRMRecord
	LogStatus    LogStatus
	LogRef       string // the CRM's id of the log record (Task Id)
	LogError     string // the last delivery error, while pending
	LogText      string // the full log text, even when the CRM copy is cut
	Version      int64
}

// Terminal reports whether the conversation is over.
func (it *Interaction) Terminal() bool { return it.State == InteractionEnded }

// WaitTime is the time from queue entry to answer, or to the end when never
// answered.
func (it *Interaction) WaitTime() time.Duration {
	if it.QueuedAt.IsZero() {
		return 0
	}
	switch {
	case !it.AnsweredAt.IsZero():
		return it.AnsweredAt.Sub(it.QueuedAt)
	case !it.EndedAt.IsZero():
		return it.EndedAt.Sub(it.QueuedAt)
	}
	return 0
}

// TalkTime is the time from answer to end.
func (it *Interaction) TalkTime() time.Duration {
	if it.AnsweredAt.IsZero() || it.EndedAt.IsZero() {
		return 0
	}
	return it.EndedAt.Sub(it.AnsweredAt)
}

// WrapTime is the time from end to wrap-up.
func (it *Interaction) WrapTime() time.Duration {
	if it.EndedAt.IsZero() || it.WrappedAt.IsZero() {
		return 0
	}
	return it.WrappedAt.Sub(it.EndedAt)
}

// ErrInteractionNotFound is the one answer for an interaction that does not
// exist, belongs to another tenant, or is not visible to the caller: the
// same words in every case, so that the answer reveals nothing.
func ErrInteractionNotFound(id string) *Error {
	return Errorf(ENOTFOUND, "interaction %q not found", id)
}

// InteractionFilter selects interactions.
type InteractionFilter struct {
	TenantID string // required
	AgentID  string // only this agent's
	QueueID  string
	States   []InteractionState
	Since    time.Time // created at or after
	Before   time.Time // created before
	Limit    int       // 0 means 100
}

// InteractionChange is what a store writes together with an interaction, in
// one transaction: its events and its outbox entries.
type InteractionChange struct {
	Events []*Event
	Outbox []*OutboxItem
	// Completed are outbox items to mark delivered (ID, Result, DeliveredAt).
	Completed []*OutboxItem
}

// InteractionStore stores interactions.
type InteractionStore interface {
	// CreateInteraction stores a new interaction and its change atomically.
	CreateInteraction(ctx context.Context, it *Interaction, ch InteractionChange) error
	// UpdateInteraction replaces an interaction's fields and stores its
	// change atomically. ENOTFOUND if absent; ECONFLICT if it.Version is not
	// the stored version (the stored version is then left alone). On success
	// it.Version is incremented.
	UpdateInteraction(ctx context.Context, it *Interaction, ch InteractionChange) error
	// Interaction returns an interaction of the tenant. ENOTFOUND if none.
	Interaction(ctx context.Context, tenantID, id string) (*Interaction, error)
	// Interactions returns interactions, newest first.
	Interactions(ctx context.Context, f InteractionFilter) ([]*Interaction, error)
	// OpenInteractions returns every interaction of any tenant whose state
	// is not ended, or that ended without a wrap-up, oldest first.
	OpenInteractions(ctx context.Context) ([]*Interaction, error)
}
