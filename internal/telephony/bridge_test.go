package telephony

import (
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/sipua"
	"github.com/parley-cc/parley/internal/testkit/uaphone"
)

// bridgedCall starts a server whose calls are offered to one phone
// answering with agentOpts, and returns the entry point URI and the phone.
func bridgedCall(t *testing.T, agentOpts sipua.Options) (string, *uaphone.Phone) {
	t.Helper()
	phone := startAgentPhone(t, agentOpts)
	store := newTestStore()
	store.addTenant(t, "acme", "127.0.0.0/8", "+15550100")
	addr := startServer(t, store, &testDirector{offers: [][]string{{phone.URI}}, timeout: 10 * time.Second})
	return "sip:+15550100@" + addr, phone
}

// TestBridgeRelaysDTMFToTheOtherLeg: digits the caller sends reach the
// agent's phone, digits the agent sends reach the caller, and neither side
// hears its own digits back.
func TestBridgeRelaysDTMFToTheOtherLeg(t *testing.T) {
	uri, phone := bridgedCall(t, sipua.Options{ToneHz: 1000, DTMF: "456*"})
	caller := call(t, sipua.Options{From: "2015550123", ToneHz: 440, DTMF: "123#", Duration: 4 * time.Second}, uri)
	agent := phone.Next(t, 30*time.Second)
	if !caller.Answered || !agent.Answered {
		t.Fatalf("caller %s; agent %s: want both answered", caller, agent)
	}
	if agent.DTMFReceived != "123#" {
		t.Errorf("the agent received DTMF %q, want the caller's %q", agent.DTMFReceived, "123#")
	}
	if caller.DTMFReceived != "456*" {
		t.Errorf("the caller received DTMF %q, want the agent's %q", caller.DTMFReceived, "456*")
	}
}

// TestBridgeRelaysEachAgentPacketOnce: over several calls the caller
// receives each packet the agent's phone sent once (plus the little queue
// audio before the agent answered), never the agent's stream twice.
func TestBridgeRelaysEachAgentPacketOnce(t *testing.T) {
	uri, phone := bridgedCall(t, sipua.Options{ToneHz: 1000})
	for i := range 8 {
		caller := call(t, sipua.Options{From: "2015550123", ToneHz: 440, Duration: 2 * time.Second}, uri)
		if !caller.Answered {
			t.Fatalf("call %d: caller %s: want it answered", i, caller)
		}
		agent := phone.Next(t, 30*time.Second)
		if !agent.Answered {
			t.Fatalf("call %d: caller %s; agent %s: want both answered", i, caller, agent)
		}
		sent, got := agent.PacketsSent, caller.PacketsReceived
		t.Logf("call %d: agent sent %d, caller received %d; caller sent %d, agent received %d", i, sent, got, caller.PacketsSent, agent.PacketsReceived)
		if got > sent+sent/4 || got < sent*3/4 {
			t.Errorf("call %d: the agent's phone sent %d packets and the caller received %d: want each once", i, sent, got)
		}
	}
}

// TestHangupSaysWhoHungUp: the end of a call is reported with who ended it
// and a detail, the same way whether the caller left in the queue or
// either side hung up a connected call.
func TestHangupSaysWhoHungUp(t *testing.T) {
	for _, tt := range []struct {
		name      string
		agent     *sipua.Options // nil: no agent, the caller waits in the queue
		callerFor time.Duration
		want      string
	}{
		{"caller leaves the queue", nil, time.Second, "customer: hung up"},
		{"caller hangs up", &sipua.Options{ToneHz: 1000}, 2 * time.Second, "customer: hung up"},
		{"agent hangs up", &sipua.Options{ToneHz: 1000, Duration: time.Second}, 10 * time.Second, "agent: hung up"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := newTestStore()
			store.addTenant(t, "acme", "127.0.0.0/8", "+15550100")
			d := &testDirector{timeout: 10 * time.Second, arrivals: make(chan *testCall, 1)}
			if tt.agent != nil {
				d.offers = [][]string{{startAgentPhone(t, *tt.agent).URI}}
			}
			addr := startServer(t, store, d)
			done := startCall(t, sipua.Options{From: "2015550123", ToneHz: 440, Duration: tt.callerFor}, "sip:+15550100@"+addr)
			c := <-d.arrivals
			if got := c.endReason(t); got != tt.want {
				t.Errorf("the call ended with %q, want %q", got, tt.want)
			}
			if r := <-done; r.err != nil || !r.Answered {
				t.Fatalf("caller: %v %v", r.Result, r.err)
			}
		})
	}
}
