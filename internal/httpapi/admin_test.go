package httpapi

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/httpapi/apitest"
)

// fakeCRMUsers are the users of every fake tenant's CRM.
var fakeCRMUsers = []cc.CRMUser{
	{ID: "005000000000001AAA", Username: "Alice@Acme.Example", Email: "alice@acme.example"},
	{ID: "005000000000002AAA", Username: "dan@acme.example", Email: "dan@acme.example"},
}

func (f *fakeService) requireAdmin(p *cc.Principal) error {
	if !p.User.HasRole(cc.RoleAdmin) {
		return cc.Errorf(cc.EFORBIDDEN, "%s is not an admin", p.User.Username)
	}
	return nil
}

// tenantUsersLocked returns the tenant's users by username.
func (f *fakeService) tenantUsersLocked(tenantID string) []*cc.User {
	var out []*cc.User
	for _, u := range f.users {
		if u.user.TenantID == tenantID {
			out = append(out, u.user)
		}
	}
	slices.SortFunc(out, func(a, b *cc.User) int { return strings.Compare(a.Username, b.Username) })
	return out
}

func (f *fakeService) CallCenterUsers(ctx context.Context, p *cc.Principal) (*cc.CallCenterUsers, error) {
	if err := f.requireAdmin(p); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return cc.MatchCRMUsers(cc.CRMSalesforce, fakeCRMUsers, f.tenantUsersLocked(p.Tenant.ID)), nil
}

func (f *fakeService) SetIntegration(ctx context.Context, p *cc.Principal, userID, crm, username string) (*cc.User, error) {
	if err := f.requireAdmin(p); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	users := f.tenantUsersLocked(p.Tenant.ID)
	i := slices.IndexFunc(users, func(u *cc.User) bool { return u.ID == userID })
	if i < 0 {
		return nil, cc.Errorf(cc.ENOTFOUND, "user %q not found", userID)
	}
	cp := *users[i]
	cp.SetIntegration(crm, username)
	if err := cp.Validate(); err != nil {
		return nil, err
	}
	for _, o := range users {
		if in, ok := o.Integration(crm); ok && o.ID != userID && in.Username == cc.NormalizeCRMUsername(username) {
			return nil, cc.Errorf(cc.ECONFLICT, "%s username %q already belongs to user %s", crm, in.Username, o.Username)
		}
	}
	*users[i] = cp
	return &cp, nil
}

func TestAdminCRMUsers(t *testing.T) {
	e := newTestEnv(t)
	e.svc.addUser(e.svc.tenants["acme"], "usr_ada", "ada", "ada-pw", cc.RoleAdmin)
	e.svc.addUser(e.svc.tenants["other"], "usr_oscar", "oscar", "oscar-pw", cc.RoleAdmin)
	ada := e.svc.newSession("acme", "ada", time.Hour)
	alice := e.svc.newSession("acme", "alice", time.Hour)
	sue := e.svc.newSession("acme", "sue", time.Hour)
	oscar := e.svc.newSession("other", "oscar", time.Hour)
	const aliceURL = "/api/v1/admin/users/usr_alice/integrations/salesforce"

	e.kit.Run(t, common([]apitest.Scenario{
		{Name: "nothing mapped", Method: "GET", URL: "/api/v1/admin/crm-users", Token: ada, WantStatus: 200,
			WantContains:    []string{`"crm":"salesforce"`, `"username":"Alice@Acme.Example"`, `"unmatched_agents":[{"user":{"id":"usr_alice"`},
			WantNotContains: []string{`"parley_user"`}},
		{Name: "agent may not list", Method: "GET", URL: "/api/v1/admin/crm-users", Token: alice, WantStatus: 403,
			WantContains: []string{`"code":"forbidden"`, "alice is not an admin"}},
		{Name: "supervisor may not list", Method: "GET", URL: "/api/v1/admin/crm-users", Token: sue, WantStatus: 403},
		{Name: "signed out", Method: "GET", URL: "/api/v1/admin/crm-users", WantStatus: 401},

		{Name: "map alice", Method: "PUT", URL: aliceURL, Token: ada, Body: `{"username":" ALICE@acme.example "}`, WantStatus: 200,
			WantContains: []string{`"user":{"id":"usr_alice","username":"alice"`, `"crm":"salesforce"`, `"username":"alice@acme.example"`}},
		{Name: "alice mapped", Method: "GET", URL: "/api/v1/admin/crm-users", Token: ada, WantStatus: 200,
			WantContains:    []string{`"username":"Alice@Acme.Example","email":"alice@acme.example","parley_user":{"id":"usr_alice"`},
			WantNotContains: []string{`"unmatched_agents":[{"user":{"id":"usr_alice"`}},
		{Name: "other tenant's admin sees its own tenant", Method: "GET", URL: "/api/v1/admin/crm-users", Token: oscar, WantStatus: 200,
			WantNotContains: []string{"usr_alice", `"parley_user"`}},
		{Name: "taken username", Method: "PUT", URL: "/api/v1/admin/users/usr_bob/integrations/salesforce", Token: ada,
			Body: `{"username":"alice@acme.example"}`, WantStatus: 409, WantContains: []string{"already belongs to user alice"}},
		{Name: "bad username", Method: "PUT", URL: "/api/v1/admin/users/usr_bob/integrations/salesforce", Token: ada,
			Body: `{"username":"bob"}`, WantStatus: 400, WantContains: []string{"e-mail form"}},
		{Name: "empty username", Method: "PUT", URL: "/api/v1/admin/users/usr_bob/integrations/salesforce", Token: ada,
			Body: `{"username":"  "}`, WantStatus: 400, WantContains: []string{"username is required", "DELETE removes"}},
		{Name: "unknown field", Method: "PUT", URL: "/api/v1/admin/users/usr_bob/integrations/salesforce", Token: ada,
			Body: `{"login":"bob@acme.example"}`, WantStatus: 400},
		{Name: "unknown CRM", Method: "PUT", URL: "/api/v1/admin/users/usr_bob/integrations/zendesk", Token: ada,
			Body: `{"username":"bob@acme.example"}`, WantStatus: 400, WantContains: []string{`CRM \"zendesk\": use salesforce`}},
		{Name: "malformed user id", Method: "PUT", URL: "/api/v1/admin/users/nope/integrations/salesforce", Token: ada,
			Body: `{"username":"bob@acme.example"}`, WantStatus: 400, WantContains: []string{"user id"}},
		{Name: "agent may not map", Method: "PUT", URL: "/api/v1/admin/users/usr_bob/integrations/salesforce", Token: alice,
			Body: `{"username":"bob@acme.example"}`, WantStatus: 403},
		{Name: "agent may not unmap", Method: "DELETE", URL: aliceURL, Token: alice, WantStatus: 403},
		{Name: "other tenant's admin cannot map acme's user", Method: "PUT", URL: "/api/v1/admin/users/usr_bob/integrations/salesforce", Token: oscar,
			Body: `{"username":"bob@acme.example"}`, WantStatus: 404},
		{Name: "other tenant's admin cannot unmap acme's user", Method: "DELETE", URL: aliceURL, Token: oscar, WantStatus: 404},
		{Name: "unmap alice", Method: "DELETE", URL: aliceURL, Token: ada, WantStatus: 204},
		{Name: "alice unmapped", Method: "GET", URL: "/api/v1/admin/crm-users", Token: ada, WantStatus: 200,
			WantNotContains: []string{`"parley_user"`}},
	})...)
}
