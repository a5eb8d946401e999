package ctiurl

import (
	"fmt"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
)

// AdapterPath is Parley's CTI adapter page.
const AdapterPath = "/cti/salesforce.html"

// Params say which adapter URL to build.
type Params struct {
	// PublicURL is Parley's public origin (http.public_url), such as
	// https://parley.example.com: https, or http on a loopback host.
	PublicURL string
	// Tenant is the tenant's slug, written as tenant=; empty leaves it out
	// (the panel then finds the tenant by the CRM's origin).
	Tenant string
	// Cluster and Kind choose the contact center domain.
	Cluster string
	Kind    cc.TenantKind
	// SSO adds ssoMode=true; only for kinds 2 and 3.
	SSO bool
	// Sandbox adds sandbox=true, for a sandbox org.
	Sandbox bool
}

// Build returns the adapter URL:
// PublicURL/cti/salesforce.html?env=salesforce&companel=vcc&vccmode=K&vccDomain=D
// then &ssoMode=true, &sandbox=true and &tenant=SLUG as asked, always in
// that order. Errors are EINVALID: a public URL that is not an origin (or
// is http on a host other than loopback), an unknown cluster or kind, and
// SSO for a legacy kind (cc.ErrSSONotAvailable).
func (cs *Clusters) Build(p Params) (string, error) {
	origin, err := publicOrigin(p.PublicURL)
	if err != nil {
		return "", err
	}
	if p.SSO && p.Kind.Valid() && !p.Kind.SSO() {
		return "", cc.ErrSSONotAvailable(p.Tenant, p.Kind)
	}
	domain, err := cs.Domain(p.Cluster, p.Kind)
	if err != nil {
		if p.Tenant != "" && p.Cluster == "" {
			return "", cc.Errorf(cc.EINVALID, "tenant %s has no cluster: set it with parley admin tenant set --tenant %s --cluster NAME (%s)", p.Tenant, p.Tenant, cs.namesText())
		}
		if p.Tenant != "" {
			return "", cc.Errorf(cc.EINVALID, "tenant %s: %s", p.Tenant, cc.ErrorMessage(err))
		}
		return "", err
	}
	q := "env=salesforce&companel=vcc&vccmode=" + strconv.Itoa(int(p.Kind)) + "&vccDomain=" + url.QueryEscape(domain)
	if p.SSO {
		q += "&ssoMode=true"
	}
	if p.Sandbox {
		q += "&sandbox=true"
	}
	if p.Tenant != "" {
		q += "&tenant=" + url.QueryEscape(p.Tenant)
	}
	return origin + AdapterPath + "?" + q, nil
}

// ForTenant returns the tenant's adapter URL (Build with its slug, cluster
// and kind). A tenant whose CRM connection is a sandbox org gets
// sandbox=true whether asked or not; asking sandbox for a production org
// is EINVALID, and so is sso for a legacy tenant.
func (cs *Clusters) ForTenant(t *cc.Tenant, publicURL string, sso, sandbox bool) (string, error) {
	isSandbox, known := t.CRM.Sandbox()
	if known && !isSandbox && sandbox {
		return "", cc.Errorf(cc.EINVALID, "tenant %s's CRM is a production org (it signs in at %s): drop the sandbox option; sandbox=true is for sandbox orgs", t.Slug, t.CRM.LoginURL)
	}
	if sso {
		if err := t.CheckSSO(); err != nil {
			return "", err
		}
	}
	kind := t.Kind
	if kind == 0 {
		kind = cc.KindLegacy // as cc.Tenant.Normalize has it
	}
	return cs.Build(Params{PublicURL: publicURL, Tenant: t.Slug, Cluster: t.Cluster, Kind: kind, SSO: sso, Sandbox: sandbox || isSandbox})
}

