package sso

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/parley-cc/parley/internal/cc"
)

var _ cc.CRMGrants = (*Handler)(nil)

// RefreshGrant uses the user's sealed CRM refresh token at the token
// endpoint of the issuer that gave it, and stores the refresh token the CRM
// rotates to, sealed. nil if the user has no grant (a password session, or
// a CRM that gave no refresh token). EUNAUTHORIZED if the CRM answers
// invalid_grant (the user was deactivated or the app's access revoked): the
// grant is deleted. EUNAVAILABLE if the CRM could not be reached or failed:
// the grant stays, for the next refresh.
//
// One user's sessions (several browsers) share the grant, and CRMs rotate
// the refresh token on each use: refreshes of one user are serialized, one
// within GrantRefreshInterval of the last is skipped, and an invalid_grant
// for a token that is no longer the stored one (another Parley node rotated
// it meanwhile) is not a refusal.
func (h *Handler) RefreshGrant(ctx context.Context, t *cc.Tenant, u *cc.User) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("refresh the CRM grant of %s: %w", u.Username, err)
		}
	}()
	key := t.ID + "/" + u.ID
	unlock := h.grantLock(key)
	defer unlock()
	if at, ok := h.grantRefreshed(key); ok && h.clock().Sub(at) < GrantRefreshInterval {
		return nil
	}
	tok, issuer, err := h.opts.Grants.CRMGrant(ctx, t.ID, u.ID, CRMSalesforce)
	if cc.IsCode(err, cc.ENOTFOUND) {
		return nil
	} else if err != nil {
		return err
	}
	cfg, issuer, err := h.grantConfig(ctx, t, issuer)
	if err != nil {
		return err
	}
	fresh, err := cfg.TokenSource(oidc.ClientContext(ctx, h.opts.HTTPClient), &oauth2.Token{RefreshToken: string(tok)}).Token()
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re) && re.ErrorCode == "invalid_grant":
		if now, _, rerr := h.opts.Grants.CRMGrant(ctx, t.ID, u.ID, CRMSalesforce); rerr == nil && string(now) != string(tok) {
			return nil // rotated meanwhile by another node: that one is good
		}
		if derr := h.opts.Grants.DeleteCRMRefreshToken(ctx, t.ID, u.ID, CRMSalesforce); derr != nil {
			h.log.Error("delete a refused CRM grant", "tenant", t.Slug, "user", u.Username, "err", derr)
		}
		h.log.Info("the CRM refused a grant", "tenant", t.Slug, "user", u.Username, "reason", exchangeReason(err))
		return cc.WrapError(cc.EUNAUTHORIZED, err, "the CRM no longer accepts the sign-in of %s (%s): sign in again with the CRM", u.Username, exchangeReason(err))
	case err != nil:
		return cc.WrapError(cc.EUNAVAILABLE, err, "the CRM at %s did not refresh the grant (%s): retry later", issuer, exchangeReason(err))
	}
	if fresh.RefreshToken != "" && fresh.RefreshToken != string(tok) {
		if err := h.opts.Grants.PutCRMGrant(ctx, t.ID, u.ID, CRMSalesforce, issuer, []byte(fresh.RefreshToken), h.clock()); err != nil {
			return err
		}
	}
	h.setGrantRefreshed(key, h.clock())
	return nil
}

// GrantRefreshInterval is the least time between two refreshes of one
// user's CRM grant: the sessions of several browsers refresh it no more
// often than this.
const GrantRefreshInterval = time.Minute

// grantLock locks the grant of key (tenant/user) and returns the unlock.
func (h *Handler) grantLock(key string) func() {
	h.mu.Lock()
	l := h.grantLocks[key]
	if l == nil {
		l = &grantState{}
		h.grantLocks[key] = l
	}
	l.users++
	h.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		h.mu.Lock()
		if l.users--; l.users == 0 && h.clock().Sub(l.refreshed) >= GrantRefreshInterval {
			delete(h.grantLocks, key)
		}
		h.mu.Unlock()
	}
}

