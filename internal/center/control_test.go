package center_test

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// testDialer records the outbound calls the center asks for.
type testDialer struct{ calls chan cc.OutboundCall }

func (d *testDialer) Dial(_ context.Context, c cc.OutboundCall) error {
	d.calls <- c
	return nil
}

func (d *testDialer) next(t *testing.T) cc.OutboundCall {
	t.Helper()
	select {
	case c := <-d.calls:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no outbound call within 10s")
	}
	return cc.OutboundCall{}
}

// testControl records the controls the center applies to a call.
type testControl struct {
	mu       sync.Mutex
	ops      []string
	noDigits bool
}

func (k *testControl) record(op string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.ops = append(k.ops, op)
	return nil
}

func (k *testControl) Hold(on bool) error {
	if on {
		return k.record("hold")
	}
	return k.record("resume")
}

func (k *testControl) Mute(on bool) error {
	if on {
		return k.record("mute")
	}
	return k.record("unmute")
}

func (k *testControl) SendDTMF(d string) error {
	if k.noDigits {
		return cc.Errorf(cc.ECONFLICT, "no telephone-event")
	}
	return k.record("dtmf " + d)
}
func (k *testControl) Hangup(string) error { return k.record("hangup") }
func (k *testControl) ReleaseAgent() error { return k.record("release") }

func (k *testControl) done() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return strings.Join(k.ops, ",")
}

// withOutbound gives the fixture a dialer and an outbound trunk.
func withOutbound(d *testDialer) func(*fixture) {
	return func(f *fixture) {
		f.dialer = d
		tr := &cc.Trunk{ID: cc.NewID("trk"), TenantID: f.tenant.ID, Name: "carrier", CIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
			OutboundURI: "sip:127.0.0.1:5098", CreatedAt: time.Now()}
		must(f.t, f.store.CreateTrunk(f.ctx, tr))
	}
}

func newDialer() *testDialer { return &testDialer{calls: make(chan cc.OutboundCall, 4)} }

func TestPlaceCallNormalisesEveryNumberOnItsOwn(t *testing.T) {
	d := newDialer()
	f := newFixture(t, withOutbound(d))
	gb := *f.tenant
	gb.Region = "GB"
	cases := []struct {
		region, to, number, ext string
	}{
		{"US", "201.555.0123 x 9", "+12015550123", "9"},
		{"US", "201.555.0123 ext 9", "+12015550123", "9"},
		{"US", "+39 06 5555 0123", "+390655550123", ""},
		{"GB", "07700 900123", "+447700900123", ""},
		{"US", "201-555-0123", "+12015550123", ""},
		{"US", "201-555-0124", "+12015550124", ""},
	}
	f.available("alice")
	for _, tc := range cases {
		p := f.principal("alice")
		if tc.region == "GB" {
			p.Tenant = &gb
		}
		it, err := f.c.PlaceCall(f.ctx, p, cc.DialRequest{To: tc.to})
		if err != nil {
			t.Fatalf("%s: %v", tc.to, err)
		}
		c := d.next(t)
		if c.Number != tc.number || c.Extension != tc.ext || c.Trunk.OutboundURI != "sip:127.0.0.1:5098" || it.Direction != cc.Outbound {
			t.Fatalf("%s (%s): dialled %q ext %q via %q, want %q ext %q", tc.to, tc.region, c.Number, c.Extension, c.Trunk.OutboundURI, tc.number, tc.ext)
		}
		if st := f.presence("alice").State; st != cc.StateBusy {
			t.Fatalf("%s: alice is %s while dialling, want busy", tc.to, st)
		}
		c.Handle.Failed("customer", "busy (486 Busy Here)")
		if st := f.presence("alice").State; st != cc.StateAvailable {
			t.Fatalf("%s: after the failed call alice is %s, want available again", tc.to, st)
		}
	}
}

