package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/sipua"
	"github.com/parley-cc/parley/internal/testkit/sippeer"
	"github.com/parley-cc/parley/internal/testkit/uaphone"
)

// Telephony defects found by testing the demo by hand, end to end: DTMF
// between caller and agent, a dead phone that rings forever, the caller
// hearing the agent's stream twice, and the tenant a call goes to when
// several tenants' trunks allow its source. Parley's own user agent plays
// the phones; it reports SIP outcomes, packet counts and the digits it got.

// startMediaPhone starts a phone on a free port that answers with opts;
// with register set it registers there as the demo user's SIP account.
func (e *testEnv) startMediaPhone(t *testing.T, opts sipua.Options, register string) *uaphone.Phone {
	t.Helper()
	// Serve logs the registration with opts.Logger, which has no default there.
	opts.Logger = e.logger().With("component", "phone "+register)
	if register != "" {
		u := e.user(register)
		opts.Register, opts.Username, opts.Password = "sip:"+u.SIPUsername+"@"+e.sipAddr, u.SIPUsername, u.SIPPassword
	}
	return uaphone.Start(t, opts, register)
}

// available makes the user available, waiting for its phone to register.
func (e *testEnv) available(t *testing.T, token string) {
	t.Helper()
	eventually(t, 30*time.Second, "the phone to register and the agent to go available", func() bool {
		st, _ := e.apiBody("PUT", "/api/v1/me/state", token, map[string]string{"state": "available"})
		return st == 200
	})
}

// endReason returns an ended interaction's end_reason.
func (e *testEnv) endReason(token, id string) string {
	e.t.Helper()
	var out struct {
		State     string `json:"state"`
		EndReason string `json:"end_reason"`
	}
	eventually(e.t, 20*time.Second, "interaction "+id+" to end", func() bool {
		st, b := e.apiBody("GET", "/api/v1/interactions/"+id, token, nil)
		return st == 200 && json.Unmarshal(b, &out) == nil && out.State == "ended"
	})
	return out.EndReason
}

// TestDTMFReachesTheOtherSide: the caller's digits reach the agent's
// phone and the agent's reach the caller; nobody gets their own back.
func TestDTMFReachesTheOtherSide(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t)
	phone := e.startMediaPhone(t, sipua.Options{ToneHz: 1000, DTMF: "456*"}, "bob")
	bob := e.signIn("bob")
	e.available(t, bob)

	caller := startUACall(t, sipua.Options{From: "2015550123", ToneHz: 440, DTMF: "123#", Duration: 5 * time.Second}, "sip:+15550100@"+e.sipAddr)
	agent := phone.Next(t, 60*time.Second)
	<-caller.done
	if caller.err != nil || !caller.res.Answered || !agent.Answered {
		t.Fatalf("caller %v (%v); agent %s: want both answered", caller.res, caller.err, agent)
	}
	if agent.DTMFReceived != "123#" {
		t.Errorf("bob's phone received DTMF %q, want the caller's %q", agent.DTMFReceived, "123#")
	}
	if caller.res.DTMFReceived != "456*" {
		t.Errorf("the caller received DTMF %q, want bob's %q", caller.res.DTMFReceived, "456*")
	}
	it := e.newestInteraction(bob, "the call", func(it apiInteraction) bool { return it.ID != "" })
	if r := e.endReason(bob, it.ID); r != "customer: hung up" {
		t.Errorf("end_reason %q, want %q", r, "customer: hung up")
	}
}

