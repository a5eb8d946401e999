package center_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/auth"
	"github.com/parley-cc/parley/internal/bus/inmem"
	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/center"
	"github.com/parley-cc/parley/internal/store/sqlite"
)

// testCRM is an in-memory CRM: it finds records by number and keeps one log
// per interaction, like the Salesforce connector's idempotent WriteLog.
type testCRM struct {
	mu      sync.Mutex
	records map[string][]cc.CRMRecord
	logs    map[string]*cc.CallLog
	writes  int
	down    bool
	lookups int
	users   []cc.CRMUser // what CRMUsers answers
}

func newTestCRM() *testCRM {
	return &testCRM{records: map[string][]cc.CRMRecord{}, logs: map[string]*cc.CallLog{}}
}

func (c *testCRM) CRM(context.Context, *cc.Tenant) (cc.CRM, error) { return c, nil }

func (c *testCRM) FindByPhone(_ context.Context, e164 string) ([]cc.CRMRecord, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lookups++
	if c.down {
		return nil, cc.Errorf(cc.EUNAVAILABLE, "CRM down")
	}
	return c.records[e164], nil
}

func (c *testCRM) WriteLog(_ context.Context, l *cc.CallLog) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	if c.down {
		return "", cc.Errorf(cc.EUNAVAILABLE, "CRM down")
	}
	cp := *l
	c.logs[l.InteractionID] = &cp
	return "00T" + l.InteractionID, nil
}

func (c *testCRM) setDown(d bool) {
	c.mu.Lock()
	c.down = d
	c.mu.Unlock()
}

func (c *testCRM) log(id string) *cc.CallLog {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logs[id]
}

type fixture struct {
	t       *testing.T
	ctx     context.Context
	path    string
	store   *sqlite.DB
	c       *center.Center
	crm     *testCRM
	tenant  *cc.Tenant
	sales   *cc.Queue
	support *cc.Queue
	users   map[string]*cc.User
	// lastAlive is given to the next center started (see Options.LastAlive).
	lastAlive time.Time
	// dialer is given to the next center started (see Options.Dialer).
	dialer cc.OutboundDialer
	// audio is given to the next center started (see Options.BrowserAudio).
	audio cc.BrowserAudio
	// audioRescue is given to the next center started (Options.AudioRescue).
	audioRescue time.Duration
}

type plainSealer struct{}

func (plainSealer) Seal(b []byte) ([]byte, error) { return append([]byte("x"), b...), nil }
func (plainSealer) Open(b []byte) ([]byte, error) { return b[1:], nil }

func newFixture(t *testing.T, mutate ...func(*fixture)) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), path: filepath.Join(t.TempDir(), "parley.db"), crm: newTestCRM(), users: map[string]*cc.User{}}
	f.open()
	now := time.Now().UTC()
	f.tenant = &cc.Tenant{ID: cc.NewID("ten"), Slug: "acme", Region: "US", TimeZone: "America/New_York", CreatedAt: now,
		CRM: cc.CRMConnection{Kind: "salesforce", LoginURL: "http://crm.invalid", ClientID: "x", ClientSecret: []byte("s")}}
	f.tenant.Normalize()
	must(t, f.store.CreateTenant(f.ctx, f.tenant))
	f.sales = f.queue("Sales", time.Minute, 0)
	f.support = f.queue("Support", time.Minute, 0)
	for _, name := range []string{"alice", "bob"} {
		f.user(name, cc.RoleAgent, "sales", "support")
	}
	f.user("sam", cc.RoleSupervisor)
	for _, m := range mutate {
		m(f)
	}
	f.start()
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) open() {
	s, err := sqlite.Open(f.ctx, f.path, sqlite.Options{Sealer: plainSealer{}})
	must(f.t, err)
	f.store = s
}

func (f *fixture) start() {
	f.c = center.New(center.Options{
		Store: f.store, Bus: inmem.New(0), CRM: f.crm, Logger: testLogger(),
		RetryMin: 20 * time.Millisecond, RetryMax: 50 * time.Millisecond, RetryPermanent: 50 * time.Millisecond,
		RefreshInterval: time.Hour, SweepInterval: time.Hour, LastAlive: f.lastAlive, Dialer: f.dialer,
		BrowserAudio: f.audio, AudioRescue: f.audioRescue,
	})
	must(f.t, f.c.Start(f.ctx))
	f.t.Cleanup(func() { f.c.Close(); f.store.Close() })
}

