package sso

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/bus/inmem"
	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/center"
	"github.com/parley-cc/parley/internal/secret"
	"github.com/parley-cc/parley/internal/store/sqlite"
)

// TestSSOSessionLifetime runs an SSO sign-in on the real center and SQLite
// store against the test CRM, then refreshes the Parley session: each
// refresh refreshes the CRM grant (stored rotated, sealed); a CRM that
// cannot be reached leaves the session alive; a CRM that answers
// invalid_grant ends it with a message that says to sign in again; sign-out
// everywhere revokes the grant at the CRM.
func TestSSOSessionLifetime(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	keyring, err := secret.Load(filepath.Join(dir, "secret.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"), sqlite.Options{Sealer: keyring})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Now()
	clock := func() time.Time { return now }
	op := newTestOP(t, clock, publicURL+"/sso/callback")
	// Each refresh below asks the CRM: the grant is refreshed at most once
	// a GrantRefreshInterval per user.
	ten := &cc.Tenant{Slug: "acme", Region: "US", TimeZone: "UTC", Kind: cc.KindUnifiedLoginUC, CRMOrigins: []string{crmOrigin},
		CRM: cc.CRMConnection{Kind: "salesforce", LoginURL: op.srv.URL, ClientID: "3MVG9api", ClientSecret: []byte("api-secret"),
			SSOClientID: clientID, SSOClientSecret: []byte(clientSecret)}}
	ten.Normalize()
	if err := db.CreateTenant(ctx, ten); err != nil {
		t.Fatal(err)
	}
	u := &cc.User{TenantID: ten.ID, Username: "alice", Roles: []cc.Role{cc.RoleAgent}}
	u.SetIntegration(CRMSalesforce, "alice@acme.example")
	u.Normalize()
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSSOConsent(ctx, ten.ID, u.ID, crmOrigin, time.Now()); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	c := center.New(center.Options{Store: db, Bus: inmem.New(0), Logger: log, SessionTTL: time.Hour, SessionMax: 12 * time.Hour,
		RefreshInterval: time.Hour, SweepInterval: time.Hour})
	h, err := New(Options{PublicURL: publicURL, Tenants: db, Users: db, Sessions: c, Grants: db, Logger: log, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	c.UseCRMGrants(h)
	rg := &rig{op: op, h: h}

	token := rg.signedInToken(t, "alice@acme.example")
	p, err := c.Authenticate(ctx, token)
	if err != nil || p.Session.Method != cc.SessionSSO {
		t.Fatalf("the SSO session: %+v, %v", p, err)
	}
	grant := func() string {
		t.Helper()
		tok, issuer, err := db.CRMGrant(ctx, ten.ID, u.ID, CRMSalesforce)
		if cc.IsCode(err, cc.ENOTFOUND) {
			return ""
		} else if err != nil {
			t.Fatal(err)
		}
		if issuer != op.srv.URL {
			t.Errorf("grant issuer %q, want %s", issuer, op.srv.URL)
		}
		return string(tok)
	}
	if grant() != "5Aep-refresh" {
		t.Fatalf("grant after sign-in %q", grant())
	}

	token, p, err = c.RefreshSession(ctx, p, token)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if g := grant(); g == "" || g == "5Aep-refresh" {
		t.Fatalf("grant after the refresh %q, want the CRM's rotated one", g)
	}

	now = now.Add(GrantRefreshInterval)
	op.setDown(true)
	token, p, err = c.RefreshSession(ctx, p, token)
	if err != nil {
		t.Fatalf("refresh with the CRM unreachable: %v, want the session refreshed", err)
	}
	if _, err := c.Authenticate(ctx, token); err != nil {
		t.Fatalf("the session after a CRM outage: %v", err)
	}
	op.setDown(false)

	// The CRM user is deactivated: the CRM refuses the grant.
	now = now.Add(GrantRefreshInterval)
	op.mu.Lock()
	clear(op.refresh)
	op.mu.Unlock()
	_, _, err = c.RefreshSession(ctx, p, token)
	if !cc.IsCode(err, cc.EUNAUTHORIZED) || !strings.Contains(cc.ErrorMessage(err), "sign in again") {
		t.Fatalf("refresh after the CRM refused the grant: %v, want EUNAUTHORIZED saying to sign in again", err)
	}
	if _, err := c.Authenticate(ctx, token); !cc.IsCode(err, cc.EUNAUTHORIZED) {
		t.Fatalf("the session after the CRM refused the grant: %v, want it ended", err)
	}
	if g := grant(); g != "" {
		t.Errorf("the refused grant is still stored: %q", g)
	}

	// Signed in again; sign-out everywhere revokes the new grant.
	token = rg.signedInToken(t, "alice@acme.example")
	p, err = c.Authenticate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SignOutEverywhere(ctx, p); err != nil {
		t.Fatal(err)
	}
	if len(op.revoked) != 1 || op.revoked[0] != "5Aep-refresh" || grant() != "" {
		t.Errorf("after sign-out everywhere: the CRM revoked %v, Parley keeps %q", op.revoked, grant())
	}

	// Signed in again, then the tenant becomes legacy: the SSO session is
	// refused (the panel's refresh too) saying to use the password, and
	// its grant is revoked at the CRM.
	token = rg.signedInToken(t, "alice@acme.example")
	legacy := *ten
	legacy.Kind = cc.KindLegacy
	if err := db.UpdateTenant(ctx, &legacy); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Authenticate(ctx, token); !cc.IsCode(err, cc.EUNAUTHORIZED) || !strings.Contains(cc.ErrorMessage(err), "sign in with your Parley username and password") {
		t.Fatalf("an SSO session of a tenant made legacy: %v, want EUNAUTHORIZED saying to sign in with the password", err)
	}
	if len(op.revoked) != 2 || grant() != "" {
		t.Errorf("after the tenant dropped SSO: the CRM revoked %v, Parley keeps %q", op.revoked, grant())
	}
}
