package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-cc/parley/internal/sipua"
	"github.com/parley-cc/parley/internal/testkit/browser"
	"github.com/parley-cc/parley/internal/testkit/fakecrm"
)

// The agent panel in real Chromium, framed by a fake CRM page on its own
// origin that speaks the Open CTI postMessage protocol (internal/testkit/
// fakecrm): sign-in, presence, a real SIP call with its screen pop,
// wrap-up and the Task, two CRM tabs, a reload mid-call, click-to-dial,
// and the launches that must be refused.

// panelWait is how long a panel test waits for the page to show a state.
const panelWait = 20 * time.Second

// allowOrigin adds a CRM origin to the demo tenant's.
func (e *testEnv) allowOrigin(origin string) {
	e.t.Helper()
	ten, err := e.m.Store.TenantBySlug(e.ctx, "acme")
	if err != nil {
		e.t.Fatal(err)
	}
	ten.CRMOrigins = append(ten.CRMOrigins, origin)
	if err := e.m.Store.UpdateTenant(e.ctx, ten); err != nil {
		e.t.Fatal(err)
	}
}

// panelURL is the CTI adapter URL of this Parley.
func (e *testEnv) panelURL() string { return e.http + "/cti/salesforce.html" }

// inPanel evaluates expr in the panel frame of the page of ctx until it is
// truthy, failing the test after panelWait.
func inPanel[T any](t *testing.T, ctx context.Context, what, expr string) T {
	t.Helper()
	return inFrame[T](t, ctx, "#panel", what, expr)
}

// inFrame evaluates expr in the panel framed by the iframe frameSel (the
// fake CRM's #panel, devcrm's #softphone-frame) until it is truthy,
// failing the test after panelWait.
func inFrame[T any](t *testing.T, ctx context.Context, frameSel, what, expr string) T {
	t.Helper()
	v, err := browser.InFrame[T](ctx, frameSel, expr, panelWait)
	if err != nil {
		t.Fatalf("panel %s: %s: %v", frameSel, what, err)
	}
	return v
}

// inHost evaluates expr in the CRM page of ctx until it is truthy.
func inHost[T any](t *testing.T, ctx context.Context, what, expr string) T {
	t.Helper()
	v, err := browser.WaitFor[T](ctx, expr, panelWait)
	if err != nil {
		t.Fatalf("CRM page: %s: %v", what, err)
	}
	return v
}

// shot saves a screenshot of the panel frame.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	browser.ElementScreenshot(t, ctx, os.Getenv("PARLEY_SCREENSHOTS"), name, "#panel")
}

// openPanel opens the CRM page url in the tab of ctx and waits for the
// panel's sign-in form or main view.
func openPanel(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	inPanel[bool](t, ctx, "start", `!document.getElementById('signin').hidden || !document.getElementById('main').hidden`)
}

// panelSignIn signs in through the panel's form.
func panelSignIn(t *testing.T, ctx context.Context, user, password string) {
	t.Helper()
	frameSignIn(t, ctx, "#panel", user, password)
}

// frameSignIn signs in through the form of the panel in the iframe frameSel.
func frameSignIn(t *testing.T, ctx context.Context, frameSel, user, password string) {
	t.Helper()
	inFrame[bool](t, ctx, frameSel, "sign-in form", `!document.getElementById('signin').hidden`)
	inFrame[bool](t, ctx, frameSel, "fill in", fmt.Sprintf(`(document.getElementById('signin-username').value = %q,
		document.getElementById('signin-password').value = %q,
		document.getElementById('signin-submit').click(), true)`, user, password))
	inFrame[bool](t, ctx, frameSel, "signed in", `!document.getElementById('main').hidden && document.getElementById('presence').options.length > 0`)
}

// panelState picks a presence option in the panel.
func panelState(t *testing.T, ctx context.Context, value string) {
	t.Helper()
	frameState(t, ctx, "#panel", value)
}

// frameState picks a presence option in the panel in the iframe frameSel.
func frameState(t *testing.T, ctx context.Context, frameSel, value string) {
	t.Helper()
	inFrame[bool](t, ctx, frameSel, "choose "+value, fmt.Sprintf(`(() => { const s = document.getElementById('presence');
		s.value = %q; s.dispatchEvent(new Event('change')); return true; })()`, value))
}

