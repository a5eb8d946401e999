package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-cc/parley/internal/auth"
	"github.com/parley-cc/parley/internal/bus/inmem"
	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/center"
	"github.com/parley-cc/parley/internal/httpapi/apitest"
	"github.com/parley-cc/parley/internal/secret"
	"github.com/parley-cc/parley/internal/store/sqlite"
)

// isoCase is one request of the tenant isolation table. URL and Body may
// name the other tenant's objects with the placeholders of realWorld.expand
// ({B.interaction}, {B.user}, {B.queue}, {B.record}...) and the caller's own
// with {A.…}.
type isoCase struct {
	url  string
	body string
	// want is the status the request must get; 0 accepts any status below
	// 500 (the route has no object of the other tenant to refuse: only the
	// leak check applies).
	want int
	// contains are what the answer must hold (expanded): the caller's own
	// objects, so that a list that is empty for every tenant cannot pass.
	contains []string
	// fresh runs the case on a new session of its own: for routes that end
	// the session they are called with.
	fresh bool
	// as signs in another user of tenant A for the case: "al", the agent
	// on A's connected call, for the controls that need the call's agent;
	// "ada", a second admin, for routes that end every session of their
	// caller (so that the cases after them keep theirs).
	as string
}

// isolationTable has an entry for every route the Server registers (the test
// fails on a route that is missing). Each case is called by an admin of
// tenant A (acme) — admin, supervisor and agent, so that no role check hides
// the answer — on the objects of tenant B (globex): it must get 404 for B's
// objects, and no answer may carry any id or name of B's (beyond what the
// request itself sent).
var isolationTable = map[string][]isoCase{
	"POST /api/v1/sessions":                 {{body: `{"tenant":"acme","username":"ann","password":"password-ann"}`, want: 201}, {body: `{"tenant":"acme","username":"ginaglobex","password":"password-ginaglobex"}`, want: 401}},
	"DELETE /api/v1/sessions/current":       {{want: 204, fresh: true}},
	"POST /api/v1/sessions/current/refresh": {{want: 200, fresh: true}},
	"DELETE /api/v1/me/sessions":            {{want: 204, as: "ada"}},
	"GET /api/v1/me":                        {{want: 200, contains: []string{"{A.user}", "{A.tenant}"}}},
	"PUT /api/v1/me/state":                  {{body: `{"state":"not_ready","reason":"break"}`, want: 200}},
	"GET /api/v1/queues":                    {{want: 200, contains: []string{"{A.queue}"}}},
	"GET /api/v1/interactions":              {{want: 200, contains: []string{"{A.interaction}"}}, {url: "?queue_id={B.queue}", want: 200}},
	"GET /api/v1/interactions/{id}":         {{want: 404}},
	"GET /api/v1/interactions/{id}/log":     {{want: 404}},
	"PUT /api/v1/interactions/{id}/wrapup":  {{body: `{"notes":"x","disposition":"Sale"}`, want: 404}},
	"PUT /api/v1/interactions/{id}/link":    {{body: `{"record_id":"{B.record}"}`, want: 404}},
	// Without a SIP side click-to-dial is refused before anything else;
	// the record id is the CRM's (A's CRM page gives it), not Parley's.
	"POST /api/v1/calls":                      {{body: `{"to":"+15550109","record_id":"{B.record}","object_type":"Contact"}`, want: 503}},
	"POST /api/v1/interactions/{id}/accept":   {{want: 404}},
	"POST /api/v1/interactions/{id}/reject":   {{want: 404}},
	"POST /api/v1/interactions/{id}/hold":     {{body: `{"on":true}`, want: 404}},
	"POST /api/v1/interactions/{id}/mute":     {{body: `{"on":true}`, want: 404}},
	"POST /api/v1/interactions/{id}/dtmf":     {{body: `{"digits":"1"}`, want: 404}},
	"POST /api/v1/interactions/{id}/hangup":   {{want: 404}},
	"POST /api/v1/interactions/{id}/transfer": {{body: `{"queue_id":"{B.queue}"}`, want: 404}, {url: "{A.interaction}/transfer", body: `{"queue_id":"{B.queue}"}`, want: 404, as: "al"}, {url: "{A.interaction}/transfer", body: `{"agent_id":"{B.agent}"}`, want: 404, as: "al"}},
	"GET /api/v1/agents":                      {{want: 200, contains: []string{"{A.user}"}}},
	"GET /api/v1/cti/domain-check":            {{url: "?domain=globex.my.salesforce.com"}},
	"POST /api/v1/events/ticket":              {{want: 201}},
	"GET /api/v1/events":                      {}, // a WebSocket: TestTenantIsolationEvents
	"GET /api/v1/admin/crm-users":             {{want: 200, contains: []string{"ann@acme.example"}}},
	// B's admin has B's CRM username mapped: the same username in A's CRM
	// is A's to map (no conflict naming B's user), then unmapped.
	"PUT /api/v1/admin/users/{id}/integrations/{crm}":    {{url: "{B.user}/integrations/salesforce", body: `{"username":"x@acme.example"}`, want: 404}, {url: "{A.agent}/integrations/salesforce", body: `{"username":"{B.crmuser}"}`, want: 200}},
	"DELETE /api/v1/admin/users/{id}/integrations/{crm}": {{url: "{B.user}/integrations/salesforce", want: 404}, {url: "{A.agent}/integrations/salesforce", want: 204}},
	"GET /healthz": {{want: 200}},
	"GET /readyz":  {{want: 200}},
	"GET /metrics": {{want: 200}},
}

