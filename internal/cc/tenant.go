package cc

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// TenantKind is the sign-in family of a tenant, the reference product's "vccmode".
type TenantKind int

// Tenant kinds.
const (
	KindLegacy         TenantKind = 1 // contact-center credentials; no SSO
	KindUnifiedLogin   TenantKind = 2 // central identity service; SSO available
	KindUnifiedLoginUC TenantKind = 3 // unified login plus unified communications; SSO available
)

// Valid reports whether k is one of the three kinds.
func (k TenantKind) Valid() bool { return k >= KindLegacy && k <= KindUnifiedLoginUC }

// SSO reports whether tenants of kind k may sign in with single sign-on
// from the CRM: kinds 2 and 3 (unified login) may, legacy tenants may not.
// It is the one place that rule lives.
func (k TenantKind) SSO() bool { return k == KindUnifiedLogin || k == KindUnifiedLoginUC }

// String names the kind as people read it: "legacy (kind 1)",
// "unified login (kind 2)" or "unified login + UC (kind 3)".
func (k TenantKind) String() string {
	switch k {
	case KindLegacy:
		return "legacy (kind 1)"
	case KindUnifiedLogin:
		return "unified login (kind 2)"
	case KindUnifiedLoginUC:
		return "unified login + UC (kind 3)"
	}
	return fmt.Sprintf("kind %d", int(k))
}

// ErrSSONotAvailable returns the EINVALID error for single sign-on asked of
// a tenant whose kind does not offer it, with the explanation the panel and
// the admin commands show alike: that single sign-on is not available for
// legacy tenants, how to sign in instead and how to change the kind.
//
// With no slug (a kind asked for on its own) the text names the kind only.
func ErrSSONotAvailable(slug string, kind TenantKind) *Error {
	if slug == "" {
		return Errorf(EINVALID, "single sign-on is not available for legacy tenants: a %s tenant signs in with the contact center's "+
			"user name and password; single sign-on needs kind 2 or 3", kind)
	}
	return Errorf(EINVALID, "tenant %s is a %s tenant: single sign-on is not available for legacy tenants; "+
		"sign in with the contact center's user name and password, or change the tenant's kind to 2 or 3 with "+
		"parley admin tenant set --tenant %s --kind 2", slug, kind, slug)
}

// CheckSSO returns ErrSSONotAvailable when the tenant's kind does not offer
// single sign-on, and nil when it does.
func (t *Tenant) CheckSSO() error {
	if t.Kind.SSO() {
		return nil
	}
	return ErrSSONotAvailable(t.Slug, t.Kind)
}

// DefaultLogCapBytes is the default byte cap of the CRM log's Comments field,
// as in the reference product.
const DefaultLogCapBytes = 4000

// Tenant is one contact center: its users, queues, numbers and CRM connection.
type Tenant struct {
	ID          string
	Slug        string // the name people type, e.g. "acme"; unique, lowercase
	DisplayName string
	Kind        TenantKind
	Cluster     string
	Region      string // default phone region, ISO 3166-1 alpha-2, e.g. "US"
	TimeZone    string // IANA time zone, e.g. "America/New_York"
	// NotReadyReasons are the reason codes agents may choose for not ready.
	NotReadyReasons []string
	// Dispositions are the tenant's default wrap-up codes; a queue may set its own.
	Dispositions []string
	CRM          CRMConnection
	// CRMOrigins are the origins of the CRM pages allowed to frame the agent
	// panel (Lightning, My Domain and Visualforce hosts), such as
	// https://acme.lightning.force.com; see ParseCRMOrigin for the form.
	CRMOrigins []string
	CreatedAt  time.Time
}

