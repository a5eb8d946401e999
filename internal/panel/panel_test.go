package panel_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/callcenter"
	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/panel"
)

// tenants is a fixed tenant list.
type tenants []*cc.Tenant

func (ts tenants) TenantBySlug(_ context.Context, slug string) (*cc.Tenant, error) {
	for _, t := range ts {
		if t.Slug == slug {
			return t, nil
		}
	}
	return nil, cc.Errorf(cc.ENOTFOUND, "tenant %q not found", slug)
}

func (ts tenants) Tenants(context.Context) ([]*cc.Tenant, error) { return ts, nil }

func acme() tenants {
	return tenants{
		{ID: "ten_1", Slug: "acme", DisplayName: "Acme", Kind: cc.KindLegacy, Region: "US",
			CRMOrigins: []string{"https://acme.lightning.force.com", "https://acme--c.vf.force.com", "http://127.0.0.1:8081"}},
		{ID: "ten_2", Slug: "beta", Kind: cc.KindUnifiedLogin, Region: "US", CRMOrigins: []string{"https://beta.lightning.force.com"}},
	}
}

const lightning = "sfdcIframeOrigin=https%3A%2F%2Facme.lightning.force.com&mode=Lightning&nonce=abc123&isdtp=vw"

func TestParseLaunch(t *testing.T) {
	good := []struct {
		query, api, script string
	}{
		{lightning + "&ltn_app_id=06m000000000001AAA&clc=0", panel.APILightning, "https://acme.lightning.force.com/support/api/" + panel.OpenCTIVersion + "/lightning/opencti_min.js"},
		{"sfdcIFrameOrigin=https%3A%2F%2Facme--c.vf.force.com&nonce=x&isdtp=nv", panel.APIClassic, "https://acme--c.vf.force.com/support/api/" + panel.OpenCTIVersion + "/interaction.js"},
		{"sfdcIFrameOrigin=https%3A%2F%2Facme.my.salesforce.com&mode=Classic", panel.APIClassic, ""},
		{lightning + "&env=salesforce&companel=vcc&vccmode=2&vccDomain=https%3A%2F%2Fsso.example.com%2Flogin%2Fvcc-na1&ssoMode=true&sandbox=true&tenant=acme", panel.APILightning, ""},
		// The standby URL parley admin callcenter-xml writes (reqStandbyUrl).
		{lightning + "&env=salesforce&companel=vcc&vccmode=2&vccDomain=https%3A%2F%2Fparley.example.com&tenant=acme&standby=true", panel.APILightning, ""},
	}
	for _, c := range good {
		q, _ := url.ParseQuery(c.query)
		l, err := panel.ParseLaunch(q)
		if err != nil {
			t.Errorf("ParseLaunch(%s): %v", c.query, err)
			continue
		}
		if l.API != c.api || (c.script != "" && l.ScriptURL() != c.script) {
			t.Errorf("ParseLaunch(%s) = api %s script %s; want %s %s", c.query, l.API, l.ScriptURL(), c.api, c.script)
		}
	}
	bad := []struct{ query, want string }{
		{"", "sfdcIframeOrigin is missing"},
		{"mode=Lightning", "sfdcIframeOrigin is missing"},
		{"sfdcIframeOrigin=https%3A%2F%2Facme.lightning.force.com", "mode is missing"},
		{lightning + "&vccmode=7", "vccmode=7: use 1, 2 or 3"},
		{lightning + "&env=crm", "env=crm: use env=salesforce"},
		{lightning + "&companel=x", "companel=x: use companel=vcc"},
		{lightning + "&ssoMode=yes", "ssoMode=yes: use true or false"},
		{lightning + "&sandbox=1", "sandbox=1: use true or false"},
		{lightning + "&vccDomain=ftp%3A%2F%2Fx", "vccDomain=ftp://x: use the contact center's https URL"},
		{lightning + "&tenant=Bad%20Name", "tenant=Bad Name"},
		{lightning + "&colour=blue", `unknown parameter "colour"`},
		{lightning + "&mode=Lightning", "mode is given 2 times"},
		{"sfdcIframeOrigin=https%3A%2F%2Facme.lightning.force.com&mode=Dark", "mode=Dark: use Lightning or Classic"},
		{"sfdcIframeOrigin=http%3A%2F%2Facme.lightning.force.com&mode=Lightning", "sfdcIframeOrigin: CRM origin"},
		{"sfdcIframeOrigin=https%3A%2F%2Fevil.example&mode=Lightning", "Salesforce host"},
		{"sfdcIFrameOrigin=https%3A%2F%2Facme.my.salesforce.com&mode=Lightning", "Classic parameter"},
		{lightning + "&sfdcIFrameOrigin=https%3A%2F%2Facme.my.salesforce.com", "not both"},
		{"sfdcIframeOrigin=https%3A%2F%2Facme.lightning.force.com&mode=Lightning&nonce=a%20b", "use 1-128 letters"},
		{"sfdcIframeOrigin=https%3A%2F%2Facme.lightning.force.com&mode=Lightning&isdtp=VW!", "isdtp=VW!"},
		{lightning + "&ltn_app_id=short", "ltn_app_id=short"},
	}
	for _, c := range bad {
		q, _ := url.ParseQuery(c.query)
		_, err := panel.ParseLaunch(q)
		if !cc.IsCode(err, cc.EINVALID) || !strings.Contains(cc.ErrorMessage(err), c.want) {
			t.Errorf("ParseLaunch(%s) = %v; want EINVALID containing %q", c.query, err, c.want)
		}
	}
}

