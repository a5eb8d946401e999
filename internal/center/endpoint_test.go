package center_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/auth"
	"github.com/parley-cc/parley/internal/cc"
)

// testAudio is the browser softphone's answer to "is this agent's audio
// connected", set by the test.
type testAudio struct {
	mu        sync.Mutex
	connected map[string]bool // by user id
}

func (a *testAudio) AudioConnected(_, userID string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.connected[userID]
}

func (a *testAudio) set(userID string, on bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.connected[userID] = on
}

func newAudio() *testAudio { return &testAudio{connected: map[string]bool{}} }

// endpointCase is alice on one kind of endpoint, with or without what it needs.
type endpointCase struct {
	name  string
	edit  func(u *cc.User) // before the center starts
	trunk bool             // the tenant has an outbound trunk
	audio bool             // alice's panel audio is connected
	msg   string           // the refusal to make alice available; "" when she may be
	eps   []string         // the endpoints her offers carry
}

var endpointCases = []endpointCase{
	{name: "browser with audio", audio: true, edit: func(u *cc.User) { u.Endpoint = cc.EndpointBrowser }},
	{name: "browser without audio", edit: func(u *cc.User) { u.Endpoint = cc.EndpointBrowser },
		msg: "alice takes calls in the browser panel and its audio is not connected: open the panel and allow the microphone (or choose another endpoint with parley admin user set --endpoint sip)"},
	{name: "browser keeps a SIP phone it does not use", edit: func(u *cc.User) { u.Endpoint = "" },
		msg: "alice takes calls in the browser panel and its audio is not connected"},
	{name: "sip on the static contact", audio: true, eps: []string{"sip:alice@127.0.0.1:5999"}, edit: func(u *cc.User) {}},
	{name: "sip without a registered phone", audio: true, edit: func(u *cc.User) {
		u.StaticContact = ""
		u.SIPUsername, u.SIPHA1 = "alice", auth.SIPHA1("alice", "parley", "secret-pw")
	}, msg: `alice has no phone to ring: no phone is registered for SIP user "alice" and there is no static contact; register the SIP phone first`},
	{name: "external through the outbound trunk", trunk: true, eps: []string{"sip:+12015550199@127.0.0.1:5098"}, edit: func(u *cc.User) {
		u.Endpoint, u.ExternalNumber = cc.EndpointExternal, "+12015550199"
	}},
	{name: "external without an outbound trunk", edit: func(u *cc.User) {
		u.Endpoint, u.ExternalNumber = cc.EndpointExternal, "+12015550199"
	}, msg: "alice takes calls on +12015550199, which is called through the tenant's outbound trunk, and tenant acme has no outbound trunk: an admin sets one with `parley admin trunk set"},
}

// endpointFixture starts a center with alice set up as tc says; d places
// the outbound calls when tc.trunk.
func endpointFixture(t *testing.T, tc endpointCase, d *testDialer) *fixture {
	audio := newAudio()
	f := newFixture(t, func(f *fixture) {
		if tc.trunk {
			withOutbound(d)(f)
		}
		u := f.users["alice"]
		tc.edit(u)
		must(t, f.store.UpdateUser(f.ctx, u))
		audio.set(u.ID, tc.audio)
		f.audio = audio
	})
	return f
}

func TestAvailableNeedsTheChosenEndpoint(t *testing.T) {
	for _, tc := range endpointCases {
		t.Run(tc.name, func(t *testing.T) {
			f := endpointFixture(t, tc, newDialer())
			_, err := f.c.SetState(f.ctx, f.principal("alice"), cc.StateAvailable, "")
			if tc.msg == "" {
				must(t, err)
				return
			}
			if cc.ErrorCode(err) != cc.ECONFLICT || !strings.Contains(cc.ErrorMessage(err), tc.msg) {
				t.Fatalf("available: %v (%s), want ECONFLICT containing %q", err, cc.ErrorCode(err), tc.msg)
			}
			if st := f.presence("alice").State; st == cc.StateAvailable {
				t.Fatal("alice became available anyway")
			}
		})
	}
}

