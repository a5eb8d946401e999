package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-cc/parley/internal/sipua"
	"github.com/parley-cc/parley/internal/testkit/browser"
)

// The agent panel inside devcrm's real pages, with devcrm's own Open CTI
// libraries (opencti.js in the Lightning-like app, interaction.js in the
// Service Console) and host script, against the real call-control API: what
// a new user tries from the README. The fake-host tests in
// e2e_panel_test.go test the panel alone; these test the pieces together.

// softphone is devcrm's iframe that frames the panel.
const softphoneFrame = "#softphone-frame"

// crmLayouts are devcrm's pages with the softphone: the Lightning-like app
// (Open CTI for Lightning) and the Service Console (interaction.js).
var crmLayouts = []struct{ name, home string }{
	{"lightning", "/lightning/page/home"},
	{"console", "/console"},
}

// crmView is JavaScript for the record view the devcrm page shows (the
// active console tab's, in the console).
const crmView = `(document.body.getAttribute('data-layout') === 'console'
	? document.querySelector('#console-panes .pane.active .view')
	: document.querySelector('#main .view'))`

// crmPassword is the devcrm password the demo gave a CRM user.
func (e *testEnv) crmPassword(username string) string {
	e.t.Helper()
	for _, u := range e.info.CRMUsers {
		if u.Username == username {
			return u.Password
		}
	}
	e.t.Fatalf("no devcrm user %s in demo.json", username)
	return ""
}

// crmSignIn signs in to devcrm's pages as the demo's CRM user and opens
// path, then waits for the softphone's panel to show its sign-in form.
func (e *testEnv) crmSignIn(t *testing.T, ctx context.Context, username, path string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.crm.URL()+"/login?next="+path),
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), e.crmPassword(username)),
		chromedp.Click(chromedp.CSS("#login-button")),
		chromedp.WaitVisible(chromedp.CSS("#view")),
	)
	if err != nil {
		t.Fatalf("devcrm sign-in as %s: %v", username, err)
	}
	inFrame[bool](t, ctx, softphoneFrame, "the panel starts", `!document.getElementById('signin').hidden || !document.getElementById('main').hidden`)
	// In the Lightning-like app the agent opens the utility item.
	inHost[bool](t, ctx, "the softphone shows", `(() => { const b = document.getElementById('utility-phone');
		if (b && b.getAttribute('aria-expanded') !== 'true') b.click();
		return !document.getElementById('softphone-panel').classList.contains('minimized'); })()`)
}

// crmShot saves a screenshot of devcrm's page (the panel in its softphone).
func crmShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	browser.Screenshot(t, ctx, os.Getenv("PARLEY_SCREENSHOTS"), name)
}

