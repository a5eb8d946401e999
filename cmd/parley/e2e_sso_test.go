package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/testkit/browser"
	"github.com/parley-cc/parley/internal/testkit/fakecrm"
)

// Single sign-on end to end (issue 5): the real relying party
// (internal/sso) against the real provider (devcrm's OpenID provider), as
// `parley demo` wires them. The agent signs in to devcrm's pages, opens the
// softphone and clicks "Sign in with the CRM": a popup goes to Parley's
// /sso/start, devcrm's authorize (the devcrm session is reused, so only its
// consent is asked), Parley's /sso/callback and Parley's own consent, then
// hands the session to the panel. No Parley password is typed.

// ssoPopup returns a context on the sign-in popup once its URL contains
// part.
func ssoPopup(t *testing.T, ctx context.Context, part string) context.Context {
	t.Helper()
	return browser.Page(t, ctx, part, panelWait)
}

// pageURLs lists the browser's pages, for failure messages.
func pageURLs(ctx context.Context) string { return strings.Join(browser.PageURLs(ctx), ", ") }

// clickSSO clicks the panel's "Sign in with the CRM" in devcrm's softphone.
func clickSSO(t *testing.T, ctx context.Context) {
	t.Helper()
	inFrame[bool](t, ctx, softphoneFrame, "the CRM sign-in offered", `!document.getElementById('signin-sso').hidden`)
	inFrame[bool](t, ctx, softphoneFrame, "click Sign in with the CRM", `(document.getElementById('signin-sso-button').click(), true)`)
}

// ssoSignedIn waits for the softphone's panel to be signed in and returns
// who it says is signed in.
func ssoSignedIn(t *testing.T, ctx context.Context) string {
	t.Helper()
	inFrame[bool](t, ctx, softphoneFrame, "signed in", `!document.getElementById('main').hidden && document.getElementById('presence').options.length > 0`)
	return inFrame[string](t, ctx, softphoneFrame, "who", `document.getElementById('who').textContent`)
}

