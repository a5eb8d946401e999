package cc

import (
	"context"
	"encoding/json"
	"time"
)

// EventType names what happened.
type EventType string

// Event types. Those marked "not stored" travel only on the bus.
const (
	EventAgentState            EventType = "agent.state"
	EventQueueStatus           EventType = "queue.status" // not stored
	EventInteractionQueued     EventType = "interaction.queued"
	EventInteractionOffered    EventType = "interaction.offered"
	EventInteractionOfferFail  EventType = "interaction.offer_failed"
	EventInteractionConnected  EventType = "interaction.connected"
	EventInteractionEnded      EventType = "interaction.ended"
	EventInteractionWrapped    EventType = "interaction.wrapped"
	EventInteractionLinked     EventType = "interaction.linked"
	EventInteractionLogged     EventType = "interaction.logged"
	EventInteractionLogFailed  EventType = "interaction.log_failed"
	EventInteractionOverflowed EventType = "interaction.overflowed"
	// Call controls and click-to-dial.
	EventInteractionDialing     EventType = "interaction.dialing" // an outbound call rings the agent
	EventInteractionHeld        EventType = "interaction.held"
	EventInteractionResumed     EventType = "interaction.resumed"
	EventInteractionMuted       EventType = "interaction.muted"
	EventInteractionUnmuted     EventType = "interaction.unmuted"
	EventInteractionDTMF        EventType = "interaction.dtmf"
	EventInteractionTransferred EventType = "interaction.transferred"
	EventInteractionRejected    EventType = "interaction.rejected"
	EventInteractionAccepted    EventType = "interaction.accepted"
)

// Event is one entry of the tenant's append-only event log. Real-time views
// and reports are derived from it.
type Event struct {
	Seq           int64 // per-tenant sequence, assigned by the store
	TenantID      string
	Type          EventType
	At            time.Time
	InteractionID string
	UserID        string
	QueueID       string
	Data          json.RawMessage
}

// NewEvent builds an event with data marshalled to JSON.
func NewEvent(tenantID string, typ EventType, at time.Time, data any) *Event {
	e := &Event{TenantID: tenantID, Type: typ, At: at}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			panic("cc: event data does not marshal: " + err.Error())
		}
		e.Data = b
	}
	return e
}

// EventFilter selects events.
type EventFilter struct {
	TenantID      string // required
	AfterSeq      int64  // only events with Seq > AfterSeq
	InteractionID string
	UserID        string
	Types         []EventType
	Limit         int // 0 means 1000
}

// EventStore is the append-only event log.
type EventStore interface {
	// AppendEvents stores events, assigning each its tenant sequence.
	AppendEvents(ctx context.Context, events ...*Event) error
	// Events returns events in sequence order.
	Events(ctx context.Context, f EventFilter) ([]*Event, error)
}

// EventBus fans events out to live subscribers (panels, supervisors).
type EventBus interface {
	// Publish delivers e to the tenant's subscribers. It never blocks on a
	// slow subscriber.
	Publish(e *Event)
	// Subscribe returns a channel of the tenant's events and a cancel
	// function. The channel is closed when cancelled or when the subscriber
	// falls too far behind (it should then resubscribe and replay from the
	// store by sequence).
	Subscribe(tenantID string) (<-chan *Event, func())
}

// FilteringBus is an EventBus that can filter at publish time, so that a
// subscriber's buffer holds only the events it keeps (an agent's panel
// keeps its own and the queues' of a tenant with hundreds of agents; a
// burst of the others' events must not make it fall behind).
type FilteringBus interface {
	EventBus
	// SubscribeFunc is Subscribe for the events keep returns true for.
	// keep is called under the bus's lock: it must be quick and must not
	// call the bus.
	SubscribeFunc(tenantID string, keep func(*Event) bool) (<-chan *Event, func())
}
