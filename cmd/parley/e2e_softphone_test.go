package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-cc/parley/internal/config"
	"github.com/parley-cc/parley/internal/sipua"
	"github.com/parley-cc/parley/internal/testkit/browser"
	"github.com/parley-cc/parley/internal/testkit/sippeer"
)

// The browser softphone end to end (issue 4): devcrm's console frames the
// real panel, whose audio goes through Parley's softphone hub to a real SIP
// caller. Chromium's fake microphone plays 440 Hz; the caller sends 1000 Hz.

// softphoneBrowser starts Chromium with a 440 Hz fake microphone (or one
// that is refused) and loopback WebRTC.
func softphoneBrowser(t *testing.T, deny bool) context.Context {
	t.Helper()
	wav := filepath.Join(t.TempDir(), "mic440.wav")
	if err := sippeer.WriteToneWAV(wav, 440, 30*time.Second, 0.5); err != nil {
		t.Fatal(err)
	}
	return browser.New(t, browser.Options{FakeAudio: wav, DenyMedia: deny, WebRTC: true})
}

// softphoneSignIn signs alice in to devcrm's console and to the panel in
// its softphone, with the microphone's processing off (a tone test needs
// the tone as it is), and waits for the panel's audio.
func (e *testEnv) softphoneSignIn(t *testing.T, ctx context.Context) {
	t.Helper()
	e.crmSignIn(t, ctx, "alice@devcrm.example.com", "/console")
	inFrame[bool](t, ctx, softphoneFrame, "processing off", `(localStorage.setItem('parley.audio.processing', 'off'), true)`)
	frameSignIn(t, ctx, softphoneFrame, "alice", e.user("alice").Password)
}

// softphoneAvailable signs alice in (softphoneSignIn), waits for her
// audio and makes her available in the panel.
func (e *testEnv) softphoneAvailable(t *testing.T, ctx context.Context) {
	t.Helper()
	e.softphoneSignIn(t, ctx)
	audioConnected(t, ctx)
	frameState(t, ctx, softphoneFrame, "available")
	inFrame[bool](t, ctx, softphoneFrame, "available", `document.getElementById('presence').value === 'available'`)
}

// audioConnected waits for the panel's Audio line to say connected.
func audioConnected(t *testing.T, ctx context.Context) {
	t.Helper()
	inFrame[bool](t, ctx, softphoneFrame, "audio connected", `document.body.dataset.audio === 'connected'`)
}

// frameStats samples the panel's inbound audio (getStats) into
// window.testStats every 200 ms.
const frameStats = `(window.testStatsTimer = window.testStatsTimer || setInterval(async () => {
	const pc = parleyPanel.softphone && parleyPanel.softphone.pc;
	if (!pc) return;
	for (const r of (await pc.getStats()).values()) {
		if (r.type === 'inbound-rtp' && r.kind === 'audio') window.testStats = { packets: r.packetsReceived, energy: r.totalAudioEnergy || 0 };
	}
}, 200), true)`

// browserHearsAudio waits until the panel's inbound packets and audio
// energy have risen.
func browserHearsAudio(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	inFrame[bool](t, ctx, softphoneFrame, "stats sampling", frameStats)
	first := inFrame[map[string]float64](t, ctx, softphoneFrame, what, `window.testStats && window.testStats.packets > 0 && window.testStats`)
	inFrame[bool](t, ctx, softphoneFrame, what+" rising", fmt.Sprintf(`window.testStats.packets > %v + 50 && window.testStats.energy > %v`, first["packets"], first["energy"]))
}