func get(t *testing.T, h http.Handler, target string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestPageHeadersAndCSP(t *testing.T) {
	h := panel.New(panel.Options{Tenants: acme()})
	res, body := get(t, h, "/cti/salesforce.html?"+lightning)
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	csp := res.Header.Get("Content-Security-Policy")
	directives := map[string]string{}
	for _, d := range strings.Split(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	if got, want := directives["frame-ancestors"], "https://acme.lightning.force.com https://acme--c.vf.force.com http://127.0.0.1:8081"; got != want {
		t.Errorf("frame-ancestors = %q; want exactly the tenant's origins %q", got, want)
	}
	if got, want := directives["script-src"], "'self' https://acme.lightning.force.com"; got != want {
		t.Errorf("script-src = %q; want %q", got, want)
	}
	for _, d := range []string{"default-src", "connect-src", "style-src", "base-uri"} {
		if directives[d] == "" {
			t.Errorf("CSP lacks %s: %s", d, csp)
		}
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") == "" {
		t.Errorf("headers: %v", res.Header)
	}
	if len(res.Cookies()) != 0 {
		t.Errorf("the page sets cookies: %v", res.Cookies())
	}
	for _, want := range []string{`id="parley-config"`, `"api":"lightning"`, `opencti_min.js`, `"tenant":"acme"`, `type="module"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(body, "abc123") {
		t.Error("the page repeats the nonce")
	}
	// The asset the page names is served, cacheable and as JavaScript.
	i := strings.Index(body, "/cti/assets/")
	src := body[i : i+strings.Index(body[i:], `"`)]
	src = strings.TrimSuffix(src, "panel.css") + "panel.js"
	res, js := get(t, h, src)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") || !strings.Contains(js, "import") {
		t.Errorf("asset %s: %d %v", src, res.StatusCode, res.Header)
	}
	if res, _ := get(t, h, "/cti/assets/old/panel.js"); res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("old asset version: %d %v", res.StatusCode, res.Header)
	}
	if res, _ := get(t, h, "/cti/assets/x/missing.js"); res.StatusCode != 404 {
		t.Errorf("missing asset: %d", res.StatusCode)
	}
}

// pageConfig returns the JSON the page gives its script.
func pageConfig(t *testing.T, body string) map[string]any {
	t.Helper()
	const open = `<script type="application/json" id="parley-config">`
	i := strings.Index(body, open)
	if i < 0 {
		t.Fatalf("no config in the page:\n%s", body)
	}
	rest := body[i+len(open):]
	var cfg map[string]any
	if err := json.Unmarshal([]byte(rest[:strings.Index(rest, "</script>")]), &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestPageSSOForALegacyTenant: ssoMode=true for a kind-1 tenant gives the
// panel (not a refusal) with the explanation above the password sign-in;
// a kind-2 tenant gets no notice, and a launch without ssoMode neither.
func TestPageSSOForALegacyTenant(t *testing.T) {
	h := panel.New(panel.Options{Tenants: acme()})
	res, body := get(t, h, "/cti/salesforce.html?"+lightning+"&vccmode=1&ssoMode=true&tenant=acme")
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	cfg := pageConfig(t, body)
	want := cc.ErrorMessage(cc.ErrSSONotAvailable("acme", cc.KindLegacy))
	if cfg["sso_notice"] != want || cfg["tenant_kind"] != 1.0 || cfg["sso"] != false {
		t.Errorf("config %v\nwant sso_notice %q", cfg, want)
	}
	if !strings.Contains(body, `id="signin-notice"`) || !strings.Contains(body, `id="signin-password"`) {
		t.Error("the page lacks the notice or the password sign-in")
	}
	for _, q := range []string{lightning + "&tenant=acme", "sfdcIframeOrigin=https%3A%2F%2Fbeta.lightning.force.com&mode=Lightning&ssoMode=true&tenant=beta"} {
		res, body := get(t, h, "/cti/salesforce.html?"+q)
		cfg := pageConfig(t, body)
		if res.StatusCode != 200 || cfg["sso_notice"] != nil {
			t.Errorf("%s: %d %v", q, res.StatusCode, cfg)
		}
	}
	_, body = get(t, h, "/cti/salesforce.html?sfdcIframeOrigin=https%3A%2F%2Fbeta.lightning.force.com&mode=Lightning&tenant=beta")
	if cfg := pageConfig(t, body); cfg["tenant_kind"] != 2.0 || cfg["sso"] != true {
		t.Errorf("beta: %v", cfg)
	}
}

func TestPageRefuses(t *testing.T) {
	h := panel.New(panel.Options{Tenants: acme()})
	cases := []struct {
		query  string
		status int
		want   []string
	}{
		{lightning + "&vccmode=7", 400, []string{"vccmode=7: use 1, 2 or 3"}},
		{"sfdcIframeOrigin=https%3A%2F%2Fother.lightning.force.com&mode=Lightning&tenant=acme", 403,
			[]string{"https://other.lightning.force.com is not allowed for tenant acme", "parley admin tenant set --tenant acme --add-crm-origin https://other.lightning.force.com"}},
		{"sfdcIframeOrigin=https%3A%2F%2Fother.lightning.force.com&mode=Lightning", 403, []string{"not allowed for any tenant", "--add-crm-origin https://other.lightning.force.com"}},
		{lightning + "&tenant=nobody", 403, []string{"tenant=nobody: no such contact center"}},
		{lightning + "&vccmode=2", 400, []string{"vccmode=2: tenant acme is of kind 1; use vccmode=1"}},
		{lightning + "&tenant=%3Cb%3E", 400, []string{"tenant=&lt;b&gt;"}},
	}
	for _, c := range cases {
		res, body := get(t, h, "/cti/salesforce.html?"+c.query)
		if res.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.query, res.StatusCode, c.status)
		}
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: page lacks %q:\n%s", c.query, w, body)
			}
		}
		if strings.Contains(body, "<script") {
			t.Errorf("%s: a refused page loads scripts", c.query)
		}
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
			t.Errorf("%s: refused page CSP %q", c.query, csp)
		}
	}
	// A foreign origin may frame the message (it has nothing to act on),
	// next to the tenant's own.
	res, _ := get(t, h, "/cti/salesforce.html?sfdcIframeOrigin=https%3A%2F%2Fother.lightning.force.com&mode=Lightning&tenant=acme")
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors https://acme.lightning.force.com https://acme--c.vf.force.com http://127.0.0.1:8081 https://other.lightning.force.com") {
		t.Errorf("refused page frame-ancestors: %s", csp)
	}
}

