// Package view renders domain objects as the JSON documents Parley shows to
// clients: in REST responses and in the payloads of live events, so that both
// carry the same shape. Secrets (password hashes, SIP HA1, CRM keys) have no
// field here and can never leak through a view.
package view

import (
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// Customer is the other party of an interaction.
type Customer struct {
	Number    string `json:"number,omitempty"`
	Extension string `json:"extension,omitempty"`
	Display   string `json:"display"`
	Name      string `json:"name,omitempty"`
	Withheld  bool   `json:"withheld"`
	Email     string `json:"email,omitempty"`
}

// Log is the state of an interaction's CRM log.
type Log struct {
	Status string `json:"status"`
	Ref    string `json:"ref,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Interaction is one interaction as clients see it.
type Interaction struct {
	ID           string            `json:"id"`
	Channel      cc.Channel        `json:"channel"`
	Direction    cc.Direction      `json:"direction"`
	State        string            `json:"state"`
	Outcome      string            `json:"outcome,omitempty"`
	Customer     Customer          `json:"customer"`
	DialedNumber string            `json:"dialed_number,omitempty"`
	QueueID      string            `json:"queue_id,omitempty"`
	QueueName    string            `json:"queue_name,omitempty"`
	AgentID      string            `json:"agent_id,omitempty"`
	AgentName    string            `json:"agent_name,omitempty"`
	Data         map[string]string `json:"data,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
	QueuedAt     *time.Time        `json:"queued_at,omitempty"`
	OfferedAt    *time.Time        `json:"offered_at,omitempty"`
	AnsweredAt   *time.Time        `json:"answered_at,omitempty"`
	EndedAt      *time.Time        `json:"ended_at,omitempty"`
	WrappedAt    *time.Time        `json:"wrapped_at,omitempty"`
	WaitSeconds  int               `json:"wait_seconds"`
	TalkSeconds  int               `json:"talk_seconds"`
	WrapSeconds  int               `json:"wrap_seconds"`
	Offers       int               `json:"offers"`
	EndReason    string            `json:"end_reason,omitempty"`
	Disposition  string            `json:"disposition,omitempty"`
	Notes        string            `json:"notes,omitempty"`
	Matches      []cc.CRMRecord    `json:"matches"`
	LookupError  string            `json:"lookup_error,omitempty"`
	LinkedRecord *cc.CRMRecord     `json:"linked_record,omitempty"`
	Log          Log               `json:"log"`
}

// Names resolves queue and agent ids to display names.
type Names interface {
	QueueName(id string) string
	AgentName(id string) string
}

// NewInteraction renders an interaction. display formats the customer
// number for people; names may be nil.
func NewInteraction(it *cc.Interaction, display string, names Names) *Interaction {
	v := &Interaction{
		ID:           it.ID,
		Channel:      it.Channel,
		Direction:    it.Direction,
		State:        string(it.State),
		Outcome:      string(it.Outcome),
		DialedNumber: it.DialedNumber,
		QueueID:      it.QueueID,
		AgentID:      it.AgentID,
		Data:         it.Data,
		CreatedAt:    it.CreatedAt.UTC(),
		QueuedAt:     timePtr(it.QueuedAt),
		OfferedAt:    timePtr(it.OfferedAt),
		AnsweredAt:   timePtr(it.AnsweredAt),
		EndedAt:      timePtr(it.EndedAt),
		WrappedAt:    timePtr(it.WrappedAt),
		WaitSeconds:  int(it.WaitTime().Round(time.Second) / time.Second),
		TalkSeconds:  int(it.TalkTime().Round(time.Second) / time.Second),
		WrapSeconds:  int(it.WrapTime().Round(time.Second) / time.Second),
		Offers:       it.Offers,
		EndReason:    it.EndReason,
		Disposition:  it.Disposition,
		Notes:        it.Notes,
		Matches:      it.Matches,
		LookupError:  it.LookupError,
		LinkedRecord: it.LinkedRecord,
		Customer: Customer{
			Number:    it.Customer.Number,
			Extension: it.Customer.Extension,
			Display:   display,
			Name:      it.Customer.Name,
			Withheld:  it.Customer.Withheld,
			Email:     it.Customer.Email,
		},
		Log: Log{Status: string(it.LogStatus), Ref: it.LogRef, Error: it.LogError},
	}
	if v.Matches == nil {
		v.Matches = []cc.CRMRecord{}
	}
	if v.Log.Status == "" {
		v.Log.Status = "none"
	}
	if names != nil {
		if it.QueueID != "" {
			v.QueueName = names.QueueName(it.QueueID)
		}
		if it.AgentID != "" {
			v.AgentName = names.AgentName(it.AgentID)
		}
	}
	return v
}

// Presence is an agent's state.
type Presence struct {
	UserID         string     `json:"user_id"`
	Username       string     `json:"username,omitempty"`
	State          string     `json:"state"`
	Reason         string     `json:"reason,omitempty"`
	Since          *time.Time `json:"since,omitempty"`
	InteractionID  string     `json:"interaction_id,omitempty"`
	PendingState   string     `json:"pending_state,omitempty"`
	PendingReason  string     `json:"pending_reason,omitempty"`
	WrapUpDeadline *time.Time `json:"wrap_up_deadline,omitempty"`
}

// NewPresence renders a presence.
func NewPresence(p *cc.Presence, username string) *Presence {
	state := p.State
	if state == "" {
		state = cc.StateLoggedOut
	}
	return &Presence{
		UserID:         p.UserID,
		Username:       username,
		State:          string(state),
		Reason:         p.Reason,
		Since:          timePtr(p.Since),
		InteractionID:  p.InteractionID,
		PendingState:   string(p.PendingState),
		PendingReason:  p.PendingReason,
		WrapUpDeadline: timePtr(p.WrapUpDeadline),
	}
}

// QueueStatus is a queue's live state.
type QueueStatus struct {
	ID                  string         `json:"id"`
	Name                string         `json:"name"`
	Priority            int            `json:"priority"`
	Waiting             int            `json:"waiting"`
	LongestWaitSeconds  int            `json:"longest_wait_seconds"`
	Agents              map[string]int `json:"agents"`
	Offered             int            `json:"offered"`
	Answered            int            `json:"answered"`
	Abandoned           int            `json:"abandoned"`
	AnsweredInSL        int            `json:"answered_in_sl"`
	ServiceLevelSeconds int            `json:"service_level_seconds"`
}

// AgentStates lists every agent state, for complete per-state counts.
var AgentStates = []cc.AgentState{cc.StateAvailable, cc.StateOffered, cc.StateBusy, cc.StateWrapUp, cc.StateNotReady, cc.StateLoggedOut}

// NewQueueStatus renders a queue status; every agent state has a count.
func NewQueueStatus(s *cc.QueueStatus) *QueueStatus {
	agents := make(map[string]int, len(AgentStates))
	for _, st := range AgentStates {
		agents[string(st)] = s.Agents[st]
	}
	return &QueueStatus{
		ID:                  s.QueueID,
		Name:                s.Name,
		Priority:            s.Priority,
		Waiting:             s.Waiting,
		LongestWaitSeconds:  int(s.LongestWait / time.Second),
		Agents:              agents,
		Offered:             s.Offered,
		Answered:            s.Answered,
		Abandoned:           s.Abandoned,
		AnsweredInSL:        s.AnsweredInSL,
		ServiceLevelSeconds: int(s.ServiceLevel / time.Second),
	}
}

// InteractionEvent is the payload of interaction.* events.
type InteractionEvent struct {
	Interaction *Interaction `json:"interaction"`
	Reason      string       `json:"reason,omitempty"`
	Detail      string       `json:"detail,omitempty"`
}

// AgentStateEvent is the payload of agent.state events.
type AgentStateEvent struct {
	Presence *Presence `json:"presence"`
}

// QueueStatusEvent is the payload of queue.status events.
type QueueStatusEvent struct {
	Queue *QueueStatus `json:"queue"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
