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
	// What the customer heard, in order: alice's tone, hold music, her
	// tone again, silence while muted, her tone. The recording holds the
	// packets as they came, so it is read by content, not by clock time
	// (under load the relay may lag behind the API calls).
	runs := soundRuns(t, custWAV, func(w window) byte {
		switch {
		case w.Band(1000) > -35:
			return 'T'
		case w.Level < -50:
			return 'S'
		case w.Band(1000) < -45 && w.Level > -40:
			return 'M'
		}
		return '?'
	})
	t.Logf("the customer heard %s", runs)
	if !strings.Contains(runs, "TMTS") {
		t.Errorf("the customer heard %q (T alice's tone, M hold music, S silence), want tone, music, tone, silence in that order", runs)
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

// window is half a second of a recording (sippeer.SoundRuns).
type window = sippeer.Window

// soundRuns is sippeer.SoundRuns over a WAV file.
func soundRuns(t *testing.T, wav string, classify func(window) byte) string {
	t.Helper()
	runs, err := sippeer.SoundRuns(wav, classify)
	if err != nil {
		t.Fatal(err)
	}
	return runs
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

// TestBlindTransferToAQueueReachesTheSecondAgent: a caller talks to
// alice (1000 Hz); alice transfers to Support, goes to wrap-up, and the
// call reaches bob (1500 Hz), whom the caller hears at the end. One Task,
// with bob as the agent who wrapped it up.
func TestBlindTransferToAQueueReachesTheSecondAgent(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t)
	alicePhone := e.startMediaPhone(t, sipua.Options{ToneHz: 1000}, "alice")
	bobPhone := e.startMediaPhone(t, sipua.Options{ToneHz: 1500}, "bob")
	alice, bob := e.signIn("alice"), e.signIn("bob")
	e.available(t, alice)
	callerWAV := filepath.Join(t.TempDir(), "caller.wav")
	caller := startUACall(t, sipua.Options{From: "2015550123", ToneHz: 440, Record: callerWAV}, "sip:+15550100@"+e.sipAddr)
	var it apiInteraction
	eventually(t, 30*time.Second, "alice's call", func() bool {
		select {
		case <-caller.done:
			t.Fatalf("the caller's call ended before alice answered: %v (%v)", caller.res, caller.err)
		default:
		}
		its := e.interactions(alice)
		if len(its) > 0 && its[0].State == "connected" {
			it = its[0]
			return true
		}
		return false
	})
	time.Sleep(2 * time.Second)
	var queues []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if st := e.api("GET", "/api/v1/queues", alice, nil, &queues); st != 200 {
		t.Fatalf("queues: %d", st)
	}
	support := ""
	for _, q := range queues {
		if q.Name == "Support" {
			support = q.ID
		}
	}
	var me struct {
		User struct{ ID string } `json:"user"`
	}
	e.api("GET", "/api/v1/me", bob, nil, &me)
	if st, b := e.apiBody("POST", "/api/v1/interactions/"+it.ID+"/transfer", alice, map[string]string{"agent_id": me.User.ID}); st != 409 || !strings.Contains(string(b), "not available") {
		t.Fatalf("transfer to bob who is logged out: %d %s, want 409", st, b)
	}
	if st := e.control(alice, it.ID, "transfer", map[string]string{"queue_id": support}); st != 200 {
		t.Fatalf("transfer: %d", st)
	}
	if r := alicePhone.Next(t, 20*time.Second); !r.Answered || r.HungUpBy != "remote" {
		t.Fatalf("alice's leg: %s, want released by Parley", r)
	}
	if m := e.getMe(alice); m.Presence.State != "wrap_up" {
		t.Fatalf("alice is %s after the transfer, want wrap_up", m.Presence.State)
	}
	e.available(t, bob)
	eventually(t, 30*time.Second, "bob on the call", func() bool {
		got := e.interaction(bob, it.ID)
		return got.State == "connected" && got.AgentID == me.User.ID
	})
	time.Sleep(5 * time.Second)
	res := caller.hangup(t)
	if r := bobPhone.Next(t, 20*time.Second); !r.Answered {
		t.Fatalf("bob's phone: %s", r)
	}
	if !res.Answered {
		t.Fatalf("caller: %s", res)
	}
	runs := soundRuns(t, callerWAV, func(w window) byte {
		switch {
		case w.Band(1000) > -35 && w.Band(1500) < -45:
			return 'A'
		case w.Band(1500) > -35 && w.Band(1000) < -45:
			return 'B'
		}
		return '?'
	})
	t.Logf("the caller heard %s", runs)
	if !strings.HasSuffix(runs, "AB") {
		t.Errorf("the caller heard %q (A alice, B bob), want alice, then bob to the end", runs)
	}
	var wrapped map[string]any
	if st := e.api("PUT", "/api/v1/interactions/"+it.ID+"/wrapup", bob, map[string]string{"notes": "Took over from alice."}, &wrapped); st != 200 {
		t.Fatalf("bob's wrap-up: %d", st)
	}
	eventually(t, 30*time.Second, "one Task", func() bool {
		return len(e.crmQuery("SELECT Id FROM Task WHERE CallObject = '"+it.ID+"'")) == 1
	})
	types := ""
	for _, h := range e.interaction(bob, it.ID).History {
		types += h.Type + ","
	}
	if !strings.Contains(types, "interaction.transferred,") {
		t.Errorf("history %s has no interaction.transferred", types)
	}
}

// TestRejectedOfferGoesToTheNextAgent: alice's phone (SIPp) rings and
// never answers; alice rejects in the panel: the phone's INVITE is
// cancelled, alice goes not_ready/declined, and bob gets the call.
func TestRejectedOfferGoesToTheNextAgent(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t)
	ring := sippeer.StartSIPpUAS(t, sippeer.SIPpUAS{Scenario: sippeer.ScenarioRing, Service: "alice"})
	e.setStaticContact("alice", ring.URI("alice"))
	bobPhone := e.startMediaPhone(t, sipua.Options{ToneHz: 1500}, "bob")
	alice, bob := e.signIn("alice"), e.signIn("bob")
	e.available(t, alice)
	time.Sleep(50 * time.Millisecond) // alice has been idle longest
	e.available(t, bob)
	events := e.events(alice)
	caller := startUACall(t, sipua.Options{From: "2015550123", ToneHz: 440, Duration: 3 * time.Second}, "sip:+15550100@"+e.sipAddr)
	offered := events.wait(t, "interaction.offered", func(f eventFrame) bool { return f.UserID != "" })
	if st := e.control(alice, offered.InteractionID, "reject", nil); st != 200 {
		t.Fatalf("reject: %d", st)
	}
	if m := e.getMe(alice); m.Presence.State != "not_ready" || m.Presence.Reason != "declined" {
		t.Fatalf("alice is %s/%s, want not_ready/declined", m.Presence.State, m.Presence.Reason)
	}
	if r := bobPhone.Next(t, 30*time.Second); !r.Answered {
		t.Fatalf("bob's phone: %s, want the call", r)
	}
	<-caller.done
	if got := e.interaction(bob, offered.InteractionID); got.Offers != 2 {
		t.Errorf("offers %d, want 2 (alice, then bob)", got.Offers)
	}
	res := ring.Stop()
	if !strings.Contains(res.String(), "487") && res.ExitCode != sippeer.SIPpAllCallsOK {
		t.Logf("SIPp: %s", res)
	}
}

