package telephony

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/sipua"
	"github.com/parley-cc/parley/internal/testkit/sippeer"
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

// TestCollectDigitsFromSIPpPcaps: SIPp replays RFC 4733 captures whose
// events start with duration 0 (telephony.md B1: diago's reader lost
// them); the collection reads them.
func TestCollectDigitsFromSIPpPcaps(t *testing.T) {
	sippeer.RequireTool(t, sippeer.ToolSIPp)
	const pcaps = "/usr/share/sip-tester/"
	if _, err := os.Stat(pcaps + "dtmf_2833_4.pcap"); err != nil {
		t.Skipf("SIPp's DTMF captures are not installed: %v", err)
	}
	xml, err := sippeer.ScenarioXML(sippeer.ScenarioCall)
	if err != nil {
		t.Fatal(err)
	}
	play := `<exec play_pcap_audio="` + pcaps + `dtmf_2833_4.pcap"/>`
	keyed := strings.Replace(string(xml), `<exec rtp_stream="tone.wav,-1,0"/>`, play, 1)
	keyed = strings.Replace(keyed, `<pause variable="talk"/>`, `<pause milliseconds="1500"/>
  <nop><action><exec play_pcap_audio="`+pcaps+`dtmf_2833_2.pcap"/></action></nop>
  <pause milliseconds="1500"/>
  <nop><action><exec play_pcap_audio="`+pcaps+`dtmf_2833_pound.pcap"/></action></nop>
  <pause variable="talk"/>`, 1)
	if !strings.Contains(keyed, play) || !strings.Contains(keyed, "dtmf_2833_pound") {
		t.Fatal("the kit's caller scenario changed: cannot make it key in digits")
	}
	path := filepath.Join(t.TempDir(), "keyed.xml")
	if err := os.WriteFile(path, []byte(keyed), 0o644); err != nil {
		t.Fatal(err)
	}
	store := newTestStore()
	ten := store.addTenant(t, "acme", "127.0.0.0/8", "+15550101")
	store.collectingEntry(ten, "+15550101", &cc.DigitCollection{Key: "pin", MaxDigits: 8})
	d := &testDirector{arrivals: make(chan *testCall, 1)}
	addr := startServer(t, store, d)
	res := sippeer.RunSIPp(t, sippeer.SIPpRun{Scenario: path, Target: addr, Service: "+15550101",
		Keys: map[string]string{"talk_ms": "3000", "from_user": "2015550123", "from_name": "Jane"}})
	if !res.OK() {
		t.Fatalf("SIPp caller: %s", res)
	}
	select {
	case c := <-d.arrivals:
		if got := c.arrival.Data["pin"]; got != "42" {
			t.Errorf("arrival data %v, want pin=42 from the captures 4, 2 and #", c.arrival.Data)
		}
	default:
		t.Fatal("the call was not queued: its '#' did not end the collection")
	}
}

// TestCollectDigitsFromBaresip: a real softphone keys in an account number
// while the prompt plays.
func TestCollectDigitsFromBaresip(t *testing.T) {
	sippeer.RequireTool(t, sippeer.ToolBaresip)
	store := newTestStore()
	ten := store.addTenant(t, "acme", "127.0.0.0/8", "+15550101")
	store.collectingEntry(ten, "+15550101", &cc.DigitCollection{Key: "account_number", MaxDigits: 8})
	d := &testDirector{arrivals: make(chan *testCall, 1)}
	addr := startServer(t, store, d)
	caller := sippeer.StartBaresip(t, sippeer.BaresipConfig{Name: "caller", Account: "<sip:2015550123@127.0.0.1>;regint=0"})
	if err := caller.Dial("sip:+15550101@" + addr); err != nil {
		t.Fatal(err)
	}
	if err := caller.WaitCallEstablished(waitCtx(t, 30*time.Second)); err != nil {
		t.Fatalf("caller: %v", err)
	}
	if err := caller.SendDTMF("1234#"); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-d.arrivals:
		if got := c.arrival.Data["account_number"]; got != "1234" {
			t.Errorf("arrival data %v, want account_number=1234", c.arrival.Data)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the call was not queued within 30s of the caller's 1234#")
	}
	if err := caller.Hangup(); err != nil {
		t.Fatal(err)
	}
}
