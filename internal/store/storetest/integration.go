package storetest

import (
	"strings"

	"github.com/parley-cc/parley/internal/cc"
)

// testUserIntegrations checks the users' CRM accounts: stored with the
// user, found case-insensitively, one user per CRM username in a tenant,
// and never found from another tenant.
func testUserIntegrations(f *fixture) {
	acme, globex := f.tenant("acme"), f.tenant("globex")
	alice := newUser(acme, "alice", "")
	alice.Integrations = []cc.Integration{{CRM: cc.CRMSalesforce, Username: "alice@acme.example"}}
	f.must(f.s.CreateUser(f.ctx, alice), "create user with a CRM username")
	bob := f.user(acme, "bob", "")

	got, err := f.s.User(f.ctx, acme.ID, alice.ID)
	f.must(err, "read user with a CRM username")
	f.equal(got, alice, "user with a CRM username")
	got, err = f.s.UserByIntegration(f.ctx, acme.ID, "salesforce", "alice@acme.example")
	f.must(err, "read user by CRM username")
	f.equal(got, alice, "user by CRM username")
	got, err = f.s.UserByIntegration(f.ctx, acme.ID, "Salesforce", " ALICE@Acme.Example ")
	f.must(err, "read user by CRM username in another case, with spaces")
	f.equal(got, alice, "user by CRM username in another case")
	got, err = f.s.User(f.ctx, acme.ID, bob.ID)
	f.must(err, "read user without a CRM username")
	if len(got.Integrations) != 0 {
		f.t.Errorf("user without CRM usernames reads back with %+v", got.Integrations)
	}

	_, err = f.s.UserByIntegration(f.ctx, acme.ID, "salesforce", "nobody@acme.example")
	f.wantCode(err, cc.ENOTFOUND, "read user by an unmapped CRM username")
	if err != nil && !strings.Contains(cc.ErrorMessage(err), "nobody@acme.example") {
		f.t.Errorf("unmapped CRM username: message %q does not name the username", cc.ErrorMessage(err))
	}

	// Tenant isolation: another tenant's lookup never finds acme's user,
	// and may map the same CRM username to its own user.
	_, err = f.s.UserByIntegration(f.ctx, globex.ID, "salesforce", "alice@acme.example")
	f.wantCode(err, cc.ENOTFOUND, "read acme's CRM username from tenant globex")
	other := newUser(globex, "alice", "")
	other.Integrations = []cc.Integration{{CRM: cc.CRMSalesforce, Username: "alice@acme.example"}}
	f.must(f.s.CreateUser(f.ctx, other), "map the same CRM username in another tenant")
	got, err = f.s.UserByIntegration(f.ctx, globex.ID, "salesforce", "alice@acme.example")
	f.must(err, "read globex's user by CRM username")
	f.equal(got.ID, other.ID, "globex's user by CRM username")
	got, err = f.s.UserByIntegration(f.ctx, acme.ID, "salesforce", "alice@acme.example")
	f.must(err, "read acme's user by CRM username after globex mapped it")
	f.equal(got.ID, alice.ID, "acme's user by CRM username")

	// One CRM username maps to at most one user of the tenant; the conflict
	// names the user who has it and changes nothing.
	bob.DisplayName = "Bob B."
	bob.Integrations = []cc.Integration{{CRM: cc.CRMSalesforce, Username: "alice@acme.example"}}
	err = f.s.UpdateUser(f.ctx, bob)
	f.wantConflict(err, "alice@acme.example", "give bob alice's CRM username")
	f.wantConflict(err, "user alice", "give bob alice's CRM username")
	got, err = f.s.User(f.ctx, acme.ID, bob.ID)
	f.must(err, "read bob after the conflict")
	if got.DisplayName == "Bob B." || len(got.Integrations) != 0 {
		f.t.Errorf("a conflicting update was partly stored: %+v", got)
	}
	carol := newUser(acme, "carol", "")
	carol.Integrations = []cc.Integration{{CRM: cc.CRMSalesforce, Username: "alice@acme.example"}}
	f.wantConflict(f.s.CreateUser(f.ctx, carol), "user alice", "create user with a taken CRM username")
	_, err = f.s.UserByUsername(f.ctx, acme.ID, "carol")
	f.wantCode(err, cc.ENOTFOUND, "read the user whose creation conflicted")

	invalid := newUser(acme, "dave", "")
	invalid.Integrations = []cc.Integration{{CRM: "hubspot", Username: "dave@acme.example"}}
	f.wantCode(f.s.CreateUser(f.ctx, invalid), cc.EINVALID, "create user with an unknown CRM")

	// Changing the username frees the old one; removing the entry frees it too.
	alice.Integrations = []cc.Integration{{CRM: cc.CRMSalesforce, Username: "alice.a@acme.example"}}
	f.must(f.s.UpdateUser(f.ctx, alice), "change alice's CRM username")
	_, err = f.s.UserByIntegration(f.ctx, acme.ID, "salesforce", "alice@acme.example")
	f.wantCode(err, cc.ENOTFOUND, "read user by the CRM username alice gave up")
	bob.Integrations = []cc.Integration{{CRM: cc.CRMSalesforce, Username: "alice@acme.example"}}
	f.must(f.s.UpdateUser(f.ctx, bob), "give bob the freed CRM username")
	got, err = f.s.UserByIntegration(f.ctx, acme.ID, "salesforce", "alice@acme.example")
	f.must(err, "read bob by the freed CRM username")
	f.equal(got, bob, "bob by the freed CRM username")
	bob.Integrations = nil
	f.must(f.s.UpdateUser(f.ctx, bob), "remove bob's CRM username")
	_, err = f.s.UserByIntegration(f.ctx, acme.ID, "salesforce", "alice@acme.example")
	f.wantCode(err, cc.ENOTFOUND, "read user by a removed CRM username")

	list, err := f.s.Users(f.ctx, acme.ID)
	f.must(err, "list users")
	for _, u := range list {
		if u.ID == alice.ID {
			f.equal(u, alice, "alice in the user list")
		}
	}
}