// TestSSOFromTheCRMConsole is the walkthrough: alice signs in to
// devcrm, opens the softphone and signs in with the CRM: devcrm's consent,
// Parley's one-time consent, and the panel is hers with no Parley password.
// The second time, after a reload, a restart of Parley and a sign-out,
// nothing is asked: the popup closes by itself and the panel is signed in
// again.
func TestSSOFromTheCRMConsole(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t, withBrowserAgents("alice"))
	ctx := browser.New(t, browser.Options{})
	e.crmSignIn(t, ctx, "alice@devcrm.example.com", "/lightning/page/home")
	clickSSO(t, ctx)

	// devcrm asks its consent for the Parley app (alice is signed in to
	// devcrm already: no second sign-in).
	crmConsent := ssoPopup(t, ctx, e.crm.URL()+"/services/oauth2/")
	if err := chromedp.Do(crmConsent, chromedp.WaitVisible(chromedp.CSS("#allow-button"))); err != nil {
		t.Fatalf("devcrm's consent page: %v (pages: %s)", err, pageURLs(ctx))
	}
	crmShot(t, crmConsent, "sso-devcrm-consent")
	if err := chromedp.Do(crmConsent, chromedp.Click(chromedp.CSS("#allow-button"))); err != nil {
		t.Fatal(err)
	}
	// Parley's consent, asked once per user and CRM origin.
	consent := ssoPopup(t, ctx, e.http+"/sso/consent")
	browser.Until(t, consent, "Parley's consent page", `document.body && document.body.textContent.includes('Allow the Parley panel in')`)
	question := browser.Eval[string](t, consent, `document.body.textContent`)
	if want := "Allow the Parley panel in " + e.crm.URL() + " to act as you (alice, tenant acme)?"; !strings.Contains(question, want) {
		t.Errorf("Parley's consent page says %q, want %q", question, want)
	}
	crmShot(t, consent, "sso-parley-consent")
	if err := chromedp.Do(consent, chromedp.Click(chromedp.CSS(`button[value="allow"]`))); err != nil {
		t.Fatal(err)
	}
	if who := ssoSignedIn(t, ctx); !strings.Contains(who, "Alice") {
		t.Errorf("the panel is signed in as %q, want Alice", who)
	}
	if pw := inFrame[string](t, ctx, softphoneFrame, "password field", `'[' + document.getElementById('signin-password').value + ']'`); pw != "[]" {
		t.Errorf("the password field holds %q: no Parley password may be typed", pw)
	}
	crmShot(t, ctx, "sso-signed-in")
	if !strings.Contains(e.logs.String(), "SSO signed in") {
		t.Error("Parley did not log the SSO sign-in")
	}

	e.crmRefreshWorks(t, ctx, "alice")

	// A reload keeps the session: signed in with no prompt.
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	inFrame[bool](t, ctx, softphoneFrame, "the panel starts again", `!document.getElementById('signin').hidden || !document.getElementById('main').hidden`)
	inHost[bool](t, ctx, "the softphone shows", `(() => { const b = document.getElementById('utility-phone');
		if (b && b.getAttribute('aria-expanded') !== 'true') b.click(); return true; })()`)
	ssoSignedIn(t, ctx)

	// Parley restarts (the demo run again on its data: the same app and
	// secret in devcrm); signed out, the CRM sign-in again: no devcrm
	// consent, no Parley consent; the popup finishes and closes by itself.
	e.restartParley()
	grant := e.crmGrant(t, "alice")
	frameState(t, ctx, softphoneFrame, "signout")
	inFrame[bool](t, ctx, softphoneFrame, "signed out", `!document.getElementById('signin').hidden`)
	// Sign-out everywhere revoked the CRM grant at devcrm and forgot it.
	if left := e.crmGrant(t, "alice"); left != nil {
		t.Errorf("Parley still holds alice's CRM grant after sign-out")
	}
	if e.crmTakes(t, grant) {
		t.Errorf("devcrm still takes alice's refresh token after the sign-out revoked it")
	}
	clickSSO(t, ctx)
	if who := ssoSignedIn(t, ctx); !strings.Contains(who, "Alice") {
		t.Errorf("the second sign-in is %q, want Alice", who)
	}
	deadline := time.Now().Add(panelWait)
	for strings.Contains(pageURLs(ctx), "/sso/") || strings.Contains(pageURLs(ctx), "/services/oauth2/") {
		if time.Now().After(deadline) {
			t.Fatalf("the sign-in popup stayed open: %s", pageURLs(ctx))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := strings.Count(e.logs.String(), "SSO signed in"); n != 2 {
		t.Errorf("Parley logged %d SSO sign-ins, want 2", n)
	}
}

// TestSSOPopupBlocked: a blocked popup shows how to allow pop-ups and a Try
// again button, whose click (a user gesture) opens the popup. Denying
// devcrm's consent there ends in the panel saying the CRM refused; the next
// try, allowed at devcrm and at Parley, signs the panel in. It runs in devcrm's
// Service Console (the softphone on the left, Classic's interaction.js).
func TestSSOPopupBlocked(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t, withBrowserAgents("alice"))
	ctx := browser.New(t, browser.Options{})
	e.crmSignIn(t, ctx, "alice@devcrm.example.com", "/console")
	inFrame[bool](t, ctx, softphoneFrame, "block popups", `(window.realOpen = window.open, window.open = () => null, true)`)
	clickSSO(t, ctx)
	msg := inFrame[string](t, ctx, softphoneFrame, "blocked message", `!document.getElementById('signin-sso-retry').hidden && document.getElementById('signin-sso-error').textContent`)
	if !strings.Contains(msg, "Allow pop-ups for this site") {
		t.Errorf("the blocked popup message is %q", msg)
	}
	crmShot(t, ctx, "sso-popup-blocked")
	inFrame[bool](t, ctx, softphoneFrame, "try again", `(window.open = window.realOpen, document.getElementById('signin-sso-retry').click(), true)`)

	// alice denies devcrm's consent: devcrm sends the error back to
	// Parley's callback, and the panel says the CRM refused.
	crmConsent := ssoPopup(t, ctx, e.crm.URL()+"/services/oauth2/")
	if err := chromedp.Do(crmConsent, chromedp.Click(chromedp.CSS("#deny-button"))); err != nil {
		t.Fatal(err)
	}
	said := inFrame[string](t, ctx, softphoneFrame, "the refusal", `document.getElementById('signin-sso-error').textContent.includes('refused') && document.getElementById('signin-sso-error').textContent`)
	if !strings.Contains(said, "the CRM refused the sign-in: access_denied") {
		t.Errorf("after denying devcrm's consent the panel says %q", said)
	}

	// Again, allowed this time (the failure page stays open to be read; the
	// panel's next popup reuses its window).
	clickSSO(t, ctx)
	crmConsent = ssoPopup(t, ctx, e.crm.URL()+"/services/oauth2/")
	if err := chromedp.Do(crmConsent, chromedp.Click(chromedp.CSS("#allow-button"))); err != nil {
		t.Fatal(err)
	}
	consent := ssoPopup(t, ctx, e.http+"/sso/consent")
	if err := chromedp.Do(consent, chromedp.Click(chromedp.CSS(`button[value="allow"]`))); err != nil {
		t.Fatal(err)
	}
	if who := ssoSignedIn(t, ctx); !strings.Contains(who, "Alice") {
		t.Errorf("signed in as %q after Try again, want Alice", who)
	}
	// Classic's runApex (the console's interaction.js) says who is signed
	// in to devcrm: alice, so the panel stays signed in.
	inFrame[bool](t, ctx, softphoneFrame, "devcrm says alice", `parleyPanel.state.crmUser === 'alice@devcrm.example.com' && !document.getElementById('main').hidden`)
}

