// Package view renders domain objects as the JSON documents Parley shows to
// clients: in REST responses and in the payloads of live events, so that both
// carry the same shape. Secrets (password hashes, SIP HA1, CRM keys, SIP call
// ids, the full log text) have no field here and can never leak through a
// view.
//
// Times are UTC and left out when zero (omitzero); durations are whole
// seconds; lists that may be empty are [] rather than null. The OpenAPI
// document (api/openapi.yaml) describes every view under the same names; a
// test in internal/httpapi keeps the two in step.
package view

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/phone"
)

// Customer is the other party of an interaction.
type Customer struct {
	Number    string `json:"number,omitempty"`
	Extension string `json:"extension,omitempty"`
	// Display is what to show people: the number formatted for the
	// tenant's region, "Withheld number", the caller ID as received when it
	// is not a number, or the e-mail address of a chat.
	Display  string `json:"display"`
	Name     string `json:"name,omitempty"`
	Email    string `json:"email,omitempty"`
	Withheld bool   `json:"withheld"`
}

// Displays of customers without a usable number.
const (
	DisplayWithheld = "Withheld number"
	DisplayUnknown  = "Unknown number"
)

// NewCustomer renders the customer of an interaction; region is the
// tenant's default phone region, which decides between the national and the
// international format.
func NewCustomer(cu cc.Customer, region string) Customer {
	return Customer{
		Number:    cu.Number,
		Extension: cu.Extension,
		Display:   customerDisplay(cu, region),
		Name:      cu.Name,
		Email:     cu.Email,
		Withheld:  cu.Withheld,
	}
}

func customerDisplay(cu cc.Customer, region string) string {
	raw := strings.TrimSpace(cu.Raw)
	switch {
	case cu.Withheld:
		return DisplayWithheld
	case cu.Number != "":
		return phone.Format(phone.Number{E164: cu.Number, Extension: cu.Extension, Raw: raw}, region)
	case raw != "":
		return raw
	case cu.Email != "":
		return cu.Email
	}
	return DisplayUnknown
}

// Log is the state of an interaction's CRM log.
type Log struct {
	// Status is none, pending, delivered or skipped.
	Status string `json:"status"`
	Ref    string `json:"ref,omitempty"`
	Error  string `json:"error,omitempty"`
}

// LogStatusNone is the Status of a log that is not due yet.
const LogStatusNone = "none"

// Interaction is one interaction as clients see it.
type Interaction struct {
	ID           string              `json:"id"`
	Channel      cc.Channel          `json:"channel"`
	Direction    cc.Direction        `json:"direction"`
	State        cc.InteractionState `json:"state"`
	Outcome      cc.Outcome          `json:"outcome,omitempty"`
	Customer     Customer            `json:"customer"`
	DialedNumber string              `json:"dialed_number,omitempty"`
	EntryPointID string              `json:"entry_point_id,omitempty"`
	QueueID      string              `json:"queue_id,omitempty"`
	QueueName    string              `json:"queue_name,omitempty"`
	AgentID      string              `json:"agent_id,omitempty"`
	AgentName    string              `json:"agent_name,omitempty"`
	Data         map[string]string   `json:"data,omitempty"`
	// ScreenPop is when the agent's panel pops the CRM record: "offer"
	// (when the call rings) or "answer"; empty for interactions that
	// predate the setting.
	ScreenPop    cc.ScreenPop   `json:"screen_pop,omitempty"`
	CreatedAt    time.Time      `json:"created_at"`
	QueuedAt     time.Time      `json:"queued_at,omitzero"`
	OfferedAt    time.Time      `json:"offered_at,omitzero"`
	AnsweredAt   time.Time      `json:"answered_at,omitzero"`
	EndedAt      time.Time      `json:"ended_at,omitzero"`
	WrappedAt    time.Time      `json:"wrapped_at,omitzero"`
	Offers       int            `json:"offers"`
	EndReason    string         `json:"end_reason,omitempty"`
	Held         bool           `json:"held"`
	Muted        bool           `json:"muted"`
	WaitSeconds  int64          `json:"wait_seconds"`
	TalkSeconds  int64          `json:"talk_seconds"`
	WrapSeconds  int64          `json:"wrap_seconds"`
	Disposition  string         `json:"disposition,omitempty"`
	Notes        string         `json:"notes,omitempty"`
	Matches      []cc.CRMRecord `json:"matches"`
	LookupError  string         `json:"lookup_error,omitempty"`
	LinkedRecord *cc.CRMRecord  `json:"linked_record,omitempty"`
	Log          Log            `json:"log"`
}

// Names resolves queue and agent ids to display names; it returns "" for an
// id it does not know.
type Names interface {
	QueueName(id string) string
	AgentName(id string) string
}