func FuzzParseLaunch(f *testing.F) {
	for _, s := range []string{lightning, "sfdcIFrameOrigin=https%3A%2F%2Fa.force.com", lightning + "&vccmode=2&ssoMode=true", "a=%zz", lightning + "&vccDomain=https%3A%2F%2F%5B%3A%3A1%5D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		l, err := panel.ParseLaunch(q)
		if err != nil {
			if !cc.IsCode(err, cc.EINVALID) {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		if _, err := cc.ParseCRMOrigin(l.Origin); err != nil {
			t.Fatalf("accepted origin %q does not parse: %v", l.Origin, err)
		}
		if l.API != panel.APILightning && l.API != panel.APIClassic {
			t.Fatalf("api %q", l.API)
		}
	})
}

// TestParseLaunchTakesTheCallCenterURLs: the adapter and standby URLs that
// parley admin callcenter-xml writes (and devcrm frames) are launches the
// panel accepts, with what the CRM appends, in the demo (http on loopback)
// and for a real org.
func TestParseLaunchTakesTheCallCenterURLs(t *testing.T) {
	for _, c := range []struct {
		public  string
		sandbox bool
	}{{"http://127.0.0.1:8080", false}, {"https://parley.example.com", true}} {
		def, err := callcenter.Generate(&cc.Tenant{Slug: "acme", Region: "US", Kind: cc.KindLegacy, Cluster: "na1"}, callcenter.Options{PublicURL: c.public, Sandbox: c.sandbox})
		if err != nil {
			t.Fatal(err)
		}
		center, err := callcenter.Parse(strings.NewReader(string(def)))
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range []string{center.AdapterURL(), center.Value(callcenter.SectionGeneral, callcenter.ItemStandbyURL)} {
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			q.Set("sfdcIframeOrigin", "https://acme.lightning.force.com")
			q.Set("mode", "Lightning")
			q.Set("nonce", "n1")
			l, err := panel.ParseLaunch(q)
			if err != nil {
				t.Errorf("%s: the panel refuses the call center's URL: %v", raw, err)
				continue
			}
			if l.VCCDomain != "https://vcc-na1.vcc.example.net" || l.Tenant != "acme" || l.Sandbox != c.sandbox || l.Standby != strings.Contains(raw, "standby=true") {
				t.Errorf("%s: launch %+v", raw, l)
			}
		}
	}
}