// realWorld is the API on the real center and SQLite store with two tenants.
type realWorld struct {
	srv   *Server
	kit   *apitest.Kit
	store *sqlite.DB
	c     *center.Center
	// ids names each tenant's objects: "A.user", "B.queue"...
	ids map[string]string
	// secrets are B's ids and names, which no answer to A may carry.
	secrets []string
}

// isoCRM is each tenant's CRM: its users and the records every number finds.
type isoCRM struct {
	mu    sync.Mutex
	users map[string][]cc.CRMUser   // by tenant slug
	recs  map[string][]cc.CRMRecord // by tenant slug
}

type isoTenantCRM struct {
	p    *isoCRM
	slug string
}

func (p *isoCRM) CRM(_ context.Context, t *cc.Tenant) (cc.CRM, error) {
	return isoTenantCRM{p, t.Slug}, nil
}

func (c isoTenantCRM) FindByPhone(context.Context, string) ([]cc.CRMRecord, error) {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	return slices.Clone(c.p.recs[c.slug]), nil
}

func (c isoTenantCRM) WriteLog(_ context.Context, l *cc.CallLog) (string, error) {
	return "00T" + l.InteractionID, nil
}

func (c isoTenantCRM) CRMUsers(context.Context) ([]cc.CRMUser, error) {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	return slices.Clone(c.p.users[c.slug]), nil
}

