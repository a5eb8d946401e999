package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cli runs the parley command line and returns its exit status and output.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestAdminCommands(t *testing.T) {
	t.Setenv("PARLEY_SECRET_KEY", "")
	dir := t.TempDir()
	a := func(args ...string) []string { return append([]string{"admin", "--data", dir}, args...) }
	steps := []cliStep{
		{a("tenant", "add", "--name", "acme", "--region", "us", "--tz", "America/New_York"), 0, []string{"tenant acme created", "region US"}},
		{a("tenant", "add", "--name", "acme"), 1, []string{"already"}},
		{a("tenant", "add", "--name", "Bad Name!"), 1, []string{"tenant name"}},
		{a("tenant", "add", "--name", "zz", "--tz", "Mars/Olympus"), 1, []string{"time zone"}},
		{a("tenant", "add", "--name", "zz", "--crm-origin", "https://evil.example.com"), 1, []string{"--crm-origin", "Salesforce host"}},
		{a("tenant", "set", "--tenant", "acme", "--crm-origin", "https://Acme.Lightning.Force.com,http://127.0.0.1:8081/"), 0, []string{"tenant acme updated"}},
		{a("tenant", "set", "--tenant", "acme", "--add-crm-origin", "https://acme--c.vf.force.com"), 0, []string{"tenant acme updated"}},
		{a("tenant", "set", "--tenant", "acme", "--remove-crm-origin", "http://127.0.0.1:8081"), 0, []string{"tenant acme updated"}},
		{a("tenant", "set", "--tenant", "acme", "--remove-crm-origin", "http://127.0.0.1:9999"), 1, []string{"does not list it"}},
		{a("tenant", "set", "--tenant", "acme", "--crm-origin", "https://a.force.com", "--add-crm-origin", "https://b.force.com"), 1, []string{"give one of"}},
		{a("tenant", "list"), 0, []string{"https://acme.lightning.force.com,https://acme--c.vf.force.com"}},
		{a("queue", "add", "--tenant", "acme", "--name", "Sales", "--priority", "2", "--wrap-up", "45s"), 0, []string{"queue Sales created", "skills sales"}},
		{a("queue", "add", "--tenant", "acme", "--name", "Support", "--overflow", "Sales", "--max-wait", "5m"), 0, []string{"queue Support created"}},
		{a("queue", "add", "--tenant", "acme", "--name", "X", "--offer-timeout", "1s"), 1, []string{"offer timeout"}},
		{a("queue", "add", "--tenant", "nope", "--name", "X"), 1, []string{`no tenant "nope"`}},
		{a("queue", "set", "--tenant", "acme", "--name", "Sales", "--priority", "5"), 0, []string{"queue Sales updated"}},
		{a("queue", "list", "--tenant", "acme"), 0, []string{"Sales", "5", "45s", "Support"}},
		{a("entry-point", "add", "--tenant", "acme", "--number", "(555) 010-0199", "--queue", "Sales"), 0, []string{"+15550100199"}},
		{a("entry-point", "add", "--tenant", "acme", "--number", "sales", "--queue", "Sales"), 0, []string{"entry point sales -> Sales"}},
		{a("entry-point", "add", "--tenant", "acme", "--number", "+1 (555) 010-0199", "--queue", "Sales"), 1, []string{"already"}},
		{a("entry-point", "add", "--tenant", "acme", "--number", "hello world", "--queue", "Sales"), 1, []string{"hello world"}},
		{a("entry-point", "list", "--tenant", "acme"), 0, []string{"+15550100199", "sales"}},
		{a("entry-point", "remove", "--tenant", "acme", "--number", "sales"), 0, []string{"removed"}},
		{a("queue", "set", "--tenant", "acme", "--name", "Support", "--screen-pop", "offer", "--search-field", "account_number=Account.AccountNumber",
			"--search-field", "email=contact.Email"), 0, []string{"queue Support updated"}},
		{a("queue", "list", "--tenant", "acme"), 0, []string{"offer", "account_number=Account.AccountNumber,email=Contact.Email", "answer"}},
		{a("queue", "set", "--tenant", "acme", "--name", "Support", "--search-field", "account_number"), 1, []string{"--search-field", "use key=Object.Field, such as account_number=Account.AccountNumber"}},
		{a("queue", "set", "--tenant", "acme", "--name", "Support", "--search-field", "n=Case.CaseNumber"), 1, []string{"use Contact, Lead or Account"}},
		{a("queue", "set", "--tenant", "acme", "--name", "Support", "--screen-pop", "ring"), 1, []string{"--screen-pop", "use offer"}},
		{a("queue", "set", "--tenant", "acme", "--name", "Support", "--search-field", "none"), 0, []string{"updated"}},
		{a("entry-point", "add", "--tenant", "acme", "--number", "+15550101", "--queue", "Support", "--collect", "account_number:8", "--digit-timeout", "3s"), 0, []string{"+15550101 -> Support"}},
		{a("entry-point", "add", "--tenant", "acme", "--number", "+15550102", "--queue", "Support", "--collect", "account_number:40"), 1, []string{"--collect", "use 1 to 32"}},
		{a("entry-point", "add", "--tenant", "acme", "--number", "+15550102", "--queue", "Support", "--collect", "account_number"), 1, []string{"key:max-digits"}},
		{a("entry-point", "add", "--tenant", "acme", "--number", "+15550102", "--queue", "Support", "--collect", "pin:4", "--collect-prompt", "nope.wav"), 1, []string{"nope.wav"}},
		{a("entry-point", "add", "--tenant", "acme", "--number", "+15550102", "--queue", "Support", "--digit-timeout", "3s"), 1, []string{"go with --collect"}},
		{a("entry-point", "list", "--tenant", "acme"), 0, []string{"account_number:8 (enter-account.wav, 3s)"}},
		{a("trunk", "add", "--tenant", "acme", "--name", "carrier", "--cidr", "203.0.113.0/24,198.51.100.7"), 0, []string{"trunk carrier created"}},
		{a("trunk", "add", "--tenant", "acme", "--name", "bad", "--cidr", "300.1.2.3"), 1, []string{"trunk source"}},
		{a("trunk", "list", "--tenant", "acme"), 0, []string{"198.51.100.7/32", "203.0.113.0/24"}},
		{a("user", "add", "--tenant", "acme", "--username", "alice", "--role", "agent", "--skills", "sales", "--generate-password", "--sip-username", "alice", "--generate-sip-password"), 0, []string{"user alice created", "password: ", "SIP password: "}},
		{a("user", "add", "--tenant", "acme", "--username", "bob", "--role", "agent", "--password", "short"), 1, []string{"too short"}},
		{a("user", "add", "--tenant", "acme", "--username", "carol", "--role", "pilot", "--password", "long enough"), 1, []string{"role"}},
		{a("user", "add", "--tenant", "acme", "--username", "dan", "--role", "agent", "--password", "long enough", "--sip-username", "alice", "--sip-password", "long enough"), 1, []string{"already"}},
		{a("user", "set", "--tenant", "acme", "--username", "alice", "--static-contact", "desk12@10.0.0.5"), 1, []string{"sip:"}},
		{a("user", "set", "--tenant", "acme", "--username", "alice", "--static-contact", "sip:desk12@10.0.0.5"), 0, []string{"updated"}},
		{a("user", "list", "--tenant", "acme"), 0, []string{"alice", "agent", "sip:desk12@10.0.0.5"}},
		{a("crm", "set", "--tenant", "acme", "--login-url", "not a url", "--client-id", "x"), 1, []string{"login URL"}},
		{a("crm", "show", "--tenant", "acme"), 0, []string{"no CRM connection"}},
		{a("bogus", "verb"), 2, nil},
	}
	runCLISteps(t, steps)
	// A CRM connection with a key file: the key is sealed at rest.
	key := filepath.Join(dir, "jwt.key")
	os.WriteFile(key, []byte("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"), 0o600)
	if code, out, errOut := cli(t, a("crm", "set", "--tenant", "acme", "--login-url", "https://login.salesforce.com", "--client-id", "3MVG9", "--username", "int@acme.example", "--private-key", key)...); code != 0 {
		t.Fatalf("crm set: %d %s %s", code, out, errOut)
	}
	code, out, _ := cli(t, a("crm", "show", "--tenant", "acme")...)
	if code != 0 || !strings.Contains(out, "private key: set (sealed at rest)") || strings.Contains(out, "BEGIN") {
		t.Fatalf("crm show: %s", out)
	}
	db, _ := os.ReadFile(filepath.Join(dir, "parley.db"))
	wal, _ := os.ReadFile(filepath.Join(dir, "parley.db-wal"))
	if bytes.Contains(append(db, wal...), []byte("BEGIN PRIVATE KEY")) {
		t.Fatal("the CRM private key is stored in plain text")
	}
}

