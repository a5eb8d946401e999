package sso

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// startFrom is GET /sso/start from a client address.
func (rg *rig) startFrom(addr, query string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/sso/start?"+query, nil)
	r.RemoteAddr = addr
	w := httptest.NewRecorder()
	rg.h.ServeHTTP(w, r)
	return w
}

// TestStartRateLimit checks the per-address limit on starting sign-ins: a
// 429 page that says when to try again, refused starts counted too, other
// addresses and a /64's neighbour unaffected, and a refill over time.
func TestStartRateLimit(t *testing.T) {
	rg := newRig(t)
	good := "tenant=acme&origin=" + url.QueryEscape(crmOrigin)
	for i := range StartsPerMinute {
		q := good
		if i%2 == 1 {
			q = "tenant=nope&origin=" + url.QueryEscape(crmOrigin) // probing counts as well
		}
		if w := rg.startFrom("203.0.113.7:4000", q); w.Code == http.StatusTooManyRequests {
			t.Fatalf("start %d refused early: %s", i+1, w.Body)
		}
	}
	w := rg.startFrom("203.0.113.7:4001", good)
	text := w.Body.String()
	if w.Code != http.StatusTooManyRequests || !strings.Contains(text, "too many sign-ins started from this address: try again in 2 seconds") ||
		!strings.Contains(text, "Too many sign-ins") || w.Header().Get("Retry-After") != "2" {
		t.Fatalf("over the limit: %d Retry-After %q %s", w.Code, w.Header().Get("Retry-After"), text)
	}
	if w.Header().Get("Location") != "" || len(w.Result().Cookies()) != 0 {
		t.Fatalf("a limited start redirected or set a cookie: %v", w.Header())
	}
	if w.Header().Get("Content-Security-Policy") == "" {
		t.Error("the 429 page has no Content-Security-Policy")
	}
	if w := rg.startFrom("203.0.113.8:4000", good); w.Code != http.StatusFound {
		t.Errorf("another address: %d %s", w.Code, w.Body)
	}
	// X-Forwarded-For is not trusted: it does not make a new client.
	r := httptest.NewRequest("GET", "/sso/start?"+good, nil)
	r.RemoteAddr = "203.0.113.7:4002"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	fw := httptest.NewRecorder()
	rg.h.ServeHTTP(fw, r)
	if fw.Code != http.StatusTooManyRequests {
		t.Errorf("X-Forwarded-For escaped the limit: %d", fw.Code)
	}
	rg.now = rg.now.Add(2 * time.Second)
	if w := rg.startFrom("203.0.113.7:4003", good); w.Code != http.StatusFound {
		t.Errorf("after the refill: %d %s", w.Code, w.Body)
	}
	if w := rg.startFrom("203.0.113.7:4004", good); w.Code != http.StatusTooManyRequests {
		t.Errorf("and used up again: %d", w.Code)
	}
	// IPv6: one /64 is one client.
	for range StartsPerMinute {
		rg.startFrom("[2001:db8:5:6::1]:443", good)
	}
	if w := rg.startFrom("[2001:db8:5:6:ffff::9]:443", good); w.Code != http.StatusTooManyRequests {
		t.Errorf("same /64: %d", w.Code)
	}
	if w := rg.startFrom("[2001:db8:5:7::1]:443", good); w.Code != http.StatusFound {
		t.Errorf("next /64: %d", w.Code)
	}
}

