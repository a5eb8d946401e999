package main

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/testkit/browser"
)

// TestPanelLegacyTenantAndContactCenterDomain, in Chromium: a launch with
// ssoMode=true for the demo's legacy tenant oldco shows why single sign-on
// is not available above the password sign-in, olga signs in with her
// password, and the Settings > Advanced contact center domain field says
// what is wrong with a sub-cluster's address and saves the cluster's.
func TestPanelLegacyTenantAndContactCenterDomain(t *testing.T) {
	e, crm := startPanelEnv(t)
	oldco, err := e.m.Store.TenantBySlug(e.ctx, demoLegacy)
	if err != nil {
		t.Fatal(err)
	}
	oldco.CRMOrigins = append(oldco.CRMOrigins, crm.URL)
	if err := e.m.Store.UpdateTenant(e.ctx, oldco); err != nil {
		t.Fatal(err)
	}
	ctx := browser.New(t, browser.Options{})
	openPanel(t, ctx, crm.Lightning(e.panelURL(), url.Values{"tenant": {demoLegacy}, "vccmode": {"1"}, "ssoMode": {"true"}}))
	notice := inPanel[string](t, ctx, "the legacy notice", `(() => { const n = document.getElementById('signin-notice'); return !n.hidden && n.textContent; })()`)
	if want := cc.ErrorMessage(cc.ErrSSONotAvailable(demoLegacy, cc.KindLegacy)); notice != want {
		t.Fatalf("notice %q\nwant %q", notice, want)
	}
	shot(t, ctx, "panel-legacy-sso")
	panelSignIn(t, ctx, "olga", e.user("olga").Password)

	setDomain := func(d string) {
		t.Helper()
		inPanel[bool](t, ctx, "set the domain", fmt.Sprintf(`(() => {
			document.getElementById('settings').open = true;
			document.getElementById('settings-domain').value = %q;
			document.getElementById('settings-domain-result').textContent = '';
			document.getElementById('settings-domain-save').click();
			return true; })()`, d))
	}
	problem := func() string {
		t.Helper()
		return inPanel[string](t, ctx, "the check's message", `(() => { const r = document.getElementById('settings-domain-result');
			return r.classList.contains('error') && document.getElementById('settings-domain').getAttribute('aria-invalid') === 'true' && r.textContent; })()`)
	}
	// Not a URL: the server's check answers (the form does not stop it).
	setDomain("vcc-na12.vcc.example.net")
	if msg, want := problem(), `"vcc-na12.vcc.example.net" is not a URL: tenant oldco is a legacy (kind 1) tenant on cluster na12: use https://vcc-na12.vcc.example.net`; msg != want {
		t.Fatalf("domain check %q\nwant %q", msg, want)
	}
	setDomain("https://vcc-na12b.vcc.example.net")
	msg := problem()
	if want := "https://vcc-na12b.vcc.example.net is the address of a sub-cluster of na12 (the browser's address after signing in); the contact center domain is the cluster's: tenant oldco is a legacy (kind 1) tenant on cluster na12: use https://vcc-na12.vcc.example.net"; msg != want {
		t.Fatalf("domain check %q\nwant %q", msg, want)
	}
	shot(t, ctx, "panel-settings-domain")
	setDomain("https://vcc-na12.vcc.example.net/")
	saved := inPanel[string](t, ctx, "saved", `(() => { const r = document.getElementById('settings-domain-result');
		return !r.classList.contains('error') && /^Saved/.test(r.textContent) && localStorage.getItem('parley.contact-center-domain.oldco'); })()`)
	if saved != "https://vcc-na12.vcc.example.net" {
		t.Fatalf("saved %q", saved)
	}
}
