package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/httpapi/apitest"
	"github.com/parley-cc/parley/internal/view"
)

const specPath = "../../api/openapi.yaml"

// testEnv is a Server on the fake service with a controllable clock.
type testEnv struct {
	clock *fakeClock
	svc   *fakeService
	srv   *Server
	spec  *apitest.Spec
	kit   *apitest.Kit
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	clock := &fakeClock{now: time.Date(2025, 3, 4, 15, 30, 0, 0, time.UTC)}
	svc := newFakeService(clock)
	srv := New(Options{Service: svc, Clock: clock.Now, Version: "1.2.3", Registry: prometheus.NewRegistry()})
	t.Cleanup(func() { srv.Close() })
	spec := loadSpec(t)
	return &testEnv{
		clock: clock, svc: svc, srv: srv, spec: spec,
		kit: &apitest.Kit{Handler: srv.Handler(), Spec: spec, ErrorSchema: "Error"},
	}
}

func loadSpec(t testing.TB) *apitest.Spec {
	t.Helper()
	spec, err := apitest.LoadSpec(specPath)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// secrets must never appear in any response.
var secrets = []string{"password_hash", "PasswordHash", secretHash, "argon2id", secretHA1, "sip_ha1", secretCRM, secretKey, "client_secret", "private_key", "sip-call-id-secretish"}

// common adds the checks every response must pass.
func common(scs []apitest.Scenario) []apitest.Scenario {
	for i := range scs {
		scs[i].WantNotContains = append(scs[i].WantNotContains, secrets...)
		if scs[i].WantHeader == nil {
			scs[i].WantHeader = map[string]string{}
		}
		scs[i].WantHeader["Cache-Control"] = "no-store"
		scs[i].WantHeader["X-Content-Type-Options"] = "nosniff"
	}
	return scs
}

func TestScenarios(t *testing.T) {
	e := newTestEnv(t)
	alice := e.svc.newSession("acme", "alice", time.Hour)
	bob := e.svc.newSession("acme", "bob", time.Hour)
	sue := e.svc.newSession("acme", "sue", time.Hour)
	eve := e.svc.newSession("other", "eve", time.Hour)
	shortLived := e.svc.newSession("acme", "alice", time.Minute)
	leaving := e.svc.newSession("acme", "bob", time.Hour)
	jsonCT := map[string]string{"Content-Type": "application/json"}

	e.kit.Run(t, common([]apitest.Scenario{
		// Operations.
		{Name: "healthz", Method: "GET", URL: "/healthz", WantStatus: 200, WantContains: []string{"ok"},
			WantHeader: map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
		{Name: "readyz ready", Method: "GET", URL: "/readyz", WantStatus: 200, WantContains: []string{"ok"}},
		{Name: "readyz not ready", Method: "GET", URL: "/readyz", WantStatus: 503,
			Before: func(testing.TB) {
				e.svc.readyErr = cc.WrapError(cc.EUNAVAILABLE, errors.New("dial tcp 10.1.2.3:5432: refused"), "the store does not answer")
			},
			After:           func(testing.TB, *apitest.Response) { e.svc.readyErr = nil },
			WantContains:    []string{"not ready: the store does not answer"},
			WantNotContains: []string{"10.1.2.3"}},
		{Name: "healthz takes no query", Method: "GET", URL: "/healthz?verbose=1", WantStatus: 400,
			WantContains: []string{`unknown query parameter \"verbose\": this route takes none`}},

		// Sign-in.
		{Name: "sign in", Method: "POST", URL: "/api/v1/sessions", Body: `{"tenant":"acme","username":"alice","password":"alice-pw"}`,
			WantStatus: 201, WantContains: []string{`"token":"`, `"expires_at":"2025-03-04T23:30:00Z"`, `"username":"alice"`, `"roles":["agent"]`, `"sip_username":"alice-phone"`}},
		{Name: "sign in trims names", Method: "POST", URL: "/api/v1/sessions", Body: `{"tenant":" acme ","username":"alice ","password":"alice-pw"}`,
			WantStatus: 201},
		{Name: "sign in wrong password", Method: "POST", URL: "/api/v1/sessions", Body: `{"tenant":"acme","username":"alice","password":"nope"}`,
			WantStatus: 401, WantContains: []string{`"code":"unauthorized"`, "wrong tenant, username or password"},
			WantHeader: map[string]string{"WWW-Authenticate": `Bearer realm="parley"`}},
		{Name: "sign in unknown tenant", Method: "POST", URL: "/api/v1/sessions", Body: `{"tenant":"nope","username":"alice","password":"alice-pw"}`,
			WantStatus: 401, WantContains: []string{"wrong tenant, username or password"}},
		{Name: "sign in other tenant's user", Method: "POST", URL: "/api/v1/sessions", Body: `{"tenant":"other","username":"alice","password":"alice-pw"}`,
			WantStatus: 401},
		{Name: "sign in without content type", Method: "POST", URL: "/api/v1/sessions", Body: `{}`, Header: map[string]string{"Content-Type": ""},
			WantStatus: 400, WantContains: []string{"request has no Content-Type: send the body as application/json"}},
		{Name: "sign in as form", Method: "POST", URL: "/api/v1/sessions", Body: `tenant=acme`, Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			WantStatus: 400, WantContains: []string{`Content-Type \"application/x-www-form-urlencoded\" is not supported`}},
		{Name: "sign in latin-1", Method: "POST", URL: "/api/v1/sessions", Body: `{}`, Header: map[string]string{"Content-Type": "application/json; charset=iso-8859-1"},
			WantStatus: 400, WantContains: []string{`charset \"iso-8859-1\" is not supported`}},
		{Name: "sign in with charset utf-8", Method: "POST", URL: "/api/v1/sessions", Body: `{"tenant":"acme","username":"bob","password":"bob-pw"}`,
			Header: map[string]string{"Content-Type": "application/json; charset=UTF-8"}, WantStatus: 201},
		{Name: "sign in empty body", Method: "POST", URL: "/api/v1/sessions", Header: jsonCT,
			WantStatus: 400, WantContains: []string{"request body is empty: send a JSON object"}},
		{Name: "sign in array", Method: "POST", URL: "/api/v1/sessions", Body: `[1,2]`,
			WantStatus: 400, WantContains: []string{"request body must be a JSON object"}},
		{Name: "sign in syntax error", Method: "POST", URL: "/api/v1/sessions", Body: `{"tenant":"acme",,}`,
			WantStatus: 400, WantContains: []string{"request body is not valid JSON at byte 18"}},
		{Name: "sign in truncated", Method: "POST", URL: "/api/v1/sessions", Body: `{"tenant":"acme"`,
			WantStatus: 400, WantContains: []string{"request body ends in the middle of the JSON object"}},
		{Name: "sign in unknown field", Method: "POST", URL: "/api/v1/sessions", Body: `{"tenant":"acme","username":"alice","passwd":"x"}`,
			WantStatus: 400, WantContains: []string{`unknown field \"passwd\"`}},
		{Name: "sign in wrong type", Method: "POST", URL: "/api/v1/sessions", Body: `{"tenant":7,"username":"alice","password":"x"}`,
			WantStatus: 400, WantContains: []string{`field \"tenant\" must be a string, not number`}},
		{Name: "sign in two objects", Method: "POST", URL: "/api/v1/sessions", Body: `{"tenant":"acme","username":"alice","password":"alice-pw"} {}`,
			WantStatus: 400, WantContains: []string{"more data after the JSON object"}},
		{Name: "sign in body too large", Method: "POST", URL: "/api/v1/sessions", Body: `{"tenant":"` + strings.Repeat("a", 70<<10) + `"}`,
			WantStatus: 400, WantContains: []string{"request body is larger than 64 KiB"}},
		{Name: "sign in no tenant", Method: "POST", URL: "/api/v1/sessions", Body: `{"username":"alice","password":"x"}`,
			WantStatus: 400, WantContains: []string{"tenant is required"}},
		{Name: "sign in no username", Method: "POST", URL: "/api/v1/sessions", Body: `{"tenant":"acme","password":"x"}`,
			WantStatus: 400, WantContains: []string{"username is required"}},
		{Name: "sign in no password", Method: "POST", URL: "/api/v1/sessions", Body: `{"tenant":"acme","username":"alice"}`,
			WantStatus: 400, WantContains: []string{"password is required"}},
		{Name: "sign in long tenant", Method: "POST", URL: "/api/v1/sessions", Body: `{"tenant":"` + strings.Repeat("a", 64) + `","username":"a","password":"x"}`,
			WantStatus: 400, WantContains: []string{"tenant is longer than 63 bytes"}},

		// Authentication.
		{Name: "me without token", Method: "GET", URL: "/api/v1/me", WantStatus: 401,
			WantContains: []string{"sign in first"}, WantHeader: map[string]string{"WWW-Authenticate": `Bearer realm="parley"`}},
		{Name: "me with basic auth", Method: "GET", URL: "/api/v1/me", Header: map[string]string{"Authorization": "Basic YWxpY2U6eA=="},
			WantStatus: 401, WantContains: []string{`authorization scheme \"Basic\" is not supported`}},
		{Name: "me with malformed token", Method: "GET", URL: "/api/v1/me", Header: map[string]string{"Authorization": "Bearer a b"},
			WantStatus: 401, WantContains: []string{"the bearer token is malformed"}},
		{Name: "me with unknown token", Method: "GET", URL: "/api/v1/me", Token: "nosuchtoken", WantStatus: 401,
			WantContains: []string{"the session is unknown or expired"}},
		{Name: "me with token in URL", Method: "GET", URL: "/api/v1/me?access_token=" + alice, Token: alice, WantStatus: 400,
			WantContains: []string{"never put the bearer token in a URL"}},
		{Name: "me with lowercase bearer", Method: "GET", URL: "/api/v1/me", Header: map[string]string{"Authorization": "bearer " + alice}, WantStatus: 200},
		{Name: "expired session", Method: "GET", URL: "/api/v1/me", Token: shortLived, WantStatus: 401,
			Before: func(testing.TB) { e.clock.Advance(2 * time.Minute) }},

		// Me and presence.
		{Name: "me", Method: "GET", URL: "/api/v1/me", Token: alice, WantStatus: 200,
			WantContains: []string{`"user":{"id":"usr_alice","username":"alice","display_name":"alice example","roles":["agent"],"skills":["sales"],"sip_username":"alice-phone","endpoint":"browser"}`,
				`"tenant":{"id":"ten_acme","slug":"acme","display_name":"acme","kind":1,"region":"US","time_zone":"America/New_York"}`,
				`"presence":{"user_id":"usr_alice","username":"alice","state":"logged_out"}`, `"not_ready_reasons":["break","lunch"`, `"dispositions":["Resolved"`}},
		{Name: "me takes no query", Method: "GET", URL: "/api/v1/me?x=1", Token: alice, WantStatus: 400,
			WantContains: []string{`unknown query parameter \"x\"`}},
		{Name: "set available", Method: "PUT", URL: "/api/v1/me/state", Token: alice, Body: `{"state":"available"}`,
			WantStatus: 200, WantContains: []string{`"state":"available"`, `"since":"2025-03-04T15:3`}},
		{Name: "set not ready", Method: "PUT", URL: "/api/v1/me/state", Token: alice, Body: `{"state":"not_ready","reason":"lunch"}`,
			WantStatus: 200, WantContains: []string{`"state":"not_ready"`, `"reason":"lunch"`}},
		{Name: "presence shows in me", Method: "GET", URL: "/api/v1/me", Token: alice, WantStatus: 200,
			WantContains: []string{`"presence":{"user_id":"usr_alice","username":"alice","state":"not_ready","reason":"lunch"`}},
		{Name: "not ready needs a reason", Method: "PUT", URL: "/api/v1/me/state", Token: alice, Body: `{"state":"not_ready"}`,
			WantStatus: 400, WantContains: []string{"not_ready needs a reason"}},
		{Name: "unknown reason", Method: "PUT", URL: "/api/v1/me/state", Token: alice, Body: `{"state":"not_ready","reason":"nap"}`,
			WantStatus: 400, WantContains: []string{`unknown not-ready reason \"nap\"`}},
		{Name: "system state cannot be chosen", Method: "PUT", URL: "/api/v1/me/state", Token: alice, Body: `{"state":"busy"}`,
			WantStatus: 400, WantContains: []string{`state \"busy\" cannot be chosen`}},
		{Name: "state required", Method: "PUT", URL: "/api/v1/me/state", Token: alice, Body: `{"reason":"lunch"}`,
			WantStatus: 400, WantContains: []string{"state is required"}},
		{Name: "state unauthenticated", Method: "PUT", URL: "/api/v1/me/state", Body: `{"state":"available"}`, WantStatus: 401},
		{Name: "state with GET is 405", Method: "GET", URL: "/api/v1/me/state", Token: alice, WantStatus: 405,
			WantContains: []string{`"code":"invalid"`, "method GET is not allowed on /api/v1/me/state: use PUT"}, WantHeader: map[string]string{"Allow": "PUT"}},

		// Queues.
		{Name: "queues", Method: "GET", URL: "/api/v1/queues", Token: alice, WantStatus: 200,
			WantContains: []string{`"id":"que_sales"`, `"longest_wait_seconds":42`, `"agents":{"available":1,"offered":0,"busy":2,"wrap_up":0,"not_ready":0,"logged_out":0}`,
				`"answered_in_sl":7`, `"service_level_seconds":20`}},
		{Name: "queues of a tenant with none", Method: "GET", URL: "/api/v1/queues", Token: eve, WantStatus: 200, WantContains: []string{"[]"}},

		// Interactions: visibility.
		{Name: "agent sees own", Method: "GET", URL: "/api/v1/interactions", Token: alice, WantStatus: 200,
			WantContains: []string{`"id":"int_alice1"`}, WantNotContains: []string{"int_bob1", "int_eve1"}},
		{Name: "supervisor sees tenant", Method: "GET", URL: "/api/v1/interactions", Token: sue, WantStatus: 200,
			WantContains: []string{`"id":"int_alice1"`, `"id":"int_bob1"`}, WantNotContains: []string{"int_eve1"}},
		{Name: "other tenant", Method: "GET", URL: "/api/v1/interactions", Token: eve, WantStatus: 200,
			WantContains:    []string{`"id":"int_eve1"`, `"customer":{"display":"x@example.com","email":"x@example.com","withheld":false}`, `"agent_name":"eve example"`},
			WantNotContains: []string{"int_alice1", "int_bob1"}},
		{Name: "filter by state", Method: "GET", URL: "/api/v1/interactions?state=connected", Token: sue, WantStatus: 200,
			WantContains: []string{"int_bob1"}, WantNotContains: []string{"int_alice1"}},
		{Name: "filter by states", Method: "GET", URL: "/api/v1/interactions?state=connected&state=ended,queued&limit=1000", Token: sue, WantStatus: 200,
			WantContains: []string{"int_bob1", "int_alice1"}},
		{Name: "filter by time and queue", Method: "GET", URL: "/api/v1/interactions?since=2025-03-04T15:25:00Z&before=2025-03-04T16:00:00Z&queue_id=que_sales", Token: sue, WantStatus: 200,
			WantContains: []string{"int_bob1"}, WantNotContains: []string{"int_alice1"}},
		{Name: "limit", Method: "GET", URL: "/api/v1/interactions?limit=1", Token: sue, WantStatus: 200,
			WantContains: []string{"int_bob1"}, WantNotContains: []string{"int_alice1"}},
		{Name: "bad state", Method: "GET", URL: "/api/v1/interactions?state=done", Token: sue, WantStatus: 400,
			WantContains: []string{`state \"done\": use queued, offered, connected or ended`}},
		{Name: "limit zero", Method: "GET", URL: "/api/v1/interactions?limit=0", Token: sue, WantStatus: 400,
			WantContains: []string{`limit must be 1-1000, not \"0\"`}},
		{Name: "limit too big", Method: "GET", URL: "/api/v1/interactions?limit=1001", Token: sue, WantStatus: 400,
			WantContains: []string{"limit must be 1-1000"}},
		{Name: "limit not a number", Method: "GET", URL: "/api/v1/interactions?limit=ten", Token: sue, WantStatus: 400,
			WantContains: []string{"limit must be 1-1000"}},
		{Name: "limit twice", Method: "GET", URL: "/api/v1/interactions?limit=1&limit=2", Token: sue, WantStatus: 400,
			WantContains: []string{`query parameter \"limit\" is given 2 times: give it once`}},
		{Name: "bad since", Method: "GET", URL: "/api/v1/interactions?since=yesterday", Token: sue, WantStatus: 400,
			WantContains: []string{`since \"yesterday\": use an RFC 3339 time`}},
		{Name: "bad before", Method: "GET", URL: "/api/v1/interactions?before=2025-03-04", Token: sue, WantStatus: 400,
			WantContains: []string{`before \"2025-03-04\": use an RFC 3339 time`}},
		{Name: "since after before", Method: "GET", URL: "/api/v1/interactions?since=2025-03-05T00:00:00Z&before=2025-03-04T00:00:00Z", Token: sue, WantStatus: 400,
			WantContains: []string{"must be earlier than before"}},
		{Name: "bad queue id", Method: "GET", URL: "/api/v1/interactions?queue_id=Sales%20Queue", Token: sue, WantStatus: 400,
			WantContains: []string{`queue id \"Sales Queue\" is malformed`}},
		{Name: "unknown filter", Method: "GET", URL: "/api/v1/interactions?agent=bob", Token: sue, WantStatus: 400,
			WantContains: []string{`unknown query parameter \"agent\": use state, queue_id, since, before, limit`}},
		{Name: "malformed query", Method: "GET", URL: "/api/v1/interactions?state=%zz", Token: sue, WantStatus: 400,
			WantContains: []string{"the query string is malformed"}},

		// One interaction.
		{Name: "get own interaction", Method: "GET", URL: "/api/v1/interactions/int_alice1", Token: alice, WantStatus: 200,
			WantContains: []string{`"customer":{"number":"+15550100","extension":"12","display":"555-0100 ext. 12","name":"Carol","withheld":false}`,
				`"entry_point_id":"ent_sales","queue_id":"que_sales","queue_name":"Sales","agent_id":"usr_alice","agent_name":"alice example"`,
				`"created_at":"2025-03-04T15:20:00Z"`, `"wait_seconds":90`, `"talk_seconds":390`, `"wrap_seconds":0`,
				`"matches":[{"type":"Contact","id":"003000000000001AAA"`, `"log":{"status":"pending","error":"CRM unavailable"}`,
				`"data":{"account":"A-17"}`, `"history":[{"type":"interaction.queued","seq":1,"at":"2025-03-04T15:20:00Z","interaction_id":"int_alice1","data":{"interaction":{"id":"int_alice1"`,
				`{"type":"interaction.connected","seq":2,"at":"2025-03-04T15:21:00Z","interaction_id":"int_alice1","user_id":"usr_alice","data":{"interaction":{"id":"int_alice1"`},
			WantNotContains: []string{"555-0100 x12"}},
		{Name: "withheld caller", Method: "GET", URL: "/api/v1/interactions/int_bob1", Token: bob, WantStatus: 200,
			WantContains: []string{`"customer":{"display":"Withheld number","withheld":true}`, `"log":{"status":"none"}`, `"matches":[]`}},
		{Name: "another agent's interaction", Method: "GET", URL: "/api/v1/interactions/int_alice1", Token: bob, WantStatus: 404,
			WantContains: []string{`"code":"not_found"`}},
		{Name: "another tenant's interaction", Method: "GET", URL: "/api/v1/interactions/int_alice1", Token: eve, WantStatus: 404},
		{Name: "supervisor reads an agent's", Method: "GET", URL: "/api/v1/interactions/int_alice1", Token: sue, WantStatus: 200},
		{Name: "unknown interaction", Method: "GET", URL: "/api/v1/interactions/int_nope", Token: sue, WantStatus: 404},
		{Name: "malformed id", Method: "GET", URL: "/api/v1/interactions/INT-1", Token: sue, WantStatus: 400,
			WantContains: []string{`interaction id \"INT-1\" is malformed`}},
		{Name: "id without prefix", Method: "GET", URL: "/api/v1/interactions/12345", Token: sue, WantStatus: 400},
		{Name: "log text", Method: "GET", URL: "/api/v1/interactions/int_alice1/log", Token: alice, WantStatus: 200,
			WantContains: []string{"Call with Carol\nThe whole text"}, WantHeader: map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
		{Name: "no log yet", Method: "GET", URL: "/api/v1/interactions/int_bob1/log", Token: bob, WantStatus: 404,
			WantContains: []string{"interaction int_bob1 has no log yet"}},
		{Name: "log of another tenant", Method: "GET", URL: "/api/v1/interactions/int_alice1/log", Token: eve, WantStatus: 404},

		// Wrap-up and link.
		{Name: "wrap up", Method: "PUT", URL: "/api/v1/interactions/int_alice1/wrapup", Token: alice,
			Body:       `{"notes":"Called about the invoice","disposition":"resolved","record_id":"00Q000000000002AAA"}`,
			WantStatus: 200, WantContains: []string{`"disposition":"Resolved"`, `"notes":"Called about the invoice"`, `"linked_record":{"type":"Lead","id":"00Q000000000002AAA"`, `"wrapped_at":"`}},
		{Name: "wrap up unknown disposition", Method: "PUT", URL: "/api/v1/interactions/int_alice1/wrapup", Token: alice,
			Body: `{"disposition":"Sold a boat"}`, WantStatus: 400, WantContains: []string{`disposition \"Sold a boat\" is not one of`}},
		{Name: "wrap up bad record id", Method: "PUT", URL: "/api/v1/interactions/int_alice1/wrapup", Token: alice,
			Body: `{"record_id":"003 bad"}`, WantStatus: 400, WantContains: []string{`record_id \"003 bad\" is malformed`}},
		{Name: "wrap up unmatched record", Method: "PUT", URL: "/api/v1/interactions/int_alice1/wrapup", Token: alice,
			Body: `{"record_id":"001000000000009AAA"}`, WantStatus: 400, WantContains: []string{"is not one of the interaction's matches"}},
		{Name: "wrap up notes too long", Method: "PUT", URL: "/api/v1/interactions/int_alice1/wrapup", Token: alice,
			Body: `{"notes":"` + strings.Repeat("n", cc.MaxNotesBytes+1) + `"}`, WantStatus: 400, WantContains: []string{"notes are 65537 bytes; the limit is 65536 bytes"}},
		{Name: "wrap up notes at the limit", Method: "PUT", URL: "/api/v1/interactions/int_alice1/wrapup", Token: alice,
			Body: `{"notes":"` + strings.Repeat(`\"`, cc.MaxNotesBytes) + `"}`, WantStatus: 200},
		{Name: "wrap up while connected", Method: "PUT", URL: "/api/v1/interactions/int_bob1/wrapup", Token: bob,
			Body: `{"notes":"x"}`, WantStatus: 409, WantContains: []string{`"code":"conflict"`, "wrap up after it ends"}},
		{Name: "wrap up another tenant's", Method: "PUT", URL: "/api/v1/interactions/int_alice1/wrapup", Token: eve,
			Body: `{"notes":"x"}`, WantStatus: 404},
		{Name: "wrap up unknown field", Method: "PUT", URL: "/api/v1/interactions/int_alice1/wrapup", Token: alice,
			Body: `{"note":"x"}`, WantStatus: 400, WantContains: []string{`unknown field \"note\"`}},
		{Name: "wrap up malformed id", Method: "PUT", URL: "/api/v1/interactions/int_-x/wrapup", Token: alice,
			Body: `{"notes":"x"}`, WantStatus: 400, WantContains: []string{"is malformed"}},
		{Name: "link", Method: "PUT", URL: "/api/v1/interactions/int_alice1/link", Token: alice,
			Body: `{"record_id":"003000000000001AAA"}`, WantStatus: 200, WantContains: []string{`"linked_record":{"type":"Contact","id":"003000000000001AAA","name":"Carol Jones","phone":"+15550100"}`}},
		{Name: "link needs a record", Method: "PUT", URL: "/api/v1/interactions/int_alice1/link", Token: alice,
			Body: `{}`, WantStatus: 400, WantContains: []string{"record_id is required"}},
		{Name: "link wrong type", Method: "PUT", URL: "/api/v1/interactions/int_alice1/link", Token: alice,
			Body: `{"record_id":["a"]}`, WantStatus: 400, WantContains: []string{`field \"record_id\" must be a string, not array`}},
		{Name: "link another agent's", Method: "PUT", URL: "/api/v1/interactions/int_alice1/link", Token: bob,
			Body: `{"record_id":"003000000000001AAA"}`, WantStatus: 404},

		// Events: tickets and the WebSocket's refusals (the socket itself is
		// tested over a real connection).
		{Name: "ticket", Method: "POST", URL: "/api/v1/events/ticket", Token: alice, WantStatus: 201,
			WantContains: []string{`"ticket":"`, `"expires_at":"`}},
		{Name: "ticket needs sign-in", Method: "POST", URL: "/api/v1/events/ticket", WantStatus: 401},
		{Name: "events without ticket", Method: "GET", URL: "/api/v1/events", WantStatus: 401,
			WantContains: []string{"a ticket is required"}},
		{Name: "events with bearer token only", Method: "GET", URL: "/api/v1/events", Token: alice, WantStatus: 401,
			WantContains: []string{"a ticket is required"}},
		{Name: "events with token in URL", Method: "GET", URL: "/api/v1/events?token=" + alice, WantStatus: 400,
			WantContains: []string{"never put the bearer token in a URL"}},
		{Name: "events with unknown ticket", Method: "GET", URL: "/api/v1/events?ticket=abc123", WantStatus: 401,
			Header:       map[string]string{"Connection": "Upgrade", "Upgrade": "websocket"},
			WantContains: []string{"the ticket is unknown, expired or already used"}},
		{Name: "events with malformed ticket", Method: "GET", URL: "/api/v1/events?ticket=ABC-123", WantStatus: 401,
			WantContains: []string{"the ticket is malformed"}},
		{Name: "events with bad after", Method: "GET", URL: "/api/v1/events?ticket=abc123&after=-1", WantStatus: 400,
			WantContains: []string{`after \"-1\": give the seq of the last event you received`}},
		{Name: "events without upgrade", Method: "GET", URL: "/api/v1/events?ticket=abc123", WantStatus: 400,
			WantContains: []string{"this route is a WebSocket"}},

		// Routing.
		{Name: "unknown route", Method: "GET", URL: "/api/v1/nope", Token: alice, WantStatus: 404,
			WantContains: []string{`"code":"not_found"`, "no route GET /api/v1/nope"}},
		{Name: "POST me is 405", Method: "POST", URL: "/api/v1/me", Token: alice, Body: `{}`, WantStatus: 405,
			WantContains: []string{"method POST is not allowed on /api/v1/me: use GET, HEAD"}, WantHeader: map[string]string{"Allow": "GET, HEAD"}},

		// Sign-out.
		{Name: "sign out", Method: "DELETE", URL: "/api/v1/sessions/current", Token: leaving, WantStatus: 204},
		{Name: "signed out token", Method: "GET", URL: "/api/v1/me", Token: leaving, WantStatus: 401},
		{Name: "sign out needs sign-in", Method: "DELETE", URL: "/api/v1/sessions/current", WantStatus: 401},

		// Metrics last: they count what came before.
		{Name: "metrics", Method: "GET", URL: "/metrics", WantStatus: 200,
			WantContains: []string{`parley_http_requests_total{route="GET /api/v1/me",status="200"}`,
				`parley_http_requests_total{route="unmatched",status="404"}`,
				`parley_http_requests_total{route="POST /api/v1/sessions",status="400"}`,
				`parley_http_request_duration_seconds_count{route="GET /api/v1/interactions"}`,
				`parley_build_info{version="1.2.3"} 1`}},
	})...)
}

func TestMetricsToken(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 3, 4, 15, 30, 0, 0, time.UTC)}
	srv := New(Options{Service: newFakeService(clock), Clock: clock.Now, Registry: prometheus.NewRegistry(), MetricsToken: "s3cret-metrics"})
	t.Cleanup(func() { srv.Close() })
	kit := &apitest.Kit{Handler: srv.Handler(), Spec: loadSpec(t), ErrorSchema: "Error"}
	kit.Run(t,
		apitest.Scenario{Name: "no token", Method: "GET", URL: "/metrics", WantStatus: 401, WantContains: []string{"http.metrics_token"}},
		apitest.Scenario{Name: "wrong token", Method: "GET", URL: "/metrics", Token: "nope", WantStatus: 401},
		apitest.Scenario{Name: "token", Method: "GET", URL: "/metrics", Token: "s3cret-metrics", WantStatus: 200, WantContains: []string{"parley_build_info"}},
	)
}

// TestResponsesHideInternalCauses checks that an unexpected error reaches the
// client as a generic message, and a panic as a 500.
func TestResponsesHideInternalCauses(t *testing.T) {
	e := newTestEnv(t)
	alice := e.svc.newSession("acme", "alice", time.Hour)
	e.kit.Run(t, common([]apitest.Scenario{
		{Name: "plain error", Method: "GET", URL: "/api/v1/me", Token: alice, WantStatus: 500,
			Before: func(testing.TB) {
				e.svc.failWith = errors.New("pq: password authentication failed for dsn postgres://parley:hunter2@db")
			},
			After:        func(testing.TB, *apitest.Response) { e.svc.failWith = nil },
			WantContains: []string{`{"error":{"code":"internal","message":"internal error"}}`}, WantNotContains: []string{"hunter2", "pq:"}},
		{Name: "unavailable keeps its message", Method: "GET", URL: "/api/v1/me", Token: alice, WantStatus: 503,
			Before: func(testing.TB) {
				e.svc.failWith = cc.WrapError(cc.EUNAVAILABLE, errors.New("dial 10.9.9.9"), "presence is briefly unavailable")
			},
			After:        func(testing.TB, *apitest.Response) { e.svc.failWith = nil },
			WantContains: []string{`"code":"unavailable"`, "presence is briefly unavailable"}, WantNotContains: []string{"10.9.9.9"}},
		{Name: "unknown code", Method: "GET", URL: "/api/v1/me", Token: alice, WantStatus: 500,
			Before:       func(testing.TB) { e.svc.failWith = &cc.Error{Code: "teapot", Message: "short and stout"} },
			After:        func(testing.TB, *apitest.Response) { e.svc.failWith = nil },
			WantContains: []string{`"code":"internal","message":"internal error"`}, WantNotContains: []string{"teapot", "stout"}},
		{Name: "panic", Method: "GET", URL: "/api/v1/me", Token: alice, WantStatus: 500,
			Before:       func(testing.TB) { e.svc.panicWith = "boom: secret state" },
			After:        func(testing.TB, *apitest.Response) { e.svc.panicWith = "" },
			WantContains: []string{`"code":"internal"`}, WantNotContains: []string{"boom", "secret state"}},
		{Name: "after the panic", Method: "GET", URL: "/api/v1/me", Token: alice, WantStatus: 200},
	})...)
}

func TestErrorStatusTable(t *testing.T) {
	want := map[string]int{
		cc.EINVALID: 400, cc.EUNAUTHORIZED: 401, cc.EFORBIDDEN: 403, cc.ENOTFOUND: 404,
		cc.ECONFLICT: 409, cc.ERATELIMIT: 429, cc.EUNAVAILABLE: 503, cc.EINTERNAL: 500,
	}
	for code, status := range want {
		err := fmt.Errorf("op: %w", cc.Errorf(code, "m"))
		if got := ErrorStatus(err); got != status {
			t.Errorf("ErrorStatus(%s) = %d, want %d", code, got, status)
		}
	}
	if got := ErrorStatus(errors.New("plain")); got != 500 {
		t.Errorf("ErrorStatus(plain error) = %d, want 500", got)
	}
	if len(statusByCode) != len(want) {
		t.Errorf("the table has %d codes, the test %d: keep them in step", len(statusByCode), len(want))
	}
}

// TestRoutesDocumented checks that the server and the document list the same
// operations.
func TestRoutesDocumented(t *testing.T) {
	e := newTestEnv(t)
	served := slices.Clone(e.srv.routes)
	sort.Strings(served)
	documented := e.spec.Operations()
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is served but not documented in %s", r, specPath)
		}
	}
	for _, op := range documented {
		if !slices.Contains(served, op) {
			t.Errorf("operation %s is documented but not served", op)
		}
	}
}

