package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/adminweb"
	"github.com/parley-cc/parley/internal/httpapi/apitest"
)

// unauthenticated are the routes a request without a bearer token may
// reach: sign-in (credentials in a JSON body), the probes, the metrics
// (their own token) and the event WebSocket (a single-use ticket).
var unauthenticated = map[string]bool{
	"POST /api/v1/sessions": true,
	"GET /api/v1/events":    true,
	"GET /healthz":          true,
	"GET /readyz":           true,
	"GET /metrics":          true,
}

// TestBearerOnly is the CSRF check of the API: every route that acts for a
// signed-in user takes its identity only from the Authorization header. A
// browser sends cookies and basic credentials to a foreign site's requests
// on its own; neither may stand for the bearer token, and no route grants
// another origin CORS access to read an answer. Real center and store: the
// token in the cookie is a valid one.
func TestBearerOnly(t *testing.T) {
	w := newRealWorld(t)
	token := w.signIn(t, "")
	for _, route := range w.srv.routes {
		method, path, _ := strings.Cut(route, " ")
		path = strings.NewReplacer("{id}", w.ids["A.interaction"], "{crm}", "salesforce").Replace(path)
		if strings.HasPrefix(route, "PUT /api/v1/admin/users/") || strings.HasPrefix(route, "DELETE /api/v1/admin/users/") {
			path = strings.Replace(path, w.ids["A.interaction"], w.ids["A.agent"], 1)
		}
		body := `{}`
		if method == "GET" || method == "DELETE" {
			body = ""
		}
		for name, hdr := range map[string]map[string]string{
			"cookie": {"Cookie": "parley_session=" + token + "; session=" + token + "; token=" + token + "; Authorization=Bearer%20" + token},
			"basic":  {"Authorization": "Basic " + token},
			"bare":   {"Authorization": token},
			"query":  {},
		} {
			if unauthenticated[route] {
				continue
			}
			hdr["Origin"] = "https://evil.example"
			u := path
			if name == "query" {
				u += "?access_token=" + token
			}
			res := w.kit.Do(t, apitest.Scenario{Method: method, URL: u, Body: body, Header: hdr})
			switch {
			case name == "query":
				// Refused before the token is even looked at.
				if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), "never put the bearer token in a URL") {
					t.Errorf("%s with the token in the URL: status %d, want 400; body: %s", route, res.Status, res.Body)
				}
			case res.Status != http.StatusUnauthorized:
				t.Errorf("%s with the token as %s: status %d, want 401; body: %s", route, name, res.Status, res.Body)
			}
			noCORS(t, route+" ("+name+")", res.Header)
		}
		// A preflight from another origin is granted nothing.
		req := httptest.NewRequest("OPTIONS", path, nil)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Access-Control-Request-Method", method)
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		rec := httptest.NewRecorder()
		w.srv.Handler().ServeHTTP(rec, req)
		if rec.Code < 400 {
			t.Errorf("OPTIONS %s from another origin: status %d, want a refusal", path, rec.Code)
		}
		noCORS(t, "OPTIONS "+path, rec.Header())
		// With the bearer token the answer still grants no other origin.
		if !unauthenticated[route] {
			res := w.kit.Do(t, apitest.Scenario{Method: "GET", URL: "/api/v1/me", Token: token, Header: map[string]string{"Origin": "https://evil.example"}})
			noCORS(t, "GET /api/v1/me with a token", res.Header)
		}
	}
	// Sign-in is the one state-changing route without a token: the bodies a
	// foreign page's form or simple request can send are refused, so that
	// it cannot sign a browser in to an account of its choosing.
	for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"} {
		res := w.kit.Do(t, apitest.Scenario{Method: "POST", URL: "/api/v1/sessions", Header: map[string]string{"Content-Type": ct, "Origin": "https://evil.example"},
			Body: `{"tenant":"acme","username":"ann","password":"password-ann"}`})
		if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), "send the body as application/json") {
			t.Errorf("sign-in as %s: status %d, want 400; body: %s", ct, res.Status, res.Body)
		}
		if res.Header.Get("Set-Cookie") != "" {
			t.Errorf("sign-in set a cookie: %s", res.Header.Get("Set-Cookie"))
		}
		noCORS(t, "POST /api/v1/sessions as "+ct, res.Header)
	}
	res := w.kit.Do(t, apitest.Scenario{Method: "POST", URL: "/api/v1/sessions", Body: `{"tenant":"acme","username":"ann","password":"password-ann"}`, WantStatus: 201})
	if c := res.Header.Get("Set-Cookie"); c != "" {
		t.Errorf("a sign-in set a cookie %q: the API's identity is the bearer token only", c)
	}
}

// noCORS fails when h grants any cross-origin access.
func noCORS(t *testing.T, what string, h http.Header) {
	t.Helper()
	for name := range h {
		if strings.HasPrefix(strings.ToLower(name), "access-control-") {
			t.Errorf("%s: answers with %s: %q", what, name, h.Get(name))
		}
	}
}

// TestAdminPagesChangeNothing checks the admin web pages as the API mounts
// them: they are GET only (what they change goes through the bearer-only
// API from their script), set no cookie and grant no other origin.
func TestAdminPagesChangeNothing(t *testing.T) {
	w := newRealWorld(t)
	srv := New(Options{Service: w.c, Admin: adminweb.New()})
	t.Cleanup(func() { srv.Close() })
	for _, method := range []string{"GET", "POST", "PUT", "DELETE", "PATCH"} {
		for _, path := range []string{"/admin/call-center-users?tenant=acme", "/admin/assets/callcenterusers.js"} {
			req := httptest.NewRequest(method, path, strings.NewReader("tenant=acme&user=al&username=x"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", "https://evil.example")
			req.Header.Set("Cookie", "parley_session="+w.signIn(t, ""))
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, req)
			switch {
			case method == "GET" && rec.Code != http.StatusOK:
				t.Errorf("GET %s: %d", path, rec.Code)
			case method != "GET" && rec.Code != http.StatusMethodNotAllowed:
				t.Errorf("%s %s: %d, want 405: the admin pages change nothing", method, path, rec.Code)
			}
			if c := rec.Header().Get("Set-Cookie"); c != "" {
				t.Errorf("%s %s sets a cookie %q", method, path, c)
			}
			noCORS(t, method+" "+path, rec.Header())
		}
	}
}