// TestAcceptRingsThePhoneAgainWithAutoAnswer: alice's phone (SIPp) rings
// and answers only an INVITE that asks it to (Answer-Mode: Auto, as a
// phone configured to honour auto-answer requests does). Alice accepts in
// the panel: the first INVITE is cancelled, the second carries the
// auto-answer headers, the phone answers and the caller is connected.
//
// Debian 12's baresip (1.0.0) honours none of the auto-answer headers
// (no Answer-Mode, Call-Info answer-after or Alert-Info handling; newer
// baresip has sip_autoanswer), so it cannot be the phone here; see
// docs/architecture.md for what phones must support.
func TestAcceptRingsThePhoneAgainWithAutoAnswer(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t)
	e.askedToAnswerPhone(t, "alice")
	alice := e.signIn("alice")
	e.available(t, alice)
	events := e.events(alice)
	callerWAV := filepath.Join(t.TempDir(), "caller.wav")
	caller := startUACall(t, sipua.Options{From: "2015550123", ToneHz: 440, Record: callerWAV, Duration: 8 * time.Second}, "sip:+15550100@"+e.sipAddr)
	offered := events.wait(t, "interaction.offered", func(f eventFrame) bool { return f.UserID != "" })
	time.Sleep(time.Second) // it rings; nobody answers
	if got := e.interaction(alice, offered.InteractionID); got.State != "offered" {
		t.Fatalf("before accept the call is %s, want offered (the phone does not answer by itself)", got.State)
	}
	if st := e.control(alice, offered.InteractionID, "accept", nil); st != 200 {
		t.Fatalf("accept: %d", st)
	}
	events.wait(t, "interaction.connected", func(f eventFrame) bool { return f.InteractionID == offered.InteractionID })
	<-caller.done
	if caller.err != nil || !caller.res.Answered {
		t.Fatalf("caller: %v %v", caller.res, caller.err)
	}
	// SIPp echoes: the caller hears its own 440 Hz through alice's phone.
	assertTone(t, "the caller after accept", callerWAV, 440, 1000)
	if got := e.interaction(alice, offered.InteractionID); got.Offers != 1 {
		t.Errorf("offers %d, want 1: accept re-rings the same offer", got.Offers)
	}
}

// askedToAnswerPhone makes the user's phone a SIPp phone that echoes and
// answers only an INVITE with Answer-Mode: Auto (uasAutoAnswer).
func (e *testEnv) askedToAnswerPhone(t *testing.T, user string) {
	t.Helper()
	xml := filepath.Join(t.TempDir(), "uas_autoanswer.xml")
	if err := os.WriteFile(xml, []byte(uasAutoAnswer), 0o644); err != nil {
		t.Fatal(err)
	}
	phone := sippeer.StartSIPpUAS(t, sippeer.SIPpUAS{Scenario: xml, Service: user, Args: []string{"-rtp_echo"}})
	e.setStaticContact(user, phone.URI(user))
}

// uasAutoAnswer is a SIPp phone that rings (and waits for a CANCEL) unless
// the INVITE asks it to answer at once with Answer-Mode: Auto (RFC 5373).
const uasAutoAnswer = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="Parley test: a phone that honours Answer-Mode: Auto">
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="Answer-Mode: *Auto" search_in="msg" check_it="false" assign_to="auto"/>
    </action>
  </recv>
  <send>
    <![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[service]@[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <nop test="auto" next="answer"/>
  <recv request="CANCEL"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <send>
    <![CDATA[
      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [last_cseq_number] INVITE
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK" crlf="true" next="end"/>
  <label id="answer"/>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[service]@[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=- [pid][call_number] 1 IN IP[local_ip_type] [media_ip]
      s=Parley test
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=ptime:20
      a=sendrecv
    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <label id="end"/>
</scenario>
`
