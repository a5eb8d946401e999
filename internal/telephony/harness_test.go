package telephony

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/sipua"
	"github.com/parley-cc/parley/internal/testkit/sippeer"
	"github.com/parley-cc/parley/internal/testkit/uaphone"
)

// The call tests run a real Server on loopback against real user agents
// (internal/sipua, on diago like Parley): a caller dials an entry point,
// and a phone that answers by itself plays the agent. What the contact
// center would decide is played by testDirector, which offers each call to
// the endpoints the test gives and records what the SIP side reports.

// testStore holds what the SIP side reads: tenants, trunks and entry
// points. The other methods of cc.Store are not used by the call path; the
// embedded nil interface makes a call to one fail the test loudly.
type testStore struct {
	cc.Store
	mu      sync.Mutex
	tenants map[string]*cc.Tenant
	trunks  []*cc.Trunk
	entries map[string]*cc.EntryPoint // tenant ID + " " + number
}

func newTestStore() *testStore {
	return &testStore{tenants: map[string]*cc.Tenant{}, entries: map[string]*cc.EntryPoint{}}
}

// addTenant adds a tenant with one trunk (named after the tenant) allowing
// cidrs, and entry points for numbers.
func (s *testStore) addTenant(t testing.TB, slug, cidrs string, numbers ...string) *cc.Tenant {
	t.Helper()
	return s.addTenantTrunk(t, slug, slug, cidrs, numbers...)
}

// addTenantTrunk adds a tenant (or a trunk to an existing tenant) and
// entry points for numbers.
func (s *testStore) addTenantTrunk(t testing.TB, slug, trunk, cidrs string, numbers ...string) *cc.Tenant {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	ten := s.tenantBySlugLocked(slug)
	if ten == nil {
		ten = &cc.Tenant{ID: "ten_" + slug, Slug: slug, Region: "US"}
		s.tenants[ten.ID] = ten
	}
	prefixes, err := cc.ParseCIDRs(cidrs)
	if err != nil {
		t.Fatal(err)
	}
	s.trunks = append(s.trunks, &cc.Trunk{ID: "trk_" + slug + "_" + trunk, TenantID: ten.ID, Name: trunk, CIDRs: prefixes})
	for _, n := range numbers {
		s.entries[ten.ID+" "+n] = &cc.EntryPoint{ID: "ep_" + slug + n, TenantID: ten.ID, Number: n, QueueID: "q_" + slug}
	}
	return ten
}

func (s *testStore) tenantBySlugLocked(slug string) *cc.Tenant {
	for _, t := range s.tenants {
		if t.Slug == slug {
			return t
		}
	}
	return nil
}

func (s *testStore) Trunks(_ context.Context, tenantID string) ([]*cc.Trunk, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*cc.Trunk
	for _, t := range s.trunks {
		if tenantID == "" || t.TenantID == tenantID {
			out = append(out, t)
		}
	}
	return out, nil
}

func (s *testStore) Tenant(_ context.Context, id string) (*cc.Tenant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tenants[id]; ok {
		return t, nil
	}
	return nil, cc.Errorf(cc.ENOTFOUND, "no tenant %s", id)
}

func (s *testStore) EntryPointByNumber(_ context.Context, tenantID, number string) (*cc.EntryPoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[tenantID+" "+number]; ok {
		return e, nil
	}
	return nil, cc.Errorf(cc.ENOTFOUND, "no entry point %s", number)
}

// testDirector plays the contact center: every arriving call is offered to
// the endpoints in offers, one offer after the other as each fails.
type testDirector struct {
	mu       sync.Mutex
	offers   [][]string // endpoints of the first, second... offer
	timeout  time.Duration
	arrivals chan *testCall
	// agent is offered the calls; nil is a SIP-phone agent.
	agent *cc.User
}

func (d *testDirector) Arrive(_ context.Context, a cc.Arrival) (cc.CallHandle, error) {
	d.mu.Lock()
	offers, timeout, agent := d.offers, d.timeout, d.agent
	d.mu.Unlock()
	if agent == nil {
		agent = &cc.User{ID: "usr_agent", Username: "agent", Endpoint: cc.EndpointSIP}
	}
	c := &testCall{
		arrival: a,
		it:      &cc.Interaction{ID: cc.NewID("int"), TenantID: a.Tenant.ID, Customer: a.Customer},
		instr:   make(chan cc.Instruction, 4),
		offers:  offers,
		timeout: timeout,
		failed:  make(chan offerFailure, len(offers)+1),
		ended:   make(chan string, 1),
		agent:   agent,
	}
	c.offerNextLocked()
	if d.arrivals != nil {
		d.arrivals <- c
	}
	return c, nil
}