func TestPlaceCallRefusesWhatItCannotDial(t *testing.T) {
	d := newDialer()
	f := newFixture(t, withOutbound(d))
	f.available("alice")
	p := f.principal("alice")
	for _, tc := range []struct {
		req  cc.DialRequest
		code string
		msg  string
	}{
		{cc.DialRequest{To: ""}, cc.EINVALID, "the number to call is empty: give a phone number such as (201) 555-0123 or +12015550123"},
		{cc.DialRequest{To: "abc"}, cc.EINVALID, `number "abc": give a phone number such as (201) 555-0123 or +12015550123`},
		{cc.DialRequest{To: "anonymous"}, cc.EINVALID, `number "anonymous"`},
		{cc.DialRequest{To: "2015550123", RecordID: "003000000000001"}, "", ""},
		{cc.DialRequest{To: "2015550123", RecordID: "003x"}, cc.EINVALID, "15 or 18"},
		{cc.DialRequest{To: "2015550123", RecordID: "a0B000000000001", ObjectType: "Case"}, cc.EINVALID, "Contact, Lead or Account"},
		{cc.DialRequest{To: "2015550123", RecordID: "a0B000000000001"}, cc.EINVALID, "give object_type"},
	} {
		_, err := f.c.PlaceCall(f.ctx, p, tc.req)
		if tc.code == "" {
			if err != nil {
				t.Fatalf("%+v: %v", tc.req, err)
			}
			c := d.next(t)
			c.Handle.Failed("customer", "no answer")
			continue
		}
		if cc.ErrorCode(err) != tc.code || !strings.Contains(cc.ErrorMessage(err), tc.msg) {
			t.Fatalf("%+v: got %v (%s), want %s containing %q", tc.req, err, cc.ErrorCode(err), tc.code, tc.msg)
		}
	}
	select {
	case c := <-d.calls:
		t.Fatalf("a refused request was dialled: %+v", c)
	default:
	}
}

func TestPlaceCallWithoutOutboundTrunkNamesTheAdminCommand(t *testing.T) {
	f := newFixture(t, func(f *fixture) { f.dialer = newDialer() })
	f.available("alice")
	_, err := f.c.PlaceCall(f.ctx, f.principal("alice"), cc.DialRequest{To: "2015550123"})
	if cc.ErrorCode(err) != cc.ECONFLICT || !strings.Contains(cc.ErrorMessage(err), "--outbound-uri") {
		t.Fatalf("got %v, want ECONFLICT naming --outbound-uri", err)
	}
	if st := f.presence("alice").State; st != cc.StateAvailable {
		t.Fatalf("alice is %s, want available", st)
	}
}

func TestFailedOutboundFromABreakGoesBackToTheBreakAndIsLogged(t *testing.T) {
	d := newDialer()
	f := newFixture(t, withOutbound(d))
	if _, err := f.c.SetState(f.ctx, f.principal("alice"), cc.StateNotReady, "lunch"); err != nil {
		t.Fatal(err)
	}
	it, err := f.c.PlaceCall(f.ctx, f.principal("alice"), cc.DialRequest{To: "(201) 555-0123", RecordID: "001000000000001AAA"})
	must(t, err)
	c := d.next(t)
	c.Handle.Failed("customer", "busy (486 Busy Here)")
	if p := f.presence("alice"); p.State != cc.StateNotReady || p.Reason != "lunch" {
		t.Fatalf("alice is %s/%s, want not_ready/lunch", p.State, p.Reason)
	}
	got := f.interaction(it.ID)
	if got.Outcome != cc.OutcomeFailed || got.EndReason != "customer: busy (486 Busy Here)" {
		t.Fatalf("interaction %+v", got)
	}
	eventually(t, "the log", func() bool { return f.crm.log(it.ID) != nil })
	l := f.crm.log(it.ID)
	if l.Direction != cc.Outbound || l.WhatID != "001000000000001AAA" || l.WhoID != "" {
		t.Fatalf("log %+v: want outbound with WhatId of the account", l)
	}
}

