package center_test

import (
	"context"
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

func (c *testCRM) CRMUsers(context.Context) ([]cc.CRMUser, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return nil, cc.Errorf(cc.EUNAVAILABLE, "CRM down")
	}
	return c.users, nil
}

func TestCallCenterUsers(t *testing.T) {
	f := newFixture(t, func(f *fixture) { f.user("ada", cc.RoleAdmin) })
	f.crm.users = []cc.CRMUser{
		{ID: "005A", Username: "Alice@Acme.Example", Email: "alice@acme.example"},
		{ID: "005D", Username: "dan@acme.example"},
	}
	if _, err := f.c.SetIntegration(f.ctx, f.principal("ada"), f.users["alice"].ID, "salesforce", " ALICE@acme.example"); err != nil {
		t.Fatal(err)
	}
	v, err := f.c.CallCenterUsers(f.ctx, f.principal("ada"))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Users) != 2 || v.Users[0].User == nil || v.Users[0].User.Username != "alice" || v.Users[1].User != nil {
		t.Errorf("CRM users %+v: want alice mapped to the first and the second not mapped", v.Users)
	}
	if len(v.Unmatched) != 1 || v.Unmatched[0].User.Username != "bob" {
		t.Errorf("unmatched %+v, want bob only (sam and ada are not agents)", v.Unmatched)
	}

	for _, name := range []string{"alice", "sam"} {
		if _, err := f.c.CallCenterUsers(f.ctx, f.principal(name)); !cc.IsCode(err, cc.EFORBIDDEN) {
			t.Errorf("CallCenterUsers as %s: %v, want EFORBIDDEN", name, err)
		}
	}
	f.crm.setDown(true)
	if _, err := f.c.CallCenterUsers(f.ctx, f.principal("ada")); !cc.IsCode(err, cc.EUNAVAILABLE) {
		t.Errorf("CallCenterUsers with the CRM down: %v, want EUNAVAILABLE", err)
	}
}

func TestSetIntegration(t *testing.T) {
	f := newFixture(t, func(f *fixture) { f.user("ada", cc.RoleAdmin) })
	ada, alice, bob := f.principal("ada"), f.users["alice"], f.users["bob"]
	u, err := f.c.SetIntegration(f.ctx, ada, alice.ID, "Salesforce", "Alice@Acme.Example")
	if err != nil {
		t.Fatal(err)
	}
	if in, ok := u.Integration("salesforce"); !ok || in.Username != "alice@acme.example" {
		t.Errorf("returned user has %+v", u.Integrations)
	}
	got, err := f.store.UserByIntegration(f.ctx, f.tenant.ID, "salesforce", "alice@acme.example")
	if err != nil || got.ID != alice.ID {
		t.Fatalf("UserByIntegration after SetIntegration = %v, %v", got, err)
	}

	for _, tc := range []struct {
		name, who, userID, crm, username, code, msg string
	}{
		{"taken", "ada", bob.ID, "salesforce", "alice@acme.example", cc.ECONFLICT, "already belongs to user alice"},
		{"bad username", "ada", bob.ID, "salesforce", "bob", cc.EINVALID, "e-mail form"},
		{"unknown CRM", "ada", bob.ID, "zendesk", "bob@acme.example", cc.EINVALID, `CRM "zendesk"`},
		{"unknown user", "ada", "usr_missing", "salesforce", "x@acme.example", cc.ENOTFOUND, "usr_missing"},
		{"agent", "alice", bob.ID, "salesforce", "bob@acme.example", cc.EFORBIDDEN, "alice is not an admin"},
		{"supervisor", "sam", bob.ID, "salesforce", "bob@acme.example", cc.EFORBIDDEN, "sam is not an admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.c.SetIntegration(f.ctx, f.principal(tc.who), tc.userID, tc.crm, tc.username)
			if !cc.IsCode(err, tc.code) || !strings.Contains(cc.ErrorMessage(err), tc.msg) {
				t.Errorf("SetIntegration: %v, want %s with %q", err, tc.code, tc.msg)
			}
		})
	}

	// Another tenant's admin cannot reach acme's users.
	other := &cc.Tenant{ID: cc.NewID("ten"), Slug: "globex", Region: "US", TimeZone: "UTC"}
	other.Normalize()
	must(t, f.store.CreateTenant(f.ctx, other))
	otherAdmin := &cc.User{ID: cc.NewID("usr"), TenantID: other.ID, Username: "root", Roles: []cc.Role{cc.RoleAdmin}}
	must(t, f.store.CreateUser(f.ctx, otherAdmin))
	p := &cc.Principal{Tenant: other, User: otherAdmin}
	if _, err := f.c.SetIntegration(f.ctx, p, bob.ID, "salesforce", "bob@acme.example"); !cc.IsCode(err, cc.ENOTFOUND) {
		t.Errorf("SetIntegration on another tenant's user: %v, want ENOTFOUND", err)
	}

	if _, err := f.c.SetIntegration(f.ctx, ada, alice.ID, "salesforce", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.UserByIntegration(f.ctx, f.tenant.ID, "salesforce", "alice@acme.example"); !cc.IsCode(err, cc.ENOTFOUND) {
		t.Errorf("after removing the mapping: %v, want ENOTFOUND", err)
	}
}