// TestCallerGetsEachAgentPacketOnce: over several calls to bob the
// caller receives as many packets as bob's phone sent (and the little queue
// audio before bob answered), never bob's stream twice. When bob hangs up
// the end reason says so.
func TestCallerGetsEachAgentPacketOnce(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t)
	e.admin("queue", "set", "--tenant", demoTenant, "--name", "Sales", "--wrap-up", "0s")
	phone := e.startMediaPhone(t, sipua.Options{ToneHz: 1000, Duration: 3 * time.Second}, "bob")
	bob := e.signIn("bob")
	e.available(t, bob)
	for i := range 6 {
		eventually(t, 20*time.Second, "bob available again", func() bool { return e.getMe(bob).Presence.State == "available" })
		caller := startUACall(t, sipua.Options{From: "2015550123", ToneHz: 440, Duration: 30 * time.Second}, "sip:+15550100@"+e.sipAddr)
		agent := phone.Next(t, 60*time.Second)
		<-caller.done
		if caller.err != nil || !caller.res.Answered || !agent.Answered {
			t.Fatalf("call %d: caller %v (%v); agent %s: want both answered", i, caller.res, caller.err, agent)
		}
		sent, got := agent.PacketsSent, caller.res.PacketsReceived
		t.Logf("call %d: bob sent %d packets, the caller received %d", i, sent, got)
		if got > sent+sent/4 || got < sent*3/4 {
			t.Errorf("call %d: bob's phone sent %d packets and the caller received %d: want each once", i, sent, got)
		}
		if caller.res.HungUpBy != "remote" {
			t.Errorf("call %d: the caller hung up (%s), want bob's phone to", i, caller.res)
		}
		it := e.newestInteraction(bob, "the call", func(it apiInteraction) bool { return it.ID != "" })
		if r := e.endReason(bob, it.ID); r != "agent: hung up" {
			t.Errorf("call %d: end_reason %q, want %q", i, r, "agent: hung up")
		}
	}
}

// TestDeadPhoneFailsAtTheOfferTimeout: alice's phone is gone (its
// contact is a UDP port nobody listens on, as a killed phone leaves its
// registration). The offer to her fails when the queue's offer timeout
// runs out, reported by the SIP side (not by the center's watchdog, which
// waits the timeout plus a grace): she goes not_ready (ring-no-answer) and
// bob gets the call.
func TestDeadPhoneFailsAtTheOfferTimeout(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t)
	e.admin("queue", "set", "--tenant", demoTenant, "--name", "Sales", "--offer-timeout", "3s")
	e.setStaticContact("alice", fmt.Sprintf("sip:alice@127.0.0.1:%d", sippeer.FreePort(t)))
	phone := e.startMediaPhone(t, sipua.Options{ToneHz: 1000}, "bob")
	alice, bob := e.signIn("alice"), e.signIn("bob")
	bobID := e.getMe(bob).User.ID
	events := e.events(e.signIn("sam"))
	e.setState(alice, "available", "") // longest idle: offered first
	e.available(t, bob)

	caller := startUACall(t, sipua.Options{From: "2015550123", ToneHz: 440, Duration: 10 * time.Second}, "sip:+15550100@"+e.sipAddr)
	failed := events.wait(t, "interaction.offer_failed", nil)
	var fd struct{ Reason, Detail string }
	if err := json.Unmarshal(failed.Data, &fd); err != nil {
		t.Fatal(err)
	}
	if fd.Reason != "ring-no-answer" || fd.Detail != "no response from the phone" {
		t.Errorf("offer to the dead phone failed with %q (%q), want ring-no-answer (no response from the phone): %s",
			fd.Reason, fd.Detail, map[bool]string{true: "the center's watchdog gave up, the SIP side never did", false: ""}[strings.Contains(fd.Detail, "media side")])
	}
	connected := events.wait(t, "interaction.connected", func(f eventFrame) bool { return f.InteractionID == failed.InteractionID })
	if connected.UserID != bobID {
		t.Fatalf("connected to %s, want bob (%s)", connected.UserID, bobID)
	}
	if p := e.getMe(alice).Presence; p.State != "not_ready" || p.Reason != "ring-no-answer" {
		t.Fatalf("alice is %+v after her dead phone rang, want not_ready (ring-no-answer)", p)
	}
	<-caller.done // it hangs up 10s after Parley answered: some 7s with bob
	if caller.err != nil || !caller.res.Answered || caller.res.PacketsReceived == 0 {
		t.Fatalf("caller: %v (%v), want the call answered with bob's audio", caller.res, caller.err)
	}
	if r := phone.Next(t, 60*time.Second); !r.Answered || r.PacketsReceived == 0 {
		t.Fatalf("bob's phone: %s, want the call answered with the caller's audio", r)
	}
}