// restart simulates a crash: the center stops without ending its calls,
// and a new one starts on the same database.
func (f *fixture) restart() {
	f.c.Close()
	f.store.Close()
	f.open()
	f.start()
}

func (f *fixture) queue(name string, wrap, maxWait time.Duration) *cc.Queue {
	q := &cc.Queue{ID: cc.NewID("que"), TenantID: f.tenant.ID, Name: name, WrapUp: wrap, MaxWait: maxWait, OfferTimeout: 10 * time.Second, CreatedAt: time.Now()}
	q.Normalize()
	must(f.t, q.Validate())
	must(f.t, f.store.CreateQueue(f.ctx, q))
	return q
}

func (f *fixture) user(name string, role cc.Role, skills ...string) *cc.User {
	h, _ := auth.HashPassword("password-" + name)
	u := &cc.User{ID: cc.NewID("usr"), TenantID: f.tenant.ID, Username: name, Roles: []cc.Role{role}, Skills: skills, PasswordHash: h,
		StaticContact: "sip:" + name + "@127.0.0.1:5999", Endpoint: cc.EndpointSIP, CreatedAt: time.Now()}
	u.Normalize()
	must(f.t, f.store.CreateUser(f.ctx, u))
	f.users[name] = u
	return u
}

func (f *fixture) principal(name string) *cc.Principal {
	return &cc.Principal{Tenant: f.tenant, User: f.users[name]}
}

func (f *fixture) available(name string) {
	f.t.Helper()
	if _, err := f.c.SetState(f.ctx, f.principal(name), cc.StateAvailable, ""); err != nil {
		f.t.Fatalf("%s available: %v", name, err)
	}
}

func (f *fixture) presence(name string) *cc.Presence {
	p, err := f.c.Presence(f.ctx, f.principal(name))
	must(f.t, err)
	return p
}

func (f *fixture) arrive(q *cc.Queue, number string) cc.CallHandle {
	f.t.Helper()
	ep := &cc.EntryPoint{ID: cc.NewID("ent"), TenantID: f.tenant.ID, Number: "+1555" + q.Name, QueueID: q.ID}
	h, err := f.c.Arrive(f.ctx, cc.Arrival{Tenant: f.tenant, EntryPoint: ep, Customer: cc.Customer{Number: number, Raw: number}, Dialed: ep.Number})
	must(f.t, err)
	return h
}

// next waits for the next instruction of a call.
func next(t *testing.T, h cc.CallHandle) cc.Instruction {
	t.Helper()
	select {
	case in, ok := <-h.Instructions():
		if !ok {
			t.Fatal("instructions closed")
		}
		return in
	case <-time.After(10 * time.Second):
		t.Fatal("no instruction within 10s")
	}
	return cc.Instruction{}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *fixture) interaction(id string) *cc.Interaction {
	it, err := f.store.Interaction(f.ctx, f.tenant.ID, id)
	must(f.t, err)
	return it
}

