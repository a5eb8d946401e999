package center

import (
	"context"
	"strings"
	"time"

	"github.com/parley-cc/parley/internal/auth"
	"github.com/parley-cc/parley/internal/cc"
)

// errBadCredentials is the one answer to every failed sign-in, so that the
// response does not tell which of tenant, username or password was wrong.
var errBadCredentials = cc.Errorf(cc.EUNAUTHORIZED, "sign-in failed: check the tenant, username and password")

// errSessionEnded answers a token or a refresh of a session that is gone
// (the store keeps no trace of why).
var errSessionEnded = cc.Errorf(cc.EUNAUTHORIZED, "the session ended (it expired, or was signed out in another tab or browser, or by an administrator): sign in again")

// UseCRMGrants sets what refreshes and revokes the CRM grants of SSO
// sessions (internal/sso, which needs the center to start sessions). Call
// it before the API serves.
func (c *Center) UseCRMGrants(g cc.CRMGrants) { c.grants = g }

// SignIn checks a password and creates a session.
func (c *Center) SignIn(ctx context.Context, tenant, username, password string) (string, *cc.Principal, error) {
	tenant, username = strings.TrimSpace(tenant), strings.TrimSpace(username)
	if tenant == "" || username == "" || password == "" {
		return "", nil, cc.Errorf(cc.EINVALID, "tenant, username and password are all required")
	}
	t, err := c.store.TenantBySlug(ctx, tenant)
	if cc.IsCode(err, cc.ENOTFOUND) {
		auth.VerifyPassword("", password)
		return "", nil, errBadCredentials
	} else if err != nil {
		return "", nil, err
	}
	u, err := c.store.UserByUsername(ctx, t.ID, username)
	if cc.IsCode(err, cc.ENOTFOUND) {
		auth.VerifyPassword("", password)
		return "", nil, errBadCredentials
	} else if err != nil {
		return "", nil, err
	}
	if !auth.VerifyPassword(u.PasswordHash, password) || u.Disabled {
		return "", nil, errBadCredentials
	}
	return c.StartSession(ctx, t, u, cc.SessionPassword)
}

// StartSession creates a session for a user whose identity was proven by
// method (cc.SessionPassword, cc.SessionSSO), as sign-in does, and returns
// its bearer token. The session lasts SessionTTL unless refreshed, and
// SessionMax at most. EUNAUTHORIZED if the user is disabled; EFORBIDDEN
// for an SSO session of a tenant that does not offer single sign-on.
func (c *Center) StartSession(ctx context.Context, t *cc.Tenant, u *cc.User, method string) (string, *cc.Principal, error) {
	if u.Disabled {
		return "", nil, cc.Errorf(cc.EUNAUTHORIZED, "user %s is disabled: ask an administrator", u.Username)
	}
	if method == cc.SessionSSO {
		if why := ssoGone(t); why != "" {
			return "", nil, cc.Errorf(cc.EFORBIDDEN, "no single sign-on session: %s; sign in with your Parley username and password", why)
		}
	}
	token, hash := auth.NewToken()
	now := c.clock()
	s := &cc.Session{ID: cc.NewID("ses"), TenantID: t.ID, UserID: u.ID, TokenHash: hash, Method: method, CreatedAt: now,
		ExpiresAt: now.Add(c.opts.SessionTTL), MaxExpiresAt: now.Add(c.opts.SessionMax)}
	if err := c.store.CreateSession(ctx, s); err != nil {
		return "", nil, err
	}
	c.log.Info("signed in", "tenant", t.Slug, "user", u.Username, "method", method, "session", s.ID)
	return token, &cc.Principal{Tenant: t, User: u, Session: s}, nil
}

// Authenticate resolves a bearer token to its principal. A token a refresh
// replaced still resolves for SessionGrace.
func (c *Center) Authenticate(ctx context.Context, token string) (*cc.Principal, error) {
	if token == "" {
		return nil, cc.Errorf(cc.EUNAUTHORIZED, "sign in first: no bearer token")
	}
	s, err := c.store.SessionByTokenHash(ctx, auth.HashToken(token), c.clock())
	if cc.IsCode(err, cc.ENOTFOUND) {
		return nil, errSessionEnded
	} else if err != nil {
		return nil, err
	}
	return c.principal(ctx, s)
}

