package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileErrorsInHumanTerms: a mistake in the file is reported with the
// file, the line, the setting and what it takes, never Go type names.
func TestFileErrorsInHumanTerms(t *testing.T) {
	for _, tt := range []struct {
		name, yaml, want string
	}{
		{"unknown key in a section", "data_dir: /srv/parley\nhttp:\n  lisen: 1.2.3.4:80\n",
			`parley.yaml line 3: unknown key "lisen" under http (known: listen, public_url`},
		{"unknown key at the top", "data_dir: /srv/parley\nsecret:\n  key_file: k\n",
			`parley.yaml line 2: unknown key "secret" (known: data_dir, database, database_sync, http, sip, secrets,`},
		{"not a bool", "sip:\n  rewrite_contact: maybe\n",
			`parley.yaml line 2: sip.rewrite_contact "maybe": use true or false`},
		{"not a duration", "crm:\n  lookup_timeout: soon\n",
			`parley.yaml line 2: crm.lookup_timeout "soon" is not a duration: write it like 30s, 5m or 1h`},
		{"a value for a section", "http: 127.0.0.1:8080\n",
			`parley.yaml line 1: http must hold settings (listen, public_url`},
		{"a section for a value", "data_dir:\n  path: /srv\n",
			`parley.yaml line 2: data_dir takes a single value, not a mapping`},
		{"a list for a value", "log:\n  level: [debug]\n",
			`parley.yaml line 2: log.level takes a single value, not a list`},
		{"set twice", "http:\n  listen: 127.0.0.1:1\n  listen: 127.0.0.1:2\n",
			`parley.yaml line 3: http.listen is set twice (first on line 2)`},
		{"not YAML", "http:\n  listen: [127.0.0.1\n",
			`(the file is not valid YAML)`},
		{"not a mapping", "- data_dir\n",
			`parley.yaml line 1: the file must be a mapping of settings`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			err := c.loadYAML("parley.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			for _, goName := range []string{"config.", "unmarshal", "!!"} {
				if strings.Contains(err.Error(), goName) {
					t.Errorf("error %q speaks of %q", err, goName)
				}
			}
		})
	}
}

// TestFileAliasesMergesAndEmptySections: what YAML allows keeps working
// under the walk: aliases, merge keys (the mapping's own keys win), empty
// sections and null values, an empty file.
func TestFileAliasesMergesAndEmptySections(t *testing.T) {
	c := Default()
	doc := "sip:\n  <<: {udp: 0.0.0.0:5070, realm: merged}\n  tcp: &addr 0.0.0.0:5071\n  external_host: *addr\n  realm: own\nhttp:\nlog:\n  format: ~\n"
	if err := c.loadYAML("parley.yaml", []byte(doc)); err != nil {
		t.Fatal(err)
	}
	if c.SIP.UDP != "0.0.0.0:5070" || c.SIP.TCP != "0.0.0.0:5071" || c.SIP.ExternalHost != "0.0.0.0:5071" || c.SIP.Realm != "own" {
		t.Errorf("sip = %+v", c.SIP)
	}
	if c.HTTP != Default().HTTP {
		t.Errorf("an empty http: changed %+v", c.HTTP)
	}
	if c.Log.Format != "" {
		t.Errorf("format: ~ left %q", c.Log.Format)
	}
	for _, empty := range []string{"", "# only a comment\n"} {
		c := Default()
		if err := c.loadYAML("parley.yaml", []byte(empty)); err != nil || c.HTTP != Default().HTTP {
			t.Errorf("%q: %v %+v", empty, err, c)
		}
	}
}