func TestOffersRingTheChosenEndpoint(t *testing.T) {
	for _, tc := range endpointCases {
		if tc.msg != "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			f := endpointFixture(t, tc, newDialer())
			f.available("alice")
			h := f.arrive(f.sales, "+12015550123")
			in := next(t, h)
			if in.Offer == nil || in.Offer.Agent.Username != "alice" {
				t.Fatalf("want an offer to alice, got %+v", in)
			}
			if !slices.Equal(in.Offer.Endpoints, tc.eps) {
				t.Fatalf("offer endpoints %q, want %q", in.Offer.Endpoints, tc.eps)
			}
			if kind := in.Offer.Agent.EndpointKind(); kind != f.users["alice"].EndpointKind() {
				t.Fatalf("the offer's agent takes calls on %q, want %q", kind, f.users["alice"].EndpointKind())
			}
			if p := f.presence("alice"); p.State != cc.StateOffered {
				t.Fatalf("alice is %s, want offered (the offer must not fail for having no SIP endpoint)", p.State)
			}
			h.Hangup("customer", "")
		})
	}
}

func TestPlaceCallRingsTheChosenEndpoint(t *testing.T) {
	for _, tc := range endpointCases {
		if tc.msg != "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			d := newDialer()
			tc.trunk = true // the customer is dialled through it
			f := endpointFixture(t, tc, d)
			f.available("alice")
			if _, err := f.c.PlaceCall(f.ctx, f.principal("alice"), cc.DialRequest{To: "2015550123"}); err != nil {
				t.Fatal(err)
			}
			c := d.next(t)
			if !slices.Equal(c.Endpoints, tc.eps) || c.Number != "+12015550123" {
				t.Fatalf("outbound call rings %q and dials %s, want %q and +12015550123", c.Endpoints, c.Number, tc.eps)
			}
			c.Handle.Failed("customer", "no answer")
		})
	}
}

func TestLostEndpointMakesTheAgentNotReady(t *testing.T) {
	audio := newAudio()
	f := newFixture(t, func(f *fixture) {
		u := f.users["alice"]
		u.Endpoint = cc.EndpointBrowser
		must(t, f.store.UpdateUser(f.ctx, u))
		audio.set(u.ID, true)
		f.audio = audio
	})
	alice := f.users["alice"]
	f.available("alice")
	f.available("bob")
	f.c.AudioChanged(f.ctx, f.tenant.ID, alice.ID) // the leg went live: nothing changes
	if p := f.presence("alice"); p.State != cc.StateAvailable {
		t.Fatalf("alice with her audio connected is %s, want available", p.State)
	}
	audio.set(alice.ID, false)
	f.c.AudioChanged(f.ctx, f.tenant.ID, alice.ID)
	if p := f.presence("alice"); p.State != cc.StateNotReady || p.Reason != cc.ReasonConnectionLost {
		t.Fatalf("alice after her audio went away: %s (%s), want not_ready (connection-lost)", p.State, p.Reason)
	}
	// Bob's SIP phone does not depend on any panel's audio.
	f.c.AudioChanged(f.ctx, f.tenant.ID, f.users["bob"].ID)
	if p := f.presence("bob"); p.State != cc.StateAvailable {
		t.Fatalf("bob on his SIP phone is %s after an audio change, want available", p.State)
	}
	// A call arriving now is not offered to alice.
	h := f.arrive(f.sales, "+12015550123")
	if in := next(t, h); in.Offer == nil || in.Offer.Agent.Username != "bob" {
		t.Fatalf("want the call offered to bob, got %+v", in)
	}
	h.Hangup("customer", "")
}

// browserAlice makes alice a browser agent with her audio connected.
func browserAlice(audio *testAudio, rescue time.Duration) func(*fixture) {
	return func(f *fixture) {
		u := f.users["alice"]
		u.Endpoint = cc.EndpointBrowser
		must(f.t, f.store.UpdateUser(f.ctx, u))
		audio.set(u.ID, true)
		f.audio = audio
		f.audioRescue = rescue
	}
}

// aliceOnACall makes alice available and connects a call to her.
func aliceOnACall(t *testing.T, f *fixture) (cc.CallHandle, *testControl) {
	t.Helper()
	f.available("alice")
	h := f.arrive(f.sales, "+12015550123")
	in := next(t, h)
	if in.Offer == nil || in.Offer.Agent.Username != "alice" {
		t.Fatalf("want the offer to alice, got %+v", in)
	}
	k := &testControl{}
	must(t, h.Answered(in.Offer, k))
	return h, k
}