func TestCheckConfigAndUsage(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("data_dir: /srv/parley\nsip:\n  udp: 0.0.0.0:5060\n"), 0o600)
	if code, out, _ := cli(t, "check-config", "--config", good); code != 0 || !strings.Contains(out, "configuration is valid") || !strings.Contains(out, "/srv/parley") {
		t.Fatalf("good config: %d %s", code, out)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("sip:\n  udpp: 0.0.0.0:5060\n"), 0o600)
	if code, _, errOut := cli(t, "check-config", "--config", bad); code != 1 || !strings.Contains(errOut, "udpp") {
		t.Fatalf("bad config: %d %s", code, errOut)
	}
	t.Setenv("PARLEY_HTTP_LISTEN", "nonsense")
	if code, _, errOut := cli(t, "check-config"); code != 1 || !strings.Contains(errOut, "http.listen") {
		t.Fatalf("bad env: %d %s", code, errOut)
	}
	if code, _, _ := cli(t); code != 2 {
		t.Fatalf("no command: exit %d", code)
	}
	if code, _, errOut := cli(t, "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("unknown command: %d %s", code, errOut)
	}
	if code, out, _ := cli(t, "version"); code != 0 || !strings.HasPrefix(out, "parley ") {
		t.Fatalf("version: %d %s", code, out)
	}
	if code, _, errOut := cli(t, "call"); code != 2 || !strings.Contains(errOut, "--to is required") {
		t.Fatalf("call without --to: %d %s", code, errOut)
	}
	if code, _, errOut := cli(t, "call", "--to", "sip:x@127.0.0.1:1", "--tone", "9000"); code != 2 || !strings.Contains(errOut, "--tone") {
		t.Fatalf("call with a bad tone: %d %s", code, errOut)
	}
	if code, _, _ := cli(t, "serve", "--bogus"); code != 2 {
		t.Fatalf("serve --bogus: exit %d", code)
	}
}