// CRMConnection is how Parley reaches a tenant's CRM with its integration user.
type CRMConnection struct {
	Kind         string // "" (none) or "salesforce"
	LoginURL     string // OAuth host, e.g. https://login.salesforce.com or devcrm's URL
	APIVersion   string // e.g. "62.0"
	ClientID     string // connected app consumer key
	Username     string // integration user for the JWT bearer flow
	PrivateKey   []byte // PEM RSA key for the JWT bearer flow; sealed at rest
	ClientSecret []byte // for the client credentials grant; sealed at rest
	// LogCapBytes caps the Task Description (Comments) written by auto-log.
	LogCapBytes int
	// BaseURL is Parley's public URL; the log links to the full text there.
	BaseURL string
	// SSOClientID is the consumer key of the connected app agents sign in
	// to Parley with (OpenID Connect); empty means no SSO for this tenant.
	SSOClientID string
	// SSOClientSecret is that app's consumer secret; sealed at rest. Empty
	// for an app that needs only PKCE.
	SSOClientSecret []byte
	// MyDomain is the org's My Domain URL (https://acme.my.salesforce.com);
	// when set, SSO signs in there instead of the login host.
	MyDomain string
}

// DefaultNotReadyReasons are the reasons a new tenant offers its agents.
var DefaultNotReadyReasons = []string{"break", "lunch", "training", "meeting", "after-call-work"}

// DefaultDispositions are the wrap-up codes of a new tenant.
var DefaultDispositions = []string{"Resolved", "Follow-up", "Escalated", "Wrong number", "No answer"}

