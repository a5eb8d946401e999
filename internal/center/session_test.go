package center_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/center"
	"github.com/parley-cc/parley/internal/store/sqlite"
)

// testGrants answers RefreshGrant with err and records revocations.
type testGrants struct {
	mu        sync.Mutex
	err       error
	refreshes int
	revoked   []string
}

func (g *testGrants) RefreshGrant(_ context.Context, _ *cc.Tenant, u *cc.User) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.refreshes++
	return g.err
}

func (g *testGrants) RevokeGrant(_ context.Context, _ *cc.Tenant, u *cc.User) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.revoked = append(g.revoked, u.Username)
	return cc.Errorf(cc.EUNAVAILABLE, "the CRM is down") // best effort: sign-out goes on
}

// sessionEnv is a center on a real store with a clock the test moves.
type sessionEnv struct {
	t      *testing.T
	ctx    context.Context
	c      *center.Center
	grants *testGrants
	store  *sqlite.DB
	tenant *cc.Tenant
	alice  *cc.User
	bob    *cc.User

	mu  sync.Mutex
	now time.Time
}

func newSessionEnv(t *testing.T) *sessionEnv {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"), sqlite.Options{Sealer: plainSealer{}})
	must(t, err)
	t.Cleanup(func() { store.Close() })
	e := &sessionEnv{t: t, ctx: ctx, grants: &testGrants{}, store: store, now: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
	// A tenant that offers single sign-on (its kind and its SSO app).
	e.tenant = &cc.Tenant{ID: cc.NewID("ten"), Slug: "acme", Kind: cc.KindUnifiedLogin, Region: "US", TimeZone: "UTC", CreatedAt: e.now,
		CRM: cc.CRMConnection{Kind: "salesforce", LoginURL: "https://login.salesforce.com", ClientID: "3MVG9", ClientSecret: []byte("secret"),
			SSOClientID: "3MVG9sso", SSOClientSecret: []byte("sso-secret")}}
	e.tenant.Normalize()
	must(t, store.CreateTenant(ctx, e.tenant))
	for _, name := range []string{"alice", "bob"} {
		u := &cc.User{ID: cc.NewID("usr"), TenantID: e.tenant.ID, Username: name, Roles: []cc.Role{cc.RoleAgent}, CreatedAt: e.now}
		u.Normalize()
		must(t, store.CreateUser(ctx, u))
		if name == "alice" {
			e.alice = u
		} else {
			e.bob = u
		}
	}
	e.c = center.New(center.Options{Store: store, Clock: e.clock, Logger: testLogger(),
		SessionTTL: time.Hour, SessionMax: 3 * time.Hour, SessionGrace: 30 * time.Second})
	e.c.UseCRMGrants(e.grants)
	return e
}

func (e *sessionEnv) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *sessionEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

func (e *sessionEnv) wantCode(err error, code, what string) {
	e.t.Helper()
	if !cc.IsCode(err, code) {
		e.t.Fatalf("%s: %v, want %s", what, err, code)
	}
}

// TestSessionRefresh: a refresh gives a new token and a later expiry; the
// old token keeps working for the grace only; a second refresh with the
// old token is refused (another tab went first); the expiry never passes
// the absolute end, and at that end the session is gone.
func TestSessionRefresh(t *testing.T) {
	e := newSessionEnv(t)
	tok, p, err := e.c.StartSession(e.ctx, e.tenant, e.alice, cc.SessionPassword)
	must(t, err)
	if p.Session.Method != cc.SessionPassword || !p.Session.ExpiresAt.Equal(e.clock().Add(time.Hour)) || !p.Session.MaxExpiresAt.Equal(e.clock().Add(3*time.Hour)) {
		t.Fatalf("new session %+v", p.Session)
	}
	e.advance(50 * time.Minute)
	p, err = e.c.Authenticate(e.ctx, tok)
	must(t, err)
	tok2, p2, err := e.c.RefreshSession(e.ctx, p, tok)
	must(t, err)
	if tok2 == tok || !p2.Session.ExpiresAt.Equal(e.clock().Add(time.Hour)) || p2.Session.ID != p.Session.ID {
		t.Fatalf("refreshed session %+v", p2.Session)
	}
	if e.grants.refreshes != 0 {
		t.Errorf("a password session refreshed a CRM grant")
	}

	// Another tab's request with the old token, during the grace.
	e.advance(10 * time.Second)
	old, err := e.c.Authenticate(e.ctx, tok)
	must(t, err)
	_, _, err = e.c.RefreshSession(e.ctx, old, tok)
	e.wantCode(err, cc.ECONFLICT, "refresh with the replaced token")
	e.advance(25 * time.Second)
	_, err = e.c.Authenticate(e.ctx, tok)
	e.wantCode(err, cc.EUNAUTHORIZED, "the replaced token after its grace")
	// Past the first expiry: the new token works.
	e.advance(20 * time.Minute)
	p2, err = e.c.Authenticate(e.ctx, tok2)
	must(t, err)

	// Refreshes up to the absolute end (3h after sign-in), then refused.
	for p2.Session.ExpiresAt.Before(p2.Session.MaxExpiresAt) {
		e.advance(30 * time.Minute)
		tok2, p2, err = e.c.RefreshSession(e.ctx, p2, tok2)
		must(t, err)
	}
	if !p2.Session.ExpiresAt.Equal(p2.Session.MaxExpiresAt) {
		t.Fatalf("expiry %s past the absolute end %s", p2.Session.ExpiresAt, p2.Session.MaxExpiresAt)
	}
	_, _, err = e.c.RefreshSession(e.ctx, p2, tok2)
	e.wantCode(err, cc.EFORBIDDEN, "refresh at the longest life")
	e.advance(p2.Session.MaxExpiresAt.Sub(e.clock()))
	_, err = e.c.Authenticate(e.ctx, tok2)
	e.wantCode(err, cc.EUNAUTHORIZED, "the session at its absolute end")
	_, _, err = e.c.RefreshSession(e.ctx, p2, tok2)
	e.wantCode(err, cc.EUNAUTHORIZED, "refresh of an ended session")
}

// TestSSOSessionRefreshAndTheCRM: an SSO refresh refreshes the CRM grant;
// a CRM that cannot be reached does not end the session; one that refuses
// the grant does, with a message that says to sign in again.
func TestSSOSessionRefreshAndTheCRM(t *testing.T) {
	e := newSessionEnv(t)
	tok, p, err := e.c.StartSession(e.ctx, e.tenant, e.alice, cc.SessionSSO)
	must(t, err)
	tok, p, err = e.c.RefreshSession(e.ctx, p, tok)
	must(t, err)
	if e.grants.refreshes != 1 {
		t.Fatalf("CRM grant refreshes = %d, want 1", e.grants.refreshes)
	}
	e.grants.err = cc.Errorf(cc.EUNAVAILABLE, "the CRM did not answer")
	tok, p, err = e.c.RefreshSession(e.ctx, p, tok)
	if err != nil {
		t.Fatalf("refresh while the CRM is down: %v, want the session refreshed", err)
	}
	_, err = e.c.Authenticate(e.ctx, tok)
	must(t, err)

	e.grants.err = cc.Errorf(cc.EUNAUTHORIZED, "invalid_grant: expired access/refresh token")
	_, _, err = e.c.RefreshSession(e.ctx, p, tok)
	e.wantCode(err, cc.EUNAUTHORIZED, "refresh after the CRM refused the grant")
	if msg := cc.ErrorMessage(err); msg == "" || !containsAll(msg, "CRM", "sign in again") {
		t.Errorf("message %q: want it to name the CRM and say to sign in again", msg)
	}
	_, err = e.c.Authenticate(e.ctx, tok)
	e.wantCode(err, cc.EUNAUTHORIZED, "the session after the CRM refused the grant")
}

// TestSignOutEverywhere ends every session of the user, not another
// user's, and revokes the CRM grant even when the CRM is down.
func TestSignOutEverywhere(t *testing.T) {
	e := newSessionEnv(t)
	tokA, p, err := e.c.StartSession(e.ctx, e.tenant, e.alice, cc.SessionSSO)
	must(t, err)
	tokB, _, err := e.c.StartSession(e.ctx, e.tenant, e.alice, cc.SessionPassword)
	must(t, err)
	tokBob, _, err := e.c.StartSession(e.ctx, e.tenant, e.bob, cc.SessionPassword)
	must(t, err)
	must(t, e.c.SignOutEverywhere(e.ctx, p))
	for _, tok := range []string{tokA, tokB} {
		_, err := e.c.Authenticate(e.ctx, tok)
		e.wantCode(err, cc.EUNAUTHORIZED, "a session after sign-out everywhere")
	}
	_, err = e.c.SessionState(e.ctx, p)
	e.wantCode(err, cc.EUNAUTHORIZED, "the session's state after sign-out everywhere")
	if _, err := e.c.Authenticate(e.ctx, tokBob); err != nil {
		t.Fatalf("another user's session ended: %v", err)
	}
	if len(e.grants.revoked) != 1 || e.grants.revoked[0] != "alice" {
		t.Errorf("revoked %v, want [alice]", e.grants.revoked)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestSSOSessionsEndWhenTheTenantDropsSSO: once the tenant's kind no
// longer offers single sign-on, or its SSO app is removed, its SSO
// sessions are refused (use and refresh) with a message that says to sign
// in with the password, and ended: turning SSO on again does not bring
// them back. Password sessions go on.
func TestSSOSessionsEndWhenTheTenantDropsSSO(t *testing.T) {
	for _, c := range []struct {
		name, want string
		drop       func(*cc.Tenant)
	}{
		{"legacy kind", "tenant acme is a legacy (kind 1) tenant now", func(t *cc.Tenant) { t.Kind = cc.KindLegacy }},
		{"SSO app removed", "tenant acme has no SSO connected app any more", func(t *cc.Tenant) { t.CRM.SSOClientID, t.CRM.SSOClientSecret = "", nil }},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newSessionEnv(t)
			tokSSO, _, err := e.c.StartSession(e.ctx, e.tenant, e.alice, cc.SessionSSO)
			must(t, err)
			_, pSocket, err := e.c.StartSession(e.ctx, e.tenant, e.alice, cc.SessionSSO) // another tab, its socket open
			must(t, err)
			tokPW, _, err := e.c.StartSession(e.ctx, e.tenant, e.alice, cc.SessionPassword)
			must(t, err)
			before := *e.tenant
			changed := *e.tenant
			c.drop(&changed)
			must(t, e.store.UpdateTenant(e.ctx, &changed))

			_, err = e.c.SessionState(e.ctx, pSocket)
			e.wantCode(err, cc.EUNAUTHORIZED, "an open socket's SSO session after the tenant dropped SSO")
			_, err = e.c.Authenticate(e.ctx, tokSSO)
			e.wantCode(err, cc.EUNAUTHORIZED, "an SSO session's token after the tenant dropped SSO")
			if msg := cc.ErrorMessage(err); !containsAll(msg, c.want, "sign in with your Parley username and password") {
				t.Errorf("message %q: want %q and to say to sign in with the password", msg, c.want)
			}
			if _, err := e.c.Authenticate(e.ctx, tokPW); err != nil {
				t.Fatalf("a password session ended with SSO: %v", err)
			}
			if len(e.grants.revoked) == 0 || e.grants.revoked[0] != "alice" {
				t.Errorf("revoked %v, want alice's CRM grant revoked", e.grants.revoked)
			}
			// SSO back: the ended session stays ended.
			must(t, e.store.UpdateTenant(e.ctx, &before))
			_, err = e.c.Authenticate(e.ctx, tokSSO)
			e.wantCode(err, cc.EUNAUTHORIZED, "the ended SSO session once SSO is back")
		})
	}
}

// TestDisabledUserSessionsEnd: a disabled user's sessions are refused and
// ended, their CRM grant revoked: enabling the user again does not bring
// the old tokens back.
func TestDisabledUserSessionsEnd(t *testing.T) {
	e := newSessionEnv(t)
	tok, p, err := e.c.StartSession(e.ctx, e.tenant, e.alice, cc.SessionSSO)
	must(t, err)
	tokBob, _, err := e.c.StartSession(e.ctx, e.tenant, e.bob, cc.SessionPassword)
	must(t, err)
	disabled := *e.alice
	disabled.Disabled = true
	must(t, e.store.UpdateUser(e.ctx, &disabled))
	_, err = e.c.Authenticate(e.ctx, tok)
	e.wantCode(err, cc.EUNAUTHORIZED, "a disabled user's token")
	if msg := cc.ErrorMessage(err); !containsAll(msg, "alice is disabled") {
		t.Errorf("message %q: want it to say the user is disabled", msg)
	}
	_, err = e.c.SessionState(e.ctx, p)
	e.wantCode(err, cc.EUNAUTHORIZED, "an open socket's session of a disabled user")
	if len(e.grants.revoked) != 1 || e.grants.revoked[0] != "alice" {
		t.Errorf("revoked %v, want alice's CRM grant revoked", e.grants.revoked)
	}
	must(t, e.store.UpdateUser(e.ctx, e.alice))
	_, err = e.c.Authenticate(e.ctx, tok)
	e.wantCode(err, cc.EUNAUTHORIZED, "the token of a user disabled then enabled again")
	if _, err := e.c.Authenticate(e.ctx, tokBob); err != nil {
		t.Fatalf("another user's session ended: %v", err)
	}
}

// TestDisabledUserOpenSocket: the keep-alive of an open socket (its
// session's state) sees the user disabled and ends their sessions.
func TestDisabledUserOpenSocket(t *testing.T) {
	e := newSessionEnv(t)
	tok, _, err := e.c.StartSession(e.ctx, e.tenant, e.alice, cc.SessionPassword)
	must(t, err)
	_, p, err := e.c.StartSession(e.ctx, e.tenant, e.alice, cc.SessionSSO)
	must(t, err)
	disabled := *e.alice
	disabled.Disabled = true
	must(t, e.store.UpdateUser(e.ctx, &disabled))
	_, err = e.c.SessionState(e.ctx, p)
	e.wantCode(err, cc.EUNAUTHORIZED, "an open socket's session of a disabled user")
	must(t, e.store.UpdateUser(e.ctx, e.alice))
	_, err = e.c.Authenticate(e.ctx, tok)
	e.wantCode(err, cc.EUNAUTHORIZED, "another session of the user once enabled again")
	if len(e.grants.revoked) != 1 {
		t.Errorf("revoked %v, want alice's CRM grant revoked", e.grants.revoked)
	}
}