// publicOrigin checks Parley's public URL and returns its origin.
func publicOrigin(publicURL string) (string, error) {
	u, err := url.Parse(strings.TrimRight(publicURL, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.Path != "" || u.RawQuery != "" || u.User != nil {
		return "", cc.Errorf(cc.EINVALID, "http.public_url %q: give Parley's public origin, such as https://parley.example.com", publicURL)
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return "", cc.Errorf(cc.EINVALID, "http.public_url %q is http: Salesforce loads the softphone only over https; set http.public_url to Parley's https:// URL (http is accepted only on a loopback host, for the demo)", publicURL)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// IsLoopback reports whether host is localhost or a loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && a.Unmap().IsLoopback()
}

// launcherKeys are the parameters an adapter URL may carry, in Build's
// order; standby=true marks the call center's standby URL.
var launcherKeys = []string{"env", "companel", "vccmode", "vccDomain", "ssoMode", "sandbox", "tenant", "standby"}

// Check returns nil when raw is a right adapter URL for the tenant, or an
// EINVALID error naming every problem and ending with the URL to use
// (built with the SSO and sandbox choices raw makes, where they are
// allowed). It checks: the page (AdapterPath, on publicURL's origin unless
// publicURL is empty), env=salesforce, companel=vcc, vccmode equal to the
// tenant's kind, vccDomain equal to the domain of the tenant's cluster and
// kind (see CheckDomain), ssoMode=true only for kinds 2 and 3, sandbox=true
// present for a sandbox org and absent for a production one, tenant= (if
// given) naming the tenant, and no other parameter.
func (cs *Clusters) Check(raw string, t *cc.Tenant, publicURL string) error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return cc.Errorf(cc.EINVALID, "adapter URL %q: give the whole URL, such as https://parley.example.com%s?env=salesforce&...", clip(raw), AdapterPath)
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		add("the URL is http: Salesforce loads the softphone only over https")
	}
	if publicURL != "" {
		if o, err := publicOrigin(publicURL); err == nil && !strings.EqualFold(u.Scheme+"://"+u.Host, o) {
			add("the URL is on %s, not on Parley's public URL %s", u.Scheme+"://"+u.Host, o)
		}
	}
	if u.Path != AdapterPath {
		add("the page is %q: Parley's adapter page is %s", clip(u.Path), AdapterPath)
	}
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := q[k]
		if !contains(launcherKeys, k) {
			add("unknown parameter %q: the adapter URL takes %s", clip(k), strings.Join(launcherKeys, ", "))
		} else if len(vs) > 1 {
			add("%s is given %d times: give it once", k, len(vs))
		}
	}
	want := func(k, v string) {
		if got, ok := q[k]; !ok {
			add("%s is missing: add %s=%s", k, k, v)
		} else if got[0] != v {
			add("%s=%s: use %s=%s", k, clip(got[0]), k, v)
		}
	}
	want("env", "salesforce")
	want("companel", "vcc")
	want("vccmode", strconv.Itoa(int(t.Kind)))
	flag := func(k string) bool {
		v, ok := q[k]
		if !ok {
			return false
		}
		if v[0] != "true" && v[0] != "false" {
			add("%s=%s: use %s=true or leave it out", k, clip(v[0]), k)
		}
		return v[0] == "true"
	}
	sso, sandbox := flag("ssoMode"), flag("sandbox")
	flag("standby")
	if sso && !t.Kind.SSO() {
		add("ssoMode=true: %s", cc.ErrorMessage(cc.ErrSSONotAvailable(t.Slug, t.Kind)))
		sso = false
	}
	switch isSandbox, known := t.CRM.Sandbox(); {
	case known && isSandbox && !sandbox:
		add("sandbox=true is missing: tenant %s's CRM is a sandbox org (it signs in at %s), and sandbox orgs need sandbox=true", t.Slug, t.CRM.LoginURL)
		sandbox = true
	case known && !isSandbox && sandbox:
		add("sandbox=true: tenant %s's CRM is a production org (it signs in at %s); sandbox=true is for sandbox orgs only", t.Slug, t.CRM.LoginURL)
		sandbox = false
	}
	if v, ok := q["tenant"]; ok && v[0] != t.Slug {
		add("tenant=%s: this URL is checked for tenant %s; use tenant=%s", clip(v[0]), t.Slug, t.Slug)
	}
	if v, ok := q["vccDomain"]; !ok {
		if _, err := cs.Domain(t.Cluster, t.Kind); err == nil {
			add("vccDomain is missing")
		}
	} else if err := cs.CheckDomain(v[0], t); err != nil {
		add("vccDomain: %s", cc.ErrorMessage(err))
	}
	if len(problems) == 0 {
		return nil
	}
	origin := u.Scheme + "://" + u.Host
	if publicURL != "" {
		origin = publicURL
	}
	msg := "adapter URL for tenant " + t.Slug + ": " + strings.Join(problems, "; ")
	if good, err := cs.Build(Params{PublicURL: origin, Tenant: t.Slug, Cluster: t.Cluster, Kind: t.Kind, SSO: sso, Sandbox: sandbox}); err == nil {
		msg += "; the URL for " + t.Slug + " is " + good
	} else if t.Cluster == "" || !cs.known(t.Cluster) {
		msg += "; " + cc.ErrorMessage(err)
	}
	return cc.Errorf(cc.EINVALID, "%s", msg)
}

