package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/sipua"
	"github.com/parley-cc/parley/internal/testkit/sippeer"
)

// Call controls and click-to-dial end to end: Parley's own user agent
// plays the agents' phones and the customer behind the outbound trunk; the
// customer's recording shows what it heard when (band energy).

// janeDoe is the demo Contact whose phone is (201) 555-0123.
const janeDoe = "003gK0Con000001QCA"

// outboundCustomer starts a "customer" phone and points the demo trunk's
// outbound URI at it.
func (e *testEnv) outboundCustomer(t *testing.T, opts sipua.Options) *phoneAt {
	t.Helper()
	p := e.startMediaPhone(t, opts, "")
	host := strings.TrimPrefix(p.URI, "sip:@")
	e.admin("trunk", "set", "--tenant", demoTenant, "--name", "loopback", "--outbound-uri", "sip:"+host)
	return &phoneAt{p.Next, host}
}

// phoneAt is a phone with the host:port it listens on.
type phoneAt struct {
	next func(testing.TB, time.Duration) *sipua.Result
	host string
}

// control posts a call control and returns the status.
func (e *testEnv) control(token, id, what string, body any) int {
	e.t.Helper()
	st, b := e.apiBody("POST", "/api/v1/interactions/"+id+"/"+what, token, body)
	if st != 200 {
		e.t.Logf("%s: %d %s", what, st, b)
	}
	return st
}

// waitState waits for the interaction to reach state and returns when it did.
func (e *testEnv) waitState(token, id, state string) time.Time {
	e.t.Helper()
	eventually(e.t, 30*time.Second, "interaction "+id+" "+state, func() bool {
		var it apiInteraction
		st, b := e.apiBody("GET", "/api/v1/interactions/"+id, token, nil)
		return st == 200 && json.Unmarshal(b, &it) == nil && it.State == state
	})
	return time.Now()
}

