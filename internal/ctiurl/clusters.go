// Package ctiurl builds and checks CTI adapter URLs: the URL an
// administrator sets as the call center's CTI Adapter URL in the CRM, and
// the "contact center domain" (vccDomain) inside it.
//
// The adapter URL is Parley's own adapter page (/cti/salesforce.html) with
// the reference product's launcher parameters: env=salesforce,
// companel=vcc, vccmode=<tenant kind>, vccDomain=<the tenant's contact
// center domain>, ssoMode=true (only to enable single sign-on, only for
// kinds 2 and 3), sandbox=true (for a sandbox org) and tenant=<slug>.
//
// The contact center domain depends on the tenant's cluster and kind, and
// comes from a table of clusters (Clusters): each cluster has a legacy form
// (kind 1, such as https://vcc-na1.vcc.example.net) and a unified-login form
// (kinds 2 and 3, such as https://sso.vcc.example.net/login/vcc-na1), and
// may override the form for one kind (the reference's na6, whose kind-3
// tenants use the bare .../login/vcc). The table is data: Default is the
// built-in one, Load reads a YAML file (the configuration's clusters_file).
//
// Build writes a URL; Check and CheckDomain say exactly what is wrong with
// one and what it should be. Both the admin commands, the call center
// definition (internal/callcenter) and the panel's settings use them, so
// there is one implementation of the rules.
package ctiurl

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/parley-cc/parley/internal/cc"
)

// Placeholders of the forms in a cluster file.
const (
	PlaceholderCluster = "{cluster}"
	PlaceholderDomain  = "{domain}"
)

// Cluster is one of the provider's clusters.
type Cluster struct {
	// Name is the cluster's name, such as na12: lowercase letters then
	// digits (a trailing letter in a host, as in vcc-na12b, is a
	// sub-cluster of na12).
	Name string
	// Legacy is the contact center domain of kind-1 tenants on the cluster,
	// such as https://vcc-na12.vcc.example.net.
	Legacy string
	// Unified is the contact center domain of kind-2 and kind-3 tenants,
	// such as https://sso.vcc.example.net/login/vcc-na12.
	Unified string
	// Overrides replace the domain for one kind on this cluster.
	Overrides map[cc.TenantKind]string
}

// Domain returns the contact center domain of a tenant of the given kind
// on the cluster.
func (c *Cluster) Domain(kind cc.TenantKind) string {
	if d, ok := c.Overrides[kind]; ok {
		return d
	}
	if kind.SSO() {
		return c.Unified
	}
	return c.Legacy
}

// Clusters is a table of clusters. The zero value is empty; use Default or
// Load.
type Clusters struct {
	// Source names where the table came from ("built-in" or the file).
	Source string
	list   []Cluster
}

//go:embed default.yaml
var defaultYAML []byte

var builtIn = func() *Clusters {
	c, err := Parse("built-in", defaultYAML)
	if err != nil {
		panic("ctiurl: the built-in cluster table: " + err.Error())
	}
	return c
}()

// Default returns the built-in table: clusters na1 to na12 under the
// placeholder provider domain vcc.example.net, legacy
// https://vcc-<cluster>.vcc.example.net, unified
// https://sso.vcc.example.net/login/vcc-<cluster>, and na6's kind-3
// override https://sso.vcc.example.net/login/vcc.
func Default() *Clusters { return builtIn }

// Load reads a cluster file (see Parse). An empty path gives Default.
func Load(path string) (*Clusters, error) {
	if path == "" {
		return Default(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read cluster file: %w", err)
	}
	return Parse(path, b)
}

// file is the YAML form of a cluster file.
type file struct {
	Domain   string        `yaml:"domain"`
	Legacy   string        `yaml:"legacy"`
	Unified  string        `yaml:"unified"`
	Clusters []fileCluster `yaml:"clusters"`
}

type fileCluster struct {
	Name      string         `yaml:"name"`
	Legacy    string         `yaml:"legacy"`
	Unified   string         `yaml:"unified"`
	Overrides []fileOverride `yaml:"overrides"`
}

type fileOverride struct {
	Kind   int    `yaml:"kind"`
	Domain string `yaml:"domain"`
}

// keysOf says which keys each level of the file takes.
var keysOf = map[string]string{
	"file":         "the file takes domain, legacy, unified, clusters",
	"fileCluster":  "a cluster takes name, legacy, unified, overrides",
	"fileOverride": "an override takes kind, domain",
}

var unknownFieldRE = regexp.MustCompile(`^(line \d+: )field (\S+) not found in type ctiurl\.(\w+)$`)

var (
	clusterNameRE = regexp.MustCompile(`^[a-z]{1,16}[0-9]{1,4}$`)
	domainNameRE  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)
)

