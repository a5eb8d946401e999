package cc_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

// validTenant returns a normalised tenant that passes Validate.
func validTenant() *cc.Tenant {
	t := &cc.Tenant{Slug: "acme", Region: "US", TimeZone: "America/New_York"}
	t.Normalize()
	return t
}

// salesforce returns a CRM connection that passes Validate.
func salesforce() cc.CRMConnection {
	return cc.CRMConnection{Kind: "salesforce", LoginURL: "https://login.salesforce.com", APIVersion: "62.0",
		ClientID: "3MVG9", ClientSecret: []byte("s3cret"), LogCapBytes: cc.DefaultLogCapBytes}
}

func TestTenantValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*cc.Tenant)
		msg  string // "" when valid
	}{
		{"defaults", func(*cc.Tenant) {}, ""},
		{"63-byte name", func(t *cc.Tenant) { t.Slug = strings.Repeat("a", 63) }, ""},
		{"name with digits and punctuation", func(t *cc.Tenant) { t.Slug = "acme-2.eu_west" }, ""},
		{"empty name", func(t *cc.Tenant) { t.Slug = "" }, `tenant name ""`},
		{"upper-case name", func(t *cc.Tenant) { t.Slug = "Acme" }, `tenant name "Acme"`},
		{"name starting with a dash", func(t *cc.Tenant) { t.Slug = "-acme" }, `tenant name "-acme"`},
		{"name with a space", func(t *cc.Tenant) { t.Slug = "acme corp" }, `tenant name "acme corp"`},
		{"64-byte name", func(t *cc.Tenant) { t.Slug = strings.Repeat("a", 64) }, "use 1-63 lowercase letters"},
		{"kind unified login + UC", func(t *cc.Tenant) { t.Kind = cc.KindUnifiedLoginUC }, ""},
		{"kind 0", func(t *cc.Tenant) { t.Kind = 0 }, "tenant kind 0"},
		{"kind 4", func(t *cc.Tenant) { t.Kind = 4 }, "tenant kind 4"},
		{"three-letter region", func(t *cc.Tenant) { t.Region = "USA" }, `tenant region "USA"`},
		{"lower-case region", func(t *cc.Tenant) { t.Region = "us" }, `tenant region "us"`},
		{"region with a digit", func(t *cc.Tenant) { t.Region = "U1" }, `tenant region "U1"`},
		{"no region", func(t *cc.Tenant) { t.Region = "" }, `tenant region ""`},
		{"unknown time zone", func(t *cc.Tenant) { t.TimeZone = "Mars/Olympus" }, `tenant time zone "Mars/Olympus"`},
		{"the server's local time zone", func(t *cc.Tenant) { t.TimeZone = "Local" }, `tenant time zone "Local"`},
		{"UTC", func(t *cc.Tenant) { t.TimeZone = "UTC" }, ""},
		{"no not-ready reasons", func(t *cc.Tenant) { t.NotReadyReasons = []string{} }, ""},
		{"upper-case reason", func(t *cc.Tenant) { t.NotReadyReasons = []string{"Break"} }, `not-ready reason "Break"`},
		{"41-byte reason", func(t *cc.Tenant) { t.NotReadyReasons = []string{strings.Repeat("r", 41)} }, "use 1-40 lowercase letters"},
		{"a system reason", func(t *cc.Tenant) { t.NotReadyReasons = []string{"break", cc.ReasonRingNoAnswer} },
			`not-ready reason "ring-no-answer" is reserved for the system`},
		{"blank disposition", func(t *cc.Tenant) { t.Dispositions = []string{"Resolved", "  "} }, `disposition "  "`},
		{"256-byte disposition", func(t *cc.Tenant) { t.Dispositions = []string{strings.Repeat("d", 256)} }, "use 1-255 characters"},
		{"255-byte disposition", func(t *cc.Tenant) { t.Dispositions = []string{strings.Repeat("d", 255)} }, ""},

		{"Salesforce with a client secret", func(t *cc.Tenant) { t.CRM = salesforce() }, ""},
		{"Salesforce with a JWT key", func(t *cc.Tenant) {
			t.CRM = salesforce()
			t.CRM.ClientSecret, t.CRM.PrivateKey, t.CRM.Username = nil, []byte("-----BEGIN PRIVATE KEY-----"), "integration@acme.example"
		}, ""},
		{"unknown CRM", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.Kind = "hubspot" }, `CRM kind "hubspot"`},
		{"login URL without a scheme", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.LoginURL = "login.salesforce.com" }, `CRM login URL "login.salesforce.com"`},
		{"login URL with another scheme", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.LoginURL = "ftp://login.salesforce.com" }, `CRM login URL "ftp://login.salesforce.com"`},
		{"login URL without a host", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.LoginURL = "https://" }, `CRM login URL "https://"`},
		{"login URL of a local devcrm", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.LoginURL = "http://127.0.0.1:8081" }, ""},
		{"no API version", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.APIVersion = "" }, ""},
		{"SSO app", func(t *cc.Tenant) {
			t.CRM = salesforce()
			t.CRM.SSOClientID, t.CRM.SSOClientSecret, t.CRM.MyDomain = "3MVG9sso", []byte("s"), "https://acme.my.salesforce.com"
		}, ""},
		{"SSO secret without client id", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.SSOClientSecret = []byte("s") }, "SSO client secret given without an SSO client id"},
		{"My Domain without a scheme", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.MyDomain = "acme.my.salesforce.com" }, `CRM My Domain "acme.my.salesforce.com"`},
		{"API version with a v", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.APIVersion = "v62.0" }, `CRM API version "v62.0"`},
		{"API version with a minor", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.APIVersion = "62.1" }, `CRM API version "62.1"`},
		{"API version without a minor", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.APIVersion = "62" }, `CRM API version "62"`},
		{"no client id", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.ClientID = "" }, "CRM client id is empty"},
		{"no credentials", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.ClientSecret = nil }, "CRM credentials missing"},
		{"JWT key without a username", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.PrivateKey = []byte("key") }, "CRM username is empty"},
		{"log cap too small", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.LogCapBytes = 255 }, "CRM log cap 255 bytes"},
		{"log cap too large", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.LogCapBytes = 131073 }, "CRM log cap 131073 bytes"},
		{"smallest log cap", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.LogCapBytes = 256 }, ""},
		{"base URL", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.BaseURL = "https://parley.acme.example" }, ""},
		{"relative base URL", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.BaseURL = "parley" }, `Parley base URL "parley"`},
		{"script base URL", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.BaseURL = "javascript:alert(1)" }, `Parley base URL "javascript:alert(1)"`},
		{"FTP base URL", func(t *cc.Tenant) { t.CRM = salesforce(); t.CRM.BaseURL = "ftp://parley.acme.example" }, `Parley base URL "ftp://parley.acme.example"`},
		{"no CRM needs no CRM fields", func(t *cc.Tenant) { t.CRM = cc.CRMConnection{LogCapBytes: 1} }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tenant := validTenant()
			tc.edit(tenant)
			checkErr(t, tenant.Validate(), cc.EINVALID, tc.msg)
		})
	}
}