// band is the energy of hz±50 in a recording's window, in dB.
func band(t *testing.T, wav string, from, dur, hz float64) float64 {
	t.Helper()
	db, err := sippeer.BandEnergyDB(wav, 0, from, dur, hz-50, hz+50)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestClickToDialWithHoldMuteAndDigits: alice clicks (201) 555-0123 x 9
// on Jane Doe's record. Her phone rings first; once it answered, the
// customer behind the trunk gets an INVITE for sip:+12015550123@..., then
// the digit 9 after answer. Hold gives the customer hold music instead of
// alice's 1000 Hz tone, resume brings the tone back, mute gives silence.
// The Task in devcrm is an Outbound call linked to Jane Doe.
func TestClickToDialWithHoldMuteAndDigits(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t)
	custWAV := filepath.Join(t.TempDir(), "customer.wav")
	cust := e.outboundCustomer(t, sipua.Options{ToneHz: 440, Record: custWAV})
	phone := e.startMediaPhone(t, sipua.Options{ToneHz: 1000}, "alice")
	alice := e.signIn("alice")
	e.available(t, alice)

	var it apiInteraction
	if st := e.api("POST", "/api/v1/calls", alice, map[string]string{"to": "201.555.0123 x 9", "record_id": janeDoe, "object_type": "Contact"}, &it); st != 201 {
		t.Fatalf("POST /api/v1/calls: %d", st)
	}
	if it.Customer.Number != "+12015550123" {
		t.Fatalf("customer number %q, want +12015550123", it.Customer.Number)
	}
	t0 := e.waitState(alice, it.ID, "connected")
	if me := e.getMe(alice); me.Presence.State != "busy" {
		t.Fatalf("alice is %s during the call, want busy", me.Presence.State)
	}
	sleepUntil(t0.Add(3 * time.Second))
	if st := e.control(alice, it.ID, "hold", map[string]bool{"on": true}); st != 200 {
		t.Fatalf("hold: %d", st)
	}
	if got := e.interaction(alice, it.ID); !strings.Contains(e.rawInteraction(alice, it.ID), `"held":true`) {
		t.Fatalf("interaction %+v does not say held", got)
	}
	sleepUntil(t0.Add(7 * time.Second))
	if st := e.control(alice, it.ID, "hold", map[string]bool{"on": false}); st != 200 {
		t.Fatalf("resume: %d", st)
	}
	sleepUntil(t0.Add(10 * time.Second))
	if st := e.control(alice, it.ID, "mute", map[string]bool{"on": true}); st != 200 {
		t.Fatalf("mute: %d", st)
	}
	sleepUntil(t0.Add(13 * time.Second))
	if st := e.control(alice, it.ID, "mute", map[string]bool{"on": false}); st != 200 {
		t.Fatalf("unmute: %d", st)
	}
	if st := e.control(alice, it.ID, "dtmf", map[string]string{"digits": "12"}); st != 200 {
		t.Fatalf("dtmf: %d", st)
	}
	sleepUntil(t0.Add(16 * time.Second))
	if st := e.control(alice, it.ID, "hangup", nil); st != 200 {
		t.Fatalf("hangup: %d", st)
	}
	res := cust.next(t, 30*time.Second)
	agent := phone.Next(t, 30*time.Second)
	if !res.Answered || !agent.Answered {
		t.Fatalf("customer %s; agent %s: want both answered", res, agent)
	}
	if !strings.HasPrefix(res.RequestURI, "sip:+12015550123@") {
		t.Errorf("the customer was called at %q, want sip:+12015550123@...", res.RequestURI)
	}
	if res.DTMFReceived != "912" {
		t.Errorf("the customer received DTMF %q, want the extension 9 then the panel's 12", res.DTMFReceived)
	}
	// What the customer heard, by time since the answer (the recording
	// starts then; the windows leave a second for each change to land).
	if db := band(t, custWAV, 1, 1.5, 1000); db < -40 {
		t.Errorf("before hold: alice's 1000 Hz at %.1f dB, want > -40", db)
	}
	if db := band(t, custWAV, 4, 2, 1000); db > -45 {
		t.Errorf("on hold: alice's 1000 Hz at %.1f dB, want < -45", db)
	}
	if db, _ := sippeer.LevelDB(custWAV, 0, 4, 2); db < -40 {
		t.Errorf("on hold: level %.1f dB, want hold music (> -40)", db)
	}
	if db := band(t, custWAV, 8, 1.5, 1000); db < -40 {
		t.Errorf("after resume: alice's 1000 Hz at %.1f dB, want > -40", db)
	}
	if db, _ := sippeer.LevelDB(custWAV, 0, 11, 1.5); db > -50 {
		t.Errorf("muted: level %.1f dB, want silence (< -50)", db)
	}
	if r := e.endReason(alice, it.ID); !strings.HasPrefix(r, "agent: hung up by alice") {
		t.Errorf("end_reason %q, want agent: hung up by alice ...", r)
	}
	if me := e.getMe(alice); me.Presence.State != "wrap_up" {
		t.Errorf("alice is %s after the call, want wrap_up", me.Presence.State)
	}
	var wrapped map[string]any
	if st := e.api("PUT", "/api/v1/interactions/"+it.ID+"/wrapup", alice, map[string]string{"notes": "Called Jane back."}, &wrapped); st != 200 {
		t.Fatalf("wrap-up: %d", st)
	}
	var tasks []map[string]any
	eventually(t, 30*time.Second, "the Task", func() bool {
		tasks = e.crmQuery("SELECT Id, CallType, WhoId FROM Task WHERE CallObject = '" + it.ID + "'")
		return len(tasks) == 1
	})
	if tasks[0]["CallType"] != "Outbound" || tasks[0]["WhoId"] != janeDoe {
		t.Errorf("Task %v: want CallType Outbound and WhoId %s", tasks[0], janeDoe)
	}
	hist := e.interaction(alice, it.ID).History
	var types []string
	for _, h := range hist {
		types = append(types, h.Type)
	}
	for _, want := range []string{"interaction.dialing", "interaction.connected", "interaction.held", "interaction.resumed", "interaction.muted", "interaction.unmuted", "interaction.dtmf", "interaction.ended"} {
		if !strings.Contains(strings.Join(types, ","), want) {
			t.Errorf("history %v has no %s", types, want)
		}
	}
}

