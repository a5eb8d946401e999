package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

var _ cc.SessionStore = (*DB)(nil)

const sessionColumns = `id, tenant_id, user_id, token_hash, created_at, expires_at, method, max_expires_at, refreshed_at, prev_token_hash, prev_valid_until`

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
	switch se.Method {
	case "":
		se.Method = cc.SessionPassword
	case cc.SessionPassword, cc.SessionSSO:
	default:
		return cc.Errorf(cc.EINVALID, "session method %q: use %s or %s", se.Method, cc.SessionPassword, cc.SessionSSO)
	}
	if !se.MaxExpiresAt.IsZero() && se.ExpiresAt.After(se.MaxExpiresAt) {
		return cc.Errorf(cc.EINVALID, "session expires at %s, after its absolute end %s", se.ExpiresAt.Format(time.RFC3339), se.MaxExpiresAt.Format(time.RFC3339))
	}
	se.ID = newID(se.ID, "ses")
	se.CreatedAt = created(se.CreatedAt)
	var e encoder
	args := []any{se.ID, se.TenantID, se.UserID, se.TokenHash, e.time("created at", se.CreatedAt), e.time("expires at", se.ExpiresAt),
		se.Method, e.time("absolute end", se.MaxExpiresAt), e.time("refreshed at", se.RefreshedAt), nullString(se.PrevTokenHash), e.time("previous token's grace", se.PrevValidUntil)}
	if e.err != nil {
		return e.err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		if err != nil {
			return constraintError(err, fmt.Sprintf("user %q not found", se.UserID),
				conflict{"sessions.token_hash", "the session token is already in use"},
				conflict{"sessions.prev_token_hash", "the session token is already in use"},
				conflict{"sessions.id", fmt.Sprintf("session id %q already exists", se.ID)})
		}
		return nil
	})
}

// SessionByTokenHash returns the session with this token hash if it expires
// after now, or the session whose previous token hash it is while that
// token's grace lasts. ENOTFOUND if none.
func (s *DB) SessionByTokenHash(ctx context.Context, hash string, now time.Time) (_ *cc.Session, err error) {
	defer wrap(&err, "read session")
	at, err := timeArg("now", now)
	if err != nil {
		return nil, err
	}
	return queryOne(ctx, s.db, scanSession, cc.Errorf(cc.ENOTFOUND, "no such session, or it expired"),
		`SELECT `+sessionColumns+` FROM sessions WHERE token_hash = ? AND expires_at > ?
		UNION ALL SELECT `+sessionColumns+` FROM sessions WHERE prev_token_hash = ? AND prev_valid_until > ? AND expires_at > ?`,
		hash, at, hash, at, at)
}

// SessionByID returns the session if it expires after now. ENOTFOUND if
// none.
func (s *DB) SessionByID(ctx context.Context, id string, now time.Time) (_ *cc.Session, err error) {
	defer wrap(&err, "read session %s", id)
	at, err := timeArg("now", now)
	if err != nil {
		return nil, err
	}
	return queryOne(ctx, s.db, scanSession, cc.Errorf(cc.ENOTFOUND, "no session %s, or it expired", id),
		`SELECT `+sessionColumns+` FROM sessions WHERE id = ? AND expires_at > ?`, id, at)
}

// RotateSession replaces the session's token hash with r.NewHash if its
// current one is r.OldHash, keeps r.OldHash working until r.GraceUntil and
// moves the expiry to r.ExpiresAt (never past the absolute end). ENOTFOUND
// if the session ended; ECONFLICT if its token was replaced already.
func (s *DB) RotateSession(ctx context.Context, r cc.Rotation) (_ *cc.Session, err error) {
	defer wrap(&err, "refresh session %s", r.SessionID)
	if r.SessionID == "" || r.OldHash == "" || r.NewHash == "" || r.OldHash == r.NewHash {
		return nil, cc.Errorf(cc.EINVALID, "a session refresh needs the session, its current token hash and a different new one")
	}
	var e encoder
	now, exp, grace := e.time("now", r.Now), e.time("expires at", r.ExpiresAt), e.time("grace", r.GraceUntil)
	if e.err != nil {
		return nil, e.err
	}
	var out *cc.Session
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := queryOne(ctx, tx, scanSession, cc.Errorf(cc.ENOTFOUND, "the session ended (it expired or was signed out): sign in again"),
			`SELECT `+sessionColumns+` FROM sessions WHERE id = ? AND expires_at > ?`, r.SessionID, now)
		if err != nil {
			return err
		}
		if cur.TokenHash != r.OldHash {
			return cc.Errorf(cc.ECONFLICT, "this session's token was already replaced by a refresh (another tab of the panel did it): use the newest token")
		}
		_, err = tx.ExecContext(ctx, `UPDATE sessions SET prev_token_hash = token_hash, prev_valid_until = ?, token_hash = ?,
			expires_at = CASE WHEN max_expires_at IS NOT NULL AND max_expires_at < ? THEN max_expires_at ELSE ? END, refreshed_at = ?
			WHERE id = ?`, grace, r.NewHash, exp, exp, now, r.SessionID)
		if err != nil {
			return constraintError(err, "session not found", conflict{"sessions.token_hash", "the session token is already in use"},
				conflict{"sessions.prev_token_hash", "the session token is already in use"})
		}
		out, err = queryOne(ctx, tx, scanSession, cc.Errorf(cc.ENOTFOUND, "the session ended"),
			`SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, r.SessionID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
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
	var prev sql.NullString
	if err := sc.Scan(&se.ID, &se.TenantID, &se.UserID, &se.TokenHash, timeCol{&se.CreatedAt}, timeCol{&se.ExpiresAt},
		&se.Method, timeCol{&se.MaxExpiresAt}, timeCol{&se.RefreshedAt}, &prev, timeCol{&se.PrevValidUntil}); err != nil {
		return nil, err
	}
	se.PrevTokenHash = prev.String
	return &se, nil
}

// nullString stores "" as NULL, for columns under a unique index that many
// rows leave empty.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
