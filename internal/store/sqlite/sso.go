package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// HasSSOConsent reports whether the user allowed the Parley panel framed in
// the CRM origin to act as them (Parley's one-time SSO consent).
func (s *DB) HasSSOConsent(ctx context.Context, tenantID, userID, origin string) (_ bool, err error) {
	defer wrap(&err, "read SSO consent of user %s", userID)
	var n int
	err = s.db.QueryRowContext(ctx, `SELECT 1 FROM sso_consents WHERE tenant_id = ? AND user_id = ? AND origin = ?`,
		tenantID, userID, origin).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// PutSSOConsent remembers that the user allowed the panel in the CRM origin
// to act as them. Giving it again is not an error.
func (s *DB) PutSSOConsent(ctx context.Context, tenantID, userID, origin string, at time.Time) (err error) {
	defer wrap(&err, "store SSO consent of user %s", userID)
	var e encoder
	created := e.time("consent time", at)
	if e.err != nil {
		return e.err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO sso_consents (tenant_id, user_id, origin, created_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id, user_id, origin) DO NOTHING`, tenantID, userID, origin, created)
	return err
}

// PutCRMRefreshToken stores the CRM refresh token of a user, sealed with
// the store's sealer, replacing the one stored before; the issuer stored
// with it stays.
func (s *DB) PutCRMRefreshToken(ctx context.Context, tenantID, userID, crm string, token []byte, at time.Time) error {
	return s.putCRMToken(ctx, tenantID, userID, crm, "", false, token, at)
}

// PutCRMGrant stores the CRM refresh token of a user, sealed, with the
// issuer (the CRM's OpenID login host) that gave it, replacing both.
func (s *DB) PutCRMGrant(ctx context.Context, tenantID, userID, crm, issuer string, token []byte, at time.Time) error {
	return s.putCRMToken(ctx, tenantID, userID, crm, issuer, true, token, at)
}

func (s *DB) putCRMToken(ctx context.Context, tenantID, userID, crm, issuer string, setIssuer bool, token []byte, at time.Time) (err error) {
	defer wrap(&err, "store CRM refresh token of user %s", userID)
	if len(token) == 0 {
		return cc.Errorf(cc.EINVALID, "the CRM refresh token is empty")
	}
	sealed, err := s.seal("CRM refresh token", token)
	if err != nil {
		return err
	}
	var e encoder
	updated := e.time("token time", at)
	if e.err != nil {
		return e.err
	}
	onIssuer := ""
	if setIssuer {
		onIssuer = ", issuer = excluded.issuer"
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO crm_tokens (tenant_id, user_id, crm, refresh_token, updated_at, issuer)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, user_id, crm) DO UPDATE SET
		refresh_token = excluded.refresh_token, updated_at = excluded.updated_at`+onIssuer, tenantID, userID, crm, sealed, updated, issuer)
	return err
}

// CRMRefreshToken returns the user's CRM refresh token, unsealed.
// ENOTFOUND if none is stored.
func (s *DB) CRMRefreshToken(ctx context.Context, tenantID, userID, crm string) ([]byte, error) {
	tok, _, err := s.CRMGrant(ctx, tenantID, userID, crm)
	return tok, err
}

// CRMGrant returns the user's CRM refresh token, unsealed, and the issuer
// that gave it ("" if unknown). ENOTFOUND if none is stored.
func (s *DB) CRMGrant(ctx context.Context, tenantID, userID, crm string) (_ []byte, issuer string, err error) {
	defer wrap(&err, "read CRM refresh token of user %s", userID)
	var sealed []byte
	err = s.db.QueryRowContext(ctx, `SELECT refresh_token, issuer FROM crm_tokens WHERE tenant_id = ? AND user_id = ? AND crm = ?`,
		tenantID, userID, crm).Scan(&sealed, &issuer)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", cc.Errorf(cc.ENOTFOUND, "no %s refresh token stored for user %s", crm, userID)
	}
	if err != nil {
		return nil, "", err
	}
	tok, err := s.open("CRM refresh token", tenantSlug(ctx, s.db, tenantID), sealed)
	return tok, issuer, err
}

// DeleteCRMRefreshToken forgets the user's CRM refresh token (sign-out
// everywhere, or a grant the CRM revoked). Absent is not an error.
func (s *DB) DeleteCRMRefreshToken(ctx context.Context, tenantID, userID, crm string) (err error) {
	defer wrap(&err, "delete CRM refresh token of user %s", userID)
	_, err = s.db.ExecContext(ctx, `DELETE FROM crm_tokens WHERE tenant_id = ? AND user_id = ? AND crm = ?`, tenantID, userID, crm)
	return err
}