func TestAdminCallCenterXML(t *testing.T) {
	t.Setenv("PARLEY_SECRET_KEY", "")
	t.Setenv("PARLEY_HTTP_PUBLIC_URL", "")
	dir := t.TempDir()
	a := func(args ...string) []string { return append([]string{"admin", "--data", dir}, args...) }
	if code, _, errOut := cli(t, a("tenant", "add", "--name", "acme", "--region", "GB", "--kind", "3", "--cluster", "na6")...); code != 0 {
		t.Fatalf("tenant add: %s", errOut)
	}
	// The default public URL is http on loopback: accepted (the demo).
	code, out, errOut := cli(t, a("callcenter-xml", "--tenant", "acme")...)
	if code != 0 || !strings.Contains(out, `/cti/salesforce.html?env=salesforce&amp;companel=vcc&amp;vccmode=3&amp;vccDomain=`) ||
		!strings.Contains(out, `name="reqInternationalPrefix" label="International Prefix">00<`) || !strings.Contains(out, `>0</item>`) {
		t.Fatalf("callcenter-xml: %d\n%s\n%s", code, out, errOut)
	}
	t.Setenv("PARLEY_HTTP_PUBLIC_URL", "http://parley.example.com")
	if code, _, errOut := cli(t, a("callcenter-xml", "--tenant", "acme")...); code != 1 || !strings.Contains(errOut, "http.public_url") || !strings.Contains(errOut, "https") {
		t.Fatalf("http public URL: %d %s", code, errOut)
	}
	t.Setenv("PARLEY_HTTP_PUBLIC_URL", "https://parley.example.com")
	file := filepath.Join(dir, "cc.xml")
	if code, out, errOut := cli(t, a("callcenter-xml", "--tenant", "acme", "--sandbox", "--out", file)...); code != 0 || !strings.Contains(out, "written to "+file) {
		t.Fatalf("--out: %d %s %s", code, out, errOut)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "https://parley.example.com/cti/salesforce.html?env=salesforce&amp;companel=vcc&amp;vccmode=3&amp;vccDomain=https%3A%2F%2Fsso.vcc.example.net%2Flogin%2Fvcc&amp;sandbox=true&amp;tenant=acme") || !strings.Contains(string(b), "SANDBOX") {
		t.Errorf("sandbox file:\n%s", b)
	}
	// --sso: for kinds 2 and 3; a legacy tenant is refused with the reason.
	if code, out, errOut := cli(t, a("callcenter-xml", "--tenant", "acme", "--sso")...); code != 0 || !strings.Contains(out, "&amp;ssoMode=true&amp;tenant=acme") {
		t.Errorf("--sso: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := cli(t, a("tenant", "add", "--name", "oldco", "--cluster", "na12")...); code != 0 {
		t.Fatalf("tenant add oldco: %s", errOut)
	}
	if code, _, errOut := cli(t, a("callcenter-xml", "--tenant", "oldco", "--sso")...); code != 1 || !strings.Contains(errOut, "single sign-on is not available for legacy tenants") {
		t.Errorf("--sso for a legacy tenant: %d %s", code, errOut)
	}
	if code, _, errOut := cli(t, a("callcenter-xml", "--tenant", "nope")...); code != 1 || !strings.Contains(errOut, `no tenant "nope"`) {
		t.Errorf("unknown tenant: %d %s", code, errOut)
	}
	if code, _, _ := cli(t, a("callcenter-xml", "--bogus")...); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
}

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestAdminCTIURL runs parley admin cti-url and cti-url check as an
// administrator would and compares the transcript with
// testdata/cti-url.golden (go test -run TestAdminCTIURL -update rewrites it).
func TestAdminCTIURL(t *testing.T) {
	t.Setenv("PARLEY_SECRET_KEY", "")
	t.Setenv("PARLEY_HTTP_PUBLIC_URL", "https://parley.example.com")
	t.Setenv("PARLEY_CLUSTERS_FILE", "")
	dir := t.TempDir()
	a := func(args ...string) []string { return append([]string{"admin", "--data", dir}, args...) }
	for _, setup := range [][]string{
		{"tenant", "add", "--name", "acme", "--kind", "3", "--cluster", "na6"},
		{"tenant", "add", "--name", "oldco", "--kind", "1", "--cluster", "na12"},
		{"tenant", "add", "--name", "uni", "--kind", "2", "--cluster", "na1"},
		{"crm", "set", "--tenant", "uni", "--login-url", "https://test.salesforce.com", "--client-id", "3MVG9", "--client-secret-file", writeFile(t, dir, "secret", "s3cret")},
	} {
		if code, out, errOut := cli(t, a(setup...)...); code != 0 {
			t.Fatalf("%v: %d %s %s", setup, code, out, errOut)
		}
	}
	const (
		acmeURL  = "https://parley.example.com/cti/salesforce.html?env=salesforce&companel=vcc&vccmode=3&vccDomain=https%3A%2F%2Fsso.vcc.example.net%2Flogin%2Fvcc&ssoMode=true&tenant=acme"
		oldcoBad = "https://parley.example.com/cti/salesforce.html?env=salesforce&companel=vcc&vccmode=1&vccDomain=https://vcc-na12b.vcc.example.net&ssoMode=true"
	)
	var transcript strings.Builder
	for _, args := range [][]string{
		{"cti-url", "--tenant", "acme"},
		{"cti-url", "--tenant", "acme", "--sso"},
		{"cti-url", "--tenant", "acme", "--sandbox"},
		{"cti-url", "--tenant", "oldco"},
		{"cti-url", "--tenant", "oldco", "--sso"},
		{"cti-url", "--tenant", "uni", "--sso"},
		{"cti-url", "--cluster", "na6", "--kind", "3", "--sso", "--sandbox"},
		{"cti-url", "--cluster", "na6", "--kind", "2"},
		{"cti-url", "--cluster", "na12", "--kind", "1"},
		{"cti-url", "--cluster", "na12", "--kind", "1", "--sso"},
		{"cti-url", "--cluster", "eu1", "--kind", "1"},
		{"cti-url", "--cluster", "na1"},
		{"cti-url", "--tenant", "acme", "--cluster", "na1"},
		{"cti-url"},
		{"cti-url", "check", acmeURL, "--tenant", "acme"},
		{"cti-url", "check", "--tenant", "acme", acmeURL},
		{"cti-url", "check", oldcoBad, "--tenant", "oldco"},
		{"cti-url", "check", "https://parley.example.com/cti/salesforce.html?env=salesforce&companel=vcc&vccmode=2&vccDomain=https://sso.vcc.example.net/login/vcc-na1", "--tenant", "uni"},
		{"cti-url", "check", "--tenant", "acme"},
		{"tenant", "set", "--tenant", "oldco", "--cluster", "xx1"},
		{"tenant", "list"},
	} {
		code, out, errOut := cli(t, a(args...)...)
		fmt.Fprintf(&transcript, "$ parley admin %s\n%s%s[exit %d]\n\n", strings.Join(args, " "), out, errOut, code)
	}
	got := []byte(transcript.String())
	path := filepath.Join("testdata", "cti-url.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestAdminCTIURL -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the transcript differs from %s:\n%s", path, got)
	}
}