// TestLostAudioMidCallGoesBackToTheQueue: alice's browser audio goes away
// during a call and does not come back: the call goes back to its queue,
// ahead of a caller who came later, and is offered to bob; alice is not
// ready (connection-lost), with no wrap-up for a call she no longer has.
func TestLostAudioMidCallGoesBackToTheQueue(t *testing.T) {
	audio := newAudio()
	f := newFixture(t, browserAlice(audio, 50*time.Millisecond))
	alice := f.users["alice"]
	h, k := aliceOnACall(t, f)
	id := h.Interaction().ID
	later := f.arrive(f.sales, "+12015550124") // waits: nobody is available

	audio.set(alice.ID, false)
	f.c.AudioChanged(f.ctx, f.tenant.ID, alice.ID)
	eventually(t, "the call taken from alice", func() bool { return k.done() == "release" })
	// The store is written behind the center's state (batched).
	eventually(t, "the call queued again in the store", func() bool {
		it := f.interaction(id)
		return it.State == cc.InteractionQueued && it.AgentID == "" && it.QueueID == f.sales.ID
	})
	eventually(t, "alice not ready", func() bool {
		p := f.presence("alice")
		return p.State == cc.StateNotReady && p.Reason == cc.ReasonConnectionLost && p.InteractionID == ""
	})
	evs, err := f.store.Events(f.ctx, cc.EventFilter{TenantID: f.tenant.ID, InteractionID: id, Limit: 100})
	must(t, err)
	var detail string
	for _, e := range evs {
		if e.Type == cc.EventInteractionTransferred {
			detail = string(e.Data)
		}
	}
	if !strings.Contains(detail, "by Parley") || !strings.Contains(detail, "alice's browser audio was lost") {
		t.Fatalf("the transferred event says %s", detail)
	}
	// The rescued call keeps its place: bob gets it before the later one.
	f.available("bob")
	if again := next(t, h); again.Offer == nil || again.Offer.Agent.Username != "bob" {
		t.Fatalf("want the rescued call offered to bob, got %+v", again)
	}
	h.Hangup("customer", "")
	later.Hangup("customer", "")
}

// TestAudioBackInTimeKeepsTheCall: alice's audio comes back (a reload)
// before the rescue: the call stays hers.
func TestAudioBackInTimeKeepsTheCall(t *testing.T) {
	audio := newAudio()
	f := newFixture(t, browserAlice(audio, 200*time.Millisecond))
	alice := f.users["alice"]
	h, k := aliceOnACall(t, f)
	audio.set(alice.ID, false)
	f.c.AudioChanged(f.ctx, f.tenant.ID, alice.ID)
	audio.set(alice.ID, true)
	f.c.AudioChanged(f.ctx, f.tenant.ID, alice.ID)
	// Well past the rescue time: had it not been cancelled, it would have
	// released alice's leg by now (a slow machine can only make this pass
	// for the wrong reason, never fail for one).
	time.Sleep(time.Second)
	if ops := k.done(); ops != "" {
		t.Fatalf("alice's audio came back, yet the call was %s", ops)
	}
	if p := f.presence("alice"); p.State != cc.StateBusy {
		t.Fatalf("alice is %s, want busy on her call", p.State)
	}
	h.Hangup("customer", "")
}

// TestAgentWhoseAudioWentDuringACallIsNotReadyAfterIt: alice's browser
// closes during a call that the caller ends before any rescue: at the end
// of her wrap-up she is not ready (connection-lost), not available with no
// audio to take the next call.
func TestAgentWhoseAudioWentDuringACallIsNotReadyAfterIt(t *testing.T) {
	audio := newAudio()
	f := newFixture(t, browserAlice(audio, time.Hour))
	alice := f.users["alice"]
	h, _ := aliceOnACall(t, f)
	id := h.Interaction().ID
	audio.set(alice.ID, false)
	f.c.AudioChanged(f.ctx, f.tenant.ID, alice.ID)
	h.Hangup("customer", "")
	ok[*cc.Interaction](t)(f.c.WrapUp(f.ctx, f.principal("alice"), id, cc.WrapUp{Notes: "done"}))
	if p := f.presence("alice"); p.State != cc.StateNotReady || p.Reason != cc.ReasonConnectionLost {
		t.Fatalf("alice after her wrap-up with no audio: %s (%s), want not_ready (connection-lost)", p.State, p.Reason)
	}
}
