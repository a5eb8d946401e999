package callcenter

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/phone"
)

// Defaults of a generated file.
const (
	// AdapterPath is Parley's Open CTI adapter page.
	AdapterPath = "/cti/salesforce.html"
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
	// adapter URL, and a distinct internal and display name.
	Sandbox bool
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

// AdapterURL returns the adapter page URL for a tenant: publicURL +
// /cti/salesforce.html with the launcher parameters the panel reads
// (env=salesforce, companel=vcc, vccmode=<tenant kind>, vccDomain=<Parley's
// origin, https://host[:port]>, tenant=<slug>, and sandbox=true for a sandbox).
func AdapterURL(t *cc.Tenant, publicURL string, sandbox bool) (string, error) {
	u, err := url.Parse(strings.TrimRight(publicURL, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", cc.Errorf(cc.EINVALID, "http.public_url %q: give Parley's public origin, such as https://parley.example.com", publicURL)
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return "", cc.Errorf(cc.EINVALID, "http.public_url %q is http: Salesforce loads the softphone only over https; set http.public_url to Parley's https:// URL (http is accepted only on a loopback host, for the demo)", publicURL)
	}
	kind := t.Kind
	if kind == 0 {
		kind = cc.KindLegacy
	}
	// The order is fixed so the file is stable.
	q := "env=salesforce&companel=vcc&vccmode=" + strconv.Itoa(int(kind)) +
		"&vccDomain=" + url.QueryEscape(u.Scheme+"://"+u.Host)
	if sandbox {
		q += "&sandbox=true"
	}
	q += "&tenant=" + url.QueryEscape(t.Slug)
	return u.Scheme + "://" + u.Host + AdapterPath + "?" + q, nil
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
	adapter, err := AdapterURL(t, opts.PublicURL, opts.Sandbox)
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