// startPanelEnv starts Parley and a fake CRM page whose origin the demo
// tenant allows.
func startPanelEnv(t *testing.T) (*testEnv, *fakecrm.Server) {
	t.Helper()
	skipIfShort(t)
	e := startEnv(t)
	crm := fakecrm.Start(t)
	e.allowOrigin(crm.URL)
	return e, crm
}

// aliceAvailable opens the CRM page, signs alice in in its panel and makes
// her available there.
func (e *testEnv) aliceAvailable(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	openPanel(t, ctx, page)
	panelSignIn(t, ctx, "alice", e.user("alice").Password)
	panelState(t, ctx, "available")
	inPanel[bool](t, ctx, "available", `document.getElementById('presence').value === 'available'`)
}

func TestPanelRefusesBadLaunches(t *testing.T) {
	e, crm := startPanelEnv(t)
	foreign := fakecrm.Start(t) // an origin no tenant lists
	ctx := browser.New(t, browser.Options{})

	cases := []struct {
		name, url string
		want      []string
	}{
		{"vccmode", crm.Lightning(e.panelURL(), url.Values{"vccmode": {"7"}}), []string{"vccmode=7: use 1, 2 or 3"}},
		{"unknown", crm.Lightning(e.panelURL(), url.Values{"colour": {"blue"}}), []string{`unknown parameter "colour"`}},
		{"env", crm.Lightning(e.panelURL(), url.Values{"env": {"crm"}}), []string{"env=crm: use env=salesforce"}},
		{"foreign", foreign.Lightning(e.panelURL(), url.Values{"tenant": {"acme"}}), []string{
			"CRM origin " + foreign.URL + " is not allowed for tenant acme", "parley admin tenant set --tenant acme --add-crm-origin " + foreign.URL}},
	}
	for _, c := range cases {
		if err := chromedp.Do(ctx, chromedp.Navigate(c.url)); err != nil {
			t.Fatal(err)
		}
		got := inPanel[string](t, ctx, c.name, `document.getElementById('problem-text') && document.getElementById('problem-text').textContent`)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: the panel says %q, want %q", c.name, got, w)
			}
		}
		// Nothing else loaded: no panel script, no Open CTI traffic.
		if loaded := inPanel[string](t, ctx, c.name, `String(typeof window.parleyPanel !== 'undefined' || document.scripts.length > 0)`); loaded != "false" {
			t.Errorf("%s: the refused panel ran scripts", c.name)
		}
		if n := inHost[int](t, ctx, c.name, `crm.calls.length + 1`) - 1; n != 0 {
			t.Errorf("%s: the refused panel sent %d Open CTI requests", c.name, n)
		}
		shot(t, ctx, "panel-refused-"+c.name)
	}

	// The CSP in the browser: a page on a foreign origin that frames the
	// panel with the allowed origin's parameters gets nothing (Chromium
	// blocks the frame by its frame-ancestors).
	if err := chromedp.Do(ctx, chromedp.Navigate(foreign.Raw(e.panelURL(), url.Values{"sfdcIframeOrigin": {crm.URL}, "mode": {"Lightning"}}, "lightning"))); err != nil {
		t.Fatal(err)
	}
	if got, err := browser.InFrame[bool](ctx, "#panel", `document.getElementById('signin') !== null`, 3*time.Second); err == nil && got {
		t.Error("a foreign page could frame the panel: the CSP frame-ancestors did not block it")
	}

	// A CRM page that never answers: a visible error, not a hang; sign-in
	// still works.
	silent := crm.Lightning(e.panelURL(), nil)
	silent = strings.Replace(silent, "/host.html?", "/host.html?silent=1&", 1)
	openPanel(t, ctx, silent)
	got := inPanel[string](t, ctx, "CTI timeout", `!document.getElementById('fatal').hidden && document.getElementById('fatal').textContent`)
	if !strings.Contains(got, "did not answer within") {
		t.Errorf("the panel says %q for a CRM that never answers", got)
	}
	shot(t, ctx, "panel-crm-silent")
}

// offerCaller is the text the panel shows for the caller.
const panelCallerJS = `(() => { for (const id of ['offer-caller', 'call-caller', 'wrapup-caller']) {
	const el = document.getElementById(id); if (el && !el.closest('[hidden]') && el.textContent) return el.textContent; } return ''; })()`

