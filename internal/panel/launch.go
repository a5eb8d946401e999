package panel

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
)

// The two Open CTI libraries a CRM page offers its softphone frame.
const (
	APILightning = "lightning" // sforce.opencti, /support/api/NN.0/lightning/opencti_min.js
	APIClassic   = "classic"   // sforce.interaction, /support/api/NN.0/interaction.js
)

// OpenCTIVersion is the one Open CTI API version the panel loads and speaks
// (the versioned library drops replies of another version).
const OpenCTIVersion = "62.0"

// Launch is what the CTI adapter URL's query string says: the parameters
// Salesforce appends and the reference product's launcher parameters.
type Launch struct {
	// Origin is the CRM page's origin (sfdcIframeOrigin, or sfdcIFrameOrigin
	// in Classic), in canonical form.
	Origin string `json:"origin"`
	// API is APILightning or APIClassic.
	API string `json:"api"`
	// Mode is Salesforce's mode parameter ("Lightning", or empty in Classic).
	Mode  string `json:"mode,omitempty"`
	Nonce string `json:"-"`
	ISDTP string `json:"isdtp,omitempty"`
	// VCCMode is the tenant kind the launcher names (1, 2 or 3); 0 when absent.
	VCCMode   int    `json:"vccmode,omitempty"`
	VCCDomain string `json:"vcc_domain,omitempty"`
	SSO       bool   `json:"sso"`
	Sandbox   bool   `json:"sandbox"`
	// Standby is true on the call center's standby URL (reqStandbyUrl), the
	// one the CRM loads when the adapter URL did not start within reqTimeout.
	Standby bool `json:"standby"`
	// Tenant is the tenant slug; empty means the one whose CRM origins
	// include Origin.
	Tenant string `json:"tenant,omitempty"`
}

// ScriptURL is the URL of the Open CTI library on the CRM origin.
func (l *Launch) ScriptURL() string {
	if l.API == APIClassic {
		return l.Origin + "/support/api/" + OpenCTIVersion + "/interaction.js"
	}
	return l.Origin + "/support/api/" + OpenCTIVersion + "/lightning/opencti_min.js"
}

var (
	nonceRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	isdtpRE   = regexp.MustCompile(`^[a-z0-9]{1,8}$`)
	appIDRE   = regexp.MustCompile(`^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$`)
	clcRE     = regexp.MustCompile(`^[01]$`)
	tenantRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
	knownKeys = []string{"sfdcIframeOrigin", "sfdcIFrameOrigin", "mode", "nonce", "isdtp", "ltn_app_id", "clc",
		"env", "companel", "vccmode", "vccDomain", "ssoMode", "sandbox", "standby", "tenant"}
)

