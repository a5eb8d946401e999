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
// the store's sealer, replacing the one stored before.
func (s *DB) PutCRMRefreshToken(ctx context.Context, tenantID, userID, crm string, token []byte, at time.Time) (err error) {
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
	_, err = s.db.ExecContext(ctx, `INSERT INTO crm_tokens (tenant_id, user_id, crm, refresh_token, updated_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, user_id, crm) DO UPDATE SET
		refresh_token = excluded.refresh_token, updated_at = excluded.updated_at`, tenantID, userID, crm, sealed, updated)
	return err
}

// CRMRefreshToken returns the user's CRM refresh token, unsealed.
// ENOTFOUND if none is stored.
func (s *DB) CRMRefreshToken(ctx context.Context, tenantID, userID, crm string) (_ []byte, err error) {
	defer wrap(&err, "read CRM refresh token of user %s", userID)
	var sealed []byte
	err = s.db.QueryRowContext(ctx, `SELECT refresh_token FROM crm_tokens WHERE tenant_id = ? AND user_id = ? AND crm = ?`,
		tenantID, userID, crm).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cc.Errorf(cc.ENOTFOUND, "no %s refresh token stored for user %s", crm, userID)
	}
	if err != nil {
		return nil, err
	}
	return s.open("CRM refresh token", tenantSlug(ctx, s.db, tenantID), sealed)
}