// crmCreate creates a record in devcrm and returns its id.
func (e *testEnv) crmCreate(object string, fields map[string]string) string {
	e.t.Helper()
	body, _ := json.Marshal(fields)
	req, _ := http.NewRequest("POST", e.crm.URL()+"/services/data/v62.0/sobjects/"+object, strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+e.crmToken())
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 201 || out.ID == "" {
		e.t.Fatalf("create %s in devcrm: %d %v", object, res.StatusCode, err)
	}
	return out.ID
}

// customerCall starts a caller's call to uri. The caller's user agent can
// fail to bind its socket on a busy machine before anything is sent
// (Status 0, "bind"); that attempt is repeated, up to three times.
func customerCall(t *testing.T, opts sipua.Options, uri string) *uaCall {
	t.Helper()
	for attempt := 1; ; attempt++ {
		c := startUACall(t, opts, uri)
		select {
		case <-c.done:
			if attempt < 3 && c.res != nil && c.res.Status == 0 && strings.Contains(c.res.Reason, "bind") {
				t.Logf("the caller failed before sending (%s); again", c.res.Reason)
				continue
			}
		case <-time.After(2 * time.Second):
		}
		return c
	}
}

// registeredPhone starts alice's answering phone and waits for its
// registration.
func (e *testEnv) registeredPhone(t *testing.T, user string) {
	t.Helper()
	registered := make(chan struct{}, 1)
	e.startMediaPhone(t, sipua.Options{ToneHz: 1000, OnRegistered: func() {
		select {
		case registered <- struct{}{}:
		default:
		}
	}}, user)
	select {
	case <-registered:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s's phone did not register", user)
	}
}

// xssName is a contact name that runs script if inserted as HTML.
const xssName = `<img src=x onerror=alert(1)>`

// TestPanelTakesACall: alice signs in in the panel and goes available; a
// real SIP call from a contact arrives; the panel shows it with the match
// (a name made of HTML, shown as text); the CRM pops the contact on answer;
// the notes are typed with the byte counter; the Task is written once and
// the CRM page is refreshed. In the Lightning and the Classic page.
func TestPanelTakesACall(t *testing.T) {
	skipIfShort(t)
	for _, api := range []string{"lightning", "classic"} {
		t.Run(api, func(t *testing.T) {
			e := startEnv(t)
			crm := fakecrm.Start(t)
			e.allowOrigin(crm.URL)
			contact := e.crmCreate("Contact", map[string]string{"LastName": xssName, "Phone": "(201) 555-0177"})
			e.registeredPhone(t, "alice")
			ctx := browser.New(t, browser.Options{})
			page := crm.Lightning(e.panelURL(), nil)
			if api == "classic" {
				page = crm.Classic(e.panelURL(), nil)
			}
			openPanel(t, ctx, page)
			shot(t, ctx, "panel-"+api+"-signin")
			panelSignIn(t, ctx, "alice", e.user("alice").Password)
			if api == "lightning" {
				inHost[bool](t, ctx, "click-to-dial enabled", `crm.clickToDial === true`)
			}
			panelState(t, ctx, "available")
			inPanel[bool](t, ctx, "available", `document.getElementById('presence').value === 'available'`)
			if api == "lightning" {
				inHost[bool](t, ctx, "label Available", `crm.label === 'Available'`)
			}
			shot(t, ctx, "panel-"+api+"-available")

			call := customerCall(t, sipua.Options{From: "2015550177", ToneHz: 440, Duration: 6 * time.Second}, "sip:+15550100@"+e.sipAddr)
			popped := inHost[[]string](t, ctx, "screen pop", `(() => { const p = crm.find('screenPop'); return p.length ? p.map(a => a.recordId || (a.params && a.params.recordId)) : null; })()`)
			if len(popped) != 1 || popped[0] != contact {
				t.Errorf("screen pops %v, want one of contact %s", popped, contact)
			}
			caller := inPanel[string](t, ctx, "caller shown", panelCallerJS)
			if caller != xssName {
				t.Errorf("the panel shows the caller as %q, want the contact's name as text %q", caller, xssName)
			}
			if n := inPanel[int](t, ctx, "no injected element", `document.querySelectorAll('img').length + 1`) - 1; n != 0 {
				t.Errorf("the contact's name became %d img elements", n)
			}
			if api == "lightning" {
				inHost[bool](t, ctx, "label On call", `/^On call \d\d:\d\d$/.test(crm.label)`)
			}
			inPanel[bool](t, ctx, "call card", `!document.getElementById('call').hidden`)
			shot(t, ctx, "panel-"+api+"-oncall")

			<-call.done
			if call.err != nil || !call.res.Answered {
				t.Fatalf("the call: %v %v", call.res, call.err)
			}
			inPanel[bool](t, ctx, "wrap-up", `!document.getElementById('wrapup').hidden`)
			notes := "Wants the invoice re-sent. Café ☕"
			count := inPanel[string](t, ctx, "notes typed", fmt.Sprintf(`(() => { const n = document.getElementById('wrapup-notes');
				n.value = %q; n.dispatchEvent(new Event('input'));
				const d = document.getElementById('wrapup-disposition'); d.value = 'Resolved';
				return document.getElementById('wrapup-count').textContent; })()`, notes))
			if want := fmt.Sprintf("%d / 4000 bytes", len(notes)); count != want {
				t.Errorf("byte counter %q, want %q", count, want)
			}
			shot(t, ctx, "panel-"+api+"-wrapup")
			inPanel[bool](t, ctx, "submit", `(document.getElementById('wrapup-submit').click(), true)`)
			inHost[bool](t, ctx, "refreshView after the log", `crm.refreshes >= 1`)
			inPanel[bool](t, ctx, "back to available", `document.getElementById('presence').value === 'available' && document.getElementById('wrapup').hidden`)
			inPanel[bool](t, ctx, "today lists the call", `document.getElementById('today').textContent.includes('answered')`)
			shot(t, ctx, "panel-"+api+"-today")

			tasks := e.crmQuery("SELECT Id, WhoId, Description, CallDisposition FROM Task WHERE WhoId = '" + contact + "'")
			if len(tasks) != 1 {
				t.Fatalf("%d Tasks on the contact, want 1", len(tasks))
			}
			if d, _ := tasks[0]["Description"].(string); !strings.Contains(d, notes) || tasks[0]["CallDisposition"] != "Resolved" {
				t.Errorf("Task %v", tasks[0])
			}
			if n := inHost[int](t, ctx, "one pop", `crm.count('screenPop') + 1`) - 1; n != 1 {
				t.Errorf("%d screen pops, want 1", n)
			}
		})
	}
}