// TestSoftphoneTalksThroughTheBrowser is the walkthrough: alice
// takes a real SIP call in devcrm's console with no phone; the panel rings
// and she accepts; each side hears the other; keypad digits reach the
// caller; leaving and reloading the CRM page mid-call gives the caller hold audio,
// then alice again, on the same call, with one audio leg left.
func TestSoftphoneTalksThroughTheBrowser(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t, withBrowserAgents("alice"))
	ctx := softphoneBrowser(t, false)
	e.softphoneAvailable(t, ctx)

	custWAV := filepath.Join(t.TempDir(), "customer.wav")
	cust := startUACall(t, sipua.Options{From: "2015550123", ToneHz: 1000, Record: custWAV}, "sip:+15550100@"+e.sipAddr)
	inFrame[bool](t, ctx, softphoneFrame, "the offer rings in the panel", `!document.getElementById('offer').hidden && document.body.dataset.ring === 'running'`)
	token := e.signIn("alice")
	it := e.newestInteraction(token, "the offer", func(it apiInteraction) bool { return true })
	inFrame[bool](t, ctx, softphoneFrame, "accept", `(document.getElementById('offer-accept').click(), true)`)
	e.newestInteraction(token, "the call connected", func(x apiInteraction) bool { return x.ID == it.ID && x.State == "connected" })
	inFrame[bool](t, ctx, softphoneFrame, "the ring stops", `!document.body.dataset.ring`)
	browserHearsAudio(t, ctx, "the caller's audio in the browser")
	time.Sleep(2 * time.Second) // two seconds of alice's voice for the caller

	// The keypad: RFC 4733 from the browser, through Parley, to the caller.
	inFrame[bool](t, ctx, softphoneFrame, "keypad", `(document.getElementById('call-keypad-toggle').click(),
		document.querySelector('#keypad [data-digit="4"]').click(), true)`)
	time.Sleep(300 * time.Millisecond)
	inFrame[bool](t, ctx, softphoneFrame, "keypad 2", `(document.querySelector('#keypad [data-digit="2"]').click(), true)`)
	time.Sleep(time.Second)

	// alice leaves the CRM page and comes back (a Classic page reloads on
	// every navigation; a reload alone is back in half a second, too soon
	// to hear the hold audio in between).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // the caller hears hold audio meanwhile
	if err := chromedp.Do(ctx, chromedp.Navigate(e.crm.URL()+"/console")); err != nil {
		t.Fatal(err)
	}
	inFrame[bool](t, ctx, softphoneFrame, "the panel is back", `!document.getElementById('main').hidden`)
	inHost[bool](t, ctx, "the softphone shows", `(() => { const b = document.getElementById('utility-phone');
		if (b && b.getAttribute('aria-expanded') !== 'true') b.click(); return true; })()`)
	audioConnected(t, ctx)
	browserHearsAudio(t, ctx, "the caller's audio after the reload")
	if x := e.interaction(token, it.ID); x.State != "connected" {
		t.Fatalf("after the reload the call is %s, want connected", x.State)
	}
	if n := e.m.Audio.hub.Legs(); n != 1 {
		t.Errorf("%d audio legs after the reload, want 1", n)
	}
	time.Sleep(2 * time.Second) // alice again
	if st := e.control(token, it.ID, "hangup", nil); st != 200 {
		t.Fatalf("hangup: %d", st)
	}
	res := cust.hangup(t)
	if !res.Answered {
		t.Fatalf("caller: %s", res)
	}
	if res.DTMFReceived != "42" {
		t.Errorf("the caller received digits %q, want the panel's 42", res.DTMFReceived)
	}
	runs := soundRuns(t, custWAV, func(w window) byte {
		switch {
		case w.Band(440) > -35:
			return 'T'
		case w.Band(440) < -45 && w.Level > -40:
			return 'M'
		}
		return '?'
	})
	t.Logf("the caller heard %s", runs)
	if !strings.Contains(runs, "TMT") {
		t.Errorf("the caller heard %q (T alice's 440 Hz, M hold audio), want alice, hold audio while the page reloaded, alice again", runs)
	}
}

