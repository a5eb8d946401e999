package center

import (
	"context"
	"strings"

	"github.com/parley-cc/parley/internal/auth"
	"github.com/parley-cc/parley/internal/cc"
)

// errBadCredentials is the one answer to every failed sign-in, so that the
// response does not tell which of tenant, username or password was wrong.
var errBadCredentials = cc.Errorf(cc.EUNAUTHORIZED, "sign-in failed: check the tenant, username and password")

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
	return c.StartSession(ctx, t, u, "password")
}

// StartSession creates a session for a user whose identity was proven by
// method ("password", "sso"), as sign-in does, and returns its bearer
// token. EUNAUTHORIZED if the user is disabled.
func (c *Center) StartSession(ctx context.Context, t *cc.Tenant, u *cc.User, method string) (string, *cc.Principal, error) {
	if u.Disabled {
		return "", nil, cc.Errorf(cc.EUNAUTHORIZED, "user %s is disabled: ask an administrator", u.Username)
	}
	token, hash := auth.NewToken()
	now := c.clock()
	s := &cc.Session{ID: cc.NewID("ses"), TenantID: t.ID, UserID: u.ID, TokenHash: hash, CreatedAt: now, ExpiresAt: now.Add(c.opts.SessionTTL)}
	if err := c.store.CreateSession(ctx, s); err != nil {
		return "", nil, err
	}
	c.log.Info("signed in", "tenant", t.Slug, "user", u.Username, "method", method)
	return token, &cc.Principal{Tenant: t, User: u, Session: s}, nil
}

// Authenticate resolves a bearer token to its principal.
func (c *Center) Authenticate(ctx context.Context, token string) (*cc.Principal, error) {
	if token == "" {
		return nil, cc.Errorf(cc.EUNAUTHORIZED, "sign in first: no bearer token")
	}
	s, err := c.store.SessionByTokenHash(ctx, auth.HashToken(token), c.clock())
	if cc.IsCode(err, cc.ENOTFOUND) {
		return nil, cc.Errorf(cc.EUNAUTHORIZED, "the session is unknown or expired: sign in again")
	} else if err != nil {
		return nil, err
	}
	t, err := c.store.Tenant(ctx, s.TenantID)
	if err != nil {
		return nil, err
	}
	u, err := c.store.User(ctx, t.ID, s.UserID)
	if cc.IsCode(err, cc.ENOTFOUND) || (err == nil && u.Disabled) {
		return nil, cc.Errorf(cc.EUNAUTHORIZED, "the user of this session no longer exists or is disabled")
	} else if err != nil {
		return nil, err
	}
	return &cc.Principal{Tenant: t, User: u, Session: s}, nil
}

// SignOut ends the principal's session.
func (c *Center) SignOut(ctx context.Context, p *cc.Principal) error {
	if p.Session == nil {
		return nil
	}
	return c.store.DeleteSession(ctx, p.Session.ID)
}