// TestMostSpecificTrunkTakesTheCall: another tenant has a catch-all
// trunk (0.0.0.0/0) and the demo's Sales number too. A call from 127.0.0.1
// still goes to the demo tenant, whose trunk is 127.0.0.0/8, whatever order
// the store lists the trunks in.
func TestMostSpecificTrunkTakesTheCall(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t)
	acme, err := e.m.Store.TenantBySlug(e.ctx, demoTenant)
	if err != nil {
		t.Fatal(err)
	}
	// The store lists trunks by tenant id: give the catch-all tenant an id
	// that sorts before the demo tenant's (a strict prefix of it), so that
	// "first in the store's order" would pick it.
	other := &cc.Tenant{ID: acme.ID[:len(acme.ID)-1], Slug: "catchall", DisplayName: "Catch-all", Region: "US", TimeZone: "UTC"}
	other.Normalize()
	if err := e.m.Store.CreateTenant(e.ctx, other); err != nil {
		t.Fatal(err)
	}
	if !(other.ID < acme.ID) {
		t.Fatalf("the catch-all tenant's id %q does not sort before %q", other.ID, acme.ID)
	}
	e.admin("trunk", "add", "--tenant", "catchall", "--name", "anywhere", "--cidr", "0.0.0.0/0")
	e.admin("queue", "add", "--tenant", "catchall", "--name", "Main")
	e.admin("entry-point", "add", "--tenant", "catchall", "--number", "+15550100", "--queue", "Main")
	e.admin("entry-point", "add", "--tenant", "catchall", "--number", "+15550177", "--queue", "Main")
	ua := statusUA(t, sipua.Options{From: "2015550123"})
	// The SIP side caches trunks for a moment: the catch-all's own number
	// answers once its trunk applies.
	eventually(t, 20*time.Second, "the catch-all trunk to apply", func() bool {
		return inviteStatus(t, ua, "sip:+15550177@"+e.sipAddr).Status == 200
	})
	sam := e.signIn("sam")
	before := len(e.interactions(sam))
	if res := inviteStatus(t, ua, "sip:+15550100@"+e.sipAddr); res.Status != 200 {
		t.Fatalf("call to the Sales number: %s, want 200", res)
	}
	eventually(t, 20*time.Second, "the call in the demo tenant", func() bool { return len(e.interactions(sam)) == before+1 })
}

// TestStoppedPhoneUnregisters: a `parley call --answer --register` phone
// stopped by Ctrl-C (its context ends) sends the un-REGISTER before its
// listener closes, so Parley forgets it at once: the agent cannot go
// available on a phone that is gone.
func TestStoppedPhoneUnregisters(t *testing.T) {
	e := startEnv(t)
	alice := e.user("alice")
	token := e.signIn("alice")
	registered := make(chan struct{}, 1)
	opts := sipua.Options{
		Bind:     fmt.Sprintf("127.0.0.1:%d", sippeer.FreePort(t)),
		Logger:   e.logger().With("component", "phone alice"),
		Register: "sip:" + alice.SIPUsername + "@" + e.sipAddr, Username: alice.SIPUsername, Password: alice.SIPPassword,
		OnRegistered: func() {
			select {
			case registered <- struct{}{}:
			default:
			}
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sipua.Serve(ctx, opts, func(*sipua.Result) {}) }()
	select {
	case <-registered:
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("the phone did not register within 30s")
	}
	e.setState(token, "available", "")
	e.setState(token, "not_ready", "break")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("the phone stopped with %v", err)
	}
	st, body := e.apiBody("PUT", "/api/v1/me/state", token, map[string]string{"state": "available"})
	if st != 409 || !strings.Contains(string(body), alice.SIPUsername) {
		t.Fatalf("available after the phone stopped: %d %s, want 409 naming SIP user %q", st, body, alice.SIPUsername)
	}
}