// TestStartRedirectsOnlyToCRM checks where a start may send the browser:
// only to the tenant's CRM authorize endpoint, with Parley's own callback
// as redirect_uri; a redirect-style parameter or an origin that is not
// exactly one of the tenant's is refused with an error page.
func TestStartRedirectsOnlyToCRM(t *testing.T) {
	rg := newRig(t)
	loc, _ := rg.start(t)
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	op, _ := url.Parse(rg.op.srv.URL)
	if u.Host != op.Host || u.Path != "/services/oauth2/authorize" {
		t.Fatalf("start redirects to %s, want the CRM's authorize endpoint on %s", loc, op.Host)
	}
	if got := u.Query().Get("redirect_uri"); got != publicURL+"/sso/callback" {
		t.Errorf("redirect_uri = %q, want Parley's callback %s/sso/callback", got, publicURL)
	}
	enc := url.QueryEscape
	for name, q := range map[string]string{
		"return_to":                "tenant=acme&origin=" + enc(crmOrigin) + "&return_to=https://evil.example",
		"redirect":                 "tenant=acme&origin=" + enc(crmOrigin) + "&redirect=https://evil.example",
		"url":                      "tenant=acme&origin=" + enc(crmOrigin) + "&url=https://evil.example",
		"callback":                 "tenant=acme&origin=" + enc(crmOrigin) + "&callback=https://evil.example",
		"origin with a path":       "tenant=acme&origin=" + enc(crmOrigin+"/evil"),
		"origin with userinfo":     "tenant=acme&origin=" + enc("https://acme.lightning.force.com@evil.example"),
		"scheme-relative origin":   "tenant=acme&origin=" + enc("//evil.example"),
		"javascript origin":        "tenant=acme&origin=" + enc("javascript:alert(1)"),
		"origin as the CRM's host": "tenant=acme&origin=" + enc("acme.lightning.force.com"),
		"two origins":              "tenant=acme&origin=" + enc(crmOrigin) + "&origin=https://evil.example",
		"http origin":              "tenant=acme&origin=" + enc("http://acme.lightning.force.com"),
	} {
		t.Run(name, func(t *testing.T) {
			res := rg.do("GET", "/sso/start?"+q, nil, nil)
			text := body(t, res)
			if loc := res.Header.Get("Location"); loc != "" || len(res.Cookies()) != 0 {
				t.Fatalf("start went on: Location %q, cookies %v", loc, res.Cookies())
			}
			if res.StatusCode < 400 || strings.Contains(text, "<script>alert") {
				t.Fatalf("%d %s", res.StatusCode, text)
			}
		})
	}
}

// TestCallbackRefusesForeignState checks that a callback whose state this
// browser did not start (an attacker's own code, planted by a link) is
// refused without a redirect or a session.
func TestCallbackRefusesForeignState(t *testing.T) {
	attacker := newRig(t)
	loc, _ := attacker.start(t)
	cb := attacker.op.authorize(t, loc, "alice@acme.example") + "&return_to=https://evil.example"
	res := attacker.do("GET", cb, nil, nil) // the victim's browser has no flow cookie
	text := body(t, res)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(text, "state mismatch") || res.Header.Get("Location") != "" {
		t.Fatalf("%d Location %q %s", res.StatusCode, res.Header.Get("Location"), text)
	}
	if len(attacker.sessions.started) != 0 {
		t.Fatalf("a session was created: %v", attacker.sessions.started)
	}
}

// TestConsentTokenBoundToItsSignIn checks that the CSRF token of one
// sign-in waiting for consent (an attacker's own) does not answer another
// (the victim's, whose cookie the browser sends).
func TestConsentTokenBoundToItsSignIn(t *testing.T) {
	rg := newRig(t)
	attacker := rg.signIn(t, "alice@acme.example")
	csrf := between(body(t, rg.do("GET", "/sso/consent", nil, attacker.Cookies())), `name="csrf" value="`, `"`)
	if csrf == "" {
		t.Fatal("no CSRF token on the consent page")
	}
	victim := rg.signIn(t, "alice@acme.example")
	res := rg.do("POST", "/sso/consent", url.Values{"csrf": {csrf}, "answer": {"allow"}}, victim.Cookies())
	if text := body(t, res); res.StatusCode != http.StatusForbidden || !strings.Contains(text, "CSRF token is missing or wrong") {
		t.Fatalf("another sign-in's token: %d %s", res.StatusCode, text)
	}
	if len(rg.sessions.started) != 0 || len(rg.grants.consents) != 0 {
		t.Fatalf("consent with another sign-in's token had effect: %v %v", rg.sessions.started, rg.grants.consents)
	}
	// A GET cannot answer the consent either.
	if res := rg.do("GET", "/sso/consent?csrf="+url.QueryEscape(csrf)+"&answer=allow", nil, attacker.Cookies()); len(rg.sessions.started) != 0 {
		t.Fatalf("GET with the token answered the consent: %d", res.StatusCode)
	}
}
