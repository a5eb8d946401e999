package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/secret"
)

// TestAdminSecretsRotate rotates the key of a data directory holding a CRM
// client secret and an SSO client secret: each rotation re-seals both with
// the new key, --drop-old leaves only it in the file, and the secrets still
// read back (crm show opens them).
func TestAdminSecretsRotate(t *testing.T) {
	t.Setenv(secret.EnvVar, "")
	dir, empty := t.TempDir(), t.TempDir()
	a := func(args ...string) []string { return append([]string{"admin", "--data", dir}, args...) }
	runCLISteps(t, []cliStep{
		{a("secrets", "status"), 1, []string{"no keyring at " + filepath.Join(dir, "secret.key")}},
		{append([]string{"admin", "--data", empty}, "secrets", "rotate"), 1, []string{"no database at " + filepath.Join(empty, "parley.db")}},
		{a("tenant", "add", "--name", "uni", "--kind", "2"), 0, nil},
		{a("crm", "set", "--tenant", "uni", "--login-url", "https://test.salesforce.com", "--client-id", "3MVG9", "--client-secret-file", writeFile(t, t.TempDir(), "s", "s3cret-client"),
			"--sso-client-id", "3MVG9sso", "--sso-client-secret-file", writeFile(t, t.TempDir(), "sso", "s3cret-sso")), 0, nil},
		{a("secrets", "status"), 0, []string{"k1 (active), 1 key(s)", "CRM client secret", "CRM SSO client secret", "key k1: 2 value(s)"}},
		{a("secrets", "rotate"), 0, []string{"new key k2 put first", "re-sealed 2 value(s) with key k2", "key k2: 2 value(s)", "key k1: 0 value(s)", "old key(s) k1 kept"}},
		{a("secrets", "status"), 0, []string{"k2 (active), 2 key(s)", "key k2: 2 value(s)"}},
		{a("crm", "show", "--tenant", "uni"), 0, []string{"3MVG9sso"}},
		{a("secrets", "rotate", "--drop-old"), 0, []string{"new key k3 put first", "re-sealed 2 value(s) with key k3", "dropped old key(s) k2, k1"}},
		{a("secrets", "status"), 0, []string{"k3 (active), 1 key(s)", "key k3: 2 value(s)"}},
		{a("crm", "show", "--tenant", "uni"), 0, []string{"3MVG9sso"}},
		{a("secrets", "frobnicate"), 2, []string{`unknown command "secrets frobnicate"`}},
		{a("secrets", "status", "--drop-old"), 2, nil},
		{a("secrets", "rotate", "-h"), 0, []string{"--drop-old", "adds a new key first, re-seals every value with it, then", "drops the old keys from the file"}},
	}, "s3cret-client", "s3cret-sso")
	if _, err := os.Stat(filepath.Join(empty, "secret.key")); err == nil {
		t.Error("a rotation without a database wrote a key file")
	}
	b, err := os.ReadFile(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "k3:") {
		t.Errorf("keyring file after --drop-old: %d lines, want the k3 line alone", len(lines))
	}
	if fi, _ := os.Stat(filepath.Join(dir, "secret.key")); fi.Mode().Perm() != 0o600 {
		t.Errorf("keyring file mode %o, want 600", fi.Mode().Perm())
	}

	// A running server (the data directory's lock) stops a rotation.
	lock, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	runCLISteps(t, []cliStep{{a("secrets", "rotate"), 1, []string{"stop the server before rotating the secret key"}}})
	lock.Close()

	// With the keyring in the environment the file is left alone, and a
	// keyring without the key that sealed the values re-seals nothing.
	t.Setenv(secret.EnvVar, secret.NewKeyLine("env1"))
	runCLISteps(t, []cliStep{
		{a("secrets", "status"), 1, []string{"keyring " + secret.EnvVar + ": env1 (active)", "key k3: 2 value(s), NOT IN THE KEYRING", "2 sealed value(s) need key k3, which keyring " + secret.EnvVar + " lacks"}},
		{a("secrets", "rotate"), 1, []string{"nothing was re-sealed", `key "k3" is not in the keyring`}},
	})
	b2, _ := os.ReadFile(filepath.Join(dir, "secret.key"))
	if string(b2) != string(b) {
		t.Error("the keyring file changed although the keyring comes from the environment")
	}
	// The environment's keyring with a new key first and the old one:
	// rotate re-seals with the new one and says to remove the old one.
	t.Setenv(secret.EnvVar, secret.NewKeyLine("env2")+","+strings.TrimSpace(string(b)))
	runCLISteps(t, []cliStep{
		{a("secrets", "rotate", "--drop-old"), 0, []string{"re-sealed 2 value(s) with key env2", "remove the other keys (k3) from " + secret.EnvVar + " yourself"}},
		{a("secrets", "status"), 0, []string{"key env2: 2 value(s)", "key k3: 0 value(s)"}},
	})
}

// TestMissingKeyFile: with the key file gone from a data directory whose
// database holds sealed values, admin commands and serve refuse to create
// a new key and say to restore the file or set PARLEY_SECRET_KEY, naming
// the key; with the file back everything opens again.
func TestMissingKeyFile(t *testing.T) {
	t.Setenv(secret.EnvVar, "")
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "secret.key")
	a := func(args ...string) []string { return append([]string{"admin", "--data", dir}, args...) }
	runCLISteps(t, []cliStep{
		{a("tenant", "add", "--name", "uni", "--kind", "2"), 0, nil},
		{a("crm", "set", "--tenant", "uni", "--login-url", "https://test.salesforce.com", "--client-id", "3MVG9", "--client-secret-file", writeFile(t, t.TempDir(), "s", "s3cret-client")), 0, nil},
	}, "s3cret-client")
	b, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	want := []string{"the secret key file " + keyFile + " is missing, but the database holds values sealed with key k1",
		"restore " + keyFile + " from a backup", "set " + secret.EnvVar}
	runCLISteps(t, []cliStep{
		{a("crm", "show", "--tenant", "uni"), 1, want},
		{a("tenant", "list"), 1, want},
		{[]string{"serve", "--data", dir}, 1, want},
	})
	if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
		t.Fatalf("a new key file was created: %v", err)
	}
	if err := os.WriteFile(keyFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	runCLISteps(t, []cliStep{{a("crm", "show", "--tenant", "uni"), 0, []string{"3MVG9"}}})

	// A data directory with nothing sealed gets its key file on first use.
	fresh := t.TempDir()
	runCLISteps(t, []cliStep{{[]string{"admin", "--data", fresh, "tenant", "add", "--name", "acme"}, 0, nil}})
	if _, err := os.Stat(filepath.Join(fresh, "secret.key")); err != nil {
		t.Fatalf("no key file in a fresh data directory: %v", err)
	}
}