// Parse reads a cluster file, named name in its messages:
//
//	domain: vcc.example.net                       # the provider's domain
//	legacy: https://vcc-{cluster}.{domain}        # kind 1
//	unified: https://sso.{domain}/login/vcc-{cluster}  # kinds 2 and 3
//	clusters:
//	  - name: na1
//	  - name: na6
//	    overrides:                                # this cluster only
//	      - kind: 3
//	        domain: https://sso.{domain}/login/vcc
//
// A cluster may also set its own legacy and unified forms. Unknown keys,
// a cluster named twice, a name that is not letters then digits, a kind
// other than 1, 2 or 3, and a form that does not give an https URL with a
// host and no query are errors that name the cluster and the key.
func Parse(name string, b []byte) (*Clusters, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: the cluster file is empty: list the clusters under clusters:", name)
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			var msgs []string
			for _, m := range te.Errors {
				if sub := unknownFieldRE.FindStringSubmatch(m); sub != nil {
					m = sub[1] + "unknown key " + sub[2] + " (" + keysOf[sub[3]] + ")"
				}
				msgs = append(msgs, m)
			}
			return nil, fmt.Errorf("%s %s", name, strings.Join(msgs, "; "))
		}
		return nil, fmt.Errorf("%s: %s (the file is not valid YAML)", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if f.Domain != "" && !domainNameRE.MatchString(f.Domain) {
		return nil, fmt.Errorf("%s: domain %q: give the provider's DNS name, such as vcc.example.net", name, f.Domain)
	}
	if len(f.Clusters) == 0 {
		return nil, fmt.Errorf("%s: no clusters: list them under clusters:, such as - name: na1", name)
	}
	out := &Clusters{Source: name}
	for i, fc := range f.Clusters {
		where := fmt.Sprintf("%s: cluster %d (%s)", name, i+1, fc.Name)
		if !clusterNameRE.MatchString(fc.Name) {
			return nil, fmt.Errorf("%s: name %q: use lowercase letters then digits, such as na1", where, fc.Name)
		}
		if _, ok := out.Cluster(fc.Name); ok {
			return nil, fmt.Errorf("%s: cluster %s is listed twice", where, fc.Name)
		}
		c := Cluster{Name: fc.Name, Overrides: map[cc.TenantKind]string{}}
		var err error
		for _, form := range []struct {
			key, own, top string
			dst           *string
		}{{"legacy", fc.Legacy, f.Legacy, &c.Legacy}, {"unified", fc.Unified, f.Unified, &c.Unified}} {
			v := form.own
			if v == "" {
				v = form.top
			}
			if v == "" {
				return nil, fmt.Errorf("%s: no %s form: set %s: at the top of the file or on the cluster", where, form.key, form.key)
			}
			if *form.dst, err = expand(v, fc.Name, f.Domain); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", where, form.key, err)
			}
		}
		for _, o := range fc.Overrides {
			k := cc.TenantKind(o.Kind)
			if !k.Valid() {
				return nil, fmt.Errorf("%s: override kind %d: use 1, 2 or 3", where, o.Kind)
			}
			if _, dup := c.Overrides[k]; dup {
				return nil, fmt.Errorf("%s: kind %d is overridden twice", where, o.Kind)
			}
			if c.Overrides[k], err = expand(o.Domain, fc.Name, f.Domain); err != nil {
				return nil, fmt.Errorf("%s: override of kind %d: %w", where, o.Kind, err)
			}
		}
		out.list = append(out.list, c)
	}
	return out, nil
}