func TestTenantNormalize(t *testing.T) {
	tenant := &cc.Tenant{Slug: "  Acme ", Region: " ch "}
	tenant.Normalize()
	if tenant.Slug != "acme" || tenant.Region != "CH" || tenant.TimeZone != "UTC" || tenant.Kind != cc.KindLegacy || tenant.DisplayName != "acme" {
		t.Errorf("normalised tenant: %+v", tenant)
	}
	if !slices.Equal(tenant.NotReadyReasons, cc.DefaultNotReadyReasons) || !slices.Equal(tenant.Dispositions, cc.DefaultDispositions) {
		t.Errorf("defaults: reasons %v, dispositions %v", tenant.NotReadyReasons, tenant.Dispositions)
	}
	if tenant.CRM.LogCapBytes != cc.DefaultLogCapBytes {
		t.Errorf("log cap %d, want %d", tenant.CRM.LogCapBytes, cc.DefaultLogCapBytes)
	}
	// The defaults are copies: changing one tenant's list leaves the others alone.
	tenant.NotReadyReasons[0] = "changed"
	tenant.Dispositions[0] = "changed"
	if cc.DefaultNotReadyReasons[0] == "changed" || cc.DefaultDispositions[0] == "changed" {
		t.Error("Normalize shares the default lists with the tenant")
	}

	kept := &cc.Tenant{Slug: "b", Kind: cc.KindUnifiedLogin, TimeZone: "Europe/Zurich", DisplayName: "Bee", NotReadyReasons: []string{},
		CRM: cc.CRMConnection{LogCapBytes: 1000}}
	kept.Normalize()
	if kept.Kind != cc.KindUnifiedLogin || kept.TimeZone != "Europe/Zurich" || kept.DisplayName != "Bee" || len(kept.NotReadyReasons) != 0 || kept.CRM.LogCapBytes != 1000 {
		t.Errorf("Normalize replaced given values: %+v", kept)
	}
}