// TestSoftphoneTwoTabsOneLeg: alice with two CRM tabs has one audio leg;
// the other tab says the audio is in another tab.
func TestSoftphoneTwoTabsOneLeg(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t, withBrowserAgents("alice"))
	ctx := softphoneBrowser(t, false)
	e.softphoneSignIn(t, ctx)
	audioConnected(t, ctx)
	tab, cancel := chromedp.NewContext(ctx)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate(e.crm.URL()+"/console")); err != nil {
		t.Fatal(err)
	}
	inFrame[bool](t, tab, softphoneFrame, "the second tab is signed in", `!document.getElementById('main').hidden`)
	inFrame[bool](t, tab, softphoneFrame, "the second tab defers", `document.getElementById('audio-text').textContent.includes('another tab')`)
	time.Sleep(2 * time.Second)
	if n := e.m.Audio.hub.Legs(); n != 1 {
		t.Errorf("%d audio legs with two tabs, want 1", n)
	}
}

// TestSoftphoneMicrophoneDenied: a refused microphone gets a message that
// says what to do, and alice cannot be made available, in the panel or by
// the API.
func TestSoftphoneMicrophoneDenied(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t, withBrowserAgents("alice"))
	ctx := softphoneBrowser(t, true)
	e.softphoneSignIn(t, ctx)
	msg := inFrame[string](t, ctx, softphoneFrame, "the blocked message", `document.body.dataset.audio === 'blocked' && document.getElementById('audio-text').textContent`)
	if !strings.Contains(msg, "Allow for "+e.crm.URL()) {
		t.Errorf("the panel says %q; want it to say how to allow the microphone for devcrm's site %s (the page in the address bar)", msg, e.crm.URL())
	}
	inFrame[bool](t, ctx, softphoneFrame, "Available disabled", `(() => { const o = [...document.getElementById('presence').options].find(o => o.value === 'available'); return o && o.disabled; })()`)
	token := e.signIn("alice")
	st, body := e.apiBody("PUT", "/api/v1/me/state", token, map[string]string{"state": "available"})
	if st != 409 || !strings.Contains(string(body), "audio is not connected") {
		t.Errorf("available with a dead microphone: %d %s, want 409 saying the audio is not connected", st, body)
	}
	if n := e.m.Audio.hub.Legs(); n != 0 {
		t.Errorf("%d audio legs with the microphone refused, want 0", n)
	}
}

// TestExternalNumberAgent: bob takes calls on his mobile, which Parley
// rings through the tenant's trunk: the offer INVITEs
// sip:+12015550199@<trunk>, and once that phone answers, bob and the
// caller hear each other.
func TestExternalNumberAgent(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t)
	mobileWAV := filepath.Join(t.TempDir(), "mobile.wav")
	mobile := e.outboundCustomer(t, sipua.Options{ToneHz: 440, Record: mobileWAV, Duration: 4 * time.Second})
	e.admin("user", "set", "--tenant", demoTenant, "--username", "bob", "--endpoint", "external", "--external-number", "(201) 555-0199")
	bob := e.signIn("bob")
	e.available(t, bob)
	callerWAV := filepath.Join(t.TempDir(), "caller.wav")
	caller := startUACall(t, sipua.Options{From: "2015550123", ToneHz: 1000, Record: callerWAV}, "sip:+15550100@"+e.sipAddr)
	res := mobile.next(t, 30*time.Second)
	if !res.Answered || !strings.HasPrefix(res.RequestURI, "sip:+12015550199@") {
		t.Fatalf("bob's mobile: %s, called at %q; want answered at sip:+12015550199@...", res, res.RequestURI)
	}
	if db, err := sippeer.BandEnergyDB(mobileWAV, 0, 1, 2, 950, 1050); err != nil || db < -35 {
		t.Errorf("bob's mobile heard the caller's 1000 Hz at %.1f dB (%v), want above -35", db, err)
	}
	cres := caller.hangup(t)
	if db, err := sippeer.BandEnergyDB(callerWAV, 0, 0, 0, 390, 490); err != nil || db < -45 {
		t.Errorf("the caller heard bob's 440 Hz at %.1f dB (%v), want it", db, err)
	}
	if !cres.Answered {
		t.Fatalf("caller: %s", cres)
	}
}