// TestSSOUnmappedCRMUser: carol is a devcrm call center user with no Parley
// user: after devcrm's consent the popup names her CRM username and the
// command that maps it, the panel says the same, and it stays signed out.
func TestSSOUnmappedCRMUser(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t)
	ctx := browser.New(t, browser.Options{})
	e.crmSignIn(t, ctx, "carol@devcrm.example.com", "/lightning/page/home")
	clickSSO(t, ctx)
	crmConsent := ssoPopup(t, ctx, e.crm.URL()+"/services/oauth2/")
	if err := chromedp.Do(crmConsent, chromedp.Click(chromedp.CSS("#allow-button"))); err != nil {
		t.Fatal(err)
	}
	page := ssoPopup(t, ctx, e.http+"/sso/callback")
	browser.Until(t, page, "the message", `document.body && document.body.textContent.includes('No Parley user')`)
	text := browser.Eval[string](t, page, `document.body.textContent`)
	for _, want := range []string{"The CRM user carol@devcrm.example.com has no Parley user in tenant acme",
		"parley admin user set-crm --tenant acme --user USERNAME --crm salesforce --username carol@devcrm.example.com"} {
		if !strings.Contains(text, want) {
			t.Errorf("the popup says %q, want %q", text, want)
		}
	}
	crmShot(t, page, "sso-unmapped")
	// The panel says so too, and stays signed out.
	said := inFrame[string](t, ctx, softphoneFrame, "the panel's message", `document.getElementById('signin-sso-error').textContent`)
	if !strings.Contains(said, "The CRM user carol@devcrm.example.com has no Parley user in tenant acme") || !strings.Contains(said, "parley admin user set-crm") {
		t.Errorf("the panel says %q, want carol's username and the command", said)
	}
	if main := inFrame[string](t, ctx, softphoneFrame, "still signed out", `String(document.getElementById('main').hidden)`); main != "true" {
		t.Error("the panel signed in for a CRM user with no Parley user")
	}
}

