package httpapi

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/view"
)

// jsonFields returns the JSON names of a struct's fields, with those of
// embedded structs, and the names encoding/json always writes (no omitempty
// or omitzero), each sorted.
func jsonFields(rt reflect.Type) (all, always []string) {
	for i := range rt.NumField() {
		f := rt.Field(i)
		tag := f.Tag.Get("json")
		if f.Anonymous && tag == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			a, w := jsonFields(et)
			all, always = append(all, a...), append(always, w...)
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			always = append(always, name)
		}
	}
	slices.Sort(all)
	slices.Sort(always)
	return all, always
}

// minus returns the elements of a that are not in b.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// TestViewsMatchDocument checks that each documented response schema has
// exactly the fields of the Go type rendered for it, and requires exactly
// those that are never left out: a field added to a view without its
// documentation fails here even when no fixture fills it.
func TestViewsMatchDocument(t *testing.T) {
	spec := loadSpec(t)
	for _, c := range []struct {
		schema string
		v      any
		// frame: the type is one variant of EventFrame, which requires its
		// data although eventView may leave it out.
		frame bool
	}{
		{schema: "Interaction", v: view.Interaction{}},
		{schema: "InteractionDetail", v: interactionDetail{}},
		{schema: "Customer", v: view.Customer{}},
		{schema: "Log", v: view.Log{}},
		{schema: "CRMRecord", v: cc.CRMRecord{}},
		{schema: "Presence", v: view.Presence{}},
		{schema: "Queue", v: view.QueueStatus{}},
		{schema: "QueueAgents", v: view.QueueAgents{}},
		{schema: "InteractionEvent", v: view.InteractionEvent{}},
		{schema: "AgentStateEvent", v: view.AgentStateEvent{}},
		{schema: "QueueStatusEvent", v: view.QueueStatusEvent{}},
		{schema: "HelloData", v: helloData{}},
		{schema: "Me", v: meView{}},
		{schema: "CRMAccount", v: cc.Integration{}},
		{schema: "User", v: userView{}},
		{schema: "Tenant", v: tenantView{}},
		{schema: "Session", v: sessionView{}},
		{schema: "Ticket", v: ticketView{}},
		{schema: "DomainCheck", v: domainCheckView{}},
		{schema: "CallCenterUsers", v: callCenterUsersView{}},
		{schema: "CRMUser", v: crmUserView{}},
		{schema: "UnmatchedAgent", v: unmatchedAgentView{}},
		{schema: "UserRef", v: userRef{}},
		{schema: "Integration", v: integrationView{}},
		{schema: "HelloFrame", v: eventView{}, frame: true},
		{schema: "AgentStateFrame", v: eventView{}, frame: true},
		{schema: "QueueStatusFrame", v: eventView{}, frame: true},
		{schema: "InteractionFrame", v: eventView{}, frame: true},
	} {
		props, required, err := spec.SchemaFields(c.schema)
		if err != nil {
			t.Errorf("%s: %v", c.schema, err)
			continue
		}
		all, always := jsonFields(reflect.TypeOf(c.v))
		if c.frame {
			always = slices.Sorted(slices.Values(append(always, "data")))
		}
		if !slices.Equal(props, all) {
			t.Errorf("schema %s: document %v, which %T has; remove %v, which it has not", c.schema, minus(all, props), c.v, minus(props, all))
		}
		if !slices.Equal(required, always) {
			t.Errorf("schema %s: require %v, which %T always writes; do not require %v, which it may leave out", c.schema, minus(always, required), c.v, minus(required, always))
		}
	}
}

// interactionEventTypes are the interaction.* event types.
var interactionEventTypes = []cc.EventType{
	cc.EventInteractionQueued, cc.EventInteractionOffered, cc.EventInteractionOfferFail,
	cc.EventInteractionConnected, cc.EventInteractionEnded, cc.EventInteractionWrapped,
	cc.EventInteractionLinked, cc.EventInteractionLogged, cc.EventInteractionLogFailed,
	cc.EventInteractionOverflowed,
}

// centerNames is a view.Names as the center has them: a queue and an agent
// of the tenant.
type centerNames struct{}

func (centerNames) QueueName(id string) string { return map[string]string{"que_sales": "Sales"}[id] }
func (centerNames) AgentName(id string) string {
	return map[string]string{"usr_alice": "Alice Example"}[id]
}