// principal loads the tenant and user of a session and checks that the
// session may still be used. A session that may not is ended, so that it
// does not come back when what refused it changes back: a user who no
// longer exists; a disabled user (every session of theirs ends and their
// CRM grant is revoked, as SignOutUser does); an SSO session of a tenant
// that no longer offers single sign-on (its kind, or its SSO app removed;
// the user's CRM grant is revoked too).
func (c *Center) principal(ctx context.Context, s *cc.Session) (*cc.Principal, error) {
	t, err := c.store.Tenant(ctx, s.TenantID)
	if err != nil {
		return nil, err
	}
	u, err := c.store.User(ctx, t.ID, s.UserID)
	if cc.IsCode(err, cc.ENOTFOUND) {
		if derr := c.store.DeleteSession(ctx, s.ID); derr != nil {
			return nil, derr
		}
		return nil, cc.Errorf(cc.EUNAUTHORIZED, "the user of this session no longer exists: sign in again")
	} else if err != nil {
		return nil, err
	}
	if u.Disabled {
		if err := c.SignOutUser(ctx, t, u); err != nil {
			return nil, err
		}
		return nil, cc.Errorf(cc.EUNAUTHORIZED, "user %s is disabled, and their sessions ended: ask an administrator", u.Username)
	}
	if s.Method == cc.SessionSSO {
		if why := ssoGone(t); why != "" {
			if err := c.store.DeleteSession(ctx, s.ID); err != nil {
				return nil, err
			}
			if c.grants != nil {
				if err := c.grants.RevokeGrant(ctx, t, u); err != nil {
					c.log.Warn("CRM grant not revoked at the CRM", "tenant", t.Slug, "user", u.Username, "err", err)
				}
			}
			c.log.Info("SSO session ended: the tenant no longer offers single sign-on", "tenant", t.Slug, "user", u.Username, "session", s.ID, "why", why)
			return nil, cc.Errorf(cc.EUNAUTHORIZED, "this session was signed in with the CRM, but %s, so it ended: sign in with your Parley username and password", why)
		}
	}
	return &cc.Principal{Tenant: t, User: u, Session: s}, nil
}

// ssoGone says why tenant t no longer offers single sign-on ("tenant acme
// is a legacy tenant now"), or "" when it does.
func ssoGone(t *cc.Tenant) string {
	switch {
	case !t.Kind.SSO():
		return "tenant " + t.Slug + " is a " + t.Kind.String() + " tenant now (single sign-on needs kind 2 or 3)"
	case t.CRM.Kind == "" || t.CRM.SSOClientID == "":
		return "tenant " + t.Slug + " has no SSO connected app any more"
	}
	return ""
}

// SessionState returns the principal's session as it is now (an open
// WebSocket follows its refreshes and its end with it). EUNAUTHORIZED if
// it ended, or may no longer be used (as Authenticate checks: the user
// disabled, single sign-on no longer offered), which ends it.
func (c *Center) SessionState(ctx context.Context, p *cc.Principal) (*cc.Session, error) {
	if p.Session == nil {
		return nil, errSessionEnded
	}
	s, err := c.store.SessionByID(ctx, p.Session.ID, c.clock())
	if cc.IsCode(err, cc.ENOTFOUND) {
		return nil, errSessionEnded
	} else if err != nil {
		return nil, err
	}
	if _, err := c.principal(ctx, s); err != nil {
		return nil, err
	}
	return s, nil
}

