package main

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDemoSeedsDevCRMCallCenter: the demo imports acme's call center into
// devcrm, puts alice and bob in it, and writes the devcrm sign-ins and
// console URLs to demo.json; alice's devcrm page hosts Parley's adapter.
func TestDemoSeedsDevCRMCallCenter(t *testing.T) {
	dir, f := demoForTest(t)
	// Two tenants: acme with single sign-on, oldco legacy with its own
	// agent and number; every user and number names its tenant.
	if want := []demoTenantInfo{{"acme", 3, "na6"}, {"oldco", 1, "na12"}}; !slices.Equal(f.Tenants, want) || f.Tenant != "acme" {
		t.Errorf("tenant %q, tenants %+v; want acme and %+v", f.Tenant, f.Tenants, want)
	}
	tenantOf := map[string]string{}
	for _, u := range f.Users {
		tenantOf[u.Username] = u.Tenant
	}
	for _, e := range f.EntryPoints {
		tenantOf[e.Number] = e.Tenant
	}
	for k, want := range map[string]string{"alice": "acme", "bob": "acme", "sam": "acme", "ada": "acme", "olga": "oldco", "+15550100": "acme", "+15550200": "oldco"} {
		if tenantOf[k] != want {
			t.Errorf("%s: tenant %q, want %q (%v)", k, tenantOf[k], want, tenantOf)
		}
	}
	if f.CRMConsole.Lightning != f.CRM+"/lightning/page/home" || f.CRMConsole.Classic != f.CRM+"/console" {
		t.Errorf("crm_console = %+v", f.CRMConsole)
	}
	// The call centers: acme's has alice, bob and carol (no Parley user:
	// single sign-on says so), oldco's has olga; sam and the administrator
	// have none. Single sign-on maps alice and bob.
	got := map[string]string{}
	pw := map[string]string{}
	for _, u := range f.CRMUsers {
		got[u.Username] = fmt.Sprintf("%v/%s/%s", u.CallCenter, u.Tenant, u.Parley)
		pw[u.Username] = u.Password
	}
	wantUsers := map[string]string{"alice@devcrm.example.com": "true/acme/alice", "bob@devcrm.example.com": "true/acme/bob",
		"carol@devcrm.example.com": "true/acme/", "olga@devcrm.example.com": "true/oldco/",
		"sam@devcrm.example.com": "false//", "admin@devcrm.example.com": "false//"}
	if !maps.Equal(got, wantUsers) {
		t.Fatalf("crm_users = %v, want %v", got, wantUsers)
	}
	// acme is kind 3 on na6: the reference's override, the bare /login/vcc,
	// and single sign-on (ssoMode=true); oldco is legacy on na12.
	for user, want := range map[string]string{
		"alice@devcrm.example.com": `"adapterUrl":"` + f.HTTP + `/cti/salesforce.html?env=salesforce\u0026companel=vcc\u0026vccmode=3\u0026vccDomain=https%3A%2F%2Fsso.vcc.example.net%2Flogin%2Fvcc\u0026ssoMode=true\u0026tenant=acme"`,
		"olga@devcrm.example.com":  `"adapterUrl":"` + f.HTTP + `/cti/salesforce.html?env=salesforce\u0026companel=vcc\u0026vccmode=1\u0026vccDomain=https%3A%2F%2Fvcc-na12.vcc.example.net\u0026tenant=oldco"`,
	} {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		resp, err := c.PostForm(f.CRM+"/login", url.Values{"username": {user}, "password": {pw[user]}, "next": {"/lightning/page/home"}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Fatalf("%s's devcrm page: %d, want %s in\n%s", user, resp.StatusCode, want, body)
		}
	}
	if f.SSOClient.ID != demoSSOClientID || f.SSOClient.Secret == "" || len(f.TrySSO) != 3 ||
		!strings.Contains(f.TrySSO[0], "alice@devcrm.example.com (password "+pw["alice@devcrm.example.com"]+")") ||
		!strings.Contains(f.TrySSO[1], "carol@devcrm.example.com") || !strings.Contains(f.TrySSO[2], "olga@devcrm.example.com") {
		t.Errorf("sso_client %+v, try_sso %q", f.SSOClient, f.TrySSO)
	}
	// Single sign-on as the demo registered it: /sso/start sends the
	// browser to devcrm's authorize with the parley-sso app, PKCE and
	// Parley's callback, and devcrm takes the request (its sign-in page,
	// not an error about the app or the redirect URI).
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.Get(f.HTTP + "/sso/start?tenant=acme&origin=" + url.QueryEscape(f.CRM))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	authorize, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound || !strings.HasPrefix(authorize.String(), f.CRM+"/services/oauth2/authorize?") {
		t.Fatalf("/sso/start: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if q := authorize.Query(); q.Get("client_id") != demoSSOClientID || q.Get("redirect_uri") != f.HTTP+"/sso/callback" || q.Get("code_challenge_method") != "S256" {
		t.Errorf("authorize parameters %v", q)
	}
	res, err = noRedirect.Get(authorize.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/services/oauth2/login") {
		t.Errorf("devcrm's authorize: %d %q %s", res.StatusCode, loc, body)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "demo.json")); !strings.Contains(string(b), `"crm_console"`) || !strings.Contains(string(b), `"crm_users"`) || !strings.Contains(string(b), `"try_sso"`) {
		t.Errorf("demo.json:\n%s", b)
	}
}

func TestPrintDemoShowsTheCRMConsole(t *testing.T) {
	f := &demoFile{HTTP: "http://127.0.0.1:8080", CRM: "http://127.0.0.1:8081", Tenant: "acme",
		CRMConsole: demoCRMConsole{Lightning: "http://127.0.0.1:8081/lightning/page/home", Classic: "http://127.0.0.1:8081/console"},
		CRMUsers: []demoCRMLogin{{Username: "alice@devcrm.example.com", Password: "pw-a", CallCenter: true, Tenant: "acme", Parley: "alice"},
			{Username: "carol@devcrm.example.com", Password: "pw-c", CallCenter: true, Tenant: "acme"}},
		SSOClient: demoCRMClient{ID: "parley-sso", Secret: "sso-secret"},
		TrySSO:    []string{"Single sign-on (tenant acme): open ..."}}
	var b strings.Builder
	printDemo(&b, f, "127.0.0.1:5060", "demo.json")
	for _, want := range []string{"http://127.0.0.1:8081/login", "Lightning-like app: http://127.0.0.1:8081/lightning/page/home", "Service Console:    http://127.0.0.1:8081/console", "alice@devcrm.example.com   password pw-a   (tenant acme's call center: gets the softphone; single sign-on as Parley user alice)",
		"carol@devcrm.example.com   password pw-c   (tenant acme's call center, no Parley user: single sign-on says so)",
		"Sign in with the CRM (README: Try single sign-on):\n  - Single sign-on (tenant acme): open ...",
		"devcrm single sign-on app: id parley-sso secret sso-secret (callback http://127.0.0.1:8080/sso/callback, PKCE required)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the demo output lacks %q:\n%s", want, b.String())
		}
	}
}

// TestDemoHTTPAddr: a port 0 becomes a free port (single sign-on's callback
// is registered before Parley listens); a given port stays; no port is
// refused with what to give.
func TestDemoHTTPAddr(t *testing.T) {
	if got, err := demoHTTPAddr("127.0.0.1:8080"); err != nil || got != "127.0.0.1:8080" {
		t.Errorf("127.0.0.1:8080: %q %v", got, err)
	}
	got, err := demoHTTPAddr("127.0.0.1:0")
	if err != nil || !strings.HasPrefix(got, "127.0.0.1:") || strings.HasSuffix(got, ":0") {
		t.Errorf("127.0.0.1:0: %q %v", got, err)
	}
	if _, err := demoHTTPAddr("127.0.0.1"); err == nil || !strings.Contains(err.Error(), "give host:port, such as 127.0.0.1:8080") {
		t.Errorf("no port: %v", err)
	}
}