// TestSSOLegacyTenant: oldco (kind 1) has a devcrm call center too; olga's
// softphone offers only the password sign-in, which works; the same panel
// launched with ssoMode=true explains that legacy tenants have no single
// sign-on, above its password form.
func TestSSOLegacyTenant(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t)
	ctx := browser.New(t, browser.Options{})
	e.crmSignIn(t, ctx, "olga@devcrm.example.com", "/lightning/page/home")
	if offered := inFrame[string](t, ctx, softphoneFrame, "password sign-in only", `String(!document.getElementById('signin-sso').hidden)`); offered != "false" {
		t.Error("oldco's softphone offers single sign-on")
	}
	frameSignIn(t, ctx, softphoneFrame, "olga", e.user("olga").Password)
	if who := inFrame[string](t, ctx, softphoneFrame, "who", `document.getElementById('who').textContent`); !strings.Contains(who, "Olga") {
		t.Errorf("signed in as %q, want Olga", who)
	}
	// The demo maps olga to her devcrm user: the CRM user check is on for
	// the legacy tenant too.
	inFrame[bool](t, ctx, softphoneFrame, "devcrm says olga", `parleyPanel.state.crmUser === 'olga@devcrm.example.com'`)

	// ssoMode=true on a legacy tenant's adapter URL: the explanation (on
	// the sign-in form: olga signs out first, as the panel shares its
	// session with the other panels of Parley's origin).
	frameState(t, ctx, softphoneFrame, "signout")
	inFrame[bool](t, ctx, softphoneFrame, "signed out", `!document.getElementById('signin').hidden`)
	host := fakecrm.Start(t)
	var out, errOut bytes.Buffer
	args := []string{"--data", e.dir, "tenant", "set", "--tenant", "oldco", "--add-crm-origin", host.URL}
	if err := runAdmin(e.ctx, args, &out, &errOut); err != nil {
		t.Fatalf("parley admin %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	openPanel(t, ctx, host.Lightning(e.panelURL(), url.Values{"tenant": {"oldco"}, "vccmode": {"1"}, "ssoMode": {"true"}}))
	notice := inPanel[string](t, ctx, "the explanation", `!document.getElementById('signin-notice').hidden && document.getElementById('signin-notice').textContent`)
	if !strings.Contains(notice, "legacy") {
		t.Errorf("the panel explains %q, want the legacy tenants' explanation", notice)
	}
	if offered := inPanel[string](t, ctx, "no CRM sign-in", `String(!document.getElementById('signin-sso').hidden)`); offered != "false" {
		t.Error("the legacy tenant's panel offers single sign-on with ssoMode=true")
	}
}

// TestSharedWorkstation: alice signs in to devcrm and to the panel, then
// bob signs in to devcrm in the same browser without alice signing out of
// the panel. The panel asks devcrm who is signed in (runApex, Parley's
// Apex class) and ends alice's session with a message naming both; bob
// signs in as himself and stays signed in.
func TestSharedWorkstation(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t)
	ctx := browser.New(t, browser.Options{})
	e.crmSignIn(t, ctx, "alice@devcrm.example.com", "/lightning/page/home")
	frameSignIn(t, ctx, softphoneFrame, "alice", e.user("alice").Password)
	inFrame[bool](t, ctx, softphoneFrame, "devcrm says alice", `parleyPanel.state.crmUser === 'alice@devcrm.example.com'`)
	if who := inFrame[string](t, ctx, softphoneFrame, "who", `document.getElementById('who').textContent`); !strings.Contains(who, "Alice") {
		t.Fatalf("signed in as %q, want Alice", who)
	}

	// A second tab of alice's devcrm page, left open: stale once bob signs in.
	stale, _ := chromedp.NewContext(ctx)
	if err := chromedp.Do(stale, chromedp.Navigate(e.crm.URL()+"/lightning/page/home")); err != nil {
		t.Fatal(err)
	}
	inFrame[bool](t, stale, softphoneFrame, "the second tab is alice's", `!document.getElementById('main').hidden && parleyPanel.state.crmUser === 'alice@devcrm.example.com'`)

	e.crmSignIn(t, ctx, "bob@devcrm.example.com", "/lightning/page/home")
	msg := inFrame[string](t, ctx, softphoneFrame, "alice's session ended", `!document.getElementById('signin').hidden && document.getElementById('signin-error').textContent`)
	for _, want := range []string{"the CRM user is bob@devcrm.example.com", "Alice Agent's (alice@devcrm.example.com)", "Sign in as yourself"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the panel says %q, want %q", msg, want)
		}
	}
	crmShot(t, ctx, "shared-workstation")
	frameSignIn(t, ctx, softphoneFrame, "bob", e.user("bob").Password)
	inFrame[bool](t, ctx, softphoneFrame, "devcrm says bob", `parleyPanel.state.crmUser === 'bob@devcrm.example.com' && !document.getElementById('main').hidden`)
	if who := inFrame[string](t, ctx, softphoneFrame, "who", `document.getElementById('who').textContent`); !strings.Contains(who, "Bob") {
		t.Errorf("signed in as %q, want Bob", who)
	}
	// The stale tab takes up bob's session; its runApex runs as the
	// browser's devcrm session, bob's (as Apex does in Salesforce), so it
	// keeps it and signs nobody out.
	inFrame[bool](t, stale, softphoneFrame, "the stale tab has bob's session", `!document.getElementById('main').hidden && parleyPanel.state.crmUser === 'bob@devcrm.example.com'`)
	if hidden := inFrame[string](t, ctx, softphoneFrame, "bob still signed in", `String(document.getElementById('main').hidden)`); hidden != "false" {
		t.Error("bob's panel was signed out by the stale tab")
	}
}

