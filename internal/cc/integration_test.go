package cc_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

func TestNormalizeCRMUsername(t *testing.T) {
	for in, want := range map[string]string{
		"alice@acme.example":        "alice@acme.example",
		"  Alice@ACME.Example\t":    "alice@acme.example",
		"":                          "",
		"BOB.SMITH+cc@Acme.Example": "bob.smith+cc@acme.example",
	} {
		if got := cc.NormalizeCRMUsername(in); got != want {
			t.Errorf("NormalizeCRMUsername(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIntegrationValidate(t *testing.T) {
	long := strings.Repeat("a", cc.MaxCRMUsernameLen-len("@acme.example")) + "@acme.example"
	for _, tc := range []struct {
		name, crm, username string
		msg                 string // "" when valid
	}{
		{"salesforce", "salesforce", "alice@acme.example", ""},
		{"mixed case, normalised", " SalesForce ", " Alice@Acme.Example ", ""},
		{"80 bytes", "salesforce", long, ""},
		{"81 bytes", "salesforce", "a" + long, "is longer than 80 bytes"},
		{"unknown CRM", "hubspot", "alice@acme.example", `CRM "hubspot": use salesforce`},
		{"empty CRM", "", "alice@acme.example", `CRM "": use salesforce`},
		{"empty username", "salesforce", "  ", "no salesforce username given"},
		{"inner space", "salesforce", "alice smith@acme.example", "has spaces or control characters"},
		{"control character", "salesforce", "alice\x00@acme.example", "has spaces or control characters"},
		{"not an e-mail", "salesforce", "alice", "give the login in e-mail form"},
		{"no domain dot", "salesforce", "alice@localhost", "give the login in e-mail form"},
		{"two @", "salesforce", "alice@b@acme.example", "give the login in e-mail form"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := cc.Integration{CRM: tc.crm, Username: tc.username}
			in.Normalize()
			checkErr(t, in.Validate(), cc.EINVALID, tc.msg)
		})
	}
	// Validate expects the normalised form.
	in := cc.Integration{CRM: "salesforce", Username: "Alice@acme.example"}
	checkErr(t, in.Validate(), cc.EINVALID, "is not lowercase")
}

func TestUserIntegrations(t *testing.T) {
	u := validUser()
	u.SetIntegration("Salesforce", " Alice@Acme.Example ")
	if got, ok := u.Integration("salesforce"); !ok || got.Username != "alice@acme.example" {
		t.Fatalf("Integration(salesforce) = %+v, %v after SetIntegration", got, ok)
	}
	checkErr(t, u.Validate(), cc.EINVALID, "")
	u.SetIntegration("salesforce", "alice2@acme.example")
	if want := []cc.Integration{{CRM: "salesforce", Username: "alice2@acme.example"}}; !slices.Equal(u.Integrations, want) {
		t.Errorf("after a second SetIntegration: %+v, want %+v (replaced)", u.Integrations, want)
	}
	u.SetIntegration("salesforce", "")
	if _, ok := u.Integration("salesforce"); ok || len(u.Integrations) != 0 {
		t.Errorf("after removing: %+v", u.Integrations)
	}

	u.Integrations = []cc.Integration{{CRM: "salesforce", Username: "a@acme.example"}, {CRM: "salesforce", Username: "b@acme.example"}}
	checkErr(t, u.Validate(), cc.EINVALID, "user alice has two salesforce usernames (a@acme.example and b@acme.example)")
	u.Integrations = []cc.Integration{{CRM: "salesforce", Username: "not-an-email"}}
	checkErr(t, u.Validate(), cc.EINVALID, `user alice: salesforce username "not-an-email"`)

	n := &cc.User{Integrations: []cc.Integration{{CRM: " SALESFORCE", Username: "A@X.Example "}}}
	n.Normalize()
	if want := (cc.Integration{CRM: "salesforce", Username: "a@x.example"}); n.Integrations[0] != want {
		t.Errorf("normalised %+v, want %+v", n.Integrations[0], want)
	}
}

func TestMatchCRMUsers(t *testing.T) {
	user := func(name string, roles []cc.Role, crmUsername string) *cc.User {
		u := &cc.User{TenantID: "ten_1", ID: "usr_" + name, Username: name, Roles: roles}
		u.SetIntegration(cc.CRMSalesforce, crmUsername)
		return u
	}
	agent := []cc.Role{cc.RoleAgent}
	alice := user("alice", agent, "alice@acme.example")
	bob := user("bob", agent, "bob@old.example") // names no CRM user
	carol := user("carol", agent, "")            // no entry
	admin := user("ada", []cc.Role{cc.RoleAdmin}, "")
	sam := user("sam", []cc.Role{cc.RoleSupervisor}, "sam@acme.example")
	crmUsers := []cc.CRMUser{
		{ID: "005A", Username: "Alice@Acme.Example", Email: "alice@acme.example"},
		{ID: "005B", Username: "dan@acme.example", Email: "dan@acme.example"},
		{ID: "005C", Username: "sam@acme.example"},
	}
	v := cc.MatchCRMUsers(cc.CRMSalesforce, crmUsers, []*cc.User{admin, alice, bob, carol, sam})
	if v.CRM != "salesforce" || len(v.Users) != 3 {
		t.Fatalf("view %+v", v)
	}
	for i, want := range []*cc.User{alice, nil, sam} {
		if got := v.Users[i]; got.CRMUser != crmUsers[i] || got.User != want {
			t.Errorf("CRM user %d: %+v mapped to %v, want %v", i, got.CRMUser, got.User, want)
		}
	}
	want := []cc.UnmatchedAgent{{User: bob, Username: "bob@old.example"}, {User: carol}}
	if !slices.Equal(v.Unmatched, want) {
		t.Errorf("unmatched %+v, want %+v (agents only: not ada the admin)", v.Unmatched, want)
	}
	empty := cc.MatchCRMUsers(cc.CRMSalesforce, nil, nil)
	if empty.Users == nil || empty.Unmatched == nil {
		t.Errorf("an empty view has nil lists (they encode as null): %+v", empty)
	}
}