// TestCRMConsoleTakesACall is issue 3's walkthrough in devcrm's pages:
// alice signs in to devcrm and to the panel in its softphoneFrame, goes
// available; a real SIP call from Jane Doe's number arrives; the panel
// offers it with her contact; alice's phone (SIPp) rings and answers only
// when asked to, so the call connects only through the panel's Accept;
// devcrm shows Jane Doe's contact; the wrap-up notes are typed and the Task
// appears on her contact page after refreshView.
func TestCRMConsoleTakesACall(t *testing.T) {
	skipIfShort(t)
	for _, l := range crmLayouts {
		t.Run(l.name, func(t *testing.T) {
			e := startEnv(t)
			e.askedToAnswerPhone(t, "alice")

			ctx := browser.New(t, browser.Options{})
			e.crmSignIn(t, ctx, "alice@devcrm.example.com", l.home)
			frameSignIn(t, ctx, softphoneFrame, "alice", e.user("alice").Password)
			frameState(t, ctx, softphoneFrame, "available")
			inFrame[bool](t, ctx, softphoneFrame, "available", `document.getElementById('presence').value === 'available'`)
			crmShot(t, ctx, "crm-"+l.name+"-available")

			caller := startUACall(t, sipua.Options{From: "2015550123", ToneHz: 440, Duration: 8 * time.Second}, "sip:+15550100@"+e.sipAddr)
			offer := inFrame[string](t, ctx, softphoneFrame, "the offer", `!document.getElementById('offer').hidden && document.getElementById('offer').textContent`)
			if !strings.Contains(offer, "Jane Doe") {
				t.Errorf("the offer card says %q, want the matching contact Jane Doe", offer)
			}
			crmShot(t, ctx, "crm-"+l.name+"-offer")
			token := e.signIn("alice")
			it := e.newestInteraction(token, "the offer", func(it apiInteraction) bool { return true })
			if it.State != "offered" {
				t.Fatalf("before Accept the call is %s, want offered (the phone answers only when asked)", it.State)
			}
			inFrame[bool](t, ctx, softphoneFrame, "accept", `(document.getElementById('offer-accept').click(), true)`)
			inFrame[bool](t, ctx, softphoneFrame, "on call", `!document.getElementById('call').hidden`)
			inHost[bool](t, ctx, "devcrm shows Jane Doe", `devcrm.appViewInfo().recordId === '`+janeDoe+`'`)
			if n := inHost[int](t, ctx, "one softphone", `document.querySelectorAll('.frame-host').length`); n != 1 {
				t.Errorf("the page has %d softphone hosts after the pop, want 1 (a record view, not a whole page)", n)
			}
			crmShot(t, ctx, "crm-"+l.name+"-oncall")
			// Hold and mute from the panel's buttons reach the call and
			// come back as its state.
			for _, c := range []struct{ button, field, on, off string }{{"call-hold", "held", "Resume", "Hold"}, {"call-mute", "muted", "Unmute", "Mute"}} {
				for _, want := range []bool{true, false} {
					label := map[bool]string{true: c.on, false: c.off}[want]
					inFrame[bool](t, ctx, softphoneFrame, c.button, fmt.Sprintf(`(document.getElementById(%q).click(), true)`, c.button))
					inFrame[bool](t, ctx, softphoneFrame, c.button+" "+label, fmt.Sprintf(`document.getElementById(%q).textContent === %q && document.getElementById(%q).getAttribute('aria-pressed') === %q`, c.button, label, c.button, fmt.Sprint(want)))
					if raw := e.rawInteraction(token, it.ID); !strings.Contains(raw, fmt.Sprintf(`"%s":%v`, c.field, want)) {
						t.Errorf("after %s the interaction says %s", c.button, raw)
					}
				}
			}

			<-caller.done
			if caller.err != nil || !caller.res.Answered {
				t.Fatalf("the caller: %v %v", caller.res, caller.err)
			}
			inFrame[bool](t, ctx, softphoneFrame, "wrap-up", `!document.getElementById('wrapup').hidden`)
			notes := "Asked about the invoice (" + l.name + ")."
			inFrame[bool](t, ctx, softphoneFrame, "notes", fmt.Sprintf(`(() => { const n = document.getElementById('wrapup-notes');
				n.value = %q; n.dispatchEvent(new Event('input'));
				document.getElementById('wrapup-disposition').value = 'Resolved'; return true; })()`, notes))
			crmShot(t, ctx, "crm-"+l.name+"-wrapup")
			inFrame[bool](t, ctx, softphoneFrame, "submit", `(document.getElementById('wrapup-submit').click(), true)`)
			inHost[bool](t, ctx, "the Task on Jane Doe's page", fmt.Sprintf(`(() => { const v = %s;
				return v && v.getAttribute('data-record-id') === %q && [...v.querySelectorAll('.task-description')].some(d => d.textContent.includes(%q)); })()`, crmView, janeDoe, notes))
			crmShot(t, ctx, "crm-"+l.name+"-task")
			// The panel told devcrm it started: devcrm never fell back to the
			// call center's standby URL.
			if standby := inHost[string](t, ctx, "standby", `String(!devcrm.state.initialized || devcrm.state.standby)`); standby != "false" {
				t.Errorf("devcrm's softphone is on the standby URL (not initialized, or standby: %s)", standby)
			}
			tasks := e.crmQuery("SELECT Id, CallType, CallDisposition FROM Task WHERE WhoId = '" + janeDoe + "'")
			if len(tasks) != 1 || tasks[0]["CallType"] != "Inbound" || tasks[0]["CallDisposition"] != "Resolved" {
				t.Errorf("Tasks on Jane Doe: %v, want one Inbound, Resolved", tasks)
			}
		})
	}
}

