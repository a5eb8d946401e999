package httpapi

import (
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/httpapi/apitest"
)

// TestCallScenarios covers the call routes: body checks, who may control a
// call (its agent and the tenant's supervisors; others get 404, as for an
// id of another tenant), and the shape of the answers (checked against the
// OpenAPI document by the kit).
func TestCallScenarios(t *testing.T) {
	e := newTestEnv(t)
	alice := e.svc.newSession("acme", "alice", time.Hour)
	bob := e.svc.newSession("acme", "bob", time.Hour)
	sue := e.svc.newSession("acme", "sue", time.Hour)
	eve := e.svc.newSession("other", "eve", time.Hour)
	e.kit.Run(t, common([]apitest.Scenario{
		{Name: "call needs sign-in", Method: "POST", URL: "/api/v1/calls", Body: `{"to":"2015550123"}`, WantStatus: 401},
		{Name: "call with a bad record id", Method: "POST", URL: "/api/v1/calls", Token: alice, Body: `{"to":"2015550123","record_id":"003x"}`,
			WantStatus: 400, WantContains: []string{"15 or 18"}},
		{Name: "call with an object type of its own", Method: "POST", URL: "/api/v1/calls", Token: alice, Body: `{"to":"2015550123","record_id":"500000000000001AAA","object_type":"Case"}`,
			WantStatus: 400, WantContains: []string{"Contact, Lead or Account"}},
		{Name: "call with an unknown field", Method: "POST", URL: "/api/v1/calls", Token: alice, Body: `{"number":"2015550123"}`,
			WantStatus: 400, WantContains: []string{"number"}},
		{Name: "call without a trunk", Method: "POST", URL: "/api/v1/calls", Token: alice, Body: `{"to":"2015550123"}`,
			WantStatus: 409, WantContains: []string{"--outbound-uri"}},

		{Name: "hold by its agent", Method: "POST", URL: "/api/v1/interactions/int_bob1/hold", Token: bob, Body: `{"on":true}`,
			WantStatus: 200, WantContains: []string{`"held":true`, `"muted":false`}},
		{Name: "resume by the supervisor", Method: "POST", URL: "/api/v1/interactions/int_bob1/hold", Token: sue, Body: `{"on":false}`,
			WantStatus: 200, WantContains: []string{`"held":false`}},
		{Name: "hold by another agent is 404", Method: "POST", URL: "/api/v1/interactions/int_bob1/hold", Token: alice, Body: `{"on":true}`,
			WantStatus: 404, WantContains: []string{`interaction \"int_bob1\" not found`}},
		{Name: "hold from another tenant is 404", Method: "POST", URL: "/api/v1/interactions/int_bob1/hold", Token: eve, Body: `{"on":true}`,
			WantStatus: 404},
		{Name: "hold needs on", Method: "POST", URL: "/api/v1/interactions/int_bob1/hold", Token: bob, Body: `{}`,
			WantStatus: 400, WantContains: []string{`on is required`}},
		{Name: "hold of an ended call", Method: "POST", URL: "/api/v1/interactions/int_alice1/hold", Token: alice, Body: `{"on":true}`,
			WantStatus: 409},
		{Name: "mute", Method: "POST", URL: "/api/v1/interactions/int_bob1/mute", Token: bob, Body: `{"on":true}`,
			WantStatus: 200, WantContains: []string{`"muted":true`}},
		{Name: "dtmf", Method: "POST", URL: "/api/v1/interactions/int_bob1/dtmf", Token: bob, Body: `{"digits":"12#*a"}`, WantStatus: 200},
		{Name: "dtmf with a letter it cannot send", Method: "POST", URL: "/api/v1/interactions/int_bob1/dtmf", Token: bob, Body: `{"digits":"12x"}`,
			WantStatus: 400, WantContains: []string{`digit 'x' cannot be sent: use 0-9, *, #, A-D`}},
		{Name: "dtmf too long", Method: "POST", URL: "/api/v1/interactions/int_bob1/dtmf", Token: bob, Body: `{"digits":"123456789012345678901234567890123"}`,
			WantStatus: 400, WantContains: []string{"at most 32"}},
		{Name: "dtmf empty", Method: "POST", URL: "/api/v1/interactions/int_bob1/dtmf", Token: bob, Body: `{"digits":""}`,
			WantStatus: 400, WantContains: []string{"digits is empty"}},
		{Name: "transfer needs one target", Method: "POST", URL: "/api/v1/interactions/int_bob1/transfer", Token: bob, Body: `{"queue_id":"que_sales","agent_id":"usr_alice"}`,
			WantStatus: 400, WantContains: []string{"either queue_id or agent_id"}},
		{Name: "transfer with a malformed id", Method: "POST", URL: "/api/v1/interactions/int_bob1/transfer", Token: bob, Body: `{"queue_id":"Sales"}`,
			WantStatus: 400, WantContains: []string{`queue id \"Sales\" is malformed`}},
		{Name: "accept with a JSON type and no body", Method: "POST", URL: "/api/v1/interactions/int_bob1/accept", Token: bob,
			Header: map[string]string{"Content-Type": "application/json"}, WantStatus: 409},
		{Name: "accept of a call not ringing", Method: "POST", URL: "/api/v1/interactions/int_bob1/accept", Token: bob, WantStatus: 409},
		{Name: "reject of another tenant's call", Method: "POST", URL: "/api/v1/interactions/int_eve1/reject", Token: alice, WantStatus: 404},
		{Name: "accept of eve's offer", Method: "POST", URL: "/api/v1/interactions/int_eve1/accept", Token: eve, WantStatus: 200},
		{Name: "hangup", Method: "POST", URL: "/api/v1/interactions/int_bob1/hangup", Token: bob, WantStatus: 200},
		{Name: "hangup by another agent", Method: "POST", URL: "/api/v1/interactions/int_bob1/hangup", Token: alice, WantStatus: 404},
		{Name: "transfer to a queue", Method: "POST", URL: "/api/v1/interactions/int_bob1/transfer", Token: bob, Body: `{"queue_id":"que_support"}`,
			WantStatus: 200, WantContains: []string{`"state":"queued"`, `"queue_id":"que_support"`}},
		{Name: "agents for an agent", Method: "GET", URL: "/api/v1/agents", Token: alice, WantStatus: 200,
			WantContains: []string{`"username":"alice"`, `"username":"bob"`, `"state":"logged_out"`, `"endpoint":"browser"`}, WantNotContains: []string{"sue", "eve"}},
		{Name: "agents takes no query", Method: "GET", URL: "/api/v1/agents?state=available", Token: alice, WantStatus: 400},
	})...)
}
