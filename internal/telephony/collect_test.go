package telephony

import (
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/sipua"
)

// collectingEntry makes the tenant's entry point for number collect digits.
func (s *testStore) collectingEntry(ten *cc.Tenant, number string, col *cc.DigitCollection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries[ten.ID+" "+number].Collect = col
}

// TestCollectDigitsBeforeQueueing: an entry point asks for a PIN; the
// caller's RFC 4733 digits, sent while the prompt plays, reach the contact
// center as the call's data, and the caller's leg carries audio to the
// agent after the collection released it.
func TestCollectDigitsBeforeQueueing(t *testing.T) {
	phone := startAgentPhone(t, sipua.Options{ToneHz: 1000})
	store := newTestStore()
	ten := store.addTenant(t, "acme", "127.0.0.0/8", "+15550101")
	store.collectingEntry(ten, "+15550101", &cc.DigitCollection{Key: "pin", MaxDigits: 6})
	d := &testDirector{offers: [][]string{{phone.URI}}, timeout: 10 * time.Second, arrivals: make(chan *testCall, 1)}
	addr := startServer(t, store, d)

	done := startCall(t, sipua.Options{From: "2015550123", ToneHz: 440, DTMF: "42*7#", Duration: 5 * time.Second,
		Headers: []string{"X-Parley-Data: lang=de"}}, "sip:+15550101@"+addr)
	var c *testCall
	select {
	case c = <-d.arrivals:
	case <-time.After(15 * time.Second):
		t.Fatal("the call was not queued within 15s of its digits")
	}
	if got := c.arrival.Data; len(got) != 2 || got["pin"] != "427" || got["lang"] != "de" {
		t.Errorf("arrival data %v, want pin=427 ('*' skipped) and lang=de", got)
	}
	agent := phone.Next(t, 30*time.Second)
	caller := <-done
	if caller.err != nil {
		t.Fatal(caller.err)
	}
	if !agent.Answered || agent.PacketsReceived == 0 || caller.PacketsReceived == 0 {
		t.Fatalf("agent %s; caller %s: want them connected with audio both ways after the collection", agent, caller)
	}
	if agent.DTMFReceived != "" {
		t.Errorf("the agent's phone received %q: the digits keyed in for the collection must not reach it", agent.DTMFReceived)
	}
}

// TestCollectDigitsTimesOut: a caller who keys in nothing is queued after
// the prompt and the digit timeout, with no data; a header that already
// has the key skips the prompt.
func TestCollectDigitsTimesOut(t *testing.T) {
	store := newTestStore()
	ten := store.addTenant(t, "acme", "127.0.0.0/8", "+15550101")
	store.collectingEntry(ten, "+15550101", &cc.DigitCollection{Key: "pin", MaxDigits: 4, Timeout: time.Second})
	d := &testDirector{arrivals: make(chan *testCall, 1)}
	addr := startServer(t, store, d)

	start := time.Now()
	done := startCall(t, sipua.Options{From: "2015550123", Duration: 8 * time.Second}, "sip:+15550101@"+addr)
	select {
	case c := <-d.arrivals:
		if len(c.arrival.Data) != 0 {
			t.Errorf("arrival data %v, want none", c.arrival.Data)
		}
		// The bundled prompt lasts 4s: an arrival before it ended did not wait for digits.
		if waited := time.Since(start); waited < 4*time.Second {
			t.Errorf("queued after %s, before the prompt and the digit timeout ran out", waited)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the call was not queued within 20s: the digit timeout did not end the collection")
	}
	<-done

	// This caller stays 2s, less than the prompt: queued at all, it was not asked.
	done = startCall(t, sipua.Options{From: "2015550123", Duration: 2 * time.Second, Headers: []string{"X-Parley-Data: pin=1234"}}, "sip:+15550101@"+addr)
	select {
	case c := <-d.arrivals:
		if c.arrival.Data["pin"] != "1234" {
			t.Errorf("arrival data %v, want the header's pin", c.arrival.Data)
		}
	case r := <-done:
		t.Fatalf("a call whose header gave the key was asked for it, and left (%v, %v) unqueued", r.Result, r.err)
	}
	<-done
}

// TestCallerLeavesDuringCollection: a caller who hangs up while the prompt
// plays is never handed to the contact center.
func TestCallerLeavesDuringCollection(t *testing.T) {
	store := newTestStore()
	ten := store.addTenant(t, "acme", "127.0.0.0/8", "+15550101")
	store.collectingEntry(ten, "+15550101", &cc.DigitCollection{Key: "pin", MaxDigits: 4})
	d := &testDirector{arrivals: make(chan *testCall, 1)}
	addr := startServer(t, store, d)
	res := <-startCall(t, sipua.Options{From: "2015550123", Duration: 1500 * time.Millisecond}, "sip:+15550101@"+addr)
	if res.err != nil || !res.Answered {
		t.Fatalf("caller %v (%v): want answered for the prompt", res.Result, res.err)
	}
	if res.PacketsReceived == 0 {
		t.Error("the caller heard no prompt")
	}
	select {
	case c := <-d.arrivals:
		t.Fatalf("a caller who left during the collection was queued: %+v", c.arrival)
	case <-time.After(2 * time.Second):
	}
}
