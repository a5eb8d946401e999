package ctiurl_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/ctiurl"
)

const public = "https://parley.example.com"

// referenceDomain is the reference product's table, written out from its
// rules rather than from the cluster file: legacy tenants use the
// cluster's host, unified-login tenants the identity service's path, and a
// kind-3 tenant on na6 the bare /login/vcc.
func referenceDomain(cluster string, kind cc.TenantKind) string {
	switch {
	case kind == cc.KindLegacy:
		return "https://vcc-" + cluster + ".vcc.example.net"
	case cluster == "na6" && kind == cc.KindUnifiedLoginUC:
		return "https://sso.vcc.example.net/login/vcc"
	}
	return "https://sso.vcc.example.net/login/vcc-" + cluster
}

// TestBuildReproducesTheReferenceTable builds every cluster x kind x SSO x
// sandbox combination and checks each against the reference's rules, and
// that Check accepts what Build writes.
func TestBuildReproducesTheReferenceTable(t *testing.T) {
	cs := ctiurl.Default()
	var want []string
	for i := 1; i <= 12; i++ {
		want = append(want, fmt.Sprintf("na%d", i))
	}
	if got := cs.Names(); !reflect.DeepEqual(got, want) {
		t.Fatalf("clusters %v, want %v", got, want)
	}
	n := 0
	for _, cluster := range want {
		for kind := cc.KindLegacy; kind <= cc.KindUnifiedLoginUC; kind++ {
			for _, sso := range []bool{false, true} {
				for _, sandbox := range []bool{false, true} {
					name := fmt.Sprintf("%s/kind%d/sso=%v/sandbox=%v", cluster, kind, sso, sandbox)
					got, err := cs.Build(ctiurl.Params{PublicURL: public, Cluster: cluster, Kind: kind, SSO: sso, Sandbox: sandbox})
					if sso && kind == cc.KindLegacy {
						if cc.ErrorCode(err) != cc.EINVALID || !strings.Contains(cc.ErrorMessage(err), "single sign-on is not available for legacy tenants") {
							t.Errorf("%s: %q, %v; want the legacy explanation", name, got, err)
						}
						continue
					}
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					q := fmt.Sprintf("env=salesforce&companel=vcc&vccmode=%d&vccDomain=%s", kind, url.QueryEscape(referenceDomain(cluster, kind)))
					if sso {
						q += "&ssoMode=true"
					}
					if sandbox {
						q += "&sandbox=true"
					}
					if w := public + "/cti/salesforce.html?" + q; got != w {
						t.Errorf("%s:\n got %s\nwant %s", name, got, w)
					}
					// Check takes it for a tenant of that cluster and kind,
					// whose CRM is (or is not) a sandbox.
					tn := &cc.Tenant{Slug: "t", Cluster: cluster, Kind: kind, CRM: crm(sandbox)}
					if err := cs.Check(got, tn, public); err != nil {
						t.Errorf("%s: Check(Build) = %v", name, err)
					}
					if err := cs.CheckDomain(referenceDomain(cluster, kind), tn); err != nil {
						t.Errorf("%s: CheckDomain = %v", name, err)
					}
					n++
				}
			}
		}
	}
	if n != 12*3*4-12*2 {
		t.Errorf("%d URLs built", n)
	}
}

// crm is a Salesforce connection to a sandbox or a production org.
func crm(sandbox bool) cc.CRMConnection {
	if sandbox {
		return cc.CRMConnection{Kind: "salesforce", LoginURL: "https://test.salesforce.com"}
	}
	return cc.CRMConnection{Kind: "salesforce", LoginURL: "https://login.salesforce.com"}
}

func TestSampleFileIsTheBuiltInTable(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "clusters.sample.yaml")
	cs, err := ctiurl.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cs.All(), ctiurl.Default().All()) {
		t.Errorf("%s differs from the built-in table:\n%+v\n%+v", path, cs.All(), ctiurl.Default().All())
	}
	if def, _ := ctiurl.Load(""); def != ctiurl.Default() {
		t.Error("Load(\"\") is not the built-in table")
	}
}