func (cs *Clusters) known(name string) bool { _, ok := cs.Cluster(name); return ok }

// CheckDomain returns nil when domain is the contact center domain of the
// tenant's cluster and kind, or an EINVALID error that says what domain is
// (the form of which kind and cluster, a sub-cluster's address, or not a
// domain of the table at all) and the one to use. A tenant with no
// cluster, or one the table does not name, gets an error saying how to set
// it.
func (cs *Clusters) CheckDomain(domain string, t *cc.Tenant) error {
	d := strings.TrimSpace(domain)
	expected, err := cs.Domain(t.Cluster, t.Kind)
	if err != nil {
		if t.Cluster == "" {
			return cc.Errorf(cc.EINVALID, "tenant %s has no cluster, so its contact center domain is not known: an administrator sets it with parley admin tenant set --tenant %s --cluster NAME (%s)", t.Slug, t.Slug, cs.namesText())
		}
		return cc.Errorf(cc.EINVALID, "tenant %s: %s", t.Slug, cc.ErrorMessage(err))
	}
	if d == "" {
		return cc.Errorf(cc.EINVALID, "the contact center domain is empty: tenant %s (%s, cluster %s) uses %s", t.Slug, t.Kind, t.Cluster, expected)
	}
	if normalize(d) == expected {
		return nil
	}
	use := fmt.Sprintf("tenant %s is a %s tenant on cluster %s: use %s", t.Slug, t.Kind, t.Cluster, expected)
	u, perr := url.Parse(d)
	switch {
	case perr != nil || u.Host == "":
		return cc.Errorf(cc.EINVALID, "%q is not a URL: %s", clip(d), use)
	case u.Scheme != "https":
		return cc.Errorf(cc.EINVALID, "%s is not https: %s", clip(d), use)
	case u.RawQuery != "" || u.Fragment != "":
		return cc.Errorf(cc.EINVALID, "%s has a query or fragment: the domain is only the address; %s", clip(d), use)
	}
	if ms := cs.lookup(d); len(ms) > 0 {
		return cc.Errorf(cc.EINVALID, "%s is the domain of %s: %s", clip(d), describe(ms), use)
	}
	if c, ok := ClusterFromHost(d); ok {
		host := strings.ToLower(u.Hostname())
		if c == t.Cluster && !strings.HasPrefix(host, "vcc-"+c+".") {
			return cc.Errorf(cc.EINVALID, "%s is the address of a sub-cluster of %s (the browser's address after signing in); the contact center domain is the cluster's: %s", clip(d), c, use)
		}
		if _, known := cs.Cluster(c); known && c != t.Cluster {
			return cc.Errorf(cc.EINVALID, "%s is on cluster %s: %s", clip(d), c, use)
		}
	}
	return cc.Errorf(cc.EINVALID, "%s is not a contact center domain of the cluster table (%s): %s", clip(d), cs.Source, use)
}

// describe names the kinds and clusters of matches: "legacy (kind 1)
// tenants on cluster na6".
func describe(ms []match) string {
	var parts []string
	for i := 0; i < len(ms); {
		j := i
		var kinds []string
		for ; j < len(ms) && ms[j].cluster == ms[i].cluster; j++ {
			kinds = append(kinds, ms[j].kind.String())
		}
		parts = append(parts, strings.Join(kinds, " and ")+" tenants on cluster "+ms[i].cluster)
		i = j
	}
	return strings.Join(parts, ", ")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// clip shortens a value for a message.
func clip(s string) string {
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}
