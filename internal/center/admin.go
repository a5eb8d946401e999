package center

import (
	"context"

	"github.com/parley-cc/parley/internal/cc"
)

// requireAdmin returns EFORBIDDEN unless p is an admin of its tenant.
func requireAdmin(p *cc.Principal, what string) error {
	if !p.User.HasRole(cc.RoleAdmin) {
		return cc.Errorf(cc.EFORBIDDEN, "%s is not an admin: only admins %s", p.User.Username, what)
	}
	return nil
}

// CallCenterUsers returns the call center users view of the principal's
// tenant (admins only): the users of its CRM, each with the Parley user
// mapped to it, and the agents mapped to none. EFORBIDDEN for others;
// ECONFLICT when the tenant has no CRM connection or its CRM cannot list
// users; the CRM's errors (EUNAVAILABLE when it is down) as they come.
func (c *Center) CallCenterUsers(ctx context.Context, p *cc.Principal) (*cc.CallCenterUsers, error) {
	if err := requireAdmin(p, "see the call center users"); err != nil {
		return nil, err
	}
	t, err := c.store.Tenant(ctx, p.Tenant.ID)
	if err != nil {
		return nil, err
	}
	if c.crm == nil || t.CRM.Kind == "" {
		return nil, cc.Errorf(cc.ECONFLICT, "tenant %s has no CRM connection: an admin sets one with parley admin crm set --tenant %s", t.Slug, t.Slug)
	}
	crm, err := c.crm.CRM(ctx, t)
	if err != nil {
		return nil, err
	}
	lister, ok := crm.(cc.CRMUserLister)
	if !ok || crm == nil {
		return nil, cc.Errorf(cc.ECONFLICT, "the CRM of tenant %s cannot list its users", t.Slug)
	}
	crmUsers, err := lister.CRMUsers(ctx)
	if err != nil {
		return nil, err
	}
	users, err := c.store.Users(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	return cc.MatchCRMUsers(cc.CRMSalesforce, crmUsers, users), nil
}

// SetIntegration sets the CRM username of one of the tenant's users (admins
// only); an empty username removes the entry. It returns the user as
// stored. EFORBIDDEN for others; ENOTFOUND for a user of another tenant or
// none; EINVALID for a CRM or username that does not validate; ECONFLICT
// naming the user who already has the username. Each change is logged with
// the admin who made it.
func (c *Center) SetIntegration(ctx context.Context, p *cc.Principal, userID, crm, username string) (*cc.User, error) {
	if err := requireAdmin(p, "map agents to CRM users"); err != nil {
		return nil, err
	}
	u, err := c.store.User(ctx, p.Tenant.ID, userID)
	if err != nil {
		return nil, err
	}
	in := cc.Integration{CRM: crm, Username: username}
	in.Normalize()
	if err := cc.ValidateCRMName(in.CRM); err != nil {
		return nil, err
	}
	if in.Username != "" {
		if err := in.Validate(); err != nil {
			return nil, err
		}
	}
	old, _ := u.Integration(in.CRM)
	u.SetIntegration(in.CRM, in.Username)
	if err := c.store.UpdateUser(ctx, u); err != nil {
		return nil, err
	}
	c.log.Info("admin changed a CRM username", "tenant", p.Tenant.Slug, "admin", p.User.Username,
		"user", u.Username, "crm", in.CRM, "from", old.Username, "to", in.Username)
	return u, nil
}