// crmGrant returns the user's CRM refresh token as Parley keeps it (sealed
// in the store); nil when there is none.
func (e *testEnv) crmGrant(t *testing.T, username string) []byte {
	t.Helper()
	ten, err := e.m.Store.TenantBySlug(e.ctx, demoTenant)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.m.Store.UserByUsername(e.ctx, ten.ID, username)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := e.m.Store.CRMRefreshToken(e.ctx, ten.ID, u.ID, cc.CRMSalesforce)
	if cc.IsCode(err, cc.ENOTFOUND) {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	return rt
}

// crmTakes reports whether devcrm's token endpoint takes the refresh token
// with the SSO app's credentials. devcrm rotates refresh tokens, so a taken
// token is spent: only ask about tokens Parley no longer holds.
func (e *testEnv) crmTakes(t *testing.T, rt []byte) bool {
	t.Helper()
	resp, err := http.PostForm(e.crm.URL()+"/services/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {string(rt)},
		"client_id": {e.info.SSOClient.ID}, "client_secret": {e.info.SSOClient.Secret}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK
}

// crmRefreshWorks checks that the sign-in left the user's CRM refresh token
// sealed in Parley's store and that Parley's own session refresh (the
// panel's token, POST /api/v1/sessions/current/refresh) refreshes it at
// devcrm: devcrm rotates it, Parley keeps the new one, the old one is
// spent.
func (e *testEnv) crmRefreshWorks(t *testing.T, ctx context.Context, username string) {
	t.Helper()
	before := e.crmGrant(t, username)
	if len(before) == 0 {
		t.Fatalf("%s has no CRM refresh token after the SSO sign-in", username)
	}
	token := inFrame[string](t, ctx, softphoneFrame, "the panel's session", `JSON.parse(localStorage.getItem('parley.session.`+demoTenant+`')).token`)
	req, _ := http.NewRequest(http.MethodPost, e.http+"/api/v1/sessions/current/refresh", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Token  string `json:"token"`
		Method string `json:"method"`
	}
	json.NewDecoder(resp.Body).Decode(&s)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || s.Token == "" || s.Method != "sso" {
		t.Fatalf("refresh of the SSO session: %d %+v", resp.StatusCode, s)
	}
	after := e.crmGrant(t, username)
	if len(after) == 0 || string(after) == string(before) {
		t.Fatalf("the session refresh did not rotate %s's CRM grant at devcrm", username)
	}
	if e.crmTakes(t, before) {
		t.Errorf("devcrm still takes the refresh token Parley replaced")
	}
	// Hand the new token to the panel as another tab's refresh would (the
	// old one lasts only the grace period).
	inFrame[bool](t, ctx, softphoneFrame, "take the refreshed session", `(() => { const k = 'parley.session.`+demoTenant+`';
		const v = JSON.parse(localStorage.getItem(k)); v.token = `+strconv.Quote(s.Token)+`; localStorage.setItem(k, JSON.stringify(v)); return true; })()`)
}