// TestCallGoesBackToTheQueueWhenTheBrowserAgentIsGone: alice takes a real
// SIP call in the browser and then her browser leaves (closed, or the
// network gone) and does not come back: after webrtc.grace and
// webrtc.rescue the caller, who heard hold audio meanwhile, goes back to
// the queue and bob's SIP phone gets the call; alice is out of routing
// (not ready, connection-lost).
func TestCallGoesBackToTheQueueWhenTheBrowserAgentIsGone(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t, withBrowserAgents("alice"), withConfig(func(c *config.Config) {
		c.WebRTC.Grace = config.Duration(time.Second)
		c.WebRTC.Rescue = config.Duration(5 * time.Second)
	}))
	bobPhone := e.startMediaPhone(t, sipua.Options{ToneHz: 1500}, "bob")
	ctx := softphoneBrowser(t, false)
	e.softphoneAvailable(t, ctx)

	callerWAV := filepath.Join(t.TempDir(), "caller.wav")
	caller := startUACall(t, sipua.Options{From: "2015550123", ToneHz: 1000, Record: callerWAV}, "sip:+15550100@"+e.sipAddr)
	inFrame[bool](t, ctx, softphoneFrame, "the offer rings in the panel", `!document.getElementById('offer').hidden`)
	alice := e.signIn("alice")
	it := e.newestInteraction(alice, "the offer", func(apiInteraction) bool { return true })
	inFrame[bool](t, ctx, softphoneFrame, "accept", `(document.getElementById('offer-accept').click(), true)`)
	e.newestInteraction(alice, "the call connected", func(x apiInteraction) bool { return x.ID == it.ID && x.State == "connected" })
	browserHearsAudio(t, ctx, "the caller's audio in the browser")
	time.Sleep(2 * time.Second) // alice's voice (440 Hz) for the caller

	// alice's browser leaves and does not come back; bob goes available.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	bob := e.signIn("bob")
	e.available(t, bob)
	sam := e.signIn("sam") // the supervisor sees the call throughout
	var me apiMe
	e.api("GET", "/api/v1/me", bob, nil, &me)
	eventually(t, 60*time.Second, "the call with bob", func() bool {
		x := e.interaction(sam, it.ID)
		return x.State == "connected" && x.AgentID == me.User.ID
	})
	var history []string
	for _, h := range e.interaction(sam, it.ID).History {
		history = append(history, h.Type)
	}
	if !slices.Contains(history, "interaction.transferred") {
		t.Errorf("history %v has no interaction.transferred", history)
	}
	if p := e.getMe(alice).Presence; p.State != "not_ready" || p.Reason != "connection-lost" {
		t.Errorf("alice is %s (%s) after her call was taken back, want not_ready (connection-lost)", p.State, p.Reason)
	}
	if !strings.Contains(e.logs.String(), "the call went back to its queue") {
		t.Error("Parley did not log the rescue")
	}
	time.Sleep(3 * time.Second) // bob's voice (1500 Hz) for the caller
	res := caller.hangup(t)
	if !res.Answered {
		t.Fatalf("caller: %s", res)
	}
	if r := bobPhone.Next(t, 20*time.Second); !r.Answered {
		t.Fatalf("bob's phone: %s", r)
	}
	runs := soundRuns(t, callerWAV, func(w window) byte {
		switch {
		case w.Band(440) > -35 && w.Band(1500) < -45:
			return 'A'
		case w.Band(1500) > -35 && w.Band(440) < -45:
			return 'B'
		}
		return '?'
	})
	t.Logf("the caller heard %s", runs)
	if !strings.Contains(runs, "A") || !strings.HasSuffix(runs, "B") {
		t.Errorf("the caller heard %q (A alice, B bob), want alice, then bob to the end", runs)
	}
}