func TestOutboundCallControlsAndWrapUp(t *testing.T) {
	d := newDialer()
	f := newFixture(t, withOutbound(d))
	f.available("alice")
	it, err := f.c.PlaceCall(f.ctx, f.principal("alice"), cc.DialRequest{To: "201 555 0123", RecordID: "003000000000001AAA", ObjectType: "contact"})
	must(t, err)
	c := d.next(t)
	if _, err := f.c.Hold(f.ctx, f.principal("alice"), it.ID, true); cc.ErrorCode(err) != cc.ECONFLICT {
		t.Fatalf("hold before the customer answered: %v, want ECONFLICT", err)
	}
	must(t, c.Handle.AgentAnswered())
	k := &testControl{}
	must(t, c.Handle.Connected(k))
	alice := f.principal("alice")
	got, err := f.c.Hold(f.ctx, alice, it.ID, true)
	must(t, err)
	if !got.Held {
		t.Fatal("hold: the interaction does not say held")
	}
	if _, err := f.c.Hold(f.ctx, alice, it.ID, true); err != nil { // again: no change
		t.Fatal(err)
	}
	ok[*cc.Interaction](t)(f.c.Hold(f.ctx, alice, it.ID, false))
	ok[*cc.Interaction](t)(f.c.Mute(f.ctx, alice, it.ID, true))
	ok[*cc.Interaction](t)(f.c.SendDTMF(f.ctx, alice, it.ID, "12#"))
	if _, err := f.c.SendDTMF(f.ctx, alice, it.ID, "12x"); cc.ErrorCode(err) != cc.EINVALID {
		t.Fatalf("bad digits: %v", err)
	}
	if _, err := f.c.Transfer(f.ctx, alice, it.ID, cc.TransferTarget{QueueID: f.support.ID}); cc.ErrorCode(err) != cc.ECONFLICT {
		t.Fatalf("transfer of an outbound call: %v, want ECONFLICT", err)
	}
	// bob is another agent: the call does not exist for him; sam supervises.
	if _, err := f.c.Hold(f.ctx, f.principal("bob"), it.ID, true); cc.ErrorCode(err) != cc.ENOTFOUND {
		t.Fatalf("bob holds alice's call: %v, want ENOTFOUND", err)
	}
	got, err = f.c.Mute(f.ctx, f.principal("sam"), it.ID, false)
	must(t, err)
	if got.Muted {
		t.Fatal("unmute by the supervisor did not apply")
	}
	ok[*cc.Interaction](t)(f.c.HangupCall(f.ctx, alice, it.ID))
	if ops := k.done(); ops != "hold,resume,mute,dtmf 12#,unmute,hangup" {
		t.Fatalf("controls applied: %s", ops)
	}
	c.Handle.Hangup("agent", "hung up in the panel")
	if p := f.presence("alice"); p.State != cc.StateWrapUp {
		t.Fatalf("alice is %s after the call, want wrap_up", p.State)
	}
	ok[*cc.Interaction](t)(f.c.WrapUp(f.ctx, alice, it.ID, cc.WrapUp{Notes: "called back"}))
	eventually(t, "the log", func() bool { return f.crm.log(it.ID) != nil })
	if l := f.crm.log(it.ID); l.Direction != cc.Outbound || l.WhoID != "003000000000001AAA" {
		t.Fatalf("log %+v: want outbound with WhoId of the contact", l)
	}
	if p := f.presence("alice"); p.State != cc.StateAvailable {
		t.Fatalf("alice is %s after wrap-up, want available", p.State)
	}
	events, err := f.store.Events(f.ctx, cc.EventFilter{TenantID: f.tenant.ID, InteractionID: it.ID, Limit: 100})
	must(t, err)
	var types []string
	for _, e := range events {
		if strings.HasPrefix(string(e.Type), "interaction.") {
			types = append(types, string(e.Type))
		}
	}
	want := "interaction.dialing,interaction.connected,interaction.held,interaction.resumed,interaction.muted,interaction.dtmf,interaction.unmuted,interaction.ended,interaction.wrapped"
	if j := strings.Join(types, ","); !strings.HasPrefix(j, want) {
		t.Fatalf("events %s, want %s", j, want)
	}
}

// ok fails the test when a call that returns a value and an error fails.
func ok[T any](t *testing.T) func(T, error) {
	return func(_ T, err error) {
		t.Helper()
		must(t, err)
	}
}