// testCall is one call's handle; it records what the SIP side reports.
type testCall struct {
	arrival cc.Arrival
	it      *cc.Interaction
	instr   chan cc.Instruction
	failed  chan offerFailure
	ended   chan string // "by: detail" of the first Hangup

	mu       sync.Mutex
	offers   [][]string
	timeout  time.Duration
	current  *cc.Offer
	answered *cc.Offer
	done     bool
	ctrl     cc.CallControl // from Answered
	agent    *cc.User
}

type offerFailure struct {
	offer          *cc.Offer
	reason, detail string
}

// offerNextLocked sends the next offer, if any.
func (c *testCall) offerNextLocked() {
	if len(c.offers) == 0 {
		c.current = nil
		return
	}
	eps := c.offers[0]
	c.offers = c.offers[1:]
	c.current = &cc.Offer{ID: cc.NewID("ofr"), InteractionID: c.it.ID, Agent: c.agent, Endpoints: eps, Timeout: c.timeout}
	c.instr <- cc.Instruction{Offer: c.current}
}

func (c *testCall) Interaction() *cc.Interaction {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := *c.it
	return &cp
}

func (c *testCall) Queue() *cc.Queue { return &cc.Queue{ID: "q", Name: "Sales"} }

func (c *testCall) Instructions() <-chan cc.Instruction { return c.instr }

func (c *testCall) Answered(offer *cc.Offer, ctrl cc.CallControl) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done || offer != c.current {
		return cc.Errorf(cc.ECONFLICT, "the offer is no longer current")
	}
	c.answered, c.current, c.ctrl = offer, nil, ctrl
	return nil
}

func (c *testCall) OfferFailed(offer *cc.Offer, reason, detail string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done || offer != c.current {
		return
	}
	c.failed <- offerFailure{offer, reason, detail}
	c.offerNextLocked()
}

func (c *testCall) Hangup(by, detail string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return
	}
	c.done = true
	c.ended <- by + ": " + detail
	close(c.instr)
}

// endReason waits for the call's first Hangup.
func (c *testCall) endReason(t *testing.T) string {
	t.Helper()
	select {
	case r := <-c.ended:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("the SIP side did not report the end of the call within 30s")
		return ""
	}
}

// testLogger writes a log to a file that is shown, named, when the test fails.
func testLogger(t *testing.T, name string) *slog.Logger {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "log-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			f.Seek(0, io.SeekStart)
			b, _ := io.ReadAll(f)
			t.Logf("%s log:\n%s", name, tail(string(b), 400))
		}
		f.Close()
	})
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func tail(s string, lines int) string {
	n := 0
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			n++
			if n > lines {
				return s[i+1:]
			}
		}
	}
	return s
}

// startServer runs a Server on a free loopback UDP port for the test.
func startServer(t *testing.T, store *testStore, d cc.CallDirector) string {
	return startServerWith(t, Deps{Store: store, Director: d})
}

// startServerWith runs a Server with deps on a free loopback UDP port.
func startServerWith(t *testing.T, deps Deps) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", sippeer.FreePort(t))
	s, err := New(Config{UDP: addr, Logger: testLogger(t, "Parley SIP")}, deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return addr
}

// startAgentPhone starts a phone that answers with opts and reports each
// call's result when the call ends.
func startAgentPhone(t *testing.T, opts sipua.Options) *uaphone.Phone {
	t.Helper()
	opts.Logger = testLogger(t, "agent phone")
	return uaphone.Start(t, opts, "agent")
}

// call places a call from a new user agent and runs it to its end.
func call(t *testing.T, opts sipua.Options, uri string) *sipua.Result {
	t.Helper()
	res := <-startCall(t, opts, uri)
	if res.err != nil {
		t.Fatalf("call %s: %v", uri, res.err)
	}
	return res.Result
}

// callResult is the outcome of a call placed by startCall.
type callResult struct {
	*sipua.Result
	err error
}

// startCall places a call from a new user agent in the background; its
// outcome arrives on the channel when the call ends.
func startCall(t *testing.T, opts sipua.Options, uri string) <-chan callResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	if opts.Bind == "" {
		opts.Bind = fmt.Sprintf("127.0.0.1:%d", sippeer.FreePort(t))
	}
	ua, err := sipua.New(ctx, opts, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	out := make(chan callResult, 1)
	go func() {
		defer cancel()
		defer ua.Close()
		res, err := ua.Call(ctx, uri)
		out <- callResult{res, err}
	}()
	return out
}