// rawInteraction returns GET /api/v1/interactions/{id} as text.
func (e *testEnv) rawInteraction(token, id string) string {
	e.t.Helper()
	_, b := e.apiBody("GET", "/api/v1/interactions/"+id, token, nil)
	return string(b)
}

func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }

// TestClickToDialFailsBackToTheBreak: bob is on lunch and dials a customer
// who is busy (SIPp answers 486): the interaction ends failed with the
// reason, bob is back on lunch, and the log is written as an Outbound call.
// Numbers are normalised per call: the next call dials the next number.
func TestClickToDialFailsBackToTheBreak(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t)
	busyXML := filepath.Join(t.TempDir(), "uas_busy.xml")
	if err := os.WriteFile(busyXML, []byte(uasBusy), 0o644); err != nil {
		t.Fatal(err)
	}
	busy := sippeer.StartSIPpUAS(t, sippeer.SIPpUAS{Scenario: busyXML, Service: "customer"})
	e.admin("trunk", "set", "--tenant", demoTenant, "--name", "loopback", "--outbound-uri", "sip:"+busy.Addr())
	e.startMediaPhone(t, sipua.Options{ToneHz: 1000}, "bob")
	bob := e.signIn("bob")
	e.available(t, bob)
	e.setState(bob, "not_ready", "lunch")
	for _, tc := range []struct{ to, want string }{{"201-555-0123", "+12015550123"}, {"201-555-0124", "+12015550124"}} {
		var it apiInteraction
		if st := e.api("POST", "/api/v1/calls", bob, map[string]string{"to": tc.to}, &it); st != 201 {
			t.Fatalf("POST /api/v1/calls %s: %d", tc.to, st)
		}
		if it.Customer.Number != tc.want {
			t.Errorf("%s: number %q, want %q", tc.to, it.Customer.Number, tc.want)
		}
		if r := e.endReason(bob, it.ID); r != "customer: busy (486 Busy Here)" {
			t.Errorf("%s: end_reason %q, want customer: busy (486 Busy Here)", tc.to, r)
		}
		if got := e.interaction(bob, it.ID); got.Outcome != "failed" {
			t.Errorf("%s: outcome %q, want failed", tc.to, got.Outcome)
		}
		if me := e.getMe(bob); me.Presence.State != "not_ready" || me.Presence.Reason != "lunch" {
			t.Errorf("%s: bob is %s/%s after the failed call, want not_ready/lunch", tc.to, me.Presence.State, me.Presence.Reason)
		}
		eventually(t, 30*time.Second, "the Task", func() bool {
			tasks := e.crmQuery("SELECT Id, CallType FROM Task WHERE CallObject = '" + it.ID + "'")
			return len(tasks) == 1 && tasks[0]["CallType"] == "Outbound"
		})
	}
	st, b := e.apiBody("POST", "/api/v1/calls", bob, map[string]string{"to": "abc"})
	if st != 400 || !strings.Contains(string(b), `number \"abc\": give a phone number such as (201) 555-0123 or +12015550123`) {
		t.Errorf("bad number: %d %s", st, b)
	}
}

// uasBusy is a SIPp customer line that is always busy: 486 to every INVITE.
const uasBusy = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="Parley test: a busy customer">
  <recv request="INVITE" crlf="true"/>
  <send>
    <![CDATA[
      SIP/2.0 486 Busy Here
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
</scenario>
`