// Location returns the tenant's time zone, or UTC when it is not loadable.
func (t *Tenant) Location() *time.Location {
	if loc, err := time.LoadLocation(t.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// Normalize fills defaults and canonicalises case.
func (t *Tenant) Normalize() {
	t.Slug = normalizeName(t.Slug)
	t.Region = strings.ToUpper(strings.TrimSpace(t.Region))
	t.TimeZone = strings.TrimSpace(t.TimeZone)
	if t.Kind == 0 {
		t.Kind = KindLegacy
	}
	if t.TimeZone == "" {
		t.TimeZone = "UTC"
	}
	if t.DisplayName == "" {
		t.DisplayName = t.Slug
	}
	if t.NotReadyReasons == nil {
		t.NotReadyReasons = append([]string(nil), DefaultNotReadyReasons...)
	}
	if t.Dispositions == nil {
		t.Dispositions = append([]string(nil), DefaultDispositions...)
	}
	if t.CRM.LogCapBytes == 0 {
		t.CRM.LogCapBytes = DefaultLogCapBytes
	}
	for i, o := range t.CRMOrigins {
		if n, err := ParseCRMOrigin(o); err == nil {
			t.CRMOrigins[i] = n
		}
	}
}

// Validate returns EINVALID naming the first field that is wrong.
func (t *Tenant) Validate() error {
	if !validSlug(t.Slug, 63) {
		return Errorf(EINVALID, "tenant name %q: use 1-63 lowercase letters, digits, '-', '_' or '.'", t.Slug)
	}
	if !t.Kind.Valid() {
		return Errorf(EINVALID, "tenant kind %d: use 1 (legacy), 2 (unified login) or 3 (unified login + UC)", t.Kind)
	}
	if len(t.Region) != 2 || t.Region[0] < 'A' || t.Region[0] > 'Z' || t.Region[1] < 'A' || t.Region[1] > 'Z' {
		return Errorf(EINVALID, "tenant region %q: use a two-letter country code such as US, GB or CH", t.Region)
	}
	// "Local" loads too, but it is whatever zone the server runs in.
	if _, err := time.LoadLocation(t.TimeZone); err != nil || t.TimeZone == "Local" {
		return Errorf(EINVALID, "tenant time zone %q: use an IANA name such as America/New_York", t.TimeZone)
	}
	for _, r := range t.NotReadyReasons {
		if !validSlug(r, 40) {
			return Errorf(EINVALID, "not-ready reason %q: use 1-40 lowercase letters, digits, '-', '_' or '.'", r)
		}
		if IsSystemReason(r) {
			return Errorf(EINVALID, "not-ready reason %q is reserved for the system", r)
		}
	}
	for _, d := range t.Dispositions {
		if strings.TrimSpace(d) == "" || len(d) > 255 {
			return Errorf(EINVALID, "disposition %q: use 1-255 characters", d)
		}
	}
	seen := map[string]bool{}
	for _, o := range t.CRMOrigins {
		n, err := ParseCRMOrigin(o)
		if err != nil {
			return err
		}
		if seen[n] {
			return Errorf(EINVALID, "CRM origin %s is listed twice", n)
		}
		seen[n] = true
	}
	return t.CRM.Validate()
}

// AllowsCRMOrigin reports whether origin is one of the tenant's CRM origins
// (compared in canonical form).
func (t *Tenant) AllowsCRMOrigin(origin string) bool {
	n, err := ParseCRMOrigin(origin)
	if err != nil {
		return false
	}
	for _, o := range t.CRMOrigins {
		if c, err := ParseCRMOrigin(o); err == nil && c == n {
			return true
		}
	}
	return false
}

// ParseCRMOrigin checks a CRM origin and returns it in canonical form
// (lowercase, no default port). An origin is scheme://host[:port] with no
// path, query or user: https for a Salesforce host (a name ending in
// .force.com or .salesforce.com: Lightning, My Domain, Visualforce), or
// http or https on loopback (127.0.0.1, [::1], localhost) for devcrm and
// the demo. EINVALID says what to change.
func ParseCRMOrigin(s string) (string, error) { return parseOrigin("CRM origin", s) }

// parseOrigin is ParseCRMOrigin with what names the value in messages.
func parseOrigin(what, s string) (string, error) {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", Errorf(EINVALID, "%s %q: use scheme://host[:port], such as https://acme.lightning.force.com", what, s)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#") {
		return "", Errorf(EINVALID, "%s %q: give only scheme://host[:port], without a path, query or user, such as https://acme.lightning.force.com", what, s)
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port != "" {
		n := 0
		for _, r := range port {
			if r < '0' || r > '9' {
				return "", Errorf(EINVALID, "%s %q: the port must be a number 1-65535", what, s)
			}
			n = n*10 + int(r-'0')
			if n > 65535 {
				break
			}
		}
		if n < 1 || n > 65535 {
			return "", Errorf(EINVALID, "%s %q: the port must be a number 1-65535", what, s)
		}
	}
	loopback := host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
	switch {
	case scheme == "https" && (loopback || salesforceHost(host)):
	case scheme == "http" && loopback:
	case scheme == "http":
		return "", Errorf(EINVALID, "%s %q: use https (plain http is allowed only on loopback, for devcrm)", what, s)
	case scheme == "https":
		return "", Errorf(EINVALID, "%s %q: the host must be a Salesforce host ending in .force.com or .salesforce.com (Lightning, My Domain or Visualforce), or loopback for devcrm", what, s)
	default:
		return "", Errorf(EINVALID, "%s %q: use https://host, such as https://acme.lightning.force.com", what, s)
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, nil
}

// salesforceHost reports whether host is a DNS name under force.com or
// salesforce.com made of letters, digits, '-' and '.'.
func salesforceHost(host string) bool {
	if !strings.HasSuffix(host, ".force.com") && !strings.HasSuffix(host, ".salesforce.com") {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// Sandbox reports what the CRM connection says of the org: sandbox is true
// when the login host is a Salesforce sandbox's (test.salesforce.com, or a
// My Domain under .sandbox.my.salesforce.com), false for Salesforce's
// production hosts (login.salesforce.com, other My Domain and
// .force.com hosts); known is false when the connection does not tell
// (no CRM, or another host such as devcrm's), and sandbox is then false.
func (c *CRMConnection) Sandbox() (sandbox, known bool) {
	u, err := url.Parse(c.LoginURL)
	if c.Kind == "" || err != nil {
		return false, false
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case host == "test.salesforce.com" || strings.HasSuffix(host, ".sandbox.my.salesforce.com"):
		return true, true
	case salesforceHost(host):
		return false, true
	}
	return false, false
}

// Validate checks the CRM connection.
func (c *CRMConnection) Validate() error {
	switch c.Kind {
	case "":
		return nil
	case "salesforce":
	default:
		return Errorf(EINVALID, "CRM kind %q: use salesforce or leave it empty", c.Kind)
	}
	if !validHTTPURL(c.LoginURL) {
		return Errorf(EINVALID, "CRM login URL %q: use an absolute http(s) URL such as https://login.salesforce.com", c.LoginURL)
	}
	if c.APIVersion != "" && !validAPIVersion(c.APIVersion) {
		return Errorf(EINVALID, "CRM API version %q: use a version such as 62.0", c.APIVersion)
	}
	if c.ClientID == "" {
		return Errorf(EINVALID, "CRM client id is empty: give the connected app's consumer key")
	}
	if err := checkConsumerKey("CRM client id", c.ClientID); err != nil {
		return err
	}
	if len(c.PrivateKey) == 0 && len(c.ClientSecret) == 0 {
		return Errorf(EINVALID, "CRM credentials missing: give a private key (JWT bearer) or a client secret")
	}
	if len(c.PrivateKey) > 0 && c.Username == "" {
		return Errorf(EINVALID, "CRM username is empty: the JWT bearer flow needs the integration user's username")
	}
	if c.LogCapBytes < 256 || c.LogCapBytes > 131072 {
		return Errorf(EINVALID, "CRM log cap %d bytes: use 256 to 131072", c.LogCapBytes)
	}
	if len(c.SSOClientSecret) > 0 && c.SSOClientID == "" {
		return Errorf(EINVALID, "CRM SSO client secret given without an SSO client id: give the connected app's consumer key too")
	}
	if c.SSOClientID != "" {
		if err := checkConsumerKey("CRM SSO client id", c.SSOClientID); err != nil {
			return err
		}
		if len(c.SSOClientSecret) == 0 {
			return Errorf(EINVALID, "CRM SSO client id %s has no consumer secret: give the secret of that connected app too "+
				"(parley admin crm set --sso-client-secret-file FILE); without it the CRM refuses every sign-in", c.SSOClientID)
		}
	}
	if c.MyDomain != "" {
		if _, err := parseOrigin("CRM My Domain", c.MyDomain); err != nil {
			return err
		}
	}
	if c.BaseURL != "" {
		if !validHTTPURL(c.BaseURL) {
			return Errorf(EINVALID, "Parley base URL %q: use an absolute http(s) URL such as https://parley.example.com", c.BaseURL)
		}
	}
	return nil
}

// checkConsumerKey checks a connected app's consumer key as given by an
// administrator: one token of printable characters, as the CRM shows it.
func checkConsumerKey(what, key string) error {
	if len(key) > 255 {
		return Errorf(EINVALID, "%s is %d bytes long: a consumer key is at most 255; copy it again from the connected app", what, len(key))
	}
	for _, r := range key {
		if r <= ' ' || r == 0x7f || !unicode.IsPrint(r) {
			return Errorf(EINVALID, "%s %.60q holds a space or control character: copy the consumer key again from the connected app", what, key)
		}
	}
	return nil
}

// validHTTPURL reports whether s is an absolute http or https URL with a host.
func validHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func validAPIVersion(v string) bool {
	major, minor, ok := strings.Cut(v, ".")
	if !ok || len(major) == 0 || len(major) > 3 || minor != "0" {
		return false
	}
	for _, r := range major {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// TenantStore stores tenants.
type TenantStore interface {
	// CreateTenant stores a new tenant. ECONFLICT if the slug is taken.
	CreateTenant(ctx context.Context, t *Tenant) error
	// UpdateTenant replaces a tenant's fields. ENOTFOUND if it does not exist.
	UpdateTenant(ctx context.Context, t *Tenant) error
	// Tenant returns a tenant by id. ENOTFOUND if none.
	Tenant(ctx context.Context, id string) (*Tenant, error)
	// TenantBySlug returns a tenant by slug (case-insensitive). ENOTFOUND if none.
	TenantBySlug(ctx context.Context, slug string) (*Tenant, error)
	// Tenants returns all tenants ordered by slug.
	Tenants(ctx context.Context) ([]*Tenant, error)
}