// writeFile writes a file in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAdminCRMSetSSO(t *testing.T) {
	t.Setenv("PARLEY_SECRET_KEY", "")
	dir := t.TempDir()
	a := func(args ...string) []string { return append([]string{"admin", "--data", dir}, args...) }
	secretFile := filepath.Join(dir, "sso.secret")
	os.WriteFile(secretFile, []byte("plaintext-sso-secret\n"), 0o600)
	empty := filepath.Join(dir, "empty.secret")
	os.WriteFile(empty, nil, 0o600)
	crm := []string{"--login-url", "https://login.salesforce.com", "--client-id", "3MVG9", "--client-secret-file", secretFile}
	steps := []cliStep{
		{a("tenant", "add", "--name", "acme", "--kind", "3"), 0, []string{"tenant acme created"}},
		{a("tenant", "add", "--name", "oldco", "--kind", "1", "--cluster", "na12", "--crm-origin", "https://oldco.lightning.force.com"), 0, []string{"tenant oldco created", "cluster: na12\n", "CRM origins allowed to frame the panel: https://oldco.lightning.force.com\n"}},
		{a(append([]string{"crm", "set", "--tenant", "oldco", "--sso-client-id", "3MVG9sso"}, crm...)...), 1, []string{"legacy (kind 1) tenant: single sign-on is not available for legacy tenants"}},
		{a(append([]string{"crm", "set", "--tenant", "acme", "--sso-client-id", "3MVG9sso", "--sso-client-secret-file", empty}, crm...)...), 1, []string{"--sso-client-secret-file", "is empty"}},
		{a(append([]string{"crm", "set", "--tenant", "acme", "--sso-client-id", "3MVG9sso", "--sso-client-secret-file", secretFile, "--my-domain", "acme.my.salesforce.com"}, crm...)...), 1, []string{`My Domain "acme.my.salesforce.com"`}},
		{a(append([]string{"crm", "set", "--tenant", "acme", "--sso-client-id", "3MVG9sso", "--sso-client-secret-file", secretFile, "--my-domain", "http://evil.example"}, crm...)...), 1, []string{`My Domain "http://evil.example": use https`}},
		{a(append([]string{"crm", "set", "--tenant", "acme", "--sso-client-id", "3MVG9sso", "--sso-client-secret-file", secretFile, "--my-domain", "https://acme.my.salesforce.com/path?x=1"}, crm...)...), 1, []string{"without a path, query or user"}},
		{a(append([]string{"crm", "set", "--tenant", "acme", "--sso-client-id", "3MVG9sso"}, crm...)...), 1, []string{"SSO client id 3MVG9sso has no consumer secret", "--sso-client-secret-file"}},
		{a(append([]string{"crm", "set", "--tenant", "acme", "--sso-client-id", "3MVG9\nsso", "--sso-client-secret-file", secretFile}, crm...)...), 1, []string{"space or control character"}},
		{a(append([]string{"crm", "set", "--tenant", "acme", "--sso-client-id", "3MVG9sso", "--sso-client-secret-file", secretFile, "--my-domain", "https://acme.my.salesforce.com/"}, crm...)...), 0, []string{"CRM of acme set", "single sign-on: on (connected app 3MVG9sso, signing in at the My Domain https://acme.my.salesforce.com)"}},
		{a("crm", "show", "--tenant", "acme"), 0, []string{"SSO client id: 3MVG9sso", "SSO client secret: set (sealed at rest)", "My Domain: https://acme.my.salesforce.com\n", "API version: 62.0 (default)\n"}},
		{a("tenant", "set", "--tenant", "acme", "--kind", "1"), 0, []string{"tenant acme updated", "note: tenant acme is now legacy (kind 1): single sign-on is off"}},
		{a("tenant", "set", "--tenant", "acme", "--kind", "3"), 0, []string{"tenant acme updated"}},
		{a("crm", "set", "--tenant", "acme", "--sso-client-id", "3MVG9other"), 1, []string{"--sso-client-id 3MVG9other replaces 3MVG9sso: give the new connected app's consumer secret too"}},
		{a("crm", "set", "--tenant", "acme", "--sso-client-id", ""), 0, []string{"CRM of acme set", "single sign-on: off"}},
		{a("crm", "show", "--tenant", "acme"), 0, []string{"SSO client id: \n", "SSO client secret: not set"}},
		{a("crm", "set", "--tenant", "acme", "--sso-client-id", "3MVG9sso"), 1, []string{"has no consumer secret"}},
	}
	runCLISteps(t, steps, "plaintext-sso-secret")
}