func TestTenantLocation(t *testing.T) {
	for _, tc := range []struct{ zone, want string }{
		{"Europe/Zurich", "Europe/Zurich"},
		{"", "UTC"},
		{"Mars/Olympus", "UTC"},
	} {
		tenant := &cc.Tenant{TimeZone: tc.zone}
		if got := tenant.Location().String(); got != tc.want {
			t.Errorf("Location of %q = %s, want %s", tc.zone, got, tc.want)
		}
	}
}

func TestParseCRMOrigin(t *testing.T) {
	good := map[string]string{
		"https://acme.lightning.force.com":            "https://acme.lightning.force.com",
		"HTTPS://Acme.My.Salesforce.com/":             "https://acme.my.salesforce.com",
		"https://acme--c.vf.force.com:443":            "https://acme--c.vf.force.com",
		"https://acme--uat.sandbox.my.salesforce.com": "https://acme--uat.sandbox.my.salesforce.com",
		"http://127.0.0.1:8081":                       "http://127.0.0.1:8081",
		"http://localhost:80":                         "http://localhost",
		"http://[::1]:9000":                           "http://[::1]:9000",
	}
	for in, want := range good {
		got, err := cc.ParseCRMOrigin(in)
		if err != nil || got != want {
			t.Errorf("ParseCRMOrigin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                                      "scheme://host",
		"acme.lightning.force.com":              "scheme://host",
		"http://acme.lightning.force.com":       "use https",
		"https://evil.example.com":              "Salesforce host",
		"https://force.com.evil.example":        "Salesforce host",
		"https://acme.lightning.force.com/path": "without a path",
		"https://acme.lightning.force.com?x=1":  "without a path",
		"https://u@acme.lightning.force.com":    "without a path",
		"ftp://127.0.0.1":                       "use https://host",
		"http://127.0.0.1:0":                    "port",
		"http://127.0.0.1:99999":                "port",
		"https://a_b.force.com":                 "Salesforce host",
	}
	for in, want := range bad {
		_, err := cc.ParseCRMOrigin(in)
		if !cc.IsCode(err, cc.EINVALID) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseCRMOrigin(%q) = %v; want EINVALID containing %q", in, err, want)
		}
	}
}

func TestTenantCRMOrigins(t *testing.T) {
	ten := &cc.Tenant{Slug: "acme", Region: "US", CRMOrigins: []string{"HTTPS://Acme.Lightning.Force.com", "http://127.0.0.1:8081"}}
	ten.Normalize()
	if err := ten.Validate(); err != nil {
		t.Fatal(err)
	}
	if ten.CRMOrigins[0] != "https://acme.lightning.force.com" {
		t.Errorf("normalised origin = %q", ten.CRMOrigins[0])
	}
	if !ten.AllowsCRMOrigin("https://acme.lightning.force.com:443") || ten.AllowsCRMOrigin("https://other.lightning.force.com") || ten.AllowsCRMOrigin("http://127.0.0.1:8082") {
		t.Error("AllowsCRMOrigin gives the wrong answer")
	}
	ten.CRMOrigins = append(ten.CRMOrigins, "http://127.0.0.1:8081/")
	ten.Normalize()
	if err := ten.Validate(); !cc.IsCode(err, cc.EINVALID) || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate origin: %v", err)
	}
	ten.CRMOrigins = []string{"https://evil.example"}
	if err := ten.Validate(); !cc.IsCode(err, cc.EINVALID) {
		t.Errorf("foreign origin: %v", err)
	}
}