// TestPanelTwoTabsPopOnce: one agent with two CRM tabs has one session
// (signed in once); the pop happens once, in the tab that had focus last
// (its CRM page reported navigation); refreshView runs there only; one Task.
func TestPanelTwoTabsPopOnce(t *testing.T) {
	e, crm := startPanelEnv(t)
	e.registeredPhone(t, "alice")
	tab1 := browser.New(t, browser.Options{})
	tab2 := browser.Tab(t, tab1, "tab 2")
	page := crm.Lightning(e.panelURL(), nil)
	openPanel(t, tab1, page)
	openPanel(t, tab2, page)
	panelSignIn(t, tab1, "alice", e.user("alice").Password)
	// The second tab joins the same session without signing in.
	inPanel[bool](t, tab2, "tab 2 signed in", `!document.getElementById('main').hidden`)
	panelState(t, tab1, "available")
	inPanel[bool](t, tab2, "tab 2 sees available", `document.getElementById('presence').value === 'available'`)
	// The agent moves to tab 2: its CRM page reports the navigation.
	inHost[bool](t, tab2, "navigate in tab 2", `(crm.navigate('003000000000001AAA', 'Contact', 'Someone'), true)`)
	inPanel[bool](t, tab2, "tab 2 focused", `window.parleyPanel.tabs.isFocused()`)

	call := customerCall(t, sipua.Options{From: "2015550123", ToneHz: 440, Duration: 4 * time.Second}, "sip:+15550100@"+e.sipAddr)
	inHost[bool](t, tab2, "pop in tab 2", `crm.count('screenPop') === 1`)
	<-call.done
	inPanel[bool](t, tab2, "wrap-up in tab 2", `!document.getElementById('wrapup').hidden`)
	inPanel[bool](t, tab1, "wrap-up in tab 1", `!document.getElementById('wrapup').hidden`)
	inPanel[bool](t, tab1, "submit in tab 1", `(document.getElementById('wrapup-submit').click(), true)`)
	inHost[bool](t, tab2, "refreshView in tab 2", `crm.refreshes === 1`)
	inPanel[bool](t, tab1, "tab 1 back to available", `document.getElementById('presence').value === 'available'`)
	if n := inHost[int](t, tab1, "tab 1 pops", `crm.count('screenPop') + 1`) - 1; n != 0 {
		t.Errorf("tab 1 (not focused) popped %d times", n)
	}
	if n := inHost[int](t, tab1, "tab 1 refreshes", `crm.refreshes + 1`) - 1; n != 0 {
		t.Errorf("tab 1 (not focused) refreshed %d times", n)
	}
	if n := inHost[int](t, tab2, "tab 2 pops", `crm.count('screenPop') + 1`) - 1; n != 1 {
		t.Errorf("tab 2 popped %d times, want 1", n)
	}
	token := e.signIn("alice")
	it := e.newestInteraction(token, "the call", func(it apiInteraction) bool { return it.Log.Status == "delivered" })
	if tasks := e.crmQuery("SELECT Id FROM Task WHERE CallObject = '" + it.ID + "'"); len(tasks) != 1 {
		t.Errorf("%d Tasks for the call, want 1", len(tasks))
	}
}