func (h *Handler) grantRefreshed(key string) (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if l := h.grantLocks[key]; l != nil && !l.refreshed.IsZero() {
		return l.refreshed, true
	}
	return time.Time{}, false
}

func (h *Handler) setGrantRefreshed(key string, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if l := h.grantLocks[key]; l != nil {
		l.refreshed = at
	}
}

// grantState serializes the refreshes of one user's grant and remembers
// the last.
type grantState struct {
	mu        sync.Mutex
	users     int       // holders and waiters; guarded by Handler.mu
	refreshed time.Time // guarded by Handler.mu
}

// RevokeGrant revokes the user's CRM refresh token at the issuer's
// revocation endpoint (RFC 7009) and deletes it; it is deleted even when
// the CRM cannot be reached (the error says so). nil if there is none.
func (h *Handler) RevokeGrant(ctx context.Context, t *cc.Tenant, u *cc.User) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("revoke the CRM grant of %s: %w", u.Username, err)
		}
	}()
	tok, issuer, err := h.opts.Grants.CRMGrant(ctx, t.ID, u.ID, CRMSalesforce)
	if cc.IsCode(err, cc.ENOTFOUND) {
		return nil
	} else if err != nil {
		return err
	}
	if err := h.opts.Grants.DeleteCRMRefreshToken(ctx, t.ID, u.ID, CRMSalesforce); err != nil {
		return err
	}
	return h.revoke(ctx, t, issuer, string(tok))
}

// revoke posts token to the issuer's revocation endpoint.
func (h *Handler) revoke(ctx context.Context, t *cc.Tenant, issuer, token string) error {
	cfg, issuer, err := h.grantConfig(ctx, t, issuer)
	if err != nil {
		return err
	}
	p, err := h.provider(ctx, t, issuer)
	if err != nil {
		return err
	}
	var meta struct {
		RevocationEndpoint string `json:"revocation_endpoint"`
	}
	if err := p.Claims(&meta); err != nil || meta.RevocationEndpoint == "" {
		return cc.Errorf(cc.EUNAVAILABLE, "the CRM at %s publishes no revocation_endpoint: the refresh token was deleted from Parley but stays valid at the CRM until it expires or an administrator revokes the app's access there", issuer)
	}
	form := url.Values{"token": {token}, "token_type_hint": {"refresh_token"}, "client_id": {cfg.ClientID}, "client_secret": {cfg.ClientSecret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, meta.RevocationEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return cc.WrapError(cc.EUNAVAILABLE, err, "the CRM's revocation endpoint %q is not a URL", meta.RevocationEndpoint)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := h.opts.HTTPClient.Do(req)
	if err != nil {
		return cc.WrapError(cc.EUNAVAILABLE, err, "the CRM's revocation endpoint %s did not answer", meta.RevocationEndpoint)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<10))
	if res.StatusCode != http.StatusOK {
		return cc.Errorf(cc.EUNAVAILABLE, "the CRM's revocation endpoint %s answered %s: %s", meta.RevocationEndpoint, res.Status, strings.TrimSpace(string(b)))
	}
	return nil
}

// grantConfig returns the OAuth configuration of the tenant's SSO app at
// issuer (the tenant's production login host or My Domain when "").
func (h *Handler) grantConfig(ctx context.Context, t *cc.Tenant, issuer string) (*oauth2.Config, string, error) {
	if t.CRM.SSOClientID == "" {
		return nil, "", cc.Errorf(cc.EUNAVAILABLE, "tenant %s has no SSO connected app any more: the CRM grant cannot be refreshed (an administrator runs parley admin crm set --tenant %s --sso-client-id ID --sso-client-secret-file FILE)", t.Slug, t.Slug)
	}
	if issuer == "" {
		issuer = LoginHost(&t.CRM, false)
	}
	p, err := h.provider(ctx, t, issuer)
	if err != nil {
		return nil, "", err
	}
	ep := p.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	return &oauth2.Config{ClientID: t.CRM.SSOClientID, ClientSecret: string(t.CRM.SSOClientSecret), Endpoint: ep}, issuer, nil
}