// NewInteraction renders an interaction. region is the tenant's default
// phone region, for the customer's display; names gives the queue and agent
// names and may be nil, which leaves them out. The view is a snapshot: it
// shares no map, slice or record with it.
func NewInteraction(it *cc.Interaction, region string, names Names) *Interaction {
	v := &Interaction{
		ID:           it.ID,
		Channel:      it.Channel,
		Direction:    it.Direction,
		State:        it.State,
		Outcome:      it.Outcome,
		Customer:     NewCustomer(it.Customer, region),
		DialedNumber: it.DialedNumber,
		EntryPointID: it.EntryPointID,
		QueueID:      it.QueueID,
		AgentID:      it.AgentID,
		Data:         maps.Clone(it.Data),
		ScreenPop:    it.ScreenPop,
		CreatedAt:    utc(it.CreatedAt),
		QueuedAt:     utc(it.QueuedAt),
		OfferedAt:    utc(it.OfferedAt),
		AnsweredAt:   utc(it.AnsweredAt),
		EndedAt:      utc(it.EndedAt),
		WrappedAt:    utc(it.WrappedAt),
		Offers:       it.Offers,
		EndReason:    it.EndReason,
		Held:         it.Held,
		Muted:        it.Muted,
		WaitSeconds:  seconds(it.WaitTime()),
		TalkSeconds:  seconds(it.TalkTime()),
		WrapSeconds:  seconds(it.WrapTime()),
		Disposition:  it.Disposition,
		Notes:        it.Notes,
		Matches:      slices.Clone(it.Matches),
		LookupError:  it.LookupError,
		Log:          Log{Status: string(it.LogStatus), Ref: it.LogRef, Error: it.LogError},
	}
	if v.Matches == nil {
		v.Matches = []cc.CRMRecord{}
	}
	if it.LinkedRecord != nil {
		rec := *it.LinkedRecord
		v.LinkedRecord = &rec
	}
	if it.LogStatus == cc.LogNone {
		v.Log.Status = LogStatusNone
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
	UserID         string        `json:"user_id"`
	Username       string        `json:"username,omitempty"`
	State          cc.AgentState `json:"state"`
	Reason         string        `json:"reason,omitempty"`
	Since          time.Time     `json:"since,omitzero"`
	InteractionID  string        `json:"interaction_id,omitempty"`
	PendingState   cc.AgentState `json:"pending_state,omitempty"`
	PendingReason  string        `json:"pending_reason,omitempty"`
	WrapUpDeadline time.Time     `json:"wrap_up_deadline,omitzero"`
}

// NewPresence renders a presence; an empty state is logged out. The wrap-up
// deadline shows only in wrap-up.
func NewPresence(p *cc.Presence, username string) *Presence {
	v := &Presence{
		UserID:        p.UserID,
		Username:      username,
		State:         p.State,
		Reason:        p.Reason,
		Since:         utc(p.Since),
		InteractionID: p.InteractionID,
		PendingState:  p.PendingState,
		PendingReason: p.PendingReason,
	}
	if v.State == "" {
		v.State = cc.StateLoggedOut
	}
	if p.State == cc.StateWrapUp {
		v.WrapUpDeadline = utc(p.WrapUpDeadline)
	}
	return v
}

// QueueStatus is a queue's live state.
type QueueStatus struct {
	ID                  string      `json:"id"`
	Name                string      `json:"name"`
	Priority            int         `json:"priority"`
	Waiting             int         `json:"waiting"`
	LongestWaitSeconds  int64       `json:"longest_wait_seconds"`
	Agents              QueueAgents `json:"agents"`
	Offered             int         `json:"offered"`
	Answered            int         `json:"answered"`
	Abandoned           int         `json:"abandoned"`
	AnsweredInSL        int         `json:"answered_in_sl"`
	ServiceLevelSeconds int64       `json:"service_level_seconds"`
}

// QueueAgents counts a queue's agents by state; every state has a count.
type QueueAgents struct {
	Available int `json:"available"`
	Offered   int `json:"offered"`
	Busy      int `json:"busy"`
	WrapUp    int `json:"wrap_up"`
	NotReady  int `json:"not_ready"`
	LoggedOut int `json:"logged_out"`
}

// NewQueueStatus renders a queue status.
func NewQueueStatus(s *cc.QueueStatus) *QueueStatus {
	return &QueueStatus{
		ID:                 s.QueueID,
		Name:               s.Name,
		Priority:           s.Priority,
		Waiting:            s.Waiting,
		LongestWaitSeconds: seconds(s.LongestWait),
		Agents: QueueAgents{
			Available: s.Agents[cc.StateAvailable],
			Offered:   s.Agents[cc.StateOffered],
			Busy:      s.Agents[cc.StateBusy],
			WrapUp:    s.Agents[cc.StateWrapUp],
			NotReady:  s.Agents[cc.StateNotReady],
			LoggedOut: s.Agents[cc.StateLoggedOut] + s.Agents[""],
		},
		Offered:             s.Offered,
		Answered:            s.Answered,
		Abandoned:           s.Abandoned,
		AnsweredInSL:        s.AnsweredInSL,
		ServiceLevelSeconds: seconds(s.ServiceLevel),
	}
}

// InteractionEvent is the payload of interaction.* events: the interaction
// after the change, and why it changed where the event type does not say
// (who hung up, the offer failure's system reason, the retry of a log).
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

// utc returns t in UTC, leaving the zero time zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// seconds returns d in whole seconds, rounded.
func seconds(d time.Duration) int64 { return int64(d.Round(time.Second) / time.Second) }

// Agent is one agent of the tenant as the transfer picker shows it: names
// and state. Reason (the not-ready reason) is filled for supervisors and
// admins only.
type Agent struct {
	ID          string        `json:"id"`
	Username    string        `json:"username"`
	DisplayName string        `json:"display_name"`
	State       cc.AgentState `json:"state"`
	Reason      string        `json:"reason,omitempty"`
	Endpoint    cc.Endpoint   `json:"endpoint"`
}

// NewAgent renders an agent; withReason adds its not-ready reason.
func NewAgent(a cc.AgentInfo, withReason bool) Agent {
	v := Agent{ID: a.ID, Username: a.Username, DisplayName: a.Name, State: a.State, Endpoint: a.Endpoint}
	if withReason {
		v.Reason = a.Reason
	}
	return v
}
