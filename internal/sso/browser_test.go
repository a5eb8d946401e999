package sso

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/panel"
	"github.com/parley-cc/parley/internal/testkit/browser"
)

// testPage is a page of Parley's origin that uses the panel's sso.js the way
// the panel does: a button opens the sign-in popup; the session it posts is
// shown; a blocked popup shows the instructions.
const testPage = `<!doctype html><meta charset="utf-8"><title>sso</title>
<button id="go">Sign in with the CRM</button><p id="out"></p>
<script type="module">
import { openSSO, ssoStartURL, acceptSSOMessage, PopupBlockedError } from '/cti/assets/test/sso.js';
window.acceptSSOMessage = acceptSSOMessage;
const url = ssoStartURL(location.origin, { tenant: 'acme', origin: %q });
window.signIn = win => openSSO(win || window, url, location.origin).then(
  s => { window.result = s; document.getElementById('out').textContent = 'signed in ' + s.user.username; },
  e => { window.failure = { blocked: e instanceof PopupBlockedError, message: e.message }; });
document.getElementById('go').addEventListener('click', () => window.signIn());
window.ready = true;
</script>`

// TestBrowserPopupSignIn runs the sign-in in Chromium: the panel's sso.js
// opens the popup, the CRM (the test provider) signs the user in, Parley
// asks its consent once, and the popup posts the session to the page and
// closes. The flow cookie must survive the cross-site redirects.
func TestBrowserPopupSignIn(t *testing.T) {
	rg, parley := newBrowserRig(t)

	ctx := browser.New(t, browser.Options{})
	if _, err := chromedp.Run(ctx, chromedp.Navigate(parley+"/test.html")); err != nil {
		t.Fatal(err)
	}
	browser.Until(t, ctx, "the page is ready", `window.ready === true`)

	// Messages from another origin, or not from the popup, are ignored.
	for _, ev := range []string{
		`{origin: 'https://evil.example', data: {type: 'parley.sso', token: 'x'}}`,
		`{origin: location.origin.replace('localhost', '127.0.0.1'), data: {type: 'parley.sso', token: 'x'}}`,
		`{origin: location.origin, source: {}, data: {type: 'parley.sso', token: 'x'}}`,
		`{origin: location.origin, data: {type: 'other', token: 'x'}}`,
		`{origin: location.origin, data: {type: 'parley.sso'}}`,
	} {
		if got := browser.Eval[bool](t, ctx, `acceptSSOMessage(`+ev+`, window, location.origin) === null`); !got {
			t.Errorf("acceptSSOMessage accepted %s", ev)
		}
	}
	if got := browser.Eval[bool](t, ctx, `acceptSSOMessage({origin: location.origin, source: window, data: {type: 'parley.sso', token: 't'}}, window, location.origin).token === 't'`); !got {
		t.Error("acceptSSOMessage refused the popup's message")
	}

	// A blocked popup: the instructions.
	browser.Eval[any](t, ctx, `signIn({open: () => null, addEventListener() {}, removeEventListener() {}}), null`)
	browser.Until(t, ctx, "the blocked popup is reported", `window.failure && window.failure.blocked`)
	if msg := browser.Eval[string](t, ctx, `window.failure.message`); !strings.Contains(msg, "Allow pop-ups for this site") {
		t.Errorf("blocked message %q", msg)
	}

	// The real popup: the first time, Parley's consent.
	if _, err := chromedp.Run(ctx, chromedp.Click(chromedp.CSS("#go"))); err != nil {
		t.Fatal(err)
	}
	popup := browser.Page(t, ctx, "/sso/consent", 15*time.Second)
	browser.Until(t, popup, "the consent page", `document.body && document.body.textContent.includes('Allow the Parley panel in `+crmOrigin+` to act as you')`)
	if _, err := chromedp.Run(popup, chromedp.Click(chromedp.CSS(`button[value="allow"]`))); err != nil {
		t.Fatal(err)
	}
	browser.Until(t, ctx, "the session reached the page", `window.result && window.result.token === 'prl_token'`)
	if got := browser.Eval[string](t, ctx, `window.result.user.username`); got != "alice" {
		t.Errorf("user %q", got)
	}

	// The second time: no prompt at all.
	browser.Eval[any](t, ctx, `window.result = null, null`)
	if _, err := chromedp.Run(ctx, chromedp.Click(chromedp.CSS("#go"))); err != nil {
		t.Fatal(err)
	}
	browser.Until(t, ctx, "the second session reached the page", `window.result && window.result.token === 'prl_token'`)
	if len(rg.sessions.started) != 2 {
		t.Fatalf("sessions started: %v", rg.sessions.started)
	}
}

// TestBrowserSignInWithoutOpener opens /sso/start in a tab of its own, as
// a user who pastes the link would: the sign-in runs to its end, but with
// no panel to receive it the page keeps nothing (no session, no CRM grant;
// the CRM's refresh token is revoked) and says why.
func TestBrowserSignInWithoutOpener(t *testing.T) {
	rg, parley := newBrowserRig(t)
	rg.grants.consents["ten_acme usr_alice "+crmOrigin] = true

	ctx := browser.New(t, browser.Options{})
	if _, err := chromedp.Run(ctx, chromedp.Navigate(parley+"/sso/start?tenant=acme&origin="+url.QueryEscape(crmOrigin))); err != nil {
		t.Fatal(err)
	}
	browser.Until(t, ctx, "the page says nothing was kept", `document.getElementById('message') && document.getElementById('message').textContent.includes('no session was kept') && document.querySelector('h1').textContent === 'Not signed in' && document.title === 'Not signed in'`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		rg.op.mu.Lock()
		revoked := len(rg.op.revoked)
		rg.op.mu.Unlock()
		if revoked == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the unused refresh token was not revoked at the CRM")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(rg.sessions.started) != 0 || len(rg.grants.tokens) != 0 {
		t.Fatalf("a sign-in no panel received kept a session or grant: %v %v", rg.sessions.started, rg.grants.tokens)
	}
}

// newBrowserRig serves the rig's Parley on localhost (a secure context
// over http, where Secure cookies are kept) with the panel's assets and
// the test page, for alice to sign in; it skips in -short.
func newBrowserRig(t *testing.T) (*rig, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	parley := "http://localhost:" + fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	rg := newRigAt(t, parley, cc.SystemClock)
	rg.op.username = "alice@acme.example"
	mux := http.NewServeMux()
	mux.Handle("/sso/", rg.h)
	mux.Handle("GET /cti/", panel.New(panel.Options{Tenants: fakeTenants{"acme": rg.tenant}}))
	mux.HandleFunc("GET /test.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, testPage, crmOrigin)
	})
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	srv.Start()
	t.Cleanup(srv.Close)
	return rg, parley
}
