package httpapi

import (
	"net/url"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/httpapi/apitest"
)

// TestDomainCheck: the panel's contact center domain is checked against
// the signed-in user's own tenant (its cluster and kind), with the
// checker's message when it does not match.
func TestDomainCheck(t *testing.T) {
	e := newTestEnv(t)
	e.svc.tenants["acme"].Kind, e.svc.tenants["acme"].Cluster = cc.KindUnifiedLoginUC, "na6"
	e.svc.tenants["other"].Kind, e.svc.tenants["other"].Cluster = cc.KindLegacy, "na12"
	alice := e.svc.newSession("acme", "alice", time.Hour)
	eve := e.svc.newSession("other", "eve", time.Hour)
	check := func(d string) string { return "/api/v1/cti/domain-check?domain=" + url.QueryEscape(d) }
	e.kit.Run(t, common([]apitest.Scenario{
		{Name: "the tenant's domain", Method: "GET", URL: check(" https://SSO.vcc.example.net/login/vcc "), Token: alice, WantStatus: 200,
			WantContains: []string{`"ok":true`, `"domain":"https://sso.vcc.example.net/login/vcc"`, `"tenant":"acme"`, `"expected":"https://sso.vcc.example.net/login/vcc"`}},
		{Name: "the legacy form for a kind-3 tenant", Method: "GET", URL: check("https://vcc-na6.vcc.example.net"), Token: alice, WantStatus: 200,
			WantContains: []string{`"ok":false`, `is the domain of legacy (kind 1) tenants on cluster na6: tenant acme is a unified login + UC (kind 3) tenant on cluster na6: use https://sso.vcc.example.net/login/vcc"`}},
		// Each user's own tenant: eve's is legacy on na12.
		{Name: "another tenant's rules", Method: "GET", URL: check("https://sso.vcc.example.net/login/vcc"), Token: eve, WantStatus: 200,
			WantContains: []string{`"ok":false`, `"tenant":"other"`, `use https://vcc-na12.vcc.example.net"`, `"expected":"https://vcc-na12.vcc.example.net"`}},
		{Name: "a sub-cluster address", Method: "GET", URL: check("https://vcc-na12b.vcc.example.net"), Token: eve, WantStatus: 200,
			WantContains: []string{`"ok":false`, `the address of a sub-cluster of na12`}},
		{Name: "empty", Method: "GET", URL: check(""), Token: eve, WantStatus: 200,
			WantContains: []string{`"ok":false`, `the contact center domain is empty`}},
		{Name: "no parameter", Method: "GET", URL: "/api/v1/cti/domain-check", Token: alice, WantStatus: 400,
			WantContains: []string{`give the domain to check`}},
		{Name: "unknown parameter", Method: "GET", URL: check("x") + "&tenant=other", Token: alice, WantStatus: 400,
			WantContains: []string{`unknown query parameter \"tenant\"`}},
		{Name: "signed out", Method: "GET", URL: check("x"), WantStatus: 401},
	})...)
}