func TestTenantKindSSO(t *testing.T) {
	for _, c := range []struct {
		kind cc.TenantKind
		sso  bool
		name string
	}{
		{cc.KindLegacy, false, "legacy (kind 1)"},
		{cc.KindUnifiedLogin, true, "unified login (kind 2)"},
		{cc.KindUnifiedLoginUC, true, "unified login + UC (kind 3)"},
		{0, false, "kind 0"},
		{4, false, "kind 4"},
	} {
		if got := c.kind.SSO(); got != c.sso {
			t.Errorf("kind %d SSO() = %v, want %v", int(c.kind), got, c.sso)
		}
		if got := c.kind.String(); got != c.name {
			t.Errorf("kind %d String() = %q, want %q", int(c.kind), got, c.name)
		}
		err := (&cc.Tenant{Slug: "oldco", Kind: c.kind}).CheckSSO()
		if (err == nil) != c.sso {
			t.Errorf("kind %d CheckSSO() = %v", int(c.kind), err)
		}
	}
	err := (&cc.Tenant{Slug: "oldco", Kind: cc.KindLegacy}).CheckSSO()
	want := "tenant oldco is a legacy (kind 1) tenant: single sign-on is not available for legacy tenants; " +
		"sign in with the contact center's user name and password, or change the tenant's kind to 2 or 3 with " +
		"parley admin tenant set --tenant oldco --kind 2"
	if cc.ErrorCode(err) != cc.EINVALID || cc.ErrorMessage(err) != want {
		t.Errorf("CheckSSO = %s %q\nwant %q", cc.ErrorCode(err), cc.ErrorMessage(err), want)
	}
	want = "single sign-on is not available for legacy tenants: a legacy (kind 1) tenant signs in with the contact center's user name and password; single sign-on needs kind 2 or 3"
	if got := cc.ErrorMessage(cc.ErrSSONotAvailable("", cc.KindLegacy)); got != want {
		t.Errorf("no slug: %q\nwant %q", got, want)
	}
}

func TestCRMConnectionSandbox(t *testing.T) {
	for _, c := range []struct {
		kind, login    string
		sandbox, known bool
	}{
		{"salesforce", "https://test.salesforce.com", true, true},
		{"salesforce", "https://TEST.salesforce.com/", true, true},
		{"salesforce", "https://acme--uat.sandbox.my.salesforce.com", true, true},
		{"salesforce", "https://login.salesforce.com", false, true},
		{"salesforce", "https://acme.my.salesforce.com", false, true},
		{"salesforce", "http://127.0.0.1:9000", false, false}, // devcrm
		{"", "https://test.salesforce.com", false, false},     // no CRM
		{"salesforce", "://bad", false, false},
	} {
		crm := cc.CRMConnection{Kind: c.kind, LoginURL: c.login}
		s, k := crm.Sandbox()
		if s != c.sandbox || k != c.known {
			t.Errorf("%q %q: Sandbox() = %v, %v; want %v, %v", c.kind, c.login, s, k, c.sandbox, c.known)
		}
	}
}
