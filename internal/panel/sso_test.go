package panel_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// ssoStandIn answers /sso/start as Parley's internal/sso ends a sign-in: a
// page that posts the session to its opener at Parley's origin and closes.
// It checks the parameters the panel sends.
func ssoStandIn(t *testing.T, e *softphoneEnv) {
	e.s.srv.Config.Handler.(*http.ServeMux).HandleFunc("GET /sso/start", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("tenant") != "acme" || q.Get("origin") != e.crm.URL {
			t.Errorf("/sso/start?%s: want tenant=acme and origin=%s", r.URL.RawQuery, e.crm.URL)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><script>window.opener.postMessage({type: 'parley.sso', token: 'tok', expires_at: '2030-01-01T00:00:00Z',
			user: {id: %q, username: 'agent', display_name: 'Agent', tenant: 'acme'}}, location.origin); window.close();</script>`, agentID)
	})
}

// TestSSOSignInFromThePanel: with ssoMode=true the panel offers the CRM
// sign-in; a blocked popup shows how to allow pop-ups and a retry button,
// and the retry signs in.
func TestSSOSignInFromThePanel(t *testing.T) {
	e := newSoftphoneEnv(t, false)
	ssoStandIn(t, e)
	e.host = e.crm.Lightning(e.s.srv.URL+"/cti/salesforce.html", url.Values{"ssoMode": {"true"}})
	e.open(e.ctx)
	in[bool](t, e.ctx, "the CRM sign-in offered", `!document.getElementById('signin-sso').hidden && document.getElementById('signin-error').textContent === ''`)

	// The popup is blocked: the instructions and the retry button.
	in[bool](t, e.ctx, "block popups", `(window.realOpen = window.open, window.open = () => null, document.getElementById('signin-sso-button').click(), true)`)
	msg := in[string](t, e.ctx, "blocked message", `!document.getElementById('signin-sso-retry').hidden && document.getElementById('signin-sso-error').textContent`)
	if !strings.Contains(msg, "Allow pop-ups for this site") {
		t.Errorf("blocked popup message %q", msg)
	}
	// Popups allowed again: the retry signs in.
	in[bool](t, e.ctx, "retry", `(window.open = window.realOpen, document.getElementById('signin-sso-retry').click(), true)`)
	in[bool](t, e.ctx, "signed in", `!document.getElementById('main').hidden`)
	if who := in[string](t, e.ctx, "who", `document.getElementById('who').textContent`); !strings.Contains(who, "Acme") {
		t.Errorf("signed in as %q", who)
	}
}

// TestNoSSOWithoutSSOMode: without ssoMode the CRM sign-in is not offered.
func TestNoSSOWithoutSSOMode(t *testing.T) {
	e := newSoftphoneEnv(t, false)
	e.open(e.ctx)
	in[bool](t, e.ctx, "password sign-in only", `!document.getElementById('signin').hidden && document.getElementById('signin-sso').hidden`)
}