// TestPanelReloadMidCall: reloading the CRM page (and so the panel) during
// a call leaves the call up, and the panel comes back to it from the API,
// without a second pop.
func TestPanelReloadMidCall(t *testing.T) {
	e, crm := startPanelEnv(t)
	e.registeredPhone(t, "alice")
	ctx := browser.New(t, browser.Options{})
	e.aliceAvailable(t, ctx, crm.Lightning(e.panelURL(), nil))
	const talk = 10 * time.Second
	call := customerCall(t, sipua.Options{From: "2015550123", ToneHz: 440, Duration: talk}, "sip:+15550100@"+e.sipAddr)
	inPanel[bool](t, ctx, "on call", `!document.getElementById('call').hidden`)
	inHost[bool](t, ctx, "pop", `crm.count('screenPop') === 1`)

	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	inPanel[bool](t, ctx, "restored call", `!document.getElementById('call').hidden && document.getElementById('call-caller').textContent === 'Jane Doe'`)
	// The call controls act, or say why they cannot: a server without the
	// call-control routes is named, never a silent failure.
	inPanel[bool](t, ctx, "mute", `(document.getElementById('call-mute').click(), true)`)
	inPanel[bool](t, ctx, "muted or told why", `document.getElementById('call-mute').getAttribute('aria-pressed') === 'true' ||
		(document.getElementById('status').getAttribute('role') === 'alert' && /^Muting: .*(not available on this Parley server \(no POST \/api\/v1\/interactions\/[^/]+\/mute\))?/.test(document.getElementById('status').textContent) && document.getElementById('status').textContent.length > 10)`)
	t.Logf("after mute: %s", inPanel[string](t, ctx, "status", `document.getElementById('status').textContent || 'muted'`))
	shot(t, ctx, "panel-reloaded-oncall")
	<-call.done
	if call.err != nil || !call.res.Answered || call.res.HungUpBy != "local" || call.res.Talk < talk-time.Second {
		t.Fatalf("the call did not stay up through the reload: %+v %v", call.res, call.err)
	}
	inPanel[bool](t, ctx, "wrap-up after the reload", `!document.getElementById('wrapup').hidden`)
	if n := inHost[int](t, ctx, "pops after reload", `crm.count('screenPop') + 1`) - 1; n != 0 {
		t.Errorf("the reloaded panel popped %d more times", n)
	}
}