// RefreshSession replaces the principal's session token (token, the one
// it authenticated with) by a new one and moves the expiry SessionTTL on,
// never past the absolute end. The old token keeps working for
// SessionGrace. For an SSO session it then refreshes the CRM grant: a CRM
// that refuses it (the user was deactivated or the access revoked) ends
// the session (EUNAUTHORIZED); a CRM that cannot be reached does not (the
// failure is logged and the session refreshed).
//
// ECONFLICT if token was already replaced by another refresh (another tab
// did it: use the token it shares); EFORBIDDEN once the session cannot be
// extended any more (it ends at its absolute end: sign in again then).
func (c *Center) RefreshSession(ctx context.Context, p *cc.Principal, token string) (string, *cc.Principal, error) {
	s := p.Session
	if s == nil {
		return "", nil, errSessionEnded
	}
	if auth.HashToken(token) != s.TokenHash {
		return "", nil, cc.Errorf(cc.ECONFLICT, "this token was already replaced by a refresh (another tab of the panel did it): use the newest token the panel shares, or sign in again")
	}
	now := c.clock()
	if !now.Before(s.ExpiresAt) {
		return "", nil, errSessionEnded
	}
	if !s.MaxExpiresAt.IsZero() && !s.ExpiresAt.Before(s.MaxExpiresAt) {
		return "", nil, cc.Errorf(cc.EFORBIDDEN, "this session reached its longest life (%s) and ends at %s: sign in again then",
			c.opts.SessionMax, s.MaxExpiresAt.UTC().Format(time.RFC3339))
	}
	// The token is rotated first: of refreshes racing with one token (tabs
	// of one session) only the one that wins asks the CRM.
	newToken, hash := auth.NewToken()
	ns, err := c.store.RotateSession(ctx, cc.Rotation{SessionID: s.ID, OldHash: s.TokenHash, NewHash: hash, Now: now,
		ExpiresAt: now.Add(c.opts.SessionTTL), GraceUntil: now.Add(c.opts.SessionGrace)})
	if cc.IsCode(err, cc.ENOTFOUND) {
		return "", nil, errSessionEnded
	} else if cc.IsCode(err, cc.ECONFLICT) {
		return "", nil, cc.WrapError(cc.ECONFLICT, err, "this token was already replaced by a refresh (another tab of the panel did it): use the newest token the panel shares, or sign in again")
	} else if err != nil {
		return "", nil, err
	}
	if s.Method == cc.SessionSSO && c.grants != nil {
		err := c.grants.RefreshGrant(ctx, p.Tenant, p.User)
		switch {
		case cc.IsCode(err, cc.EUNAUTHORIZED):
			if derr := c.store.DeleteSession(ctx, s.ID); derr != nil {
				return "", nil, derr
			}
			c.log.Warn("session ended: the CRM refused the grant", "tenant", p.Tenant.Slug, "user", p.User.Username, "session", s.ID, "err", err)
			return "", nil, cc.WrapError(cc.EUNAUTHORIZED, err, "the CRM no longer accepts your sign-in (the CRM user was deactivated, or Parley's access was revoked): sign in again with the CRM")
		case err != nil:
			// An outage of the CRM must not sign agents out: the grant is
			// refreshed at the next refresh.
			c.log.Warn("CRM grant not refreshed; the session goes on", "tenant", p.Tenant.Slug, "user", p.User.Username, "session", s.ID, "err", err)
		}
	}
	c.log.Debug("session refreshed", "tenant", p.Tenant.Slug, "user", p.User.Username, "session", s.ID, "expires", ns.ExpiresAt)
	return newToken, &cc.Principal{Tenant: p.Tenant, User: p.User, Session: ns}, nil
}

// SignOut ends the principal's session.
func (c *Center) SignOut(ctx context.Context, p *cc.Principal) error {
	if p.Session == nil {
		return nil
	}
	return c.store.DeleteSession(ctx, p.Session.ID)
}

// SignOutEverywhere ends every session of the principal's user (every tab
// and browser) and revokes their CRM grant at the CRM (best effort: a
// failure is logged, and the grant is deleted all the same).
func (c *Center) SignOutEverywhere(ctx context.Context, p *cc.Principal) error {
	return c.SignOutUser(ctx, p.Tenant, p.User)
}

// SignOutUser ends every session of u and revokes their CRM grant, as
// SignOutEverywhere does (parley admin user sign-out).
func (c *Center) SignOutUser(ctx context.Context, t *cc.Tenant, u *cc.User) error {
	if err := c.store.DeleteUserSessions(ctx, t.ID, u.ID); err != nil {
		return err
	}
	if c.grants != nil {
		if err := c.grants.RevokeGrant(ctx, t, u); err != nil {
			c.log.Warn("CRM grant not revoked at the CRM", "tenant", t.Slug, "user", u.Username, "err", err)
		}
	}
	c.log.Info("signed out everywhere", "tenant", t.Slug, "user", u.Username)
	return nil
}