// ParseLaunch checks the query string of the CTI adapter URL. Every error
// is EINVALID and names the parameter and the form it takes, such as
// "vccmode=7: use 1, 2 or 3". It does not check the origin against a
// tenant; the Handler does.
func ParseLaunch(q url.Values) (*Launch, error) {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(knownKeys, k) {
			return nil, cc.Errorf(cc.EINVALID, "unknown parameter %q: the adapter URL takes %s", clip(k), strings.Join(knownKeys, ", "))
		}
		if len(q[k]) > 1 {
			return nil, cc.Errorf(cc.EINVALID, "parameter %s is given %d times: give it once", k, len(q[k]))
		}
	}
	l := &Launch{}
	get := func(k string) (string, bool) {
		v, ok := q[k]
		if !ok {
			return "", false
		}
		return v[0], true
	}
	lower, hasLower := get("sfdcIframeOrigin")
	upper, hasUpper := get("sfdcIFrameOrigin")
	origin := lower
	switch {
	case hasLower && hasUpper:
		return nil, cc.Errorf(cc.EINVALID, "give sfdcIframeOrigin (Lightning) or sfdcIFrameOrigin (Classic), not both")
	case !hasLower && !hasUpper:
		return nil, cc.Errorf(cc.EINVALID, "sfdcIframeOrigin is missing: open the panel from the CRM (its softphone adds sfdcIframeOrigin and mode), not directly")
	case hasUpper:
		origin = upper
	}
	name := "sfdcIframeOrigin"
	if hasUpper {
		name = "sfdcIFrameOrigin"
	}
	o, err := cc.ParseCRMOrigin(origin)
	if err != nil {
		return nil, cc.Errorf(cc.EINVALID, "%s: %s", name, cc.ErrorMessage(err))
	}
	l.Origin = o
	mode, hasMode := get("mode")
	l.Mode = mode
	switch {
	case hasMode && mode == "Lightning":
		l.API = APILightning
	case hasMode && mode == "Classic":
		l.API = APIClassic
	case hasMode:
		return nil, cc.Errorf(cc.EINVALID, "mode=%s: use Lightning or Classic", clip(mode))
	case hasLower:
		return nil, cc.Errorf(cc.EINVALID, "mode is missing: Lightning frames carry mode=Lightning with sfdcIframeOrigin")
	default:
		l.API = APIClassic
	}
	if hasUpper && l.API == APILightning {
		return nil, cc.Errorf(cc.EINVALID, "mode=Lightning comes with sfdcIframeOrigin (lowercase f); sfdcIFrameOrigin is the Classic parameter")
	}
	checks := []struct {
		key, expect string
		re          *regexp.Regexp
		dst         *string
	}{
		{"nonce", "1-128 letters, digits, '-' or '_'", nonceRE, &l.Nonce},
		{"isdtp", "1-8 lowercase letters or digits, such as vw", isdtpRE, &l.ISDTP},
		{"ltn_app_id", "a 15- or 18-character Salesforce id", appIDRE, nil},
		{"clc", "0 or 1", clcRE, nil},
	}
	for _, c := range checks {
		v, ok := get(c.key)
		if !ok {
			continue
		}
		if !c.re.MatchString(v) {
			return nil, cc.Errorf(cc.EINVALID, "%s=%s: use %s", c.key, clip(v), c.expect)
		}
		if c.dst != nil {
			*c.dst = v
		}
	}
	if v, ok := get("env"); ok && v != "salesforce" {
		return nil, cc.Errorf(cc.EINVALID, "env=%s: use env=salesforce", clip(v))
	}
	if v, ok := get("companel"); ok && v != "vcc" {
		return nil, cc.Errorf(cc.EINVALID, "companel=%s: use companel=vcc", clip(v))
	}
	if v, ok := get("vccmode"); ok {
		switch v {
		case "1", "2", "3":
			l.VCCMode = int(v[0] - '0')
		default:
			return nil, cc.Errorf(cc.EINVALID, "vccmode=%s: use 1, 2 or 3", clip(v))
		}
	}
	if v, ok := get("vccDomain"); ok {
		u, err := url.Parse(v)
		loopback := err == nil && (u.Hostname() == "localhost" || u.Hostname() == "::1" || strings.HasPrefix(u.Hostname(), "127."))
		if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || !(u.Scheme == "https" || u.Scheme == "http" && loopback) {
			return nil, cc.Errorf(cc.EINVALID, "vccDomain=%s: use the contact center's https URL, such as https://vcc-na1.example.com or https://sso.example.com/login/vcc-na1", clip(v))
		}
		l.VCCDomain = v
	}
	for _, b := range []struct {
		key string
		dst *bool
	}{{"ssoMode", &l.SSO}, {"sandbox", &l.Sandbox}, {"standby", &l.Standby}} {
		v, ok := get(b.key)
		if !ok {
			continue
		}
		switch v {
		case "true":
			*b.dst = true
		case "false":
		default:
			return nil, cc.Errorf(cc.EINVALID, "%s=%s: use true or false", b.key, clip(v))
		}
	}
	// ssoMode=true for a legacy tenant is not refused here: the page
	// explains it and offers the password sign-in (Handler, SSONotice).
	if v, ok := get("tenant"); ok {
		if !tenantRE.MatchString(v) {
			return nil, cc.Errorf(cc.EINVALID, "tenant=%s: use the tenant's name, 1-63 lowercase letters, digits, '-', '_' or '.'", clip(v))
		}
		l.Tenant = v
	}
	return l, nil
}

// clip shortens a value for a message.
func clip(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}
