package panel_test

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/parley-cc/parley/internal/testkit/browser"
	"github.com/parley-cc/parley/internal/testkit/fakecrm"
	"github.com/parley-cc/parley/internal/testkit/sippeer"
)

// The browser softphone in real Chromium with a fake microphone playing
// 440 Hz, framed by the fake CRM at 260x700, against the stand-in server
// of standin_test.go (pion answering softphone.offer on the event socket).

const frameWait = 20 * time.Second

// softphoneEnv is one browser, one fake CRM and one stand-in.
type softphoneEnv struct {
	t    *testing.T
	ctx  context.Context // the browser's first tab
	crm  *fakecrm.Server
	s    *standIn
	host string // the fake CRM page framing the panel
}

func newSoftphoneEnv(t *testing.T, deny bool) *softphoneEnv {
	wav := filepath.Join(t.TempDir(), "mic-440.wav")
	if err := sippeer.WriteToneWAV(wav, 440, 10*time.Second, 0.5, sippeer.WithSampleRate(48000)); err != nil {
		t.Fatal(err)
	}
	ctx := browser.New(t, browser.Options{FakeAudio: wav, DenyMedia: deny, WebRTC: true})
	crm := fakecrm.Start(t)
	s := newStandIn(t, crm.URL)
	e := &softphoneEnv{t: t, ctx: ctx, crm: crm, s: s}
	e.host = crm.Lightning(s.srv.URL+"/cti/salesforce.html", nil)
	// Tone tests need the browser's voice processing off (the advanced
	// setting), set on the panel's origin before the panel starts.
	if err := chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+"/api/v1/queues")); err != nil {
		t.Fatal(err)
	}
	browser.Eval[bool](t, ctx, `(localStorage.setItem('parley.audio.processing', 'off'), true)`)
	return e
}

// tab opens another tab; closing it (the returned func) closes the page.
func (e *softphoneEnv) tab(name string) (context.Context, context.CancelFunc) {
	tctx, cancel := chromedp.NewContext(e.ctx)
	e.t.Cleanup(cancel)
	if err := chromedp.Do(tctx); err != nil {
		e.t.Fatalf("open %s: %v", name, err)
	}
	return tctx, cancel
}

// open shows the fake CRM with the panel in the tab of ctx.
func (e *softphoneEnv) open(ctx context.Context) {
	e.t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(e.host)); err != nil {
		e.t.Fatal(err)
	}
	in[bool](e.t, ctx, "start", `!document.getElementById('signin').hidden || !document.getElementById('main').hidden`)
}

func (e *softphoneEnv) signIn(ctx context.Context) {
	e.t.Helper()
	in[bool](e.t, ctx, "sign-in form", `!document.getElementById('signin').hidden`)
	in[bool](e.t, ctx, "fill in", `(document.getElementById('signin-username').value = 'agent',
		document.getElementById('signin-password').value = 'pw',
		document.getElementById('signin-submit').click(), true)`)
	in[bool](e.t, ctx, "signed in", `!document.getElementById('main').hidden`)
}

// in evaluates expr in the panel frame until it is truthy.
func in[T any](t *testing.T, ctx context.Context, what, expr string) T {
	t.Helper()
	v, err := browser.InFrame[T](ctx, "#panel", expr, frameWait)
	if err != nil {
		audio, _ := browser.InFrame[string](ctx, "#panel", `document.getElementById('audio-text').textContent + ' | ' + document.getElementById('status').textContent || 'none'`, time.Second)
		t.Fatalf("panel: %s: %v (the panel shows: %s)", what, err, audio)
	}
	return v
}

// startStats makes the page sample its inbound audio stats every 200 ms
// into window.testStats.
const startStats = `(window.testStatsTimer = window.testStatsTimer || setInterval(async () => {
	const pc = parleyPanel.softphone && parleyPanel.softphone.pc;
	if (!pc) return;
	for (const r of (await pc.getStats()).values()) {
		if (r.type === 'inbound-rtp' && r.kind === 'audio') window.testStats = { packets: r.packetsReceived, energy: r.totalAudioEnergy || 0 };
	}
}, 200), true)`