func TestSpecIsConsistent(t *testing.T) {
	if err := loadSpec(t).Check(); err != nil {
		t.Fatal(err)
	}
}

// TestRequestSchemas checks that each documented request body has exactly
// the fields of the Go type the handler decodes.
func TestRequestSchemas(t *testing.T) {
	spec := loadSpec(t)
	for _, c := range []struct {
		op string
		v  request
	}{
		{"POST /api/v1/sessions", &signInRequest{}},
		{"PUT /api/v1/me/state", &stateRequest{}},
		{"PUT /api/v1/interactions/{id}/wrapup", &wrapUpRequest{}},
		{"PUT /api/v1/interactions/{id}/link", &linkRequest{}},
		{"PUT /api/v1/admin/users/{id}/integrations/{crm}", &integrationRequest{}},
	} {
		method, path, _ := strings.Cut(c.op, " ")
		got, err := spec.RequestProperties(method, path)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		rt := reflect.TypeOf(c.v).Elem()
		for i := range rt.NumField() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			want = append(want, name)
		}
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: documented fields %v, decoded fields %v", c.op, got, want)
		}
	}
}

// TestSpecCheckerCatchesDrift checks that the schema checker fails on the
// mistakes it is there to catch.
func TestSpecCheckerCatchesDrift(t *testing.T) {
	spec := loadSpec(t)
	queue := queueJSON(t, "")
	for _, c := range []struct {
		name, path, contentType, body, want string
	}{
		{"missing required", "/api/v1/queues", "application/json", `[{"id":"q","name":"n"}]`, `required property "priority" is missing`},
		{"undocumented property", "/api/v1/queues", "application/json", `[` + queueJSON(t, `"extra":1`) + `]`, `property "extra" is not documented`},
		{"wrong type", "/api/v1/queues", "application/json", `[` + strings.Replace(queue, `"waiting":2`, `"waiting":"2"`, 1) + `]`, `"2" is not of type integer`},
		{"undocumented media type", "/api/v1/queues", "text/html", `<p>`, "Content-Type text/html is not documented"},
		{"undocumented path", "/api/v1/nope", "application/json", `{}`, "no documented operation"},
	} {
		err := spec.CheckResponse("GET", c.path, 200, http.Header{"Content-Type": {c.contentType}}, []byte(c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to say %q", c.name, err, c.want)
		}
	}
	if err := spec.CheckResponse("GET", "/api/v1/queues", 200, http.Header{"Content-Type": {"application/json"}}, []byte("["+queue+"]")); err != nil {
		t.Errorf("a valid body: %v", err)
	}
	if err := spec.CheckSchema("EventFrame", []byte(`{"type":"x","seq":1,"at":"yesterday"}`)); err == nil || !strings.Contains(err.Error(), "RFC 3339") {
		t.Errorf("bad date-time: err = %v", err)
	}
	if _, err := apitest.ParseSpec([]byte("openapi: 3.0.3\npaths: {}\n")); err == nil {
		t.Error("a 3.0 document was accepted")
	}
	bad, err := apitest.ParseSpec([]byte("openapi: 3.1.0\npaths:\n  /x:\n    get:\n      operationId: x\n      summary: x\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema:\n                anyOf: [{type: string}]\n                $ref: '#/components/schemas/Nope'\n"))
	if err != nil {
		t.Fatal(err)
	}
	msg := fmt.Sprint(bad.Check())
	for _, want := range []string{`schema keyword "anyOf" is not supported`, `$ref "#/components/schemas/Nope" does not resolve`} {
		if !strings.Contains(msg, want) {
			t.Errorf("Check() = %s, want it to say %s", msg, want)
		}
	}
}

// queueJSON renders the fixture queue with extra fields appended.
func queueJSON(t *testing.T, extra string) string {
	t.Helper()
	b, err := json.Marshal(view.NewQueueStatus(&cc.QueueStatus{QueueID: "que_x", Name: "X", Waiting: 2}))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if extra != "" {
		s = s[:len(s)-1] + "," + extra + "}"
	}
	return s
}

// TestSSOMounted checks that the SSO pages reach Options.SSO, and that
// nothing else under /sso/ is answered by it with a POST.
func TestSSOMounted(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 3, 4, 15, 30, 0, 0, time.UTC)}
	sso := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "sso "+r.Method+" "+r.URL.Path) })
	srv := New(Options{Service: newFakeService(clock), Clock: clock.Now, Registry: prometheus.NewRegistry(), SSO: sso})
	t.Cleanup(func() { srv.Close() })
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/sso/start", "sso GET /sso/start"},
		{"GET", "/sso/callback", "sso GET /sso/callback"},
		{"POST", "/sso/consent", "sso POST /sso/consent"},
		{"POST", "/sso/handoff", "sso POST /sso/handoff"},
		{"POST", "/sso/start", "method POST is not allowed"},
	} {
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		if !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("%s %s: %d %s, want %q", tc.method, tc.path, w.Code, w.Body, tc.want)
		}
	}
}
