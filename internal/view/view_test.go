package view

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// fakeNames knows one queue and one agent.
type fakeNames struct{}

func (fakeNames) QueueName(id string) string {
	if id == "que_sales" {
		return "Sales"
	}
	return ""
}

func (fakeNames) AgentName(id string) string {
	if id == "usr_alice" {
		return "Alice Example"
	}
	return ""
}

// marshal renders v as compact JSON.
func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// compact removes the layout of a JSON literal written for people.
func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("bad JSON literal: %v", err)
	}
	return b.String()
}

func TestCustomerDisplay(t *testing.T) {
	for _, c := range []struct {
		name   string
		cu     cc.Customer
		region string
		want   string
	}{
		{"national in the tenant's region", cc.Customer{Number: "+12015550123", Raw: "201-555-0123"}, "US", "(201) 555-0123"},
		{"international from another region", cc.Customer{Number: "+442079460958"}, "US", "+44 20 7946 0958"},
		{"extension", cc.Customer{Number: "+12015550123", Extension: "12"}, "US", "(201) 555-0123 ext. 12"},
		{"no region", cc.Customer{Number: "+12015550123"}, "", "+1 201-555-0123"},
		{"withheld", cc.Customer{Withheld: true, Raw: "anonymous"}, "US", DisplayWithheld},
		{"withheld wins over a number", cc.Customer{Withheld: true, Number: "+12015550123"}, "US", DisplayWithheld},
		{"not a number: as received", cc.Customer{Raw: "  sip:front-desk@pbx.example  "}, "US", "sip:front-desk@pbx.example"},
		{"chat: the e-mail address", cc.Customer{Email: "carol@example.com"}, "US", "carol@example.com"},
		{"nothing known", cc.Customer{Raw: "  "}, "US", DisplayUnknown},
	} {
		if got := NewCustomer(c.cu, c.region).Display; got != c.want {
			t.Errorf("%s: display = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestNewInteractionFull(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 3, 4, 10, 20, 0, 0, ny) // 15:20 UTC
	it := &cc.Interaction{
		ID: "int_1", TenantID: "ten_acme", Channel: cc.ChannelPhone, Direction: cc.Inbound,
		State: cc.InteractionEnded, Outcome: cc.OutcomeAnswered,
		Customer:     cc.Customer{Number: "+12015550123", Extension: "7", Raw: "201 555 0123 x7", Name: "Carol", Email: "carol@example.com"},
		DialedNumber: "+15550199", EntryPointID: "ent_main", QueueID: "que_sales", AgentID: "usr_alice",
		TrunkID: "trk_1", SIPCallID: "call-id@10.0.0.1",
		Data:      map[string]string{"account": "A-17"},
		CreatedAt: t0, QueuedAt: t0, OfferedAt: t0.Add(80 * time.Second), AnsweredAt: t0.Add(90*time.Second + 400*time.Millisecond),
		EndedAt: t0.Add(8 * time.Minute), WrappedAt: t0.Add(9 * time.Minute), Offers: 2, EndReason: "customer",
		Disposition: "Resolved", Notes: "Invoice question",
		Matches:      []cc.CRMRecord{{Type: "Contact", ID: "003A", Name: "Carol Jones", Phone: "+12015550123"}},
		LinkedRecord: &cc.CRMRecord{Type: "Contact", ID: "003A", Name: "Carol Jones"},
		LogStatus:    cc.LogDelivered, LogRef: "00T1", LogText: "the whole log text", Version: 7,
	}
	want := compact(t, `{
		"id": "int_1", "channel": "phone", "direction": "inbound", "state": "ended", "outcome": "answered",
		"customer": {"number": "+12015550123", "extension": "7", "display": "(201) 555-0123 ext. 7",
			"name": "Carol", "email": "carol@example.com", "withheld": false},
		"dialed_number": "+15550199", "entry_point_id": "ent_main",
		"queue_id": "que_sales", "queue_name": "Sales", "agent_id": "usr_alice", "agent_name": "Alice Example",
		"data": {"account": "A-17"},
		"created_at": "2025-03-04T15:20:00Z", "queued_at": "2025-03-04T15:20:00Z", "offered_at": "2025-03-04T15:21:20Z",
		"answered_at": "2025-03-04T15:21:30.4Z", "ended_at": "2025-03-04T15:28:00Z", "wrapped_at": "2025-03-04T15:29:00Z",
		"offers": 2, "end_reason": "customer", "held": false, "muted": false, "wait_seconds": 90, "talk_seconds": 390, "wrap_seconds": 60,
		"disposition": "Resolved", "notes": "Invoice question",
		"matches": [{"type": "Contact", "id": "003A", "name": "Carol Jones", "phone": "+12015550123"}],
		"linked_record": {"type": "Contact", "id": "003A", "name": "Carol Jones"},
		"log": {"status": "delivered", "ref": "00T1"}
	}`)
	v := NewInteraction(it, "US", fakeNames{})
	if got := marshal(t, v); got != want {
		t.Errorf("view =\n%s\nwant\n%s", got, want)
	}

	// The view is a snapshot: changing the interaction afterwards does not
	// change it.
	it.Data["account"] = "B-2"
	it.Matches[0].Name = "Someone Else"
	it.LinkedRecord.Name = "Someone Else"
	if got := marshal(t, v); got != want {
		t.Errorf("view changed with the interaction:\n%s", got)
	}
}

func TestNewInteractionMinimal(t *testing.T) {
	t0 := time.Date(2025, 3, 4, 15, 20, 0, 0, time.UTC)
	it := &cc.Interaction{ID: "int_2", Channel: cc.ChannelPhone, Direction: cc.Inbound, State: cc.InteractionQueued,
		Customer: cc.Customer{Withheld: true}, QueueID: "que_gone", AgentID: "usr_gone", CreatedAt: t0}
	want := compact(t, `{
		"id": "int_2", "channel": "phone", "direction": "inbound", "state": "queued",
		"customer": {"display": "Withheld number", "withheld": true},
		"queue_id": "que_gone", "agent_id": "usr_gone",
		"created_at": "2025-03-04T15:20:00Z",
		"offers": 0, "held": false, "muted": false, "wait_seconds": 0, "talk_seconds": 0, "wrap_seconds": 0,
		"matches": [], "log": {"status": "none"}
	}`)
	// Unknown ids give no names; nil names give none either.
	for _, names := range []Names{fakeNames{}, nil} {
		if got := marshal(t, NewInteraction(it, "US", names)); got != want {
			t.Errorf("names %T: view =\n%s\nwant\n%s", names, got, want)
		}
	}
}

func TestNewInteractionNeverShowsSecrets(t *testing.T) {
	it := &cc.Interaction{ID: "int_3", SIPCallID: "call-id-secret@10.0.0.1", TrunkID: "trk_secret",
		LogText: "full log text secret", TenantID: "ten_secret", Customer: cc.Customer{Raw: "raw-secret", Number: "+12015550123"}}
	got := marshal(t, NewInteraction(it, "US", nil))
	for _, s := range []string{"call-id-secret", "trk_secret", "full log text", "ten_secret", "raw-secret"} {
		if bytes.Contains([]byte(got), []byte(s)) {
			t.Errorf("view shows %q: %s", s, got)
		}
	}
}

func TestNewPresence(t *testing.T) {
	t0 := time.Date(2025, 3, 4, 15, 20, 0, 0, time.FixedZone("CET", 3600))
	for _, c := range []struct {
		name string
		p    cc.Presence
		want string
	}{
		{"empty is logged out", cc.Presence{UserID: "usr_1"}, `{"user_id":"usr_1","username":"alice","state":"logged_out"}`},
		{"not ready", cc.Presence{UserID: "usr_1", State: cc.StateNotReady, Reason: "lunch", Since: t0},
			`{"user_id":"usr_1","username":"alice","state":"not_ready","reason":"lunch","since":"2025-03-04T14:20:00Z"}`},
		{"busy with a pending state", cc.Presence{UserID: "usr_1", State: cc.StateBusy, Since: t0, InteractionID: "int_1",
			PendingState: cc.StateNotReady, PendingReason: "break", WrapUpDeadline: t0.Add(time.Minute)},
			`{"user_id":"usr_1","username":"alice","state":"busy","since":"2025-03-04T14:20:00Z","interaction_id":"int_1","pending_state":"not_ready","pending_reason":"break"}`},
		{"wrap-up shows its deadline", cc.Presence{UserID: "usr_1", State: cc.StateWrapUp, Since: t0, InteractionID: "int_1", WrapUpDeadline: t0.Add(time.Minute)},
			`{"user_id":"usr_1","username":"alice","state":"wrap_up","since":"2025-03-04T14:20:00Z","interaction_id":"int_1","wrap_up_deadline":"2025-03-04T14:21:00Z"}`},
	} {
		if got := marshal(t, NewPresence(&c.p, "alice")); got != c.want {
			t.Errorf("%s: view = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestNewQueueStatus(t *testing.T) {
	s := &cc.QueueStatus{QueueID: "que_sales", Name: "Sales", Priority: 5, Waiting: 2, LongestWait: 41600 * time.Millisecond,
		Agents:  map[cc.AgentState]int{cc.StateAvailable: 1, cc.StateBusy: 2, cc.StateWrapUp: 3, cc.StateNotReady: 4, cc.StateOffered: 5, cc.StateLoggedOut: 6, "": 1},
		Offered: 10, Answered: 8, Abandoned: 1, AnsweredInSL: 7, ServiceLevel: 20 * time.Second}
	want := `{"id":"que_sales","name":"Sales","priority":5,"waiting":2,"longest_wait_seconds":42,` +
		`"agents":{"available":1,"offered":5,"busy":2,"wrap_up":3,"not_ready":4,"logged_out":7},` +
		`"offered":10,"answered":8,"abandoned":1,"answered_in_sl":7,"service_level_seconds":20}`
	if got := marshal(t, NewQueueStatus(s)); got != want {
		t.Errorf("view = %s\nwant   %s", got, want)
	}
	empty := marshal(t, NewQueueStatus(&cc.QueueStatus{QueueID: "que_x", Name: "X"}))
	if want := `"agents":{"available":0,"offered":0,"busy":0,"wrap_up":0,"not_ready":0,"logged_out":0}`; !bytes.Contains([]byte(empty), []byte(want)) {
		t.Errorf("a queue without agents = %s, want every state counted (%s)", empty, want)
	}
}

func TestEventPayloads(t *testing.T) {
	it := &cc.Interaction{ID: "int_1", State: cc.InteractionEnded, CreatedAt: time.Date(2025, 3, 4, 15, 20, 0, 0, time.UTC)}
	got := marshal(t, InteractionEvent{Interaction: NewInteraction(it, "US", nil), Reason: "customer", Detail: "BYE"})
	if want := `"reason":"customer","detail":"BYE"}`; !bytes.HasSuffix([]byte(got), []byte(want)) || !bytes.HasPrefix([]byte(got), []byte(`{"interaction":{"id":"int_1"`)) {
		t.Errorf("interaction event = %s", got)
	}
	if got := marshal(t, AgentStateEvent{Presence: NewPresence(&cc.Presence{UserID: "usr_1"}, "")}); got != `{"presence":{"user_id":"usr_1","state":"logged_out"}}` {
		t.Errorf("agent state event = %s", got)
	}
	if got := marshal(t, QueueStatusEvent{Queue: NewQueueStatus(&cc.QueueStatus{QueueID: "que_x"})}); !bytes.HasPrefix([]byte(got), []byte(`{"queue":{"id":"que_x"`)) {
		t.Errorf("queue status event = %s", got)
	}
}