func TestAnsweredCallIsLoggedOnce(t *testing.T) {
	f := newFixture(t)
	jane := cc.CRMRecord{Type: "Contact", ID: "003000000000001AAA", Name: "Jane Doe"}
	f.crm.records["+12015550123"] = []cc.CRMRecord{jane}
	f.available("alice")
	h := f.arrive(f.sales, "+12015550123")
	in := next(t, h)
	if in.Offer == nil || in.Offer.Agent.Username != "alice" || len(in.Offer.Endpoints) != 1 {
		t.Fatalf("want an offer to alice's static contact, got %+v", in)
	}
	if p := f.presence("alice"); p.State != cc.StateOffered {
		t.Fatalf("alice is %s, want offered", p.State)
	}
	must(t, h.Answered(in.Offer, nil))
	id := h.Interaction().ID
	if it := f.interaction(id); it.State != cc.InteractionConnected || it.LinkedRecord == nil || it.LinkedRecord.ID != jane.ID {
		t.Fatalf("after answer: %+v", it)
	}
	h.Hangup("customer", "")
	h.Hangup("agent", "") // second report is ignored
	if p := f.presence("alice"); p.State != cc.StateWrapUp || p.InteractionID != id {
		t.Fatalf("alice %+v, want wrap_up of %s", p, id)
	}
	if _, err := f.c.WrapUp(f.ctx, f.principal("bob"), id, cc.WrapUp{Notes: "x"}); !cc.IsCode(err, cc.ENOTFOUND) {
		t.Fatalf("bob wrapped up alice's interaction: %v", err)
	}
	if _, err := f.c.WrapUp(f.ctx, f.principal("alice"), id, cc.WrapUp{Disposition: "Nonsense"}); !cc.IsCode(err, cc.EINVALID) {
		t.Fatalf("unknown disposition accepted: %v", err)
	}
	if _, err := f.c.WrapUp(f.ctx, f.principal("alice"), id, cc.WrapUp{Notes: "asked about pricing", Disposition: "resolved"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "log delivered", func() bool { return f.interaction(id).LogStatus == cc.LogDelivered })
	l := f.crm.log(id)
	if l == nil || l.WhoID != jane.ID || l.Disposition != "Resolved" || l.Direction != cc.Inbound {
		t.Fatalf("logged %+v", l)
	}
	if p := f.presence("alice"); p.State != cc.StateAvailable {
		t.Fatalf("alice %s after wrap-up, want available", p.State)
	}
	it, events, err := f.c.Interaction(f.ctx, f.principal("alice"), id)
	must(t, err)
	var types []cc.EventType
	for _, e := range events {
		if e.Type != cc.EventAgentState { // the agent's state changes carry the interaction too
			types = append(types, e.Type)
		}
	}
	want := []cc.EventType{cc.EventInteractionQueued, cc.EventInteractionOffered, cc.EventInteractionConnected, cc.EventInteractionEnded, cc.EventInteractionWrapped, cc.EventInteractionLogged}
	if len(types) != len(want) {
		t.Fatalf("history %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("history %v, want %v", types, want)
		}
	}
	if it.Notes != "asked about pricing" || it.LogText == "" {
		t.Fatalf("interaction %+v", it)
	}
	if _, _, err := f.c.Interaction(f.ctx, f.principal("bob"), id); !cc.IsCode(err, cc.ENOTFOUND) {
		t.Fatalf("bob sees alice's interaction: %v", err)
	}
	if _, _, err := f.c.Interaction(f.ctx, f.principal("sam"), id); err != nil {
		t.Fatalf("supervisor cannot see it: %v", err)
	}
}

func TestRingNoAnswerRequeuesAtTheHead(t *testing.T) {
	f := newFixture(t)
	f.available("alice")
	time.Sleep(5 * time.Millisecond)
	f.available("bob") // alice is longer idle
	first := f.arrive(f.sales, "+12015550100")
	in := next(t, first)
	if in.Offer.Agent.Username != "alice" {
		t.Fatalf("offered to %s, want the longest idle (alice)", in.Offer.Agent.Username)
	}
	second := f.arrive(f.sales, "+12015550101")
	in2 := next(t, second)
	if in2.Offer.Agent.Username != "bob" {
		t.Fatalf("second call offered to %s, want bob", in2.Offer.Agent.Username)
	}
	must(t, second.Answered(in2.Offer, nil))
	// alice does not answer: she goes not ready, the call waits at the head.
	first.OfferFailed(in.Offer, cc.ReasonRingNoAnswer, "no answer in time")
	if p := f.presence("alice"); p.State != cc.StateNotReady || p.Reason != cc.ReasonRingNoAnswer {
		t.Fatalf("alice %+v, want not ready (ring-no-answer)", p)
	}
	third := f.arrive(f.sales, "+12015550102")
	second.Hangup("customer", "") // bob to wrap-up
	if _, err := f.c.WrapUp(f.ctx, f.principal("bob"), second.Interaction().ID, cc.WrapUp{}); err != nil {
		t.Fatal(err)
	}
	// bob is free: he gets the first call (original enqueue time), not the third.
	in3 := next(t, first)
	if in3.Offer == nil || in3.Offer.Agent.Username != "bob" {
		t.Fatalf("requeued call went to %+v, want bob", in3)
	}
	select {
	case in := <-third.Instructions():
		t.Fatalf("the newer call was offered first: %+v", in)
	default:
	}
	if it := f.interaction(first.Interaction().ID); it.Offers != 2 {
		t.Fatalf("offers = %d, want 2", it.Offers)
	}
	first.Hangup("customer", "")
	third.Hangup("customer", "")
}

func TestAbandonWhileQueuedAndWhileRinging(t *testing.T) {
	f := newFixture(t)
	h := f.arrive(f.sales, "+12015550100")
	time.Sleep(20 * time.Millisecond)
	h.Hangup("customer", "caller hung up")
	it := f.interaction(h.Interaction().ID)
	if it.State != cc.InteractionEnded || it.Outcome != cc.OutcomeAbandoned || it.WaitTime() <= 0 {
		t.Fatalf("queued abandon: %+v (wait %s)", it, it.WaitTime())
	}
	eventually(t, "abandon logged", func() bool { return f.crm.log(it.ID) != nil })

	f.available("alice")
	h2 := f.arrive(f.sales, "+12015550101")
	in := next(t, h2)
	h2.Hangup("customer", "caller hung up")
	if err := h2.Answered(in.Offer, nil); err == nil {
		t.Fatal("answering a withdrawn offer succeeded")
	}
	if p := f.presence("alice"); p.State != cc.StateAvailable {
		t.Fatalf("alice %s after the caller left while ringing, want available", p.State)
	}
	if _, ok := <-h2.Instructions(); ok {
		t.Fatal("instructions still open after hang-up")
	}
}

func TestAvailableNeedsAnEndpoint(t *testing.T) {
	f := newFixture(t, func(f *fixture) {
		u := f.users["bob"]
		u.StaticContact = ""
		u.SIPUsername, u.SIPHA1 = "bob", auth.SIPHA1("bob", "parley", "secret-pw")
		must(t, f.store.UpdateUser(f.ctx, u))
	})
	_, err := f.c.SetState(f.ctx, f.principal("bob"), cc.StateAvailable, "")
	if !cc.IsCode(err, cc.ECONFLICT) {
		t.Fatalf("bob without a registered phone became available: %v", err)
	}
	must(t, f.store.PutRegistration(f.ctx, &cc.Registration{TenantID: f.tenant.ID, UserID: f.users["bob"].ID, Contact: "sip:bob@127.0.0.1:6000", ExpiresAt: time.Now().Add(time.Hour)}))
	f.available("bob")
	if _, err := f.c.SetState(f.ctx, f.principal("sam"), cc.StateAvailable, ""); !cc.IsCode(err, cc.EFORBIDDEN) {
		t.Fatalf("a supervisor without the agent role got a presence: %v", err)
	}
	if _, err := f.c.SetState(f.ctx, f.principal("bob"), cc.StateNotReady, cc.ReasonRingNoAnswer); !cc.IsCode(err, cc.EINVALID) {
		t.Fatalf("agent chose a system reason: %v", err)
	}
	if _, err := f.c.SetState(f.ctx, f.principal("bob"), cc.StateNotReady, "lunch"); err != nil {
		t.Fatal(err)
	}
}

func TestCRMOutageThenRestartDeliversExactlyOnce(t *testing.T) {
	f := newFixture(t)
	f.available("alice")
	f.crm.setDown(true)
	h := f.arrive(f.sales, "+12015550123")
	in := next(t, h)
	must(t, h.Answered(in.Offer, nil))
	h.Hangup("agent", "")
	id := h.Interaction().ID
	if _, err := f.c.WrapUp(f.ctx, f.principal("alice"), id, cc.WrapUp{Notes: "during the outage"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a failed attempt", func() bool {
		f.crm.mu.Lock()
		defer f.crm.mu.Unlock()
		return f.crm.writes >= 2
	})
	if it := f.interaction(id); it.LogStatus != cc.LogPending || it.LogError == "" {
		t.Fatalf("during outage: status %s error %q", it.LogStatus, it.LogError)
	}
	// Parley dies with the log pending; the CRM comes back; Parley restarts.
	f.restart()
	f.crm.setDown(false)
	eventually(t, "log delivered after restart", func() bool { return f.interaction(id).LogStatus == cc.LogDelivered })
	if l := f.crm.log(id); l == nil || len(f.crm.logs) != 1 {
		t.Fatalf("logs after restart: %d", len(f.crm.logs))
	}
	n, err := f.store.PendingOutbox(f.ctx)
	must(t, err)
	if n != 0 {
		t.Fatalf("%d outbox items still pending", n)
	}
}

func TestRestartClosesLiveCalls(t *testing.T) {
	f := newFixture(t, func(f *fixture) {
		f.sales.WrapUp = time.Minute
		must(t, f.store.UpdateQueue(f.ctx, f.sales))
	})
	f.available("alice")
	talking := f.arrive(f.sales, "+12015550123")
	in := next(t, talking)
	must(t, talking.Answered(in.Offer, nil))
	waiting := f.arrive(f.sales, "+12015550124")
	f.restart()
	ti, wi := f.interaction(talking.Interaction().ID), f.interaction(waiting.Interaction().ID)
	if ti.State != cc.InteractionEnded || ti.Outcome != cc.OutcomeAnswered {
		t.Fatalf("connected call after restart: %+v", ti)
	}
	if wi.State != cc.InteractionEnded || wi.Outcome != cc.OutcomeSystem {
		t.Fatalf("queued call after restart: %+v", wi)
	}
	if p := f.presence("alice"); p.State != cc.StateWrapUp || p.InteractionID != ti.ID {
		t.Fatalf("alice after restart: %+v, want wrap-up of her call", p)
	}
	if _, err := f.c.WrapUp(f.ctx, f.principal("alice"), ti.ID, cc.WrapUp{Notes: "after restart"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both logged", func() bool {
		return f.interaction(ti.ID).LogStatus == cc.LogDelivered && f.interaction(wi.ID).LogStatus == cc.LogDelivered
	})
	if p := f.presence("alice"); p.State != cc.StateAvailable {
		t.Fatalf("alice %s, want available", p.State)
	}
}

func TestMaxWaitOverflowsThenCloses(t *testing.T) {
	f := newFixture(t, func(f *fixture) {
		f.sales.MaxWait = 50 * time.Millisecond
		f.sales.OverflowQueueID = f.support.ID
		f.support.MaxWait = 50 * time.Millisecond
		must(t, f.store.UpdateQueue(f.ctx, f.sales))
		must(t, f.store.UpdateQueue(f.ctx, f.support))
	})
	h := f.arrive(f.sales, "+12015550123")
	in := next(t, h)
	if in.Queue == nil || in.Queue.ID != f.support.ID {
		t.Fatalf("want overflow to Support, got %+v", in)
	}
	in = next(t, h)
	if !in.Close {
		t.Fatalf("want the closing message, got %+v", in)
	}
	// The instruction goes to the media side before the step is stored.
	eventually(t, "the max-wait outcome stored", func() bool {
		it := f.interaction(h.Interaction().ID)
		return it.Outcome == cc.OutcomeMaxWait && it.QueueID == f.support.ID
	})
}

func TestSignInAndSessions(t *testing.T) {
	f := newFixture(t)
	if _, _, err := f.c.SignIn(f.ctx, "acme", "alice", "wrong"); !cc.IsCode(err, cc.EUNAUTHORIZED) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, _, err := f.c.SignIn(f.ctx, "nope", "alice", "password-alice"); !cc.IsCode(err, cc.EUNAUTHORIZED) {
		t.Fatalf("wrong tenant: %v", err)
	}
	tok, p, err := f.c.SignIn(f.ctx, "ACME", "Alice", "password-alice")
	must(t, err)
	got, err := f.c.Authenticate(f.ctx, tok)
	if err != nil || got.User.ID != p.User.ID {
		t.Fatalf("authenticate: %v", err)
	}
	must(t, f.c.SignOut(f.ctx, got))
	if _, err := f.c.Authenticate(f.ctx, tok); !cc.IsCode(err, cc.EUNAUTHORIZED) {
		t.Fatalf("token valid after sign-out: %v", err)
	}
}

// TestStartSession checks the sessions single sign-on starts: the same as a
// password sign-in's, none for a disabled user, and none for a tenant that
// does not offer single sign-on.
func TestStartSession(t *testing.T) {
	f := newFixture(t)
	alice := f.users["alice"]
	if _, _, err := f.c.StartSession(f.ctx, f.tenant, alice, "sso"); !cc.IsCode(err, cc.EFORBIDDEN) || !strings.Contains(cc.ErrorMessage(err), "legacy") {
		t.Fatalf("SSO session for a legacy tenant: %v, want EFORBIDDEN naming the kind", err)
	}
	f.tenant.Kind, f.tenant.CRM.SSOClientID, f.tenant.CRM.SSOClientSecret = cc.KindUnifiedLogin, "3MVG9sso", []byte("sso-secret")
	must(t, f.store.UpdateTenant(f.ctx, f.tenant))
	tok, p, err := f.c.StartSession(f.ctx, f.tenant, alice, "sso")
	must(t, err)
	got, err := f.c.Authenticate(f.ctx, tok)
	if err != nil || got.User.ID != alice.ID || got.Session.ID != p.Session.ID {
		t.Fatalf("authenticate an SSO session: %v", err)
	}
	disabled := *alice
	disabled.Disabled = true
	if _, _, err := f.c.StartSession(f.ctx, f.tenant, &disabled, "sso"); !cc.IsCode(err, cc.EUNAUTHORIZED) {
		t.Fatalf("session for a disabled user: %v, want EUNAUTHORIZED", err)
	}
}

func TestAgentOnBreakCallsOutAndFailsBackToBreak(t *testing.T) {
	p := cc.Presence{State: cc.StateNotReady, Reason: "lunch"}
	reasons := cc.DefaultNotReadyReasons
	now := time.Now()
	p, err := p.Apply(cc.PresenceChange{Op: cc.OpOutbound, InteractionID: "int_1", At: now}, reasons)
	must(t, err)
	p, err = p.Apply(cc.PresenceChange{Op: cc.OpOutboundFailed, At: now}, reasons)
	must(t, err)
	if p.State != cc.StateNotReady || p.Reason != "lunch" {
		t.Fatalf("after a failed outbound attempt from lunch: %s/%s", p.State, p.Reason)
	}
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func TestWrapUpCorrection(t *testing.T) {
	f := newFixture(t)
	f.available("alice")
	h := f.arrive(f.sales, "+12015550123")
	in := next(t, h)
	must(t, h.Answered(in.Offer, nil))
	h.Hangup("customer", "hung up")
	id := h.Interaction().ID
	if _, err := f.c.WrapUp(f.ctx, f.principal("alice"), id, cc.WrapUp{Notes: "first", Disposition: "Resolved"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.WrapUp(f.ctx, f.principal("alice"), id, cc.WrapUp{}); !cc.IsCode(err, cc.EINVALID) {
		t.Fatalf("an empty correction was accepted: %v", err)
	}
	it, err := f.c.WrapUp(f.ctx, f.principal("sam"), id, cc.WrapUp{Notes: "second"})
	must(t, err)
	if it.Notes != "second" || it.Disposition != "Resolved" {
		t.Fatalf("after the correction: notes %q disposition %q", it.Notes, it.Disposition)
	}
	if _, err := f.c.WrapUp(f.ctx, f.principal("bob"), id, cc.WrapUp{Notes: "x"}); !cc.IsCode(err, cc.ENOTFOUND) {
		t.Fatalf("another agent corrected it: %v", err)
	}
	eventually(t, "the corrected log", func() bool {
		l := f.crm.log(id)
		return l != nil && strings.Contains(l.Description, "second") && f.interaction(id).LogStatus == cc.LogDelivered
	})
	_, _, errOther := f.c.Interaction(f.ctx, f.principal("bob"), id)
	_, _, errNone := f.c.Interaction(f.ctx, f.principal("bob"), "int_doesnotexist")
	if cc.ErrorMessage(errOther) != strings.Replace(cc.ErrorMessage(errNone), "int_doesnotexist", id, 1) {
		t.Fatalf("not found messages differ: %q vs %q", cc.ErrorMessage(errOther), cc.ErrorMessage(errNone))
	}
}

func TestReadyWhileDraining(t *testing.T) {
	f := newFixture(t)
	must(t, f.c.Ready(f.ctx))
	f.c.Drain()
	if err := f.c.Ready(f.ctx); !cc.IsCode(err, cc.EUNAVAILABLE) {
		t.Fatalf("ready while draining: %v", err)
	}
}

func TestCrashedCallEndsAtTheLastHeartbeat(t *testing.T) {
	f := newFixture(t)
	f.available("alice")
	h := f.arrive(f.sales, "+12015550123")
	in := next(t, h)
	must(t, h.Answered(in.Offer, nil))
	alive := time.Now().UTC()
	time.Sleep(300 * time.Millisecond) // the downtime
	f.lastAlive = alive
	f.restart()
	it := f.interaction(h.Interaction().ID)
	if !it.EndedAt.Equal(alive) {
		t.Fatalf("ended at %s, want the last heartbeat %s (not the restart)", it.EndedAt, alive)
	}
}