func TestForTenant(t *testing.T) {
	cs := ctiurl.Default()
	acme := &cc.Tenant{Slug: "acme", Kind: cc.KindUnifiedLoginUC, Cluster: "na6"}
	oldco := &cc.Tenant{Slug: "oldco", Kind: cc.KindLegacy, Cluster: "na12"}
	sbx := &cc.Tenant{Slug: "sbx", Kind: cc.KindUnifiedLogin, Cluster: "na1", CRM: crm(true)}
	prod := &cc.Tenant{Slug: "prod", Kind: cc.KindUnifiedLogin, Cluster: "na1", CRM: crm(false)}
	for _, c := range []struct {
		t            *cc.Tenant
		sso, sandbox bool
		want, err    string
	}{
		{t: acme, sso: true, want: public + "/cti/salesforce.html?env=salesforce&companel=vcc&vccmode=3&vccDomain=https%3A%2F%2Fsso.vcc.example.net%2Flogin%2Fvcc&ssoMode=true&tenant=acme"},
		{t: acme, sandbox: true, want: public + "/cti/salesforce.html?env=salesforce&companel=vcc&vccmode=3&vccDomain=https%3A%2F%2Fsso.vcc.example.net%2Flogin%2Fvcc&sandbox=true&tenant=acme"},
		{t: oldco, want: public + "/cti/salesforce.html?env=salesforce&companel=vcc&vccmode=1&vccDomain=https%3A%2F%2Fvcc-na12.vcc.example.net&tenant=oldco"},
		{t: oldco, sso: true, err: "tenant oldco is a legacy (kind 1) tenant: single sign-on is not available for legacy tenants; sign in with the contact center's user name and password, or change the tenant's kind to 2 or 3 with parley admin tenant set --tenant oldco --kind 2"},
		// A sandbox org gets sandbox=true unasked; a production org refuses it.
		{t: sbx, want: public + "/cti/salesforce.html?env=salesforce&companel=vcc&vccmode=2&vccDomain=https%3A%2F%2Fsso.vcc.example.net%2Flogin%2Fvcc-na1&sandbox=true&tenant=sbx"},
		{t: prod, sandbox: true, err: "tenant prod's CRM is a production org (it signs in at https://login.salesforce.com): drop the sandbox option; sandbox=true is for sandbox orgs"},
		{t: &cc.Tenant{Slug: "nocl", Kind: cc.KindLegacy}, err: "tenant nocl has no cluster: set it with parley admin tenant set --tenant nocl --cluster NAME (na1, na2, na3, na4, na5, na6, na7, na8, na9, na10, na11, na12)"},
		{t: &cc.Tenant{Slug: "eu", Kind: cc.KindLegacy, Cluster: "eu1"}, err: `tenant eu: cluster "eu1" is not in the cluster table (built-in): use one of na1, na2, na3, na4, na5, na6, na7, na8, na9, na10, na11, na12, or add it to the clusters_file`},
	} {
		got, err := cs.ForTenant(c.t, public, c.sso, c.sandbox)
		if c.err != "" {
			if cc.ErrorCode(err) != cc.EINVALID || cc.ErrorMessage(err) != c.err {
				t.Errorf("%s sso=%v sandbox=%v: %q, %q\nwant error %q", c.t.Slug, c.sso, c.sandbox, got, cc.ErrorMessage(err), c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s sso=%v sandbox=%v:\n got %s %v\nwant %s", c.t.Slug, c.sso, c.sandbox, got, err, c.want)
		}
	}
}

func TestBuildRefusesBadPublicURLs(t *testing.T) {
	cs := ctiurl.Default()
	for _, c := range []struct{ public, err string }{
		{"http://parley.example.com", "is http: Salesforce loads the softphone only over https"},
		{"https://parley.example.com/base", "give Parley's public origin"},
		{"parley.example.com", "give Parley's public origin"},
	} {
		_, err := cs.Build(ctiurl.Params{PublicURL: c.public, Cluster: "na1", Kind: cc.KindLegacy})
		if !strings.Contains(cc.ErrorMessage(err), c.err) {
			t.Errorf("%s: %v, want %q", c.public, err, c.err)
		}
	}
	got, err := cs.Build(ctiurl.Params{PublicURL: "http://127.0.0.1:8080/", Cluster: "na1", Kind: cc.KindLegacy})
	if err != nil || !strings.HasPrefix(got, "http://127.0.0.1:8080/cti/salesforce.html?") {
		t.Errorf("loopback http: %q %v", got, err)
	}
	if _, err := cs.Build(ctiurl.Params{PublicURL: public, Cluster: "na1", Kind: 4}); !strings.Contains(cc.ErrorMessage(err), "kind 4: use 1 (legacy), 2 (unified login) or 3") {
		t.Errorf("kind 4: %v", err)
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{"localhost": true, "LocalHost": true, "127.0.0.1": true, "127.9.9.9": true, "::1": true, "[::1]": true,
		"::ffff:127.0.0.1": true, "10.0.0.1": false, "parley.example.com": false, "": false} {
		if got := ctiurl.IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v", host, got)
		}
	}
}

func TestClusterFromHost(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"vcc-na12b.vcc.example.net", "na12"},
		{"vcc-na12.vcc.example.net", "na12"},
		{"https://VCC-NA1A.vcc.example.net/agent", "na1"},
		{"vcc-na6.example.org", "na6"},
		{"sso.vcc.example.net", ""},
		{"vcc-.vcc.example.net", ""},
		{"na12.vcc.example.net", ""},
	} {
		got, ok := ctiurl.ClusterFromHost(c.in)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("ClusterFromHost(%q) = %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
}

func TestCheckDomainMessages(t *testing.T) {
	cs := ctiurl.Default()
	acme := &cc.Tenant{Slug: "acme", Kind: cc.KindUnifiedLoginUC, Cluster: "na6"}
	uni := &cc.Tenant{Slug: "uni", Kind: cc.KindUnifiedLogin, Cluster: "na12"}
	oldco := &cc.Tenant{Slug: "oldco", Kind: cc.KindLegacy, Cluster: "na12"}
	for _, c := range []struct {
		t      *cc.Tenant
		domain string
		err    string
	}{
		{acme, "https://sso.vcc.example.net/login/vcc", ""},
		{acme, "HTTPS://SSO.vcc.example.net/login/vcc/", ""},
		{acme, "https://sso.vcc.example.net/login/vcc-na6", "https://sso.vcc.example.net/login/vcc-na6 is the domain of unified login (kind 2) tenants on cluster na6: tenant acme is a unified login + UC (kind 3) tenant on cluster na6: use https://sso.vcc.example.net/login/vcc"},
		{acme, "https://vcc-na6.vcc.example.net", "https://vcc-na6.vcc.example.net is the domain of legacy (kind 1) tenants on cluster na6: tenant acme is a unified login + UC (kind 3) tenant on cluster na6: use https://sso.vcc.example.net/login/vcc"},
		{uni, "https://vcc-na12.vcc.example.net", "https://vcc-na12.vcc.example.net is the domain of legacy (kind 1) tenants on cluster na12: tenant uni is a unified login (kind 2) tenant on cluster na12: use https://sso.vcc.example.net/login/vcc-na12"},
		{uni, "https://sso.vcc.example.net/login/vcc-na1", "https://sso.vcc.example.net/login/vcc-na1 is the domain of unified login (kind 2) and unified login + UC (kind 3) tenants on cluster na1: tenant uni is a unified login (kind 2) tenant on cluster na12: use https://sso.vcc.example.net/login/vcc-na12"},
		{oldco, "https://sso.vcc.example.net/login/vcc-na12", "https://sso.vcc.example.net/login/vcc-na12 is the domain of unified login (kind 2) and unified login + UC (kind 3) tenants on cluster na12: tenant oldco is a legacy (kind 1) tenant on cluster na12: use https://vcc-na12.vcc.example.net"},
		{oldco, "https://vcc-na12b.vcc.example.net", "https://vcc-na12b.vcc.example.net is the address of a sub-cluster of na12 (the browser's address after signing in); the contact center domain is the cluster's: tenant oldco is a legacy (kind 1) tenant on cluster na12: use https://vcc-na12.vcc.example.net"},
		{oldco, "https://vcc-na1b.vcc.example.net", "https://vcc-na1b.vcc.example.net is on cluster na1: tenant oldco is a legacy (kind 1) tenant on cluster na12: use https://vcc-na12.vcc.example.net"},
		{oldco, "http://vcc-na12.vcc.example.net", "http://vcc-na12.vcc.example.net is not https: tenant oldco is a legacy (kind 1) tenant on cluster na12: use https://vcc-na12.vcc.example.net"},
		{oldco, "vcc-na12.vcc.example.net", `"vcc-na12.vcc.example.net" is not a URL: tenant oldco is a legacy (kind 1) tenant on cluster na12: use https://vcc-na12.vcc.example.net`},
		{oldco, "https://vcc-na12.vcc.example.net?x=1", "https://vcc-na12.vcc.example.net?x=1 has a query or fragment: the domain is only the address; tenant oldco is a legacy (kind 1) tenant on cluster na12: use https://vcc-na12.vcc.example.net"},
		{oldco, "https://cc.other.example", "https://cc.other.example is not a contact center domain of the cluster table (built-in): tenant oldco is a legacy (kind 1) tenant on cluster na12: use https://vcc-na12.vcc.example.net"},
		{oldco, " ", "the contact center domain is empty: tenant oldco (legacy (kind 1), cluster na12) uses https://vcc-na12.vcc.example.net"},
		{&cc.Tenant{Slug: "nocl", Kind: cc.KindLegacy}, "https://vcc-na1.vcc.example.net", "tenant nocl has no cluster, so its contact center domain is not known: an administrator sets it with parley admin tenant set --tenant nocl --cluster NAME (na1, na2, na3, na4, na5, na6, na7, na8, na9, na10, na11, na12)"},
	} {
		err := cs.CheckDomain(c.domain, c.t)
		if c.err == "" {
			if err != nil {
				t.Errorf("%s %q: %v", c.t.Slug, c.domain, err)
			}
			continue
		}
		if cc.ErrorCode(err) != cc.EINVALID || cc.ErrorMessage(err) != c.err {
			t.Errorf("%s %q:\n got %q\nwant %q", c.t.Slug, c.domain, cc.ErrorMessage(err), c.err)
		}
	}
}

func TestCheckMessages(t *testing.T) {
	cs := ctiurl.Default()
	acme := &cc.Tenant{Slug: "acme", Kind: cc.KindUnifiedLoginUC, Cluster: "na6"}
	oldco := &cc.Tenant{Slug: "oldco", Kind: cc.KindLegacy, Cluster: "na12"}
	sbx := &cc.Tenant{Slug: "sbx", Kind: cc.KindUnifiedLogin, Cluster: "na1", CRM: crm(true)}
	prod := &cc.Tenant{Slug: "prod", Kind: cc.KindUnifiedLogin, Cluster: "na1", CRM: crm(false)}
	const page = public + "/cti/salesforce.html?"
	const acmeURL = page + "env=salesforce&companel=vcc&vccmode=3&vccDomain=https%3A%2F%2Fsso.vcc.example.net%2Flogin%2Fvcc&tenant=acme"
	const oldcoURL = page + "env=salesforce&companel=vcc&vccmode=1&vccDomain=https%3A%2F%2Fvcc-na12.vcc.example.net&tenant=oldco"
	for _, c := range []struct {
		name string
		t    *cc.Tenant
		url  string
		err  string
	}{
		{"good", acme, acmeURL, ""},
		{"good, no tenant parameter", oldco, page + "env=salesforce&companel=vcc&vccmode=1&vccDomain=https://vcc-na12.vcc.example.net", ""},
		{"standby", oldco, oldcoURL + "&standby=true", ""},
		{"legacy domain for kind 3", acme, page + "env=salesforce&companel=vcc&vccmode=3&vccDomain=https://vcc-na6.vcc.example.net&tenant=acme",
			"adapter URL for tenant acme: vccDomain: https://vcc-na6.vcc.example.net is the domain of legacy (kind 1) tenants on cluster na6: tenant acme is a unified login + UC (kind 3) tenant on cluster na6: use https://sso.vcc.example.net/login/vcc; the URL for acme is " + acmeURL},
		{"ssoMode for legacy", oldco, oldcoURL + "&ssoMode=true",
			"adapter URL for tenant oldco: ssoMode=true: tenant oldco is a legacy (kind 1) tenant: single sign-on is not available for legacy tenants; sign in with the contact center's user name and password, or change the tenant's kind to 2 or 3 with parley admin tenant set --tenant oldco --kind 2; the URL for oldco is " + oldcoURL},
		{"wrong vccmode", oldco, page + "env=salesforce&companel=vcc&vccmode=2&vccDomain=https://vcc-na12.vcc.example.net&tenant=oldco",
			"adapter URL for tenant oldco: vccmode=2: use vccmode=1; the URL for oldco is " + oldcoURL},
		{"sandbox missing", sbx, page + "env=salesforce&companel=vcc&vccmode=2&vccDomain=https://sso.vcc.example.net/login/vcc-na1&ssoMode=true",
			"adapter URL for tenant sbx: sandbox=true is missing: tenant sbx's CRM is a sandbox org (it signs in at https://test.salesforce.com), and sandbox orgs need sandbox=true; the URL for sbx is " + page + "env=salesforce&companel=vcc&vccmode=2&vccDomain=https%3A%2F%2Fsso.vcc.example.net%2Flogin%2Fvcc-na1&ssoMode=true&sandbox=true&tenant=sbx"},
		{"sandbox for production", prod, page + "env=salesforce&companel=vcc&vccmode=2&vccDomain=https://sso.vcc.example.net/login/vcc-na1&sandbox=true",
			"adapter URL for tenant prod: sandbox=true: tenant prod's CRM is a production org (it signs in at https://login.salesforce.com); sandbox=true is for sandbox orgs only; the URL for prod is " + page + "env=salesforce&companel=vcc&vccmode=2&vccDomain=https%3A%2F%2Fsso.vcc.example.net%2Flogin%2Fvcc-na1&tenant=prod"},
		{"sub-cluster host", oldco, page + "env=salesforce&companel=vcc&vccmode=1&vccDomain=https://vcc-na12b.vcc.example.net",
			"adapter URL for tenant oldco: vccDomain: https://vcc-na12b.vcc.example.net is the address of a sub-cluster of na12 (the browser's address after signing in); the contact center domain is the cluster's: tenant oldco is a legacy (kind 1) tenant on cluster na12: use https://vcc-na12.vcc.example.net; the URL for oldco is " + oldcoURL},
		{"everything wrong", oldco, "http://other.example.com/cti/panel.html?env=sf&companel=x&vccmode=3&ssoMode=yes&tenant=acme&foo=1&foo=2",
			`adapter URL for tenant oldco: the URL is http: Salesforce loads the softphone only over https; the URL is on http://other.example.com, not on Parley's public URL https://parley.example.com; the page is "/cti/panel.html": Parley's adapter page is /cti/salesforce.html; unknown parameter "foo": the adapter URL takes env, companel, vccmode, vccDomain, ssoMode, sandbox, tenant, standby; env=sf: use env=salesforce; companel=x: use companel=vcc; vccmode=3: use vccmode=1; ssoMode=yes: use ssoMode=true or leave it out; tenant=acme: this URL is checked for tenant oldco; use tenant=oldco; vccDomain is missing; the URL for oldco is ` + oldcoURL},
		{"not a URL", oldco, "vccmode=1", `adapter URL "vccmode=1": give the whole URL, such as https://parley.example.com/cti/salesforce.html?env=salesforce&...`},
		{"no cluster", &cc.Tenant{Slug: "nocl", Kind: cc.KindLegacy}, page + "env=salesforce&companel=vcc&vccmode=1&vccDomain=https://vcc-na1.vcc.example.net",
			"adapter URL for tenant nocl: vccDomain: tenant nocl has no cluster, so its contact center domain is not known: an administrator sets it with parley admin tenant set --tenant nocl --cluster NAME (na1, na2, na3, na4, na5, na6, na7, na8, na9, na10, na11, na12); tenant nocl has no cluster: set it with parley admin tenant set --tenant nocl --cluster NAME (na1, na2, na3, na4, na5, na6, na7, na8, na9, na10, na11, na12)"},
	} {
		err := cs.Check(c.url, c.t, public)
		if c.err == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if cc.ErrorCode(err) != cc.EINVALID || cc.ErrorMessage(err) != c.err {
			t.Errorf("%s:\n got %q\nwant %q", c.name, cc.ErrorMessage(err), c.err)
		}
	}
	// Without a public URL the origin is not checked and the suggestion
	// keeps the URL's own.
	err := cs.Check("https://cc.example.org/cti/salesforce.html?env=salesforce&companel=vcc&vccmode=2&vccDomain=https://vcc-na12.vcc.example.net", oldco, "")
	if want := "the URL for oldco is https://cc.example.org/cti/salesforce.html?env=salesforce&companel=vcc&vccmode=1&"; !strings.Contains(cc.ErrorMessage(err), want) {
		t.Errorf("no public URL: %v", err)
	}
}

func TestParseRefusesBadFiles(t *testing.T) {
	for _, c := range []struct{ name, yaml, err string }{
		{"empty", "", "c.yaml: the cluster file is empty"},
		{"unknown key", "domian: x.example\nclusters: [{name: na1}]\n", `c.yaml line 1: unknown key domian (the file takes domain, legacy, unified, clusters)`},
		{"no clusters", "domain: x.example\nlegacy: https://vcc-{cluster}.{domain}\n", "c.yaml: no clusters: list them under clusters:"},
		{"bad name", "legacy: https://a.example\nunified: https://b.example\nclusters: [{name: NA-1}]\n", `c.yaml: cluster 1 (NA-1): name "NA-1": use lowercase letters then digits, such as na1`},
		{"twice", "legacy: https://a.example\nunified: https://b.example\nclusters: [{name: na1}, {name: na1}]\n", "c.yaml: cluster 2 (na1): cluster na1 is listed twice"},
		{"no form", "legacy: https://a.example\nclusters: [{name: na1}]\n", "c.yaml: cluster 1 (na1): no unified form: set unified: at the top of the file or on the cluster"},
		{"no domain", "legacy: https://vcc-{cluster}.{domain}\nunified: https://b.example\nclusters: [{name: na1}]\n", `c.yaml: cluster 1 (na1): legacy: "https://vcc-{cluster}.{domain}" uses {domain}, but the file sets no domain: add domain: at the top`},
		{"http form", "legacy: http://vcc-{cluster}.example\nunified: https://b.example\nclusters: [{name: na1}]\n", `c.yaml: cluster 1 (na1): legacy: "http://vcc-{cluster}.example" gives "http://vcc-na1.example": use an https URL with a host and no query`},
		{"bad placeholder", "legacy: https://vcc-{name}.example\nunified: https://b.example\nclusters: [{name: na1}]\n", `c.yaml: cluster 1 (na1): legacy: "https://vcc-{name}.example": the placeholders are {cluster} and {domain}`},
		{"bad kind", "legacy: https://a.example\nunified: https://b.example\nclusters: [{name: na1, overrides: [{kind: 4, domain: https://c.example}]}]\n", "c.yaml: cluster 1 (na1): override kind 4: use 1, 2 or 3"},
		{"kind twice", "legacy: https://a.example\nunified: https://b.example\nclusters: [{name: na1, overrides: [{kind: 3, domain: https://c.example}, {kind: 3, domain: https://d.example}]}]\n", "c.yaml: cluster 1 (na1): kind 3 is overridden twice"},
		{"unknown cluster key", "legacy: https://a.example\nunified: https://b.example\nclusters:\n  - name: na1\n    overide: []\n", "c.yaml line 5: unknown key overide (a cluster takes name, legacy, unified, overrides)"},
		{"not YAML", "clusters: [\n", "(the file is not valid YAML)"},
		{"bad domain", "domain: 'vcc example'\nclusters: [{name: na1}]\n", `c.yaml: domain "vcc example": give the provider's DNS name`},
	} {
		_, err := ctiurl.Parse("c.yaml", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v\nwant %q", c.name, err, c.err)
		}
	}
	// A cluster's own forms and overrides win over the file's.
	cs, err := ctiurl.Parse("c.yaml", []byte("domain: p.example\nlegacy: https://vcc-{cluster}.{domain}\nunified: https://sso.{domain}/login/vcc-{cluster}\n"+
		"clusters:\n  - name: eu1\n    legacy: https://eu.{domain}\n    overrides:\n      - kind: 2\n        domain: https://sso.{domain}/eu\n  - name: eu2\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cluster string
		kind    cc.TenantKind
		want    string
	}{
		{"eu1", cc.KindLegacy, "https://eu.p.example"},
		{"eu1", cc.KindUnifiedLogin, "https://sso.p.example/eu"},
		{"eu1", cc.KindUnifiedLoginUC, "https://sso.p.example/login/vcc-eu1"},
		{"eu2", cc.KindLegacy, "https://vcc-eu2.p.example"},
	} {
		if got, err := cs.Domain(c.cluster, c.kind); err != nil || got != c.want {
			t.Errorf("%s kind %d: %q %v, want %q", c.cluster, c.kind, got, err, c.want)
		}
	}
	if _, err := ctiurl.Load(filepath.Join(t.TempDir(), "none.yaml")); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing file: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// FuzzCheck feeds Check arbitrary adapter URLs: it never panics, and what
// it accepts carries the tenant's kind and domain.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"https://parley.example.com/cti/salesforce.html?env=salesforce&companel=vcc&vccmode=1&vccDomain=https://vcc-na12.vcc.example.net",
		"https://parley.example.com/cti/salesforce.html?vccDomain=https://vcc-na12b.vcc.example.net&ssoMode=true",
		"http://[::1]/cti/salesforce.html?%zz",
		"",
	} {
		f.Add(s)
	}
	cs := ctiurl.Default()
	oldco := &cc.Tenant{Slug: "oldco", Kind: cc.KindLegacy, Cluster: "na12"}
	f.Fuzz(func(t *testing.T, raw string) {
		err := cs.Check(raw, oldco, public)
		if err != nil {
			if cc.ErrorCode(err) != cc.EINVALID {
				t.Fatalf("%q: %v is not EINVALID", raw, err)
			}
			return
		}
		u, _ := url.Parse(raw)
		if q := u.Query(); q.Get("vccmode") != "1" || q.Get("vccDomain") == "" || q.Get("ssoMode") == "true" {
			t.Fatalf("%q accepted", raw)
		}
	})
}