func TestRejectedOfferGoesToTheNextAgentAtTheHead(t *testing.T) {
	f := newFixture(t)
	f.available("alice")
	time.Sleep(5 * time.Millisecond)
	f.available("bob")
	h := f.arrive(f.sales, "+12015550123")
	in := next(t, h)
	if in.Offer == nil || in.Offer.Agent.Username != "alice" {
		t.Fatalf("want the offer to alice, got %+v", in)
	}
	id := h.Interaction().ID
	if _, err := f.c.Reject(f.ctx, f.principal("bob"), id); cc.ErrorCode(err) != cc.ENOTFOUND {
		t.Fatalf("bob rejects alice's offer: %v, want ENOTFOUND", err)
	}
	ok[*cc.Interaction](t)(f.c.Reject(f.ctx, f.principal("alice"), id))
	if w := next(t, h); w.Withdraw != in.Offer {
		t.Fatalf("want the ring withdrawn, got %+v", w)
	}
	if p := f.presence("alice"); p.State != cc.StateNotReady || p.Reason != cc.ReasonDeclined {
		t.Fatalf("alice is %s/%s, want not_ready/declined", p.State, p.Reason)
	}
	again := next(t, h)
	if again.Offer == nil || again.Offer.Agent.Username != "bob" {
		t.Fatalf("want the offer to bob, got %+v", again)
	}
	if _, err := f.c.Accept(f.ctx, f.principal("alice"), id); cc.ErrorCode(err) != cc.ENOTFOUND {
		t.Fatalf("alice accepts bob's offer: %v, want ENOTFOUND", err)
	}
	if _, err := f.c.Accept(f.ctx, f.principal("sam"), id); cc.ErrorCode(err) != cc.ECONFLICT {
		t.Fatalf("the supervisor accepts bob's offer: %v, want ECONFLICT (only bob answers)", err)
	}
	ok[*cc.Interaction](t)(f.c.Accept(f.ctx, f.principal("bob"), id))
	if a := next(t, h); a.Accept != again.Offer {
		t.Fatalf("want the accept instruction, got %+v", a)
	}
}

func TestBlindTransferToAQueueAndToAnAgent(t *testing.T) {
	f := newFixture(t, func(f *fixture) {
		f.user("carol", cc.RoleAgent, "sales")
	})
	f.available("alice")
	h := f.arrive(f.sales, "+12015550123")
	in := next(t, h)
	k := &testControl{}
	must(t, h.Answered(in.Offer, k))
	id := h.Interaction().ID
	alice := f.principal("alice")
	if _, err := f.c.Transfer(f.ctx, alice, id, cc.TransferTarget{AgentID: f.users["bob"].ID}); cc.ErrorCode(err) != cc.ECONFLICT {
		t.Fatalf("transfer to bob who is logged out: %v, want ECONFLICT", err)
	}
	got, err := f.c.Transfer(f.ctx, alice, id, cc.TransferTarget{QueueID: f.support.ID})
	must(t, err)
	if got.State != cc.InteractionQueued || got.QueueID != f.support.ID || k.done() != "release" {
		t.Fatalf("after transfer: %+v, controls %s", got, k.done())
	}
	if p := f.presence("alice"); p.State != cc.StateWrapUp {
		t.Fatalf("alice is %s after transferring, want wrap_up", p.State)
	}
	f.available("bob")
	in = next(t, h)
	if in.Offer == nil || in.Offer.Agent.Username != "bob" {
		t.Fatalf("want the transferred call offered to bob, got %+v", in)
	}
	k2 := &testControl{}
	must(t, h.Answered(in.Offer, k2))
	// alice leaves her wrap-up by choice (it writes no log: the call is bob's)
	ok[*cc.Presence](t)(f.c.SetState(f.ctx, alice, cc.StateAvailable, ""))
	f.available("carol")
	ok[*cc.Interaction](t)(f.c.Transfer(f.ctx, f.principal("bob"), id, cc.TransferTarget{AgentID: f.users["carol"].ID}))
	in = next(t, h)
	if in.Offer == nil || in.Offer.Agent.Username != "carol" {
		t.Fatalf("want the call offered to carol, got %+v", in)
	}
	must(t, h.Answered(in.Offer, &testControl{}))
	h.Hangup("customer", "hung up")
	ok[*cc.Interaction](t)(f.c.WrapUp(f.ctx, f.principal("carol"), id, cc.WrapUp{Notes: "sorted"}))
	eventually(t, "the log", func() bool { return f.crm.log(id) != nil })
	if n := f.crm.writes; n != 1 {
		t.Fatalf("%d log writes, want 1", n)
	}
	if it := f.interaction(id); it.AgentID != f.users["carol"].ID || it.Outcome != cc.OutcomeAnswered {
		t.Fatalf("interaction %+v", it)
	}
}

func TestAgentsListsNamesAndStates(t *testing.T) {
	f := newFixture(t)
	f.available("bob")
	as, err := f.c.Agents(f.ctx, f.principal("alice"))
	must(t, err)
	if len(as) != 2 || as[0].Username != "alice" || as[0].State != cc.StateLoggedOut || as[1].Username != "bob" || as[1].State != cc.StateAvailable {
		t.Fatalf("agents %+v", as)
	}
}
