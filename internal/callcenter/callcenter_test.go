package callcenter

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func acme() *cc.Tenant {
	return &cc.Tenant{Slug: "acme", DisplayName: "Acme Corporation", Kind: cc.KindUnifiedLogin, Cluster: "na6", Region: "US"}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n%s", name, got)
	}
}

func TestGenerateGoldenAndParsesBack(t *testing.T) {
	for _, c := range []struct {
		name string
		t    *cc.Tenant
		opts Options
	}{
		{"acme", acme(), Options{PublicURL: "https://parley.example.com"}},
		{"acme_sandbox", acme(), Options{PublicURL: "https://parley.example.com/", Sandbox: true, SSO: true, OutsidePrefix: "9"}},
		{"demo_gb", &cc.Tenant{Slug: "north-west", DisplayName: "North & West <Ltd>", Cluster: "na12", Region: "GB"}, Options{PublicURL: "http://127.0.0.1:8080", TimeoutMS: 5000}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := Generate(c.t, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name, out)
			back, err := Parse(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("Parse of the generated file: %v", err)
			}
			want, _ := New(c.t, c.opts)
			if back.InternalName() != want.InternalName() || back.AdapterURL() != want.AdapterURL() || back.DisplayName() != want.DisplayName() {
				t.Errorf("parsed back %q %q %q", back.InternalName(), back.DisplayName(), back.AdapterURL())
			}
			s := back.Settings()
			if s["/reqGeneralInfo/reqSoftphoneWidth"] != "260" || s["/parleySettings/tenant"] != c.t.Slug {
				t.Errorf("settings %v", s)
			}
		})
	}
}

func TestAdapterURLQuery(t *testing.T) {
	u, err := AdapterURL(acme(), nil, "https://parley.example.com:8443", true, true)
	if err != nil {
		t.Fatal(err)
	}
	want := "https://parley.example.com:8443/cti/salesforce.html?env=salesforce&companel=vcc&vccmode=2&vccDomain=https%3A%2F%2Fsso.vcc.example.net%2Flogin%2Fvcc-na6&ssoMode=true&sandbox=true&tenant=acme"
	if u != want {
		t.Errorf("AdapterURL = %s\nwant        %s", u, want)
	}
	// A tenant whose CRM is a sandbox org gets sandbox=true in the file
	// unasked.
	sbx := acme()
	sbx.CRM = cc.CRMConnection{Kind: "salesforce", LoginURL: "https://test.salesforce.com"}
	c, err := New(sbx, Options{PublicURL: "https://parley.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.AdapterURL(), "&sandbox=true&") || c.Value(SectionParley, "sandbox") != "true" || c.InternalName() != "ParleyAcmeSandbox" {
		t.Errorf("sandbox org: %s %q %s", c.AdapterURL(), c.Value(SectionParley, "sandbox"), c.InternalName())
	}
}

func TestGenerateRefuses(t *testing.T) {
	for _, c := range []struct {
		t    *cc.Tenant
		opts Options
		want string
	}{
		{acme(), Options{PublicURL: "http://parley.example.com"}, "http.public_url"},
		{acme(), Options{PublicURL: "parley.example.com"}, "http.public_url"},
		{acme(), Options{PublicURL: "https://parley.example.com/sub"}, "public origin"},
		{&cc.Tenant{Slug: "x", Cluster: "na1", Region: ""}, Options{PublicURL: "https://p.example.com"}, "region"},
		{acme(), Options{PublicURL: "https://p.example.com", OutsidePrefix: "9#"}, "outside prefix"},
		{acme(), Options{PublicURL: "https://p.example.com", StandbyURL: "http://dr.example.com/x"}, "standby URL"},
		{&cc.Tenant{Slug: "old", Kind: cc.KindLegacy, Cluster: "na1", Region: "US"}, Options{PublicURL: "https://p.example.com", SSO: true}, "single sign-on is not available for legacy tenants"},
		{&cc.Tenant{Slug: "nocl", Region: "US"}, Options{PublicURL: "https://p.example.com"}, "tenant nocl has no cluster: set it with parley admin tenant set --tenant nocl --cluster NAME"},
	} {
		_, err := Generate(c.t, c.opts)
		if !cc.IsCode(err, cc.EINVALID) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Generate(%+v) error = %v, want EINVALID naming %q", c.opts, err, c.want)
		}
	}
}

func TestInternalName(t *testing.T) {
	if got := InternalName("north-west", false); got != "ParleyNorthWest" {
		t.Errorf("InternalName = %q", got)
	}
	long := InternalName(strings.Repeat("a", 60), true)
	if len(long) != MaxNameLen || !strings.HasSuffix(long, "Sandbox") {
		t.Errorf("long InternalName = %q", long)
	}
}

// valid is a good file; the cases below break one rule each.
const valid = `<?xml version="1.0" encoding="UTF-8"?>
<callCenter>
  <section sortOrder="0" name="reqGeneralInfo" label="General Information">
    <item sortOrder="0" name="reqInternalName" label="Internal Name">ParleyAcme</item>
    <item sortOrder="1" name="reqDisplayName" label="Display Name">Parley</item>
    <item sortOrder="2" name="reqAdapterUrl" label="CTI Adapter URL">https://parley.example.com/cti/salesforce.html</item>
    <item sortOrder="3" name="reqUseApi" label="Use CTI API">true</item>
    <item sortOrder="4" name="reqSoftphoneHeight" label="Softphone Height">700</item>
    <item sortOrder="5" name="reqSoftphoneWidth" label="Softphone Width">260</item>
    <item sortOrder="6" name="reqSalesforceCompatibilityMode" label="Mode">Classic_and_Lightning</item>
  </section>
  <section sortOrder="1" name="parleySettings" label="Parley">
    <item sortOrder="0" name="tenant" label="Tenant">acme</item>
  </section>
</callCenter>
`

