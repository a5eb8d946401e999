package devcrm

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/parley-cc/parley/internal/auth"
	"github.com/parley-cc/parley/internal/callcenter"
	"github.com/parley-cc/parley/internal/cc"
)

// CallCenter is an imported call center definition (Setup, Call Centers).
type CallCenter struct {
	InternalName string
	DisplayName  string
	AdapterURL   string
	ImportedAt   time.Time
	// Users is how many users are assigned to it.
	Users int
	// Definition is the parsed file.
	Definition *callcenter.CallCenter
}

// ImportCallCenter reads a call center definition file (as Setup's Import
// does) and stores it. A file whose reqInternalName is already imported
// replaces that call center's definition and keeps its users (Salesforce
// refuses such a file; devcrm accepts it so the demo can re-import on every
// start). A malformed file gives EINVALID wrapping callcenter.Problems, each
// with its line.
func (s *Server) ImportCallCenter(ctx context.Context, r io.Reader) (*CallCenter, error) {
	db, err := s.database()
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(io.LimitReader(r, 1<<20+1))
	if err != nil {
		return nil, fmt.Errorf("import call center: read the file: %w", err)
	}
	def, err := callcenter.Parse(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	now := s.now()
	_, err = db.ExecContext(ctx, `INSERT INTO call_center (internal_name, display_name, adapter_url, definition, imported_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (internal_name) DO UPDATE SET display_name = excluded.display_name, adapter_url = excluded.adapter_url,
		definition = excluded.definition, imported_at = excluded.imported_at`,
		def.InternalName(), def.DisplayName(), def.AdapterURL(), string(raw), formatDateTime(now))
	if err != nil {
		return nil, fmt.Errorf("import call center %s: %w", def.InternalName(), err)
	}
	s.log.Info("devcrm call center imported", "name", def.InternalName(), "adapter", def.AdapterURL())
	return &CallCenter{InternalName: def.InternalName(), DisplayName: def.DisplayName(), AdapterURL: def.AdapterURL(), ImportedAt: now, Definition: def}, nil
}

// CallCenters lists the imported call centers by internal name.
func (s *Server) CallCenters(ctx context.Context) ([]CallCenter, error) {
	db, err := s.database()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT c.internal_name, c.definition, c.imported_at, (SELECT count(*) FROM call_center_user u WHERE u.internal_name = c.internal_name)
		FROM call_center c ORDER BY c.internal_name`)
	if err != nil {
		return nil, fmt.Errorf("list call centers: %w", err)
	}
	defer rows.Close()
	var out []CallCenter
	for rows.Next() {
		var name, def, at string
		var users int
		if err := rows.Scan(&name, &def, &at, &users); err != nil {
			return nil, fmt.Errorf("list call centers: %w", err)
		}
		cc, err := storedCallCenter(name, def, at)
		if err != nil {
			return nil, err
		}
		cc.Users = users
		out = append(out, *cc)
	}
	return out, rows.Err()
}

func storedCallCenter(name, def, at string) (*CallCenter, error) {
	parsed, err := callcenter.Parse(strings.NewReader(def))
	if err != nil {
		return nil, fmt.Errorf("stored call center %s: %w", name, err)
	}
	t, _ := parseDateTime(at)
	return &CallCenter{InternalName: parsed.InternalName(), DisplayName: parsed.DisplayName(), AdapterURL: parsed.AdapterURL(), ImportedAt: t, Definition: parsed}, nil
}

// callCenterByName loads one call center; ENOTFOUND when there is none.
func callCenterByName(ctx context.Context, q querier, name string) (*CallCenter, error) {
	var def, at string
	err := q.QueryRowContext(ctx, `SELECT internal_name, definition, imported_at FROM call_center WHERE internal_name = ?`, name).Scan(&name, &def, &at)
	if err == sql.ErrNoRows {
		return nil, cc.Errorf(cc.ENOTFOUND, "no call center %q is imported (Setup, Call Centers lists them)", name)
	}
	if err != nil {
		return nil, fmt.Errorf("load call center %s: %w", name, err)
	}
	return storedCallCenter(name, def, at)
}

// userCallCenter returns the call center the user is assigned to, or nil.
func userCallCenter(ctx context.Context, q querier, userID string) (*CallCenter, error) {
	var name string
	err := q.QueryRowContext(ctx, `SELECT internal_name FROM call_center_user WHERE user_id = ?`, userID).Scan(&name)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up the call center of %s: %w", userID, err)
	}
	return callCenterByName(ctx, q, name)
}

// AssignCallCenterUsers adds users (by username) to a call center, moving
// them from any other: a user is in one call center at most. It returns
// ENOTFOUND for an unknown call center or username.
func (s *Server) AssignCallCenterUsers(ctx context.Context, internalName string, usernames ...string) error {
	return s.changeCallCenterUsers(ctx, internalName, usernames, true)
}

// RemoveCallCenterUsers takes users (by username) out of a call center.
func (s *Server) RemoveCallCenterUsers(ctx context.Context, internalName string, usernames ...string) error {
	return s.changeCallCenterUsers(ctx, internalName, usernames, false)
}

func (s *Server) changeCallCenterUsers(ctx context.Context, name string, usernames []string, add bool) error {
	db, err := s.database()
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(usernames))
	for _, u := range usernames {
		rec, err := userByUsername(ctx, db, u)
		if err != nil {
			return err
		}
		if rec == nil {
			return cc.Errorf(cc.ENOTFOUND, "no devcrm user %q", u)
		}
		ids = append(ids, rec["Id"].(string))
	}
	return s.changeCallCenterUserIDs(ctx, db, name, ids, add)
}

func (s *Server) changeCallCenterUserIDs(ctx context.Context, db *sql.DB, name string, ids []string, add bool) error {
	return withTx(ctx, db, func(tx *sql.Tx) error {
		c, err := callCenterByName(ctx, tx, name)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if ok, err := recordExists(ctx, tx, id); err != nil {
				return err
			} else if !ok || !strings.HasPrefix(id, PrefixUser) {
				return cc.Errorf(cc.ENOTFOUND, "no devcrm user %s", id)
			}
			if add {
				_, err = tx.ExecContext(ctx, `INSERT INTO call_center_user (user_id, internal_name) VALUES (?, ?)
					ON CONFLICT (user_id) DO UPDATE SET internal_name = excluded.internal_name`, id, c.InternalName)
			} else {
				_, err = tx.ExecContext(ctx, `DELETE FROM call_center_user WHERE user_id = ? AND internal_name = ?`, id, c.InternalName)
			}
			if err != nil {
				return fmt.Errorf("change the users of call center %s: %w", c.InternalName, err)
			}
		}
		return nil
	})
}

// SetUserPassword sets the password a User signs in to devcrm's pages with.
// It returns ENOTFOUND for an unknown username and EINVALID for a password
// internal/auth refuses.
func (s *Server) SetUserPassword(ctx context.Context, username, password string) error {
	db, rec, err := s.existingUser(ctx, username)
	if err != nil {
		return err
	}
	if err := auth.CheckPassword(password); err != nil {
		return err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return fmt.Errorf("set the password of %s: %w", username, err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO ui_password (user_id, password_hash, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at`,
		rec["Id"], hash, formatDateTime(s.now()))
	if err != nil {
		return fmt.Errorf("set the password of %s: %w", username, err)
	}
	return nil
}