// TestYAMLShowsEffectiveValues: check-config's rendering shows the values
// Parley runs with, not empty strings, and says where they come from; it
// loads back as the same configuration.
func TestYAMLShowsEffectiveValues(t *testing.T) {
	c := Default()
	out := c.YAML()
	for _, want := range []string{
		"database: parley-data/parley.db # data_dir/parley.db",
		"public_url: http://127.0.0.1:8080 # http:// and http.listen",
		"key_file: parley-data/secret.key # data_dir/secret.key",
		"sounds_dir: \"\" # empty: only the bundled sounds",
		"lookup_timeout: 3s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("YAML lacks %q:\n%s", want, out)
		}
	}
	c.Database, c.HTTP.PublicURL = "/db/p.db", "https://parley.example.com"
	if out := c.YAML(); !strings.Contains(out, "database: /db/p.db\n") || !strings.Contains(out, "public_url: https://parley.example.com\n") {
		t.Errorf("set values are commented or changed:\n%s", out)
	}
	file := filepath.Join(t.TempDir(), "parley.yaml")
	def := Default()
	os.WriteFile(file, []byte(def.YAML()), 0o600)
	back := Default()
	if err := back.LoadFile(file); err != nil {
		t.Fatalf("the rendering does not load: %v", err)
	}
	if back != Default().Effective() {
		t.Errorf("loaded back %+v, want %+v", back, Default().Effective())
	}
}

func TestUnknownEnv(t *testing.T) {
	env := []string{
		"HOME=/root",
		"PARLEY_HTTP_LISEN=127.0.0.1:9000", // misspelt
		"PARLEY_HTTP_LISTEN=127.0.0.1:9001",
		"PARLEY_CONFIG=/etc/parley.yaml",
		"PARLEY_SECRET_KEY=k1:abc",
		"PARLEY_REQUIRE_PEERS=1",
		"PARLEY_FROBNICATE_EVERYTHING=yes", // nothing near
		"NOT_PARLEY_X=1",
	}
	got := UnknownEnv(env)
	want := []string{
		"PARLEY_FROBNICATE_EVERYTHING is not a Parley setting and is ignored",
		"PARLEY_HTTP_LISEN is not a Parley setting and is ignored (did you mean PARLEY_HTTP_LISTEN?)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("UnknownEnv = %q, want %q", got, want)
	}
	// Every setting's variable is known, and LoadEnv reads each of them.
	for _, name := range EnvNames() {
		if w := UnknownEnv([]string{name + "=x"}); len(w) != 0 {
			t.Errorf("%s reported: %v", name, w)
		}
	}
	if n := len(EnvNames()); n < 20 {
		t.Errorf("EnvNames has %d names", n)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "", 3}, {"LISEN", "LISTEN", 1}, {"kitten", "sitting", 3}, {"ab", "ba", 2}} {
		if got := editDistance(tt.a, tt.b); got != tt.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
}

// FuzzLoadYAML: no input makes the walk panic, and every error names the
// file.
func FuzzLoadYAML(f *testing.F) {
	for _, s := range []string{
		"data_dir: /srv\nhttp:\n  listen: 0.0.0.0:80\n",
		"sip:\n  <<: [{udp: a}, {tcp: b}]\n",
		"a: &x {b: *x}\n",
		"http: &h\n  listen: x\nsip: *h\n",
		"log: [1, 2]\n",
		"crm: {lookup_timeout: 1h}\n",
		"? [a]\n: b\n",
		"\t",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := Default()
		if err := c.loadYAML("f.yaml", []byte(s)); err != nil && !strings.HasPrefix(err.Error(), "f.yaml") {
			t.Fatalf("error without the file name: %v", err)
		}
	})
}

// TestYAMLHidesSecrets: check-config's output can be pasted into a ticket;
// a set metrics token is not in it, only the note that it is set.
func TestYAMLHidesSecrets(t *testing.T) {
	c := Default()
	c.HTTP.MetricsToken = "s3cr3t-metrics-token"
	out := c.YAML()
	if strings.Contains(out, "s3cr3t") {
		t.Fatalf("the metrics token is printed:\n%s", out)
	}
	if !strings.Contains(out, `metrics_token: "" # set, not printed`) {
		t.Errorf("YAML does not say the token is set:\n%s", out)
	}
	if c.HTTP.MetricsToken != "s3cr3t-metrics-token" {
		t.Errorf("YAML changed the configuration")
	}
	def := Default()
	if out := def.YAML(); strings.Contains(out, "not printed") {
		t.Errorf("an unset token is marked as set:\n%s", out)
	}
}
