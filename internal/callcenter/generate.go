package callcenter

import (
	"strconv"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/ctiurl"
	"github.com/parley-cc/parley/internal/phone"
)

// Defaults of a generated file.
const (
	// AdapterPath is Parley's Open CTI adapter page.
	AdapterPath = ctiurl.AdapterPath
	// SoftphoneHeight and SoftphoneWidth are the panel's size, the
	// reference product's 260x700.
	SoftphoneHeight = 700
	SoftphoneWidth  = 260
	// DefaultTimeoutMS is how long Salesforce waits for
	// notifyInitializationComplete before loading the standby URL.
	DefaultTimeoutMS = 10000
	// SectionParley is the section of Parley's own settings.
	SectionParley = "parleySettings"
)

// Options tune Generate.
type Options struct {
	// PublicURL is Parley's public URL (http.public_url), such as
	// https://parley.example.com. It must be https unless its host is
	// loopback (the demo).
	PublicURL string
	// Sandbox marks a file for a Salesforce sandbox: sandbox=true in the
	// adapter URL, and a distinct internal and display name. A tenant whose
	// CRM connection is a sandbox org (cc.CRMConnection.Sandbox) gets it
	// whether set or not.
	Sandbox bool
	// SSO adds ssoMode=true to the adapter URL: single sign-on from the
	// CRM, for tenants of kinds 2 and 3 only.
	SSO bool
	// Clusters is the cluster table that gives the tenant's contact center
	// domain (vccDomain); nil is ctiurl.Default.
	Clusters *ctiurl.Clusters
	// StandbyURL is the page Salesforce loads when the adapter does not
	// report itself initialised in time; empty means the adapter URL with
	// standby=true.
	StandbyURL string
	// TimeoutMS is reqTimeout; 0 means DefaultTimeoutMS.
	TimeoutMS int
	// OutsidePrefix is what users dial for an outside line (often empty,
	// or "9").
	OutsidePrefix string
}

// AdapterURL returns the tenant's adapter page URL, written by
// ctiurl.Clusters.ForTenant (nil clusters: the built-in table): publicURL +
// /cti/salesforce.html with the launcher parameters the panel reads
// (env=salesforce, companel=vcc, vccmode=<tenant kind>, vccDomain=<the
// contact center domain of the tenant's cluster and kind>, ssoMode=true
// when sso, sandbox=true for a sandbox, tenant=<slug>).
func AdapterURL(t *cc.Tenant, clusters *ctiurl.Clusters, publicURL string, sso, sandbox bool) (string, error) {
	if clusters == nil {
		clusters = ctiurl.Default()
	}
	return clusters.ForTenant(t, publicURL, sso, sandbox)
}

// InternalName returns the reqInternalName Generate uses: "Parley" and the
// tenant slug's letters and digits, "Sandbox" appended for a sandbox, cut
// to 40 characters.
func InternalName(slug string, sandbox bool) string {
	var b strings.Builder
	b.WriteString("Parley")
	upperNext := true
	for _, r := range slug {
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			if upperNext && r >= 'a' && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			upperNext = false
		default:
			upperNext = true
		}
	}
	suffix := ""
	if sandbox {
		suffix = "Sandbox"
	}
	name := b.String()
	if len(name)+len(suffix) > MaxNameLen {
		name = name[:MaxNameLen-len(suffix)]
	}
	return name + suffix
}

// New builds the call center definition for a tenant.
func New(t *cc.Tenant, opts Options) (*CallCenter, error) {
	if t == nil || t.Slug == "" {
		return nil, cc.Errorf(cc.EINVALID, "call center definition: the tenant has no slug")
	}
	if sandbox, known := t.CRM.Sandbox(); known && sandbox {
		opts.Sandbox = true
	}
	adapter, err := AdapterURL(t, opts.Clusters, opts.PublicURL, opts.SSO, opts.Sandbox)
	if err != nil {
		return nil, err
	}
	standby := opts.StandbyURL
	if standby == "" {
		standby = adapter + "&standby=true"
	} else if msg := CheckAdapterURL(standby); msg != "" {
		return nil, cc.Errorf(cc.EINVALID, "standby URL %q: %s", standby, msg)
	}
	timeout := opts.TimeoutMS
	if timeout == 0 {
		timeout = DefaultTimeoutMS
	}
	if timeout < 1 || timeout > 600000 {
		return nil, cc.Errorf(cc.EINVALID, "standby timeout %d ms: use 1 to 600000", timeout)
	}
	if opts.OutsidePrefix != "" && phone.Digits(opts.OutsidePrefix) != opts.OutsidePrefix {
		return nil, cc.Errorf(cc.EINVALID, "outside prefix %q: use digits only", opts.OutsidePrefix)
	}
	longDist, intl, err := phone.DialingPrefixes(t.Region)
	if err != nil {
		return nil, cc.WrapError(cc.EINVALID, err, "call center definition: tenant %s region %q: set the tenant's region (parley admin tenant set --region)", t.Slug, t.Region)
	}
	display := t.DisplayName
	if display == "" {
		display = t.Slug
	}
	display = "Parley - " + display
	if opts.Sandbox {
		display += " (sandbox)"
	}
	items := func(list ...[3]string) []Item {
		out := make([]Item, len(list))
		for i, it := range list {
			out[i] = Item{SortOrder: i, Name: it[0], Label: it[1], Value: it[2]}
		}
		return out
	}
	c := &CallCenter{Sections: []Section{
		{SortOrder: 0, Name: SectionGeneral, Label: "General Information", Items: items(
			[3]string{ItemInternalName, "Internal Name", InternalName(t.Slug, opts.Sandbox)},
			[3]string{ItemDisplayName, "Display Name", display},
			[3]string{ItemAdapterURL, "CTI Adapter URL", adapter},
			[3]string{ItemUseAPI, "Use CTI API", "true"},
			[3]string{ItemSoftphoneHeight, "Softphone Height", strconv.Itoa(SoftphoneHeight)},
			[3]string{ItemSoftphoneWidth, "Softphone Width", strconv.Itoa(SoftphoneWidth)},
			[3]string{ItemCompatibilityMode, "Salesforce Compatibility Mode", ModeClassicAndLightning},
			[3]string{ItemStandbyURL, "Standby URL", standby},
			[3]string{ItemTimeout, "Timeout (ms)", strconv.Itoa(timeout)},
		)},
		{SortOrder: 1, Name: SectionDialing, Label: "Dialing Options", Items: items(
			[3]string{ItemOutsidePrefix, "Outside Prefix", opts.OutsidePrefix},
			[3]string{ItemLongDistPrefix, "Long Distance Prefix", longDist},
			[3]string{ItemInternationalPrefix, "International Prefix", intl},
		)},
		{SortOrder: 2, Name: SectionParley, Label: "Parley", Items: items(
			[3]string{"tenant", "Tenant", t.Slug},
			[3]string{"region", "Phone Region", t.Region},
			[3]string{"sandbox", "Salesforce Sandbox", strconv.FormatBool(opts.Sandbox)},
		)},
	}}
	return c, nil
}

// Generate returns the importable XML of the tenant's call center
// definition (see New).
func Generate(t *cc.Tenant, opts Options) ([]byte, error) {
	c, err := New(t, opts)
	if err != nil {
		return nil, err
	}
	comment := "Parley call center definition for tenant " + t.Slug + ". Import it in Salesforce: Setup, Call Centers, Import."
	if opts.Sandbox {
		comment = "SANDBOX: " + comment + " For a sandbox org only."
	}
	return c.Marshal(comment), nil
}