// TestCRMConsoleClickToDial: alice, signed in to the panel in devcrm's
// softphoneFrame, clicks the phone field "(201) 555-0123" on Jane Doe's contact
// page; her phone rings first, then the customer on the demo's outbound
// trunk receives the INVITE for +12015550123; after the wrap-up the
// Outbound Task links that contact and shows on her page.
func TestCRMConsoleClickToDial(t *testing.T) {
	skipIfShort(t)
	for _, l := range crmLayouts {
		t.Run(l.name, func(t *testing.T) {
			e := startEnv(t)
			cust := e.outboundCustomer(t, sipua.Options{ToneHz: 440, Duration: 5 * time.Second})
			e.registeredPhone(t, "alice")

			ctx := browser.New(t, browser.Options{})
			e.crmSignIn(t, ctx, "alice@devcrm.example.com", l.home)
			frameSignIn(t, ctx, softphoneFrame, "alice", e.user("alice").Password)
			// Parley dials out only for an agent who is available or not ready.
			frameState(t, ctx, softphoneFrame, "available")
			inFrame[bool](t, ctx, softphoneFrame, "available", `document.getElementById('presence').value === 'available'`)
			inHost[bool](t, ctx, "open Jane Doe", `(devcrm.navigate('/lightning/r/Contact/`+janeDoe+`/view'), true)`)
			inHost[bool](t, ctx, "click-to-dial link", fmt.Sprintf(`(() => { const v = %s;
				const a = v && v.getAttribute('data-record-id') === %q && v.querySelector('a.phone.ctd[data-record-id=%q]');
				return !!a && a.textContent === '(201) 555-0123'; })()`, crmView, janeDoe, janeDoe))
			crmShot(t, ctx, "crm-"+l.name+"-contact")
			inHost[bool](t, ctx, "click", fmt.Sprintf(`(%s.querySelector('a.phone.ctd[data-record-id=%q]').click(), true)`, crmView, janeDoe))
			// The call card, or the panel's alert saying why not.
			if alert := inFrame[string](t, ctx, softphoneFrame, "on call", `(() => { const s = document.getElementById('status');
				return !document.getElementById('call').hidden ? 'on call' : s.getAttribute('role') === 'alert' && s.textContent; })()`); alert != "on call" {
				t.Fatalf("the panel says %q after the click", alert)
			}
			if card := inFrame[string](t, ctx, softphoneFrame, "call card", `document.getElementById('call-caller').textContent + ' | ' + document.getElementById('call-linked').textContent`); card != "Jane Doe | Linked: Jane Doe" {
				t.Errorf("the call card says %q, want the contact dialled: Jane Doe | Linked: Jane Doe", card)
			}
			crmShot(t, ctx, "crm-"+l.name+"-dialling")

			res := cust.next(t, 30*time.Second)
			if !res.Answered || !strings.HasPrefix(res.RequestURI, "sip:+12015550123@") {
				t.Fatalf("the customer: %s, Request-URI %q; want answered at sip:+12015550123@...", res, res.RequestURI)
			}
			inFrame[bool](t, ctx, softphoneFrame, "wrap-up", `!document.getElementById('wrapup').hidden`)
			notes := "Called back about the invoice (" + l.name + ")."
			inFrame[bool](t, ctx, softphoneFrame, "notes and submit", fmt.Sprintf(`(() => { const n = document.getElementById('wrapup-notes');
				n.value = %q; n.dispatchEvent(new Event('input'));
				document.getElementById('wrapup-submit').click(); return true; })()`, notes))
			inHost[bool](t, ctx, "the Task on Jane Doe's page", fmt.Sprintf(`(() => { const v = %s;
				return v && [...v.querySelectorAll('.task-description')].some(d => d.textContent.includes(%q)); })()`, crmView, notes))
			crmShot(t, ctx, "crm-"+l.name+"-outbound-task")
			tasks := e.crmQuery("SELECT Id, CallType, WhoId FROM Task WHERE CallType = 'Outbound'")
			if len(tasks) != 1 || tasks[0]["WhoId"] != janeDoe {
				t.Errorf("Outbound Tasks %v, want one with WhoId %s", tasks, janeDoe)
			}
		})
	}
}