func TestSoftphoneAudioDigitsRingAndReload(t *testing.T) {
	e := newSoftphoneEnv(t, false)
	onNewDocument(t, e.ctx, recordCSP)
	e.open(e.ctx)
	e.signIn(e.ctx)
	in[bool](t, e.ctx, "audio connected", `document.body.dataset.audio === 'connected' && document.getElementById('audio-text').textContent === 'Audio: connected'`)
	if offers, legs, _ := e.s.counts(); offers != 1 || legs != 1 {
		t.Fatalf("offers %d, legs %d; want one of each", offers, legs)
	}
	leg := e.s.lastLeg()

	// The browser receives the stand-in's tone: inbound packets and audio
	// energy rise.
	in[bool](t, e.ctx, "stats sampling", startStats)
	first := in[map[string]float64](t, e.ctx, "inbound audio", `window.testStats && window.testStats.packets > 0 && window.testStats`)
	in[bool](t, e.ctx, "more inbound audio", fmt.Sprintf(`window.testStats.packets > %v + 50 && window.testStats.energy > %v`, first["packets"], first["energy"]))
	// The level meter moves with the fake microphone.
	in[bool](t, e.ctx, "level meter", `Number(document.body.dataset.level) > 20 && !document.getElementById('audio-meter').hidden`)

	// The stand-in hears the fake microphone's 440 Hz.
	eventually(t, "2 s of the browser's audio", func() bool { return len(leg.received().Channels[0]) >= 16000 })
	a := leg.received()
	from := float64(len(a.Channels[0]))/8000 - 1.5
	hz, err := a.DominantFrequency(0, from, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the stand-in received %.1f Hz from the browser", hz)
	if math.Abs(hz-440) > 15 {
		t.Errorf("the stand-in received %.0f Hz from the browser; want 440", hz)
	}

	// Audio is live, so the agent may go available.
	in[bool](t, e.ctx, "Available enabled", `(() => { const o = [...document.getElementById('presence').options].find(o => o.value === 'available'); return o && !o.disabled; })()`)

	// The keypad in the tab with the audio sends RFC 4733 digits in the
	// media, not through the REST API.
	in[bool](t, e.ctx, "press 1 2 #", `(['1','2','#'].forEach((d, i) => setTimeout(() => document.querySelector('#keypad button[data-digit="' + d + '"]').click(), i * 400)), true)`)
	eventually(t, "digits 12#", func() bool { return leg.gotDigits() == "12#" })
	e.s.mu.Lock()
	if e.s.posted != nil {
		t.Errorf("digits also went through POST .../dtmf: %v", e.s.posted)
	}
	e.s.mu.Unlock()

	// An offer rings (WebAudio) while it is shown, and stops with it.
	e.s.offer("int_1")
	in[bool](t, e.ctx, "offer shown", `!document.getElementById('offer').hidden`)
	in[bool](t, e.ctx, "ring tone", `document.body.dataset.ring === 'running'`)
	in[bool](t, e.ctx, "open the audio settings", `(document.getElementById('audio-settings').open = true, true)`)
	browser.ElementScreenshot(t, e.ctx, "", "softphone-ringing", "#panel")
	in[bool](t, e.ctx, "close the audio settings", `(document.getElementById('audio-settings').open = false, true)`)
	e.s.mu.Lock()
	e.s.state, e.s.reason, e.s.offerID = "not_ready", "Break", ""
	e.s.mu.Unlock()
	e.s.publish("agent.state", map[string]any{"presence": e.s.presence()})
	in[bool](t, e.ctx, "ring stops", `document.getElementById('offer').hidden && !document.body.dataset.ring`)
	browser.ElementScreenshot(t, e.ctx, "", "softphone-connected", "#panel")

	// Another microphone: the live leg gets the new track (replaceTrack),
	// with no new offer.
	mics := in[int](t, e.ctx, "microphones listed", `document.getElementById('audio-mic').options.length`)
	if mics > 2 {
		in[bool](t, e.ctx, "choose another microphone", `(() => { window.testTrack = parleyPanel.softphone.pc.getSenders()[0].track;
			const s = document.getElementById('audio-mic'); s.value = s.options[2].value; s.dispatchEvent(new Event('change')); return true; })()`)
		in[bool](t, e.ctx, "new track sent", `(() => { const tr = parleyPanel.softphone.pc.getSenders()[0].track; return tr && tr !== window.testTrack && tr.readyState === 'live'; })()`)
		if offers, _, _ := e.s.counts(); offers != 1 {
			t.Errorf("changing the microphone made %d offers; want none", offers-1)
		}
	} else {
		t.Logf("only %d microphone choices: the change of microphone is not tried", mics)
	}

	// Another speaker: the remote audio plays there (setSinkId).
	speakers := in[int](t, e.ctx, "speakers listed", `document.getElementById('audio-speaker').options.length`)
	if speakers > 1 {
		in[bool](t, e.ctx, "choose a speaker", `(() => { const s = document.getElementById('audio-speaker'); s.value = s.options[s.options.length - 1].value; s.dispatchEvent(new Event('change')); return true; })()`)
		in[bool](t, e.ctx, "the audio plays on it", `document.getElementById('remote-audio').sinkId === document.getElementById('audio-speaker').value`)
	} else {
		t.Logf("only %d speaker choices: the change of speaker is not tried", speakers)
	}

	// A new socket (the server restarted, the network blipped) makes a new offer.
	e.s.dropSockets()
	eventually(t, "an offer on the new socket", func() bool { o, l, _ := e.s.counts(); return o == 2 && l == 2 })
	in[bool](t, e.ctx, "connected after the reconnect", `document.body.dataset.audio === 'connected'`)
	eventually(t, "the first leg closed", leg.isClosed)

	// softphone.closed: a lost leg comes back; one replaced by another
	// panel does not, until Retry.
	e.s.closeLeg("ice failed")
	eventually(t, "an offer after softphone.closed", func() bool { o, _, _ := e.s.counts(); return o == 3 })
	in[bool](t, e.ctx, "connected after softphone.closed", `document.body.dataset.audio === 'connected'`)
	e.s.closeLeg("replaced by another panel")
	in[bool](t, e.ctx, "taken over", `document.body.dataset.audio === 'replaced' && !document.getElementById('audio-retry').hidden`)
	if offers, _, _ := e.s.counts(); offers != 3 {
		t.Fatalf("%d offers after being replaced; want 3", offers)
	}
	in[bool](t, e.ctx, "Retry", `(document.getElementById('audio-retry').click(), true)`)
	in[bool](t, e.ctx, "connected after Retry", `document.body.dataset.audio === 'connected'`)
	leg = e.s.lastLeg()
	// Control frames carry no seq and are not counted as events: the
	// socket resumes after the two events published (seq 1 and 2).
	if seq := in[float64](t, e.ctx, "last seq", `parleyPanel.state.events.lastSeq || -1`); seq != 2 {
		t.Errorf("lastSeq = %v after two events and several control frames; want 2", seq)
	}
	// A softphone.closed about an earlier offer changes nothing (the
	// queue event after it shows it was read).
	e.s.control(map[string]any{"type": "softphone.closed", "id": "an-earlier-offer", "data": map[string]any{"reason": "replaced by another panel"}})
	e.s.publish("queue.status", map[string]any{"queue": map[string]any{"id": "q1", "name": "Support", "waiting": 0, "longest_wait_seconds": 0, "agents": map[string]any{"available": 1}}})
	in[bool](t, e.ctx, "the queue event", `document.getElementById('queues').textContent.includes('Support')`)
	if st := in[string](t, e.ctx, "audio state", `document.body.dataset.audio`); st != "connected" {
		t.Errorf("after a stale softphone.closed the audio is %s; want connected", st)
	}

	// The panel's CSP let all of it through.
	if v := in[string](t, e.ctx, "CSP violations", `window.cspViolations && JSON.stringify(window.cspViolations)`); v != "[]" {
		t.Errorf("the panel's CSP blocked: %s", v)
	}

	// A reload makes a new offer; the old PeerConnection closes.
	if err := chromedp.Do(e.ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	in[bool](t, e.ctx, "connected again", `document.body.dataset.audio === 'connected'`)
	eventually(t, "an offer from the new page", func() bool { o, l, _ := e.s.counts(); return o == 5 && l == 5 })
	eventually(t, "the old leg closed", leg.isClosed)
	if e.s.lastLeg().isClosed() {
		t.Error("the new leg is closed")
	}

	// Signing out releases the leg on the socket.
	_, _, released := e.s.counts()
	in[bool](t, e.ctx, "sign out", `(() => { const s = document.getElementById('presence'); s.value = 'signout'; s.dispatchEvent(new Event('change')); return true; })()`)
	in[bool](t, e.ctx, "signed out", `!document.getElementById('signin').hidden && document.getElementById('audio').hidden`)
	eventually(t, "softphone.release", func() bool { _, _, r := e.s.counts(); return r > released })
	eventually(t, "the leg closed on sign-out", e.s.lastLeg().isClosed)
}

func TestSoftphoneOneTabHasTheAudio(t *testing.T) {
	t.Run("web locks", func(t *testing.T) { oneTabHasTheAudio(t, false) })
	// Without Web Locks the tabs elect the leader over the BroadcastChannel.
	t.Run("broadcast only", func(t *testing.T) { oneTabHasTheAudio(t, true) })
}

// noLocks removes navigator.locks from every page the tab of ctx loads.
func noLocks(t *testing.T, ctx context.Context) {
	t.Helper()
	onNewDocument(t, ctx, `delete Navigator.prototype.locks`)
}

// onNewDocument runs src first in every document (frames too) the tab of ctx loads.
func onNewDocument(t *testing.T, ctx context.Context, src string) {
	t.Helper()
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
}

// recordCSP makes every document record the Content Security Policy
// violations it meets in window.cspViolations.
const recordCSP = `window.cspViolations = []; document.addEventListener('securitypolicyviolation', e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI))`

func oneTabHasTheAudio(t *testing.T, withoutLocks bool) {
	e := newSoftphoneEnv(t, false)
	a, closeA := e.tab("tab A")
	if withoutLocks {
		noLocks(t, a)
	}
	e.open(a)
	e.signIn(a)
	in[bool](t, a, "A connected", `document.body.dataset.audio === 'connected'`)
	if withoutLocks {
		in[bool](t, a, "no Web Locks", `!navigator.locks`)
	}
	b, _ := e.tab("tab B")
	if withoutLocks {
		noLocks(t, b)
	}
	e.open(b)
	in[bool](t, b, "B shows the audio of A", `document.body.dataset.audio === 'other-tab' && document.getElementById('audio-text').textContent === 'Audio: in another tab (connected)'`)
	if offers, _, _ := e.s.counts(); offers != 1 {
		t.Fatalf("%d offers with two tabs; want 1", offers)
	}
	// B has no audio leg: its keypad asks the server.
	in[bool](t, b, "B presses 7", `(document.querySelector('#keypad button[data-digit="7"]').click(), true)`)
	eventually(t, "the digit through the API", func() bool {
		e.s.mu.Lock()
		defer e.s.mu.Unlock()
		return strings.Join(e.s.posted, "") == "7"
	})
	first := e.s.lastLeg()
	closeA()
	in[bool](t, b, "B takes over", `document.body.dataset.audio === 'connected' && document.getElementById('audio-text').textContent === 'Audio: connected'`)
	eventually(t, "the second offer", func() bool { o, _, _ := e.s.counts(); return o == 2 })
	eventually(t, "A's leg closed", first.isClosed)
}

func TestSoftphoneMicrophoneDenied(t *testing.T) {
	e := newSoftphoneEnv(t, true)
	e.open(e.ctx)
	e.signIn(e.ctx)
	msg := in[string](t, e.ctx, "blocked", `document.body.dataset.audio === 'blocked' && document.getElementById('audio-text').textContent`)
	hostURL, err := url.Parse(e.host)
	if err != nil {
		t.Fatal(err)
	}
	// The permission of a framed page is kept under the page in the
	// address bar: the message names the CRM's site, not Parley's.
	for _, want := range []string{"Audio: microphone blocked", "lock", "Allow for " + hostURL.Scheme + "://" + hostURL.Host + " (the site in the address bar)", "Retry"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the Audio line %q lacks %q", msg, want)
		}
	}
	in[bool](t, e.ctx, "Retry shown", `!document.getElementById('audio-retry').hidden`)
	in[bool](t, e.ctx, "Available disabled", `(() => { const o = [...document.getElementById('presence').options].find(o => o.value === 'available'); return o && o.disabled && o.textContent === 'Available (needs audio)'; })()`)
	// The server refuses too, and the panel shows its message.
	in[bool](t, e.ctx, "force available", `(() => { const s = document.getElementById('presence'); s.value = 'available'; s.dispatchEvent(new Event('change')); return true; })()`)
	in[bool](t, e.ctx, "409 shown", `document.getElementById('status').textContent.includes('its audio is not connected')`)
	if offers, _, _ := e.s.counts(); offers != 0 {
		t.Errorf("%d offers without a microphone", offers)
	}
	// The other failures of getUserMedia say what to do.
	for name, want := range map[string]string{
		"NotFoundError":    "No microphone was found: plug in a headset or microphone, then Retry.",
		"NotReadableError": "The microphone is in use by another program",
	} {
		got := in[string](t, e.ctx, name, fmt.Sprintf(`import(document.querySelector('script[type=module]').src.replace('panel.js', 'softphone.js')).then(m => m.micProblem({ name: %q }))`, name))
		if !strings.Contains(got, want) {
			t.Errorf("%s: %q; want %q", name, got, want)
		}
	}
	browser.ElementScreenshot(t, e.ctx, "", "softphone-blocked", "#panel")

	// Allowing the microphone (as the lock icon does) connects the audio
	// without a click on Retry.
	err = chromedp.Do(e.ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := cdp.Call(ctx, chromedp.FromContext(ctx).Browser, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "microphone"}, Setting: cdpbrowser.PermissionSettingGranted,
			Origin: e.crm.URL, EmbeddedOrigin: e.s.srv.URL})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	in[bool](t, e.ctx, "connected once allowed", `document.body.dataset.audio === 'connected'`)
}

func TestSoftphoneNotUsedForSIPAgents(t *testing.T) {
	e := newSoftphoneEnv(t, false)
	e.s.mu.Lock()
	e.s.enabled = false
	e.s.mu.Unlock()
	e.open(e.ctx)
	e.signIn(e.ctx)
	in[bool](t, e.ctx, "not used", `document.body.dataset.audio === 'not-used' && document.getElementById('audio-text').textContent === 'Audio: not used: this agent takes calls on a SIP phone'`)
	in[bool](t, e.ctx, "no audio settings", `document.getElementById('audio-settings').hidden && document.getElementById('audio-meter').hidden`)
	in[bool](t, e.ctx, "Available enabled", `(() => { const o = [...document.getElementById('presence').options].find(o => o.value === 'available'); return o && !o.disabled; })()`)
	in[bool](t, e.ctx, "go available", `(() => { const s = document.getElementById('presence'); s.value = 'available'; s.dispatchEvent(new Event('change')); return true; })()`)
	in[bool](t, e.ctx, "available", `parleyPanel.state.presence.state === 'available'`)
	if offers, _, _ := e.s.counts(); offers != 0 {
		t.Errorf("%d offers for an agent on a SIP phone", offers)
	}
}