func newRealWorld(t *testing.T) *realWorld {
	t.Helper()
	ctx := context.Background()
	keys, err := secret.Parse(secret.NewKeyLine("k1"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"), sqlite.Options{Sealer: keys})
	if err != nil {
		t.Fatal(err)
	}
	crm := &isoCRM{
		users: map[string][]cc.CRMUser{
			"acme":   {{ID: "005A00000000001", Username: "ann@acme.example", Email: "ann@acme.example"}},
			"globex": {{ID: "005B00000000001", Username: "gina@globex.example", Email: "gina@globex.example"}},
		},
		recs: map[string][]cc.CRMRecord{
			"acme":   {{Type: "Contact", ID: "003A00000000001", Name: "Alan Acme"}},
			"globex": {{Type: "Contact", ID: "003B00000000001", Name: "Greta Globex"}},
		},
	}
	w := &realWorld{store: db, ids: map[string]string{}}
	for _, ten := range []struct{ side, slug, admin, agent, admin2 string }{{"A", "acme", "ann", "al", "ada"}, {"B", "globex", "ginaglobex", "gusglobex", "gilglobex"}} {
		now := time.Now().UTC()
		tn := &cc.Tenant{ID: cc.NewID("ten"), Slug: ten.slug, Region: "US", TimeZone: "America/New_York", CreatedAt: now,
			CRM: cc.CRMConnection{Kind: "salesforce", LoginURL: "http://" + ten.slug + ".crm.invalid", ClientID: "cid-" + ten.slug, ClientSecret: []byte("s-" + ten.slug)}}
		tn.Normalize()
		must(t, db.CreateTenant(ctx, tn))
		q := &cc.Queue{ID: cc.NewID("que"), TenantID: tn.ID, Name: "Q" + ten.slug, WrapUp: time.Minute, OfferTimeout: 10 * time.Second, CreatedAt: now}
		q.Normalize()
		must(t, q.Validate())
		must(t, db.CreateQueue(ctx, q))
		w.ids[ten.side+".tenant"] = tn.ID
		w.ids[ten.side+".slug"] = tn.Slug
		w.ids[ten.side+".queue"] = q.ID
		w.ids[ten.side+".queuename"] = q.Name
		w.ids[ten.side+".record"] = crm.recs[ten.slug][0].ID
		w.ids[ten.side+".crmuser"] = crm.users[ten.slug][0].Username
		for _, u := range []struct {
			name  string
			roles []cc.Role
			key   string
		}{{ten.admin, []cc.Role{cc.RoleAdmin, cc.RoleSupervisor, cc.RoleAgent}, "user"}, {ten.agent, []cc.Role{cc.RoleAgent}, "agent"},
			{ten.admin2, []cc.Role{cc.RoleAdmin, cc.RoleSupervisor, cc.RoleAgent}, "admin2"}} {
			h, err := auth.HashPassword("password-" + u.name)
			must(t, err)
			usr := &cc.User{ID: cc.NewID("usr"), TenantID: tn.ID, Username: u.name, Roles: u.roles, Skills: q.Skills, PasswordHash: h,
				StaticContact: "sip:" + u.name + "@127.0.0.1:5999", Endpoint: cc.EndpointSIP, CreatedAt: now}
			usr.Normalize()
			must(t, db.CreateUser(ctx, usr))
			w.ids[ten.side+"."+u.key] = usr.ID
			w.ids[ten.side+"."+u.key+"name"] = u.name
		}
	}
	w.c = center.New(center.Options{Store: db, Bus: inmem.New(0), CRM: crm, Logger: slog.New(slog.DiscardHandler),
		RefreshInterval: time.Hour, SweepInterval: time.Hour})
	must(t, w.c.Start(ctx))
	t.Cleanup(func() { w.c.Close(); db.Close() })
	w.setState(t, "A", "agent", cc.StateAvailable)
	w.mapCRM(t, "B", "user", w.ids["B.crmuser"])
	// A call in each tenant: A's connected to al, B's waiting.
	for _, side := range []string{"A", "B"} {
		tn, err := db.TenantBySlug(ctx, w.ids[side+".slug"])
		must(t, err)
		ep := &cc.EntryPoint{ID: cc.NewID("ent"), TenantID: tn.ID, Number: "+1555010" + map[string]string{"A": "1", "B": "2"}[side], QueueID: w.ids[side+".queue"]}
		h, err := w.c.Arrive(ctx, cc.Arrival{Tenant: tn, EntryPoint: ep, Customer: cc.Customer{Number: "+1555020" + ep.Number[len(ep.Number)-1:]}, Dialed: ep.Number})
		must(t, err)
		if side == "A" {
			select {
			case in := <-h.Instructions():
				if in.Offer == nil {
					t.Fatalf("tenant A's call: want an offer to al, got %+v", in)
				}
				must(t, h.Answered(in.Offer, isoControl{}))
			case <-time.After(safety):
				t.Fatal("tenant A's call was not offered to al")
			}
		}
		w.ids[side+".interaction"] = h.Interaction().ID
		w.ids[side+".number"] = ep.Number
	}
	for k, v := range w.ids {
		if strings.HasPrefix(k, "B.") {
			w.secrets = append(w.secrets, v)
		}
	}
	w.srv = New(Options{Service: w.c, Registry: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { w.srv.Close() })
	w.kit = &apitest.Kit{Handler: w.srv.Handler()}
	return w
}

// isoControl is the media side of tenant A's connected call: every control
// succeeds (the test checks who may reach it, not the media).
type isoControl struct{}

func (isoControl) Hold(bool) error       { return nil }
func (isoControl) Mute(bool) error       { return nil }
func (isoControl) SendDTMF(string) error { return nil }
func (isoControl) Hangup(string) error   { return nil }
func (isoControl) ReleaseAgent() error   { return nil }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// expand replaces the {A.…} and {B.…} placeholders of s.
func (w *realWorld) expand(t testing.TB, s string) string {
	t.Helper()
	for {
		i := strings.Index(s, "{A.")
		if k := strings.Index(s, "{B."); i < 0 || (k >= 0 && k < i) {
			i = k
		}
		if i < 0 {
			return s
		}
		j := strings.Index(s[i:], "}")
		if j < 0 {
			return s
		}
		key := s[i+1 : i+j]
		v, ok := w.ids[key]
		if !ok {
			t.Fatalf("no placeholder {%s}", key)
		}
		s = s[:i] + v + s[i+j+1:]
	}
}

// setState sets the state of a user of a side ("A.user", "B.agent"...)
// through the center.
func (w *realWorld) setState(t testing.TB, side, key string, st cc.AgentState) {
	t.Helper()
	ctx := context.Background()
	tn, err := w.store.TenantBySlug(ctx, w.ids[side+".slug"])
	must(t, err)
	u, err := w.store.User(ctx, tn.ID, w.ids[side+"."+key])
	must(t, err)
	if _, err := w.c.SetState(ctx, &cc.Principal{Tenant: tn, User: u}, st, ""); err != nil {
		t.Fatalf("%s.%s %s: %v", side, key, st, err)
	}
}

// mapCRM maps a user of a side to a CRM username through the center, as
// that tenant's admin.
func (w *realWorld) mapCRM(t testing.TB, side, key, username string) {
	t.Helper()
	ctx := context.Background()
	tn, err := w.store.TenantBySlug(ctx, w.ids[side+".slug"])
	must(t, err)
	admin, err := w.store.User(ctx, tn.ID, w.ids[side+".user"])
	must(t, err)
	if _, err := w.c.SetIntegration(ctx, &cc.Principal{Tenant: tn, User: admin}, w.ids[side+"."+key], "salesforce", username); err != nil {
		t.Fatalf("map %s.%s to %s: %v", side, key, username, err)
	}
}

// signIn signs in a user of tenant A (its admin ann by default) with the
// real center.
func (w *realWorld) signIn(t testing.TB, user string) string {
	t.Helper()
	if user == "" {
		user = "ann"
	}
	return w.signInTo(t, "acme", user)
}

// signInTo signs in a user of a tenant with the real center.
func (w *realWorld) signInTo(t testing.TB, tenant, user string) string {
	t.Helper()
	res := w.kit.Do(t, apitest.Scenario{Method: "POST", URL: "/api/v1/sessions", Body: `{"tenant":"` + tenant + `","username":"` + user + `","password":"password-` + user + `"}`, WantStatus: 201})
	var v sessionView
	must(t, json.Unmarshal(res.Body, &v))
	return v.Token
}

// leaks returns the secrets of B's that text carries and sent did not.
func (w *realWorld) leaks(text, sent string) []string {
	var out []string
	for _, s := range w.secrets {
		if strings.Contains(text, s) && !strings.Contains(sent, s) {
			out = append(out, s)
		}
	}
	return out
}

// caseURL is the path of pattern with the case's URL: a case URL starting
// with ? is a query; one naming an object replaces the path from the first
// wildcard; else the wildcard {id} is B's interaction.
func caseURL(pattern string, c isoCase) string {
	_, path, _ := strings.Cut(pattern, " ")
	if i := strings.Index(path, "{"); i >= 0 {
		if c.url != "" {
			return path[:i] + c.url
		}
		return strings.Replace(path, "{id}", "{B.interaction}", 1)
	}
	return path + c.url
}

// TestTenantIsolation calls every API route as tenant A's admin on tenant
// B's objects, through the real center and SQLite store.
func TestTenantIsolation(t *testing.T) {
	w := newRealWorld(t)
	for _, route := range w.srv.routes {
		if _, ok := isolationTable[route]; !ok {
			t.Errorf("route %s is not in isolationTable: add a line saying what tenant A's admin gets on tenant B's objects", route)
		}
	}
	for route := range isolationTable {
		if !slices.Contains(w.srv.routes, route) {
			t.Errorf("isolationTable has %s, which the server does not serve", route)
		}
	}
	token := w.signIn(t, "")
	// B's sessions, of the admin and of an agent, must outlive every
	// request of A's.
	bTokens := []string{w.signInTo(t, "globex", "ginaglobex"), w.signInTo(t, "globex", "gusglobex")}
	for _, route := range w.srv.routes {
		for n, c := range isolationTable[route] {
			method, _, _ := strings.Cut(route, " ")
			url := w.expand(t, caseURL(route, c))
			body := w.expand(t, c.body)
			tok := token
			if c.fresh || c.as != "" {
				tok = w.signIn(t, c.as)
			}
			if strings.HasPrefix(route, "POST /api/v1/sessions") && method == "POST" && !strings.Contains(route, "current") {
				tok = ""
			}
			res := w.kit.Do(t, apitest.Scenario{Method: method, URL: url, Body: body, Token: tok})
			text := string(res.Body) + " " + headerText(res.Header)
			switch {
			case c.want != 0 && res.Status != c.want:
				t.Errorf("%s case %d: %s %s: status %d, want %d; body: %s", route, n, method, url, res.Status, c.want, res.Body)
			case c.want == 0 && res.Status >= 500:
				t.Errorf("%s case %d: %s %s: status %d; body: %s", route, n, method, url, res.Status, res.Body)
			}
			if l := w.leaks(text, url+" "+body); len(l) > 0 {
				t.Errorf("%s case %d: %s %s: the answer to tenant A carries tenant B's %q: %s", route, n, method, url, l, res.Body)
			}
			for _, s := range c.contains {
				if s = w.expand(t, s); !strings.Contains(text, s) {
					t.Errorf("%s case %d: %s %s: the answer does not hold tenant A's own %q: %s", route, n, method, url, s, res.Body)
				}
			}
			for _, bt := range bTokens {
				if res := w.kit.Do(t, apitest.Scenario{Method: "GET", URL: "/api/v1/me", Token: bt}); res.Status != 200 {
					t.Errorf("%s case %d: after %s %s, a session of tenant B's no longer works: %d %s", route, n, method, url, res.Status, res.Body)
				}
			}
		}
	}
}

func headerText(h http.Header) string {
	var b strings.Builder
	for k, vs := range h {
		b.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
	}
	return b.String()
}

// TestTenantIsolationEvents checks the event WebSocket: the replay of tenant
// A's admin and its live stream never carry tenant B's events.
func TestTenantIsolationEvents(t *testing.T) {
	w := newRealWorld(t)
	ts := httptest.NewServer(w.srv.Handler())
	t.Cleanup(ts.Close)
	token := w.signIn(t, "")
	res := w.kit.Do(t, apitest.Scenario{Method: "POST", URL: "/api/v1/events/ticket", Token: token, WantStatus: 201})
	var tk ticketView
	must(t, json.Unmarshal(res.Body, &tk))
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/api/v1/events?after=0&ticket="+tk.Ticket, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	// B's admin changes state, then A's: A's change is the last frame A
	// reads; a leak of B's would come before it.
	w.setState(t, "B", "user", cc.StateAvailable)
	w.setState(t, "A", "user", cc.StateAvailable)
	sawArrival := false
	for first := true; ; first = false {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v (before tenant A's own state change)", err)
		}
		if l := w.leaks(string(b), ""); len(l) > 0 {
			t.Errorf("tenant A's event stream carries tenant B's %q: %s", l, b)
		}
		if strings.Contains(string(b), w.ids["A.interaction"]) {
			sawArrival = true
		}
		if !first && strings.Contains(string(b), w.ids["A.user"]) && strings.Contains(string(b), `"state":"available"`) {
			break
		}
	}
	if !sawArrival {
		t.Error("the replay after=0 did not hold tenant A's own call: the check proves nothing")
	}
}
