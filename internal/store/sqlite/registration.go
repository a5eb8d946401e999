package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

var _ cc.RegistrationStore = (*DB)(nil)

const registrationColumns = `tenant_id, user_id, contact, source, transport, call_id, cseq, expires_at, updated_at`

// PutRegistration adds or refreshes a binding, keyed by tenant, user and
// contact. ENOTFOUND if the tenant has no such user.
func (s *DB) PutRegistration(ctx context.Context, r *cc.Registration) (err error) {
	defer wrap(&err, "put registration of user %s", r.UserID)
	if r.TenantID == "" || r.UserID == "" || r.Contact == "" {
		return cc.Errorf(cc.EINVALID, "registration needs a tenant, a user and a contact")
	}
	if r.ExpiresAt.IsZero() {
		return cc.Errorf(cc.EINVALID, "registration of %s has no expiry time", r.Contact)
	}
	var e encoder
	args := []any{r.TenantID, r.UserID, r.Contact, r.Source, r.Transport, r.CallID, int64(r.CSeq),
		e.time("expires at", r.ExpiresAt), e.time("updated at", r.UpdatedAt)}
	if e.err != nil {
		return e.err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO registrations (`+registrationColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, user_id, contact) DO UPDATE SET
			source = excluded.source, transport = excluded.transport, call_id = excluded.call_id,
			cseq = excluded.cseq, expires_at = excluded.expires_at, updated_at = excluded.updated_at`, args...)
		if err != nil {
			return constraintError(err, fmt.Sprintf("user %q not found", r.UserID))
		}
		return nil
	})
}

// DeleteRegistration removes one binding of the user, or all of them when
// contact is empty. Absent is not an error.
func (s *DB) DeleteRegistration(ctx context.Context, tenantID, userID, contact string) (err error) {
	defer wrap(&err, "delete registration of user %s", userID)
	if contact == "" {
		return s.exec(ctx, `DELETE FROM registrations WHERE tenant_id = ? AND user_id = ?`, tenantID, userID)
	}
	return s.exec(ctx, `DELETE FROM registrations WHERE tenant_id = ? AND user_id = ? AND contact = ?`, tenantID, userID, contact)
}

// Registrations returns the user's bindings that expire after now, newest
// (last updated) first.
func (s *DB) Registrations(ctx context.Context, tenantID, userID string, now time.Time) (_ []*cc.Registration, err error) {
	defer wrap(&err, "list registrations of user %s", userID)
	at, err := timeArg("now", now)
	if err != nil {
		return nil, err
	}
	return queryAll(ctx, s.db, scanRegistration, `SELECT `+registrationColumns+` FROM registrations
		WHERE tenant_id = ? AND user_id = ? AND expires_at > ?
		ORDER BY updated_at DESC, contact`, tenantID, userID, at)
}

// DeleteExpiredRegistrations removes the bindings that expired before now,
// or at it (those Registrations no longer returns), and returns them, ordered
// by tenant, user and contact.
func (s *DB) DeleteExpiredRegistrations(ctx context.Context, now time.Time) (_ []*cc.Registration, err error) {
	defer wrap(&err, "delete expired registrations")
	at, err := timeArg("now", now)
	if err != nil {
		return nil, err
	}
	var out []*cc.Registration
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanRegistration, `SELECT `+registrationColumns+` FROM registrations
			WHERE expires_at <= ? ORDER BY tenant_id, user_id, contact`, at)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM registrations WHERE expires_at <= ?`, at)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func scanRegistration(sc scanner) (*cc.Registration, error) {
	var r cc.Registration
	err := sc.Scan(&r.TenantID, &r.UserID, &r.Contact, &r.Source, &r.Transport, &r.CallID, &r.CSeq,
		timeCol{&r.ExpiresAt}, timeCol{&r.UpdatedAt})
	if err != nil {
		return nil, err
	}
	return &r, nil
}