func TestParseValid(t *testing.T) {
	c, err := Parse(strings.NewReader(valid))
	if err != nil {
		t.Fatal(err)
	}
	if c.InternalName() != "ParleyAcme" || c.Value("parleySettings", "tenant") != "acme" || c.Section("parleySettings").Line != 12 {
		t.Errorf("parsed %+v", c)
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(valid, old) {
			t.Fatalf("the valid file has no %q", old)
		}
		return strings.Replace(valid, old, new, 1)
	}
	for _, c := range []struct {
		name, file string
		line       int
		want       string
	}{
		{"not XML", "this is not xml", 1, "must be XML"},
		{"broken XML", replace(`</section>`, `</sektion>`), 11, "not well-formed XML"},
		{"empty", "", 1, "empty"},
		{"wrong root", `<callCentre></callCentre>`, 1, "starts with <callCenter>"},
		{"no general info", replace(`name="reqGeneralInfo"`, `name="generalInfo"`), 2, "required section reqGeneralInfo is missing"},
		{"missing adapter url", replace(`    <item sortOrder="2" name="reqAdapterUrl" label="CTI Adapter URL">https://parley.example.com/cti/salesforce.html</item>
`, ""), 3, "lacks the required item reqAdapterUrl"},
		{"missing use api", replace(`name="reqUseApi"`, `name="useApi"`), 3, "lacks the required item reqUseApi"},
		{"missing height", replace(`name="reqSoftphoneHeight"`, `name="height"`), 3, "lacks the required item reqSoftphoneHeight"},
		{"missing width", replace(`name="reqSoftphoneWidth"`, `name="width"`), 3, "lacks the required item reqSoftphoneWidth"},
		{"missing internal name", replace(`name="reqInternalName"`, `name="internal"`), 3, "lacks the required item reqInternalName"},
		{"missing display name", replace(`name="reqDisplayName"`, `name="display"`), 3, "lacks the required item reqDisplayName"},
		{"sortOrder gap", replace(`sortOrder="6"`, `sortOrder="7"`), 10, "sortOrder 6 is missing"},
		{"sortOrder duplicate", replace(`sortOrder="6"`, `sortOrder="5"`), 10, "sortOrder 5"},
		{"section gap", replace(`<section sortOrder="1"`, `<section sortOrder="2"`), 12, "section sortOrder 1 is missing"},
		{"sortOrder not a number", replace(`<item sortOrder="0" name="tenant"`, `<item sortOrder="first" name="tenant"`), 13, "use a whole number"},
		{"no sortOrder", replace(`<item sortOrder="0" name="tenant"`, `<item name="tenant"`), 13, "has no sortOrder"},
		{"name with punctuation", replace(`name="tenant"`, `name="tenant-id"`), 13, "only letters and digits"},
		{"name too long", replace(`name="tenant"`, `name="`+strings.Repeat("t", 41)+`"`), 13, "at most 40"},
		{"reserved name", replace(`name="tenant"`, `name="label"`), 13, "reserved"},
		{"reserved req prefix", replace(`name="tenant"`, `name="reqTenant"`), 13, "reserved for Salesforce"},
		{"misspelt compatibility", replace(`reqSalesforceCompatibilityMode`, `reqSalesforceCompatabilityMode`), 10, "misspelt"},
		{"bad mode", replace(`>Classic_and_Lightning<`, `>Both<`), 10, "Classic_and_Lightning"},
		{"http adapter", replace(`https://parley.example.com/cti`, `http://parley.example.com/cti`), 6, "only over https"},
		{"relative adapter", replace(`https://parley.example.com/cti/salesforce.html`, `/cti/salesforce.html`), 6, "absolute https"},
		{"internal name order", replace(`<item sortOrder="0" name="reqInternalName"`, `<item sortOrder="9" name="reqInternalName"`), 4, "sortOrder 0"},
		{"internal name value", replace(`>ParleyAcme<`, `>1 Parley<`), 4, "starting with a letter"},
		{"height out of range", replace(`>700<`, `>100<`), 8, "240 to 2560"},
		{"use api not bool", replace(`>true<`, `>yes<`), 7, "use true"},
		{"standby without timeout", replace(`  </section>
  <section sortOrder="1"`, `    <item sortOrder="7" name="reqStandbyUrl" label="Standby">https://dr.example.com/</item>
  </section>
  <section sortOrder="1"`), 11, "needs reqTimeout"},
		{"element in item", replace(`>acme<`, `><b>acme</b><`), 13, "holds only its value"},
		{"duplicate section", replace(`name="parleySettings"`, `name="reqGeneralInfo"`), 12, "defined again"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(c.file))
			if !cc.IsCode(err, cc.EINVALID) {
				t.Fatalf("Parse error = %v, want EINVALID", err)
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("error %v does not wrap Problems", err)
			}
			for _, p := range ps {
				if p.Line == c.line && strings.Contains(p.Message, c.want) {
					return
				}
			}
			t.Errorf("problems %q: none on line %d says %q", ps.Error(), c.line, c.want)
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(valid)
	f.Add("<callCenter><section/></callCenter>")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(strings.NewReader(s))
		if err == nil && c.InternalName() == "" {
			t.Fatal("a file without reqInternalName parsed")
		}
		if err != nil && !cc.IsCode(err, cc.EINVALID) {
			t.Fatalf("error code %s: %v", cc.ErrorCode(err), err)
		}
	})
}
