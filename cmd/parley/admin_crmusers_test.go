package main

import (
	"strings"
	"testing"
)

func TestAdminUserSetCRM(t *testing.T) {
	t.Setenv("PARLEY_SECRET_KEY", "")
	dir := t.TempDir()
	a := func(args ...string) []string { return append([]string{"admin", "--data", dir}, args...) }
	runCLISteps(t, []cliStep{
		{a("tenant", "add", "--name", "acme"), 0, nil},
		{a("tenant", "add", "--name", "globex"), 0, nil},
		{a("user", "add", "--tenant", "acme", "--username", "alice", "--role", "agent", "--password", "long enough"), 0, nil},
		{a("user", "add", "--tenant", "acme", "--username", "bob", "--role", "agent", "--password", "long enough"), 0, nil},
		{a("user", "add", "--tenant", "globex", "--username", "gail", "--role", "agent", "--password", "long enough"), 0, nil},
		{a("user", "set-crm", "--tenant", "acme", "--user", "alice", "--crm", "salesforce", "--username", "Alice@Acme.Example"), 0, []string{"alice is mapped to salesforce user alice@acme.example"}},
		{a("user", "list", "--tenant", "acme"), 0, []string{"CRM USERNAMES", "salesforce:alice@acme.example"}},
		{a("user", "set-crm", "--tenant", "acme", "--user", "bob", "--username", "ALICE@acme.example"), 1, []string{`salesforce username "ALICE@acme.example" already belongs to user alice in tenant acme`}},
		{a("user", "set-crm", "--tenant", "globex", "--user", "gail", "--username", "alice@acme.example"), 0, []string{"gail is mapped"}}, // per tenant
		{a("user", "set-crm", "--tenant", "acme", "--user", "bob", "--username", "bob"), 1, []string{"e-mail form"}},
		{a("user", "set-crm", "--tenant", "acme", "--user", "bob", "--username", "Bob Smith@acme.example"), 1, []string{"spaces", `"Bob Smith@acme.example"`}},
		{a("user", "set-crm", "--tenant", "acme", "--user", "bob", "--crm", "hubspot", "--username", "bob@acme.example"), 1, []string{`CRM "hubspot": use salesforce`}},
		{a("user", "set-crm", "--tenant", "acme", "--user", "bob"), 1, []string{"give --username", "or --remove"}},
		{a("user", "set-crm", "--tenant", "acme", "--user", "bob", "--username", "b@acme.example", "--remove"), 1, []string{"not both"}},
		{a("user", "set-crm", "--tenant", "acme", "--username", "b@acme.example"), 1, []string{"give --user"}},
		{a("user", "set-crm", "--tenant", "acme", "--user", "nobody", "--username", "n@acme.example"), 1, []string{`no user "nobody" in tenant acme`}},
		{a("user", "set-crm", "--user", "bob", "--username", "b@acme.example"), 1, []string{"--tenant is required"}},
		{a("user", "set-crm", "--tenant", "acme", "--user", "alice", "--remove"), 0, []string{"alice is no longer mapped to salesforce user alice@acme.example"}},
		{a("user", "set-crm", "--tenant", "acme", "--user", "alice", "--remove"), 0, []string{"alice had no salesforce username; nothing changed"}},
		{a("user", "set-crm", "--tenant", "acme", "--user", "bob", "--username", "alice@acme.example"), 0, []string{"bob is mapped"}}, // freed
		{a("crm", "users", "--tenant", "acme"), 1, []string{"tenant acme has no CRM connection", "parley admin crm set"}},
		{a("user", "set-crm", "-h"), 0, []string{"Usage: parley admin user set-crm --tenant SLUG --user NAME [--crm salesforce] (--username LOGIN | --remove)"}},
		{a("help"), 0, []string{"user set-crm", "crm users"}},
	})
}

// cliStep is one parley command of a scripted test: its arguments (the
// first three, "admin --data DIR", are left out of messages), the exit
// status it must have, and what its output must contain.
type cliStep struct {
	args     []string
	code     int
	contains []string
}

// runCLISteps runs the steps in order and stops at the first wrong exit
// status. No output may show a password hash or any of secrets.
func runCLISteps(t *testing.T, steps []cliStep, secrets ...string) {
	t.Helper()
	for _, s := range steps {
		code, out, errOut := cli(t, s.args...)
		if code != s.code {
			t.Fatalf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", s.args[3:], code, s.code, out, errOut)
		}
		for _, want := range s.contains {
			if !strings.Contains(out+errOut, want) {
				t.Errorf("%v: output lacks %q:\n%s%s", s.args[3:], want, out, errOut)
			}
		}
		if strings.Contains(out+errOut, "$argon2id$") {
			t.Errorf("%v printed a password hash", s.args[3:])
		}
		for _, secret := range secrets {
			if strings.Contains(out+errOut, secret) {
				t.Errorf("%v printed a secret (%s)", s.args[3:], secret)
			}
		}
	}
}
