package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/crm/salesforce"
)

// crmUsersTimeout bounds parley admin crm users' conversation with the CRM.
const crmUsersTimeout = 30 * time.Second

// userSetCRM maps a user to the account it signs in to the CRM with (or
// removes the mapping): parley admin user set-crm.
func (e *adminEnv) userSetCRM(ctx context.Context, args []string) error {
	fs := e.flags("user set-crm")
	slug := fs.String("tenant", "", "tenant `slug`")
	user := fs.String("user", "", "the Parley `username`, e.g. alice")
	crm := fs.String("crm", cc.CRMSalesforce, "the `CRM`: salesforce")
	username := fs.String("username", "", "the `login` the agent signs in to the CRM with, e.g. alice@acme.example (compared without regard to case)")
	remove := fs.Bool("remove", false, "remove the user's CRM username instead")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t, err := e.tenant(ctx, *slug)
	if err != nil {
		return err
	}
	if *user == "" {
		return cc.Errorf(cc.EINVALID, "give --user, the Parley user to map, e.g. --user alice")
	}
	in := cc.Integration{CRM: *crm, Username: *username}
	in.Normalize()
	if err := cc.ValidateCRMName(in.CRM); err != nil {
		return err
	}
	switch {
	case *remove && in.Username != "":
		return cc.Errorf(cc.EINVALID, "give --username or --remove, not both")
	case !*remove:
		if in.Username == "" {
			return cc.Errorf(cc.EINVALID, "give --username, the login %s signs in to %s with (e.g. --username %s@acme.example), or --remove", *user, in.CRM, *user)
		}
		if err := in.Validate(); err != nil {
			return echoTyped(err, in.Username, *username)
		}
	}
	u, err := e.store.UserByUsername(ctx, t.ID, *user)
	if err != nil {
		return cc.Errorf(cc.ENOTFOUND, "no user %q in tenant %s (parley admin user list --tenant %s shows them)", *user, t.Slug, t.Slug)
	}
	old, had := u.Integration(in.CRM)
	u.SetIntegration(in.CRM, in.Username)
	if err := e.store.UpdateUser(ctx, u); err != nil {
		return echoTyped(err, in.Username, *username)
	}
	switch {
	case *remove && !had:
		fmt.Fprintf(e.stdout, "%s had no %s username; nothing changed\n", u.Username, in.CRM)
	case *remove:
		fmt.Fprintf(e.stdout, "%s is no longer mapped to %s user %s\n", u.Username, in.CRM, old.Username)
	default:
		fmt.Fprintf(e.stdout, "%s is mapped to %s user %s\n", u.Username, in.CRM, in.Username)
	}
	return nil
}

// echoTyped returns err with the normalised CRM username it quotes put
// back as the admin typed it (trimmed), so that the message shows what
// they gave: usernames are compared lowercased, but "alice@acme.example"
// answering --username ALICE@Acme.example reads as someone else's input.
func echoTyped(err error, normalized, typed string) error {
	typed = strings.TrimSpace(typed)
	msg := cc.ErrorMessage(err)
	if typed == normalized || !strings.Contains(msg, strconv.Quote(normalized)) {
		return err
	}
	return cc.WrapError(cc.ErrorCode(err), err, "%s", strings.ReplaceAll(msg, strconv.Quote(normalized), strconv.Quote(typed)))
}

// describeIntegrations renders a user's CRM usernames for user list.
func describeIntegrations(u *cc.User) string {
	s := make([]string, len(u.Integrations))
	for i, in := range u.Integrations {
		s[i] = in.CRM + ":" + in.Username
	}
	return strings.Join(s, ",")
}

// crmUsers prints the call center users view: the tenant's CRM users, each
// with the Parley user mapped to it or "not mapped", then the Parley agents
// mapped to no CRM user. parley admin crm users.
func (e *adminEnv) crmUsers(ctx context.Context, args []string) error {
	t, err := e.listTenant(ctx, "crm users", args)
	if err != nil {
		return err
	}
	if t.CRM.Kind == "" {
		return cc.Errorf(cc.ECONFLICT, "tenant %s has no CRM connection: set one with parley admin crm set --tenant %s", t.Slug, t.Slug)
	}
	client, err := salesforce.NewClient(t.CRM, t.Region, salesforce.Options{})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, crmUsersTimeout)
	defer cancel()
	crmUsers, err := client.CRMUsers(ctx)
	if err != nil {
		return cc.WrapError(cc.ErrorCode(err), err, "list the users of tenant %s's CRM at %s: %s", t.Slug, t.CRM.LoginURL, cc.ErrorMessage(err))
	}
	users, err := e.store.Users(ctx, t.ID)
	if err != nil {
		return err
	}
	v := cc.MatchCRMUsers(cc.CRMSalesforce, crmUsers, users)
	var rows [][]string
	for _, cu := range v.Users {
		mapped := "not mapped"
		if cu.User != nil {
			mapped = cu.User.Username
		}
		rows = append(rows, []string{cu.CRMUser.ID, cu.CRMUser.Username, cu.CRMUser.Email, mapped})
	}
	e.table("CRM USER ID\tCRM USERNAME\tEMAIL\tPARLEY USER", rows)
	if len(v.Unmatched) == 0 {
		fmt.Fprintf(e.stdout, "\nEvery Parley agent of %s is mapped to a %s user.\n", t.Slug, v.CRM)
		return nil
	}
	fmt.Fprintf(e.stdout, "\nParley agents mapped to no %s user (map them with parley admin user set-crm --tenant %s --user NAME --username LOGIN):\n", v.CRM, t.Slug)
	rows = rows[:0]
	for _, a := range v.Unmatched {
		why := "no " + v.CRM + " username"
		if a.Username != "" {
			why = a.Username + " is not a " + v.CRM + " user"
		}
		rows = append(rows, []string{"  " + a.User.Username, why})
	}
	e.table("  PARLEY USER\tWHY", rows)
	return nil
}

// demoCRMLogins are the devcrm users the demo's agents sign in to the CRM
// as (demoCRMUsers), by tenant and Parley username: single sign-on finds
// them by it, and the panel's CRM user check compares with it.
var demoCRMLogins = map[string]map[string]string{
	demoTenant: {"alice": "alice@devcrm.example.com", "bob": "bob@devcrm.example.com"},
	demoLegacy: {"olga": "olga@devcrm.example.com"},
}

// mapDemoCRMUsers maps the demo tenant's agents to their devcrm users,
// leaving alone a user who already has a salesforce username (an admin may
// have changed it).
func mapDemoCRMUsers(ctx context.Context, store cc.UserStore, t *cc.Tenant) error {
	for name, login := range demoCRMLogins[t.Slug] {
		u, err := store.UserByUsername(ctx, t.ID, name)
		if err != nil {
			return err
		}
		if _, ok := u.Integration(cc.CRMSalesforce); ok {
			continue
		}
		u.SetIntegration(cc.CRMSalesforce, login)
		if err := store.UpdateUser(ctx, u); err != nil {
			return fmt.Errorf("map demo user %s to devcrm user %s: %w", name, login, err)
		}
	}
	return nil
}