// TestEventPayloadsMatchDocument builds the payloads of live events as
// internal/center does (cc.NewEvent with the views of package view) and
// checks each frame against the documented EventFrame, and each payload
// against the schema its type names: the agent panel reads one Interaction
// shape from REST and from events.
func TestEventPayloadsMatchDocument(t *testing.T) {
	spec := loadSpec(t)
	t0 := time.Date(2025, 3, 4, 15, 20, 0, 0, time.UTC)
	interactions := map[string]*cc.Interaction{
		"every field": {
			ID: "int_full", TenantID: "ten_acme", Channel: cc.ChannelPhone, Direction: cc.Inbound,
			State: cc.InteractionEnded, Outcome: cc.OutcomeAnswered,
			Customer:     cc.Customer{Number: "+12015550123", Extension: "12", Raw: "201-555-0123 x12", Name: "Carol", Email: "carol@example.com"},
			DialedNumber: "+15550199", EntryPointID: "ent_sales", QueueID: "que_sales", AgentID: "usr_alice",
			TrunkID: "trk_1", SIPCallID: "abc@10.0.0.1", Data: map[string]string{"account": "A-17"},
			CreatedAt: t0, QueuedAt: t0, OfferedAt: t0.Add(10 * time.Second), AnsweredAt: t0.Add(15 * time.Second),
			EndedAt: t0.Add(5 * time.Minute), WrappedAt: t0.Add(6 * time.Minute), Offers: 2, EndReason: "customer",
			Disposition: "Resolved", Notes: "Invoice", LookupError: "",
			Matches:      []cc.CRMRecord{{Type: "Contact", ID: "003A", Name: "Carol Jones", Phone: "+12015550123", Company: "Initech"}},
			LinkedRecord: &cc.CRMRecord{Type: "Contact", ID: "003A", Name: "Carol Jones"},
			LogStatus:    cc.LogPending, LogRef: "00T1", LogError: "CRM unavailable", LogText: "text",
		},
		"just queued, withheld": {
			ID: "int_new", TenantID: "ten_acme", Channel: cc.ChannelPhone, Direction: cc.Inbound, State: cc.InteractionQueued,
			Customer: cc.Customer{Withheld: true, Raw: "anonymous"}, QueueID: "que_sales", CreatedAt: t0, QueuedAt: t0,
		},
		"lookup failed, number not parsed": {
			ID: "int_raw", TenantID: "ten_acme", Channel: cc.ChannelPhone, Direction: cc.Inbound, State: cc.InteractionOffered,
			Customer: cc.Customer{Raw: "sip:desk@pbx.example"}, QueueID: "que_gone", AgentID: "usr_gone",
			CreatedAt: t0, QueuedAt: t0, OfferedAt: t0, Offers: 1, LookupError: "the CRM did not answer in time",
		},
		"chat, skipped log": {
			ID: "int_chat", TenantID: "ten_acme", Channel: cc.ChannelChat, Direction: cc.Inbound, State: cc.InteractionEnded,
			Outcome: cc.OutcomeAbandoned, Customer: cc.Customer{Email: "x@example.com"}, CreatedAt: t0, EndedAt: t0.Add(time.Minute),
			LogStatus: cc.LogSkipped,
		},
		"outbound that failed": {
			ID: "int_out", TenantID: "ten_acme", Channel: cc.ChannelPhone, Direction: cc.Outbound, State: cc.InteractionEnded,
			Outcome: cc.OutcomeFailed, Customer: cc.Customer{Number: "+442079460958"}, AgentID: "usr_alice",
			CreatedAt: t0, EndedAt: t0.Add(3 * time.Second), LogStatus: cc.LogDelivered, LogRef: "00T2",
		},
	}
	check := func(what string, e *cc.Event, dataSchema string) {
		t.Helper()
		frame, err := json.Marshal(newEventView(e))
		if err != nil {
			t.Fatal(err)
		}
		if err := spec.CheckSchema("EventFrame", frame); err != nil {
			t.Errorf("%s: frame %s does not match EventFrame: %v", what, frame, err)
		}
		if err := spec.CheckSchema(dataSchema, e.Data); err != nil {
			t.Errorf("%s: data does not match %s: %v", what, dataSchema, err)
		}
	}
	for name, it := range interactions {
		for _, typ := range interactionEventTypes {
			e := cc.NewEvent(it.TenantID, typ, t0, view.InteractionEvent{
				Interaction: view.NewInteraction(it, "US", centerNames{}),
				Reason:      "customer",
				Detail:      "BYE",
			})
			e.Seq, e.InteractionID, e.QueueID, e.UserID = 7, it.ID, it.QueueID, it.AgentID
			check(name+" "+string(typ), e, "InteractionEvent")
		}
	}
	presence := &cc.Presence{TenantID: "ten_acme", UserID: "usr_alice", State: cc.StateWrapUp, Since: t0,
		InteractionID: "int_full", PendingState: cc.StateNotReady, PendingReason: "lunch", WrapUpDeadline: t0.Add(time.Minute)}
	state := cc.NewEvent("ten_acme", cc.EventAgentState, t0, view.AgentStateEvent{Presence: view.NewPresence(presence, "alice")})
	state.Seq, state.UserID = 8, "usr_alice"
	check("agent.state", state, "AgentStateEvent")
	status := cc.NewEvent("ten_acme", cc.EventQueueStatus, t0, view.QueueStatusEvent{Queue: view.NewQueueStatus(&cc.QueueStatus{
		QueueID: "que_sales", Name: "Sales", Waiting: 1, Agents: map[cc.AgentState]int{cc.StateBusy: 1}, ServiceLevel: 20 * time.Second})})
	status.QueueID = "que_sales"
	check("queue.status", status, "QueueStatusEvent")

	// The type decides the data: a payload under another event's type, or
	// a type the document does not know, is rejected.
	for _, c := range []struct {
		name string
		typ  cc.EventType
		data json.RawMessage
	}{
		{"presence under an interaction type", cc.EventInteractionQueued, state.Data},
		{"interaction under agent.state", cc.EventAgentState, json.RawMessage(`{"interaction":{}}`)},
		{"queue under agent.state", cc.EventAgentState, status.Data},
		{"unknown type", "interaction.teleported", json.RawMessage(`{"interaction":{}}`)},
		{"no data", cc.EventInteractionEnded, nil},
	} {
		frame, err := json.Marshal(eventView{Type: string(c.typ), Seq: 1, At: t0, Data: c.data})
		if err != nil {
			t.Fatal(err)
		}
		if err := spec.CheckSchema("EventFrame", frame); err == nil {
			t.Errorf("%s: frame %s matched EventFrame", c.name, frame)
		}
	}
}