// TestPanelClickToDial: a click on a phone field opens the panel and asks
// Parley to dial; an empty number is refused with the server's message in
// the panel, never silently.
func TestPanelClickToDial(t *testing.T) {
	e, crm := startPanelEnv(t)
	ctx := browser.New(t, browser.Options{})
	openPanel(t, ctx, crm.Lightning(e.panelURL(), nil))
	// By keyboard only: the username field has focus after start; Tab
	// moves to the password, Enter submits.
	inPanel[bool](t, ctx, "username focused", `document.activeElement === document.getElementById('signin-username')`)
	if err := chromedp.Do(ctx, chromedp.KeyEvent("alice\t"+e.user("alice").Password+"\r")); err != nil {
		t.Fatal(err)
	}
	inPanel[bool](t, ctx, "signed in by keyboard", `!document.getElementById('main').hidden`)
	inHost[bool](t, ctx, "click-to-dial enabled", `crm.clickToDial === true && crm.listeners.onClickToDial === true`)
	inHost[bool](t, ctx, "click", `(crm.dial('', '003000000000001AAA', 'Contact', 'Jane Doe'), true)`)
	msg := inPanel[string](t, ctx, "dial message", `(() => { const s = document.getElementById('status');
		return s.getAttribute('role') === 'alert' && s.textContent.startsWith('Dialling: ') && s.textContent; })()`)
	if len(msg) < len("Dialling: ")+10 {
		t.Errorf("the panel says %q for an empty number", msg)
	}
	if v := inHost[[]bool](t, ctx, "panel opened", `crm.find('setSoftphonePanelVisibility').map(a => a.visible)`); !slices.Contains(v, true) {
		t.Errorf("setSoftphonePanelVisibility calls %v, want visible true", v)
	}
	shot(t, ctx, "panel-click-to-dial-refused")
	// Signing out turns click-to-dial off.
	panelState(t, ctx, "signout")
	inHost[bool](t, ctx, "click-to-dial disabled", `crm.clickToDial === false`)
	inPanel[bool](t, ctx, "signed out", `!document.getElementById('signin').hidden`)
}

// TestPanelPopSeveralAndNone: a number two contacts share is not popped
// but offered for picking in the panel, and the pick links the record and
// pops it; an unknown number opens a new Contact with the phone filled in.
func TestPanelPopSeveralAndNone(t *testing.T) {
	e, crm := startPanelEnv(t)
	first := e.crmCreate("Contact", map[string]string{"FirstName": "Ann", "LastName": "Shared", "Phone": "(201) 555-0188"})
	second := e.crmCreate("Contact", map[string]string{"FirstName": "Bob", "LastName": "Shared", "Phone": "201.555.0188"})
	e.registeredPhone(t, "alice")
	ctx := browser.New(t, browser.Options{})
	e.aliceAvailable(t, ctx, crm.Lightning(e.panelURL(), nil))

	call := customerCall(t, sipua.Options{From: "2015550188", ToneHz: 440, Duration: 4 * time.Second}, "sip:+15550100@"+e.sipAddr)
	n := inPanel[int](t, ctx, "the picker", `!document.getElementById('call-pick').hidden && document.querySelectorAll('#call-matches button').length`)
	if n != 2 {
		t.Fatalf("the panel offers %d records to pick, want 2", n)
	}
	if pops := inHost[int](t, ctx, "no pop yet", `crm.count('screenPop') + 1`) - 1; pops != 0 {
		t.Errorf("%d pops before the agent picked", pops)
	}
	shot(t, ctx, "panel-pick")
	inPanel[bool](t, ctx, "pick Bob", `(() => { for (const b of document.querySelectorAll('#call-matches button'))
		if (b.textContent.startsWith('Bob Shared')) { b.click(); return true; } return false; })()`)
	got := inHost[string](t, ctx, "pop of the pick", `crm.count('screenPop') === 1 && crm.find('screenPop')[0].params.recordId`)
	if got != second {
		t.Errorf("popped %s, want the picked contact %s (not %s)", got, second, first)
	}
	inPanel[bool](t, ctx, "linked", `document.getElementById('call-linked').textContent === 'Linked: Bob Shared'`)
	<-call.done
	inPanel[bool](t, ctx, "wrap-up", `!document.getElementById('wrapup').hidden`)
	inPanel[bool](t, ctx, "submit", `(document.getElementById('wrapup-disposition').value = 'Resolved', document.getElementById('wrapup-submit').click(), true)`)
	inPanel[bool](t, ctx, "available again", `document.getElementById('presence').value === 'available'`)

	call = customerCall(t, sipua.Options{From: "2125550142", ToneHz: 440, Duration: 2 * time.Second}, "sip:+15550100@"+e.sipAddr)
	kind := inHost[string](t, ctx, "new-record pop", `crm.count('screenPop') === 2 && JSON.stringify(crm.find('screenPop')[1])`)
	var pop struct {
		Type   string `json:"type"`
		Params struct {
			EntityName         string            `json:"entityName"`
			DefaultFieldValues map[string]string `json:"defaultFieldValues"`
		} `json:"params"`
	}
	if err := json.Unmarshal([]byte(kind), &pop); err != nil {
		t.Fatal(err)
	}
	if pop.Type != "newRecord" || pop.Params.EntityName != "Contact" || pop.Params.DefaultFieldValues["Phone"] != "+12125550142" {
		t.Errorf("pop for an unknown number %s, want a new Contact with Phone +12125550142", kind)
	}
	<-call.done
	inPanel[bool](t, ctx, "second wrap-up", `!document.getElementById('wrapup').hidden`)
	inPanel[bool](t, ctx, "submit", `(document.getElementById('wrapup-disposition').value = 'Resolved', document.getElementById('wrapup-submit').click(), true)`)
	inPanel[bool](t, ctx, "available again", `document.getElementById('presence').value === 'available'`)

	// A withheld number: shown as such, nothing looked up or popped.
	call = customerCall(t, sipua.Options{From: "anonymous", ToneHz: 440, Duration: 3 * time.Second}, "sip:+15550100@"+e.sipAddr)
	inPanel[bool](t, ctx, "withheld caller", `document.getElementById('call-caller').textContent === 'Withheld number' && !document.getElementById('call').hidden`)
	inPanel[bool](t, ctx, "withheld note", `document.getElementById('status').textContent.includes('Withheld number')`)
	<-call.done
	if n := inHost[int](t, ctx, "pops", `crm.count('screenPop') + 1`) - 1; n != 2 {
		t.Errorf("%d pops after the withheld call, want still 2", n)
	}
}

