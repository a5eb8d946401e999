package sso

import (
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzFlowCookie feeds the callback's cookie parser what a browser (or an
// attacker) may send: it must never panic and accept only a cookie this
// handler signed for that state.
func FuzzFlowCookie(f *testing.F) {
	h, err := New(Options{PublicURL: publicURL, Tenants: fakeTenants{}, Users: fakeUsers{}, Sessions: &fakeSessions{}, Grants: &fakeGrants{},
		CookieKey: []byte("fuzz-key-fuzz-key-fuzz-key-fuzz!")})
	if err != nil {
		f.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.setFlowCookie(w, "state1", &flow{Tenant: "acme", Origin: crmOrigin, Nonce: "n", Verifier: "v", Expires: time.Now().Add(time.Hour).Unix()})
	good := w.Result().Cookies()[0].Value
	f.Add("state1", good)
	f.Add("state1", "e30.")
	f.Add("state1", ".")
	f.Add("", "")
	f.Add("state2", good)
	f.Fuzz(func(t *testing.T, state, value string) {
		r := httptest.NewRequest("GET", "/sso/callback", nil)
		r.Header.Set("Cookie", cookiePrefix+state+"="+value)
		fl, err := h.flowCookie(r, state)
		if err != nil {
			return
		}
		// Only the one cookie signed, for its state, is accepted (the
		// header parser may unquote it).
		if c, _ := r.Cookie(cookiePrefix + state); state != "state1" || c == nil || c.Value != good {
			t.Fatalf("accepted a cookie it did not sign: state %q value %q: %+v", state, value, fl)
		}
	})
}