// expand fills a form's placeholders and checks the result.
func expand(form, cluster, domain string) (string, error) {
	if form == "" {
		return "", errors.New("empty: give an https URL such as https://vcc-{cluster}.{domain}")
	}
	if strings.Contains(form, PlaceholderDomain) && domain == "" {
		return "", fmt.Errorf("%q uses {domain}, but the file sets no domain: add domain: at the top", form)
	}
	v := strings.ReplaceAll(strings.ReplaceAll(form, PlaceholderCluster, cluster), PlaceholderDomain, domain)
	if strings.ContainsAny(v, "{}") {
		return "", fmt.Errorf("%q: the placeholders are {cluster} and {domain}", form)
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(v, "?") {
		return "", fmt.Errorf("%q gives %q: use an https URL with a host and no query, such as https://vcc-{cluster}.{domain}", form, v)
	}
	return normalize(v), nil
}

// normalize lowercases a domain's scheme and host and drops a trailing
// slash, so that equal domains compare equal.
func normalize(d string) string {
	u, err := url.Parse(strings.TrimSpace(d))
	if err != nil || u.Host == "" {
		return strings.TrimSpace(d)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String()
}

// Names returns the clusters' names in the table's order.
func (cs *Clusters) Names() []string {
	out := make([]string, len(cs.list))
	for i, c := range cs.list {
		out[i] = c.Name
	}
	return out
}

// All returns a copy of the table, in its order.
func (cs *Clusters) All() []Cluster { return slices.Clone(cs.list) }

// Cluster returns the cluster with the given name.
func (cs *Clusters) Cluster(name string) (*Cluster, bool) {
	for i := range cs.list {
		if cs.list[i].Name == name {
			return &cs.list[i], true
		}
	}
	return nil, false
}

// Domain returns the contact center domain of a tenant of the given kind on
// the named cluster. EINVALID names an empty or unknown cluster (with the
// table's names) or a kind that is not 1, 2 or 3.
func (cs *Clusters) Domain(cluster string, kind cc.TenantKind) (string, error) {
	if !kind.Valid() {
		return "", cc.Errorf(cc.EINVALID, "kind %d: use 1 (legacy), 2 (unified login) or 3 (unified login + UC)", int(kind))
	}
	if cluster == "" {
		return "", cc.Errorf(cc.EINVALID, "no cluster: give one of %s", cs.namesText())
	}
	c, ok := cs.Cluster(cluster)
	if !ok {
		return "", cc.Errorf(cc.EINVALID, "cluster %q is not in the cluster table (%s): use one of %s, or add it to the clusters_file", cluster, cs.Source, cs.namesText())
	}
	return c.Domain(kind), nil
}

func (cs *Clusters) namesText() string { return strings.Join(cs.Names(), ", ") }

// match is a (cluster, kind) whose domain is a given one.
type match struct {
	cluster string
	kind    cc.TenantKind
}

// lookup returns every (cluster, kind) whose domain is d.
func (cs *Clusters) lookup(d string) []match {
	d = normalize(d)
	var out []match
	for _, c := range cs.list {
		for k := cc.KindLegacy; k <= cc.KindUnifiedLoginUC; k++ {
			if c.Domain(k) == d {
				out = append(out, match{c.Name, k})
			}
		}
	}
	return out
}

var hostClusterRE = regexp.MustCompile(`^vcc-([a-z]{1,16}[0-9]{1,4})([a-z]?)\.`)

// ClusterFromHost reads the cluster from a contact center host or URL, as
// the browser's address shows it after signing in: vcc-na12.<domain> and
// the sub-cluster host vcc-na12b.<domain> are both cluster na12. ok is
// false when the host is not of that form.
func ClusterFromHost(hostOrURL string) (cluster string, ok bool) {
	h := strings.ToLower(strings.TrimSpace(hostOrURL))
	if u, err := url.Parse(h); err == nil && u.Host != "" {
		h = u.Hostname()
	}
	m := hostClusterRE.FindStringSubmatch(h)
	if m == nil {
		return "", false
	}
	return m[1], true
}
