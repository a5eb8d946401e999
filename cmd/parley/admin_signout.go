package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/center"
	"github.com/parley-cc/parley/internal/sso"
)

// userSignOut is parley admin user sign-out: every session of the user
// ends (the running server closes their panels' event sockets at their next
// keep-alive, within 20 seconds) and their CRM grant is revoked at the CRM
// and deleted, as the panel's Sign out does.
func (e *adminEnv) userSignOut(ctx context.Context, args []string) error {
	fs := e.flags("user sign-out")
	slug := fs.String("tenant", "", "tenant `slug`")
	user := fs.String("user", "", "the Parley `username`, e.g. alice")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t, err := e.tenant(ctx, *slug)
	if err != nil {
		return err
	}
	if *user == "" {
		return cc.Errorf(cc.EINVALID, "give --user, the Parley user to sign out, e.g. --user alice")
	}
	u, err := e.store.UserByUsername(ctx, t.ID, *user)
	if cc.IsCode(err, cc.ENOTFOUND) {
		return cc.Errorf(cc.ENOTFOUND, "no user %q in tenant %s (parley admin user list --tenant %s shows them)", *user, t.Slug, t.Slug)
	} else if err != nil {
		return err
	}
	return e.signOutUser(ctx, t, u)
}

// signOutUser ends every session of u and revokes their CRM grant
// (center's SignOutUser), for user sign-out and user set --disable.
func (e *adminEnv) signOutUser(ctx context.Context, t *cc.Tenant, u *cc.User) error {
	// Warnings (a CRM that cannot be reached) go to stderr.
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c := center.New(center.Options{Store: e.store, Logger: log})
	grants, err := sso.New(sso.Options{PublicURL: e.publicURL, Tenants: e.store, Users: e.store, Sessions: c, Grants: e.store, Logger: log})
	if err != nil {
		return err
	}
	c.UseCRMGrants(grants)
	if err := c.SignOutUser(ctx, t, u); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s is signed out of every session; open panels show the sign-in within 20 seconds\n", u.Username)
	return nil
}
