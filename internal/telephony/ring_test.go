package telephony

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/sipua"
	"github.com/parley-cc/parley/internal/testkit/sippeer"
)

// TestRingDeadPhoneEndsAtTheOfferTimeout: the first offer rings a phone
// that is gone (a UDP port nobody listens on, as a killed phone leaves its
// registration behind). It sends no provisional response, so there is
// nothing to CANCEL: the attempt ends when the offer times out, as
// ring-no-answer, instead of waiting for the INVITE transaction's 32 s
// Timer B, and the next offer rings the live phone at once.
func TestRingDeadPhoneEndsAtTheOfferTimeout(t *testing.T) {
	dead := fmt.Sprintf("sip:agent@127.0.0.1:%d", sippeer.FreePort(t))
	phone := startAgentPhone(t, sipua.Options{ToneHz: 1000})
	store := newTestStore()
	store.addTenant(t, "acme", "127.0.0.0/8", "+15550100")
	d := &testDirector{offers: [][]string{{dead}, {phone.URI}}, timeout: time.Second, arrivals: make(chan *testCall, 1)}
	addr := startServer(t, store, d)

	done := startCall(t, sipua.Options{From: "2015550123", ToneHz: 440, Duration: 6 * time.Second}, "sip:+15550100@"+addr)
	c := <-d.arrivals
	select {
	case f := <-c.failed:
		if f.reason != cc.ReasonRingNoAnswer || f.detail != "no response from the phone" {
			t.Errorf("the dead phone's offer failed with %s (%s), want %s (no response from the phone)", f.reason, f.detail, cc.ReasonRingNoAnswer)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the offer to a dead phone did not fail within 20s of its 1s timeout: the attempt waited for a provisional response that never comes")
	}
	agent := phone.Next(t, 30*time.Second)
	caller := <-done
	if caller.err != nil {
		t.Fatal(caller.err)
	}
	if !agent.Answered || agent.PacketsReceived == 0 || caller.PacketsReceived == 0 {
		t.Fatalf("after the dead phone: agent %s; caller %s: want the live phone connected with audio both ways", agent, caller)
	}
}

// TestRingTimeoutCancelsARingingPhone: a phone that rings (180) and never
// answers is cancelled when the offer times out (CANCEL, 487, ACK), and the
// offer fails as ring-no-answer.
func TestRingTimeoutCancelsARingingPhone(t *testing.T) {
	sippeer.RequireTool(t, sippeer.ToolSIPp)
	ringing := sippeer.StartSIPpUAS(t, sippeer.SIPpUAS{Scenario: sippeer.ScenarioRing, Service: "alice", Calls: 1})
	store := newTestStore()
	store.addTenant(t, "acme", "127.0.0.0/8", "+15550100")
	d := &testDirector{offers: [][]string{{ringing.URI("alice")}}, timeout: time.Second, arrivals: make(chan *testCall, 1)}
	addr := startServer(t, store, d)
	done := startCall(t, sipua.Options{From: "2015550123", Duration: 4 * time.Second}, "sip:+15550100@"+addr)
	c := <-d.arrivals
	select {
	case f := <-c.failed:
		if f.reason != cc.ReasonRingNoAnswer || f.detail != "no answer in time" {
			t.Errorf("the ringing phone's offer failed with %s (%s), want %s (no answer in time)", f.reason, f.detail, cc.ReasonRingNoAnswer)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the offer to a ringing phone did not fail within 20s of its 1s timeout")
	}
	res, err := ringing.Wait(waitCtx(t, 30*time.Second))
	if err != nil || !res.OK() {
		t.Fatalf("the ringing phone did not see its call cancelled (CANCEL, 487, ACK): %v %v", err, res)
	}
	if r := <-done; r.err != nil {
		t.Fatal(r.err)
	}
}

// waitCtx is a context for one wait on a peer.
func waitCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
