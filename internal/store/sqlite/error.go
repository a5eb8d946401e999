package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/parley-cc/parley/internal/cc"
)

// wrap is deferred at the top of every method: it names the operation on any
// error and turns the driver's errors that callers can act on into cc codes.
// Errors already carrying a cc code keep it.
func wrap(errp *error, format string, args ...any) {
	err := *errp
	if err == nil {
		return
	}
	var ce *cc.Error
	if !errors.As(err, &ce) {
		switch code := sqliteCode(err); {
		case code&0xff == sqlite3.SQLITE_BUSY, code&0xff == sqlite3.SQLITE_LOCKED:
			err = cc.WrapError(cc.EUNAVAILABLE, err, "the database is busy; retry later")
		case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE, code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			err = cc.WrapError(cc.ECONFLICT, err, "already exists")
		}
	}
	*errp = fmt.Errorf(format+": %w", append(args, err)...)
}

// sqliteCode returns the extended SQLite result code in err's chain, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// uniqueViolation reports whether err is a unique or primary-key violation
// and returns the violated columns as SQLite names them, such as
// "users.tenant_id, users.username_key".
func uniqueViolation(err error) (columns string, ok bool) {
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
	default:
		return "", false
	}
	// SQLite's message is "UNIQUE constraint failed: t.a, t.b"; the driver
	// adds a prefix and the code in parentheses.
	msg := err.Error()
	if i := strings.LastIndex(msg, "constraint failed: "); i >= 0 {
		msg = msg[i+len("constraint failed: "):]
	}
	if i := strings.LastIndex(msg, " ("); i >= 0 {
		msg = msg[:i]
	}
	return msg, true
}

// foreignKeyViolation reports whether err is a foreign-key violation: a
// referenced row (a tenant, a user, a queue) does not exist.
func foreignKeyViolation(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// conflict describes one unique constraint for the message of its violation.
type conflict struct {
	columns string // as uniqueViolation returns them
	message string
}

// constraintError turns a constraint violation into a cc error: ECONFLICT
// with the message of the violated unique constraint among conflicts, or
// ENOTFOUND with missing for a foreign-key violation. Other errors are
// returned as they are.
func constraintError(err error, missing string, conflicts ...conflict) error {
	if cols, ok := uniqueViolation(err); ok {
		for _, c := range conflicts {
			if c.columns == cols {
				return cc.WrapError(cc.ECONFLICT, err, "%s", c.message)
			}
		}
		return cc.WrapError(cc.ECONFLICT, err, "already exists (%s)", cols)
	}
	if missing != "" && foreignKeyViolation(err) {
		return cc.WrapError(cc.ENOTFOUND, err, "%s", missing)
	}
	return err
}

// scopedConstraintError is constraintError for a row of a tenant: the
// conflict messages, built only when a unique constraint failed, may name the
// tenant by its slug.
func scopedConstraintError(ctx context.Context, q querier, err error, tenantID, missing string, conflicts func(tenant string) []conflict) error {
	if err == nil {
		return nil
	}
	var cs []conflict
	if _, ok := uniqueViolation(err); ok {
		cs = conflicts(tenantSlug(ctx, q, tenantID))
	}
	return constraintError(err, missing, cs...)
}
