package adminweb

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, url string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", url, nil))
	return rec
}

func TestPage(t *testing.T) {
	h := New()
	rec := get(t, h, "/admin/call-center-users?tenant=acme")
	if rec.Code != 200 {
		t.Fatalf("page: %d %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	for _, want := range []string{`value="acme"`, `src="/admin/assets/callcenterusers.js"`, `href="/admin/assets/admin.css"`, "<h1>Call center users</h1>"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if got := rec.Header().Get("Content-Security-Policy"); got != CSP || !strings.Contains(got, "script-src 'self'") || !strings.Contains(got, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", got)
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "onclick=") || strings.Contains(body, "onsubmit=") {
		t.Error("the page has inline script, which the CSP refuses")
	}
	if rec.Header().Get("Set-Cookie") != "" {
		t.Error("the page sets a cookie")
	}

	// A tenant that is not a slug is not shown; html/template would escape
	// it anyway, but the form starts empty rather than with junk.
	rec = get(t, h, `/admin/call-center-users?tenant=%22%3E%3Cscript%3Ealert(1)%3C/script%3E`)
	if body := rec.Body.String(); strings.Contains(body, "<script>alert") || !strings.Contains(body, `value=""`) {
		t.Errorf("a hostile tenant parameter is shown:\n%s", body)
	}
}

func TestAssets(t *testing.T) {
	h := New()
	for name, ct := range map[string]string{"callcenterusers.js": "text/javascript; charset=utf-8", "admin.css": "text/css; charset=utf-8"} {
		rec := get(t, h, "/admin/assets/"+name)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != ct || rec.Header().Get("Content-Security-Policy") != CSP {
			t.Errorf("%s: %d %q %q", name, rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Content-Security-Policy"))
		}
	}
	js := get(t, h, "/admin/assets/callcenterusers.js").Body.String()
	if strings.Contains(js, "innerHTML") || strings.Contains(js, "document.cookie") {
		t.Error("the script inserts HTML or uses cookies: it must insert text and keep the token in localStorage")
	}
	for _, url := range []string{"/admin/assets/nope.js", "/admin/assets/", "/admin/other"} {
		if rec := get(t, h, url); rec.Code != 404 {
			t.Errorf("%s: %d, want 404", url, rec.Code)
		}
	}
}