// existingUser returns the database and the User record of username;
// ENOTFOUND when there is no such user.
func (s *Server) existingUser(ctx context.Context, username string) (*sql.DB, record, error) {
	db, err := s.database()
	if err != nil {
		return nil, nil, err
	}
	rec, err := userByUsername(ctx, db, username)
	if err != nil {
		return nil, nil, err
	}
	if rec == nil {
		return nil, nil, cc.Errorf(cc.ENOTFOUND, "no devcrm user %q (User.csv lists them)", username)
	}
	return db, rec, nil
}

// DefaultAdministrator is the seed's user who may use Setup while no one
// else is made an administrator.
const DefaultAdministrator = "admin@devcrm.example.com"

// ensureAdministrator makes DefaultAdministrator an administrator when
// there is none (and the seed has that user).
func ensureAdministrator(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `INSERT INTO ui_admin (user_id) SELECT "Id" FROM "User" WHERE "Username" = ? AND NOT EXISTS (SELECT 1 FROM ui_admin)`, DefaultAdministrator)
	if err != nil {
		return fmt.Errorf("ensure a devcrm administrator: %w", err)
	}
	return nil
}

// SetAdministrator lets a user use Setup (admin true) or not. It returns
// ENOTFOUND for an unknown username.
func (s *Server) SetAdministrator(ctx context.Context, username string, admin bool) error {
	db, rec, err := s.existingUser(ctx, username)
	if err != nil {
		return err
	}
	stmt := `INSERT INTO ui_admin (user_id) VALUES (?) ON CONFLICT (user_id) DO NOTHING`
	if !admin {
		stmt = `DELETE FROM ui_admin WHERE user_id = ?`
	}
	if _, err := db.ExecContext(ctx, stmt, rec["Id"]); err != nil {
		return fmt.Errorf("set the administrator flag of %s: %w", username, err)
	}
	return nil
}

// isAdministrator reports whether the user may use Setup.
func isAdministrator(ctx context.Context, q querier, userID string) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM ui_admin WHERE user_id = ?`, userID).Scan(&one)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up the administrators: %w", err)
	}
	return true, nil
}