// TestPanelQueueStatusAndReasons: a not-ready reason shows in the CRM's
// utility label; a caller waiting in Sales shows in the queue table, with a
// longest wait that grows.
func TestPanelQueueStatusAndReasons(t *testing.T) {
	e, crm := startPanelEnv(t)
	ctx := browser.New(t, browser.Options{})
	openPanel(t, ctx, crm.Lightning(e.panelURL(), nil))
	panelSignIn(t, ctx, "alice", e.user("alice").Password)
	panelState(t, ctx, "not_ready:break")
	inHost[bool](t, ctx, "label", `crm.label === 'Not ready: break'`)
	call := customerCall(t, sipua.Options{From: "2015550123", Ring: 30 * time.Second}, "sip:+15550100@"+e.sipAddr)
	row := `[...document.querySelectorAll('#queues tr')].map(r => [...r.cells].map(c => c.textContent)).find(c => c[0] === 'Sales')`
	inPanel[bool](t, ctx, "one waiting", `(() => { const r = `+row+`; return r && r[1] === '1'; })()`)
	grown := inPanel[string](t, ctx, "the wait grows", `(() => { const r = `+row+`; return r && r[2] >= '00:02' && r[2]; })()`)
	t.Logf("Sales: longest wait %s", grown)
	shot(t, ctx, "panel-queue-waiting")
	call.cancel()
	<-call.done
	inPanel[bool](t, ctx, "nobody waiting", `(() => { const r = `+row+`; return r && r[1] === '0'; })()`)

	// The events socket drops: the panel reconnects with after=<last seq>
	// and keeps following alice's state (changed here through the API).
	inPanel[bool](t, ctx, "drop the socket", `(() => { const ev = window.parleyPanel.state.events;
		if (!ev.ws || ev.ws.readyState !== WebSocket.OPEN) return false; window.openedBefore = ev.opens; ev.ws.close(4000, 'test'); return true; })()`)
	inPanel[bool](t, ctx, "reconnected", `window.parleyPanel.state.events.opens > window.openedBefore`)
	e.setState(e.signIn("alice"), "not_ready", "lunch")
	inPanel[bool](t, ctx, "state after the reconnect", `document.getElementById('presence').value === 'not_ready:lunch'`)
	if seq := inPanel[float64](t, ctx, "sequence", `window.parleyPanel.state.events.lastSeq`); seq <= 0 {
		t.Errorf("last seq %v after a stored event, want it counted for after=", seq)
	}
	inHost[bool](t, ctx, "label follows", `crm.label === 'Not ready: lunch'`)
}
