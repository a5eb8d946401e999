package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

var _ cc.SessionStore = (*DB)(nil)

const sessionColumns = `id, tenant_id, user_id, token_hash, created_at, expires_at`

// CreateSession stores a new session. It assigns an ID and CreatedAt when
// they are empty. ENOTFOUND if the tenant has no such user; ECONFLICT if the
// token hash is already stored.
func (s *DB) CreateSession(ctx context.Context, se *cc.Session) (err error) {
	defer wrap(&err, "create session for user %s", se.UserID)
	if se.TenantID == "" || se.UserID == "" || se.TokenHash == "" {
		return cc.Errorf(cc.EINVALID, "session needs a tenant, a user and a token hash")
	}
	if se.ExpiresAt.IsZero() {
		return cc.Errorf(cc.EINVALID, "session has no expiry time")
	}
	se.ID = newID(se.ID, "ses")
	se.CreatedAt = created(se.CreatedAt)
	var e encoder
	args := []any{se.ID, se.TenantID, se.UserID, se.TokenHash, e.time("created at", se.CreatedAt), e.time("expires at", se.ExpiresAt)}
	if e.err != nil {
		return e.err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?)`, args...)
		if err != nil {
			return constraintError(err, fmt.Sprintf("user %q not found", se.UserID),
				conflict{"sessions.token_hash", "the session token is already in use"},
				conflict{"sessions.id", fmt.Sprintf("session id %q already exists", se.ID)})
		}
		return nil
	})
}

// SessionByTokenHash returns the session with this token hash if it expires
// after now. ENOTFOUND if none.
func (s *DB) SessionByTokenHash(ctx context.Context, hash string, now time.Time) (_ *cc.Session, err error) {
	defer wrap(&err, "read session")
	at, err := timeArg("now", now)
	if err != nil {
		return nil, err
	}
	return queryOne(ctx, s.db, scanSession, cc.Errorf(cc.ENOTFOUND, "no such session, or it expired"),
		`SELECT `+sessionColumns+` FROM sessions WHERE token_hash = ? AND expires_at > ?`, hash, at)
}

// DeleteSession removes a session. Absent is not an error.
func (s *DB) DeleteSession(ctx context.Context, id string) (err error) {
	defer wrap(&err, "delete session %s", id)
	return s.exec(ctx, `DELETE FROM sessions WHERE id = ?`, id)
}

// DeleteUserSessions removes every session of a user of the tenant.
func (s *DB) DeleteUserSessions(ctx context.Context, tenantID, userID string) (err error) {
	defer wrap(&err, "delete sessions of user %s", userID)
	return s.exec(ctx, `DELETE FROM sessions WHERE tenant_id = ? AND user_id = ?`, tenantID, userID)
}

// DeleteExpiredSessions removes sessions that expired before now, or at it
// (those SessionByTokenHash no longer returns).
func (s *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (err error) {
	defer wrap(&err, "delete expired sessions")
	at, err := timeArg("now", now)
	if err != nil {
		return err
	}
	return s.exec(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, at)
}

// exec runs one statement in a write transaction.
func (s *DB) exec(ctx context.Context, query string, args ...any) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	})
}

func scanSession(sc scanner) (*cc.Session, error) {
	var se cc.Session
	if err := sc.Scan(&se.ID, &se.TenantID, &se.UserID, &se.TokenHash, timeCol{&se.CreatedAt}, timeCol{&se.ExpiresAt}); err != nil {
		return nil, err
	}
	return &se, nil
}
