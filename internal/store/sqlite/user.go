package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
)

var _ cc.UserStore = (*DB)(nil)

const userColumns = `tenant_id, id, username, display_name, email, roles, password_hash,
	skills, sip_username, sip_ha1, static_contact, disabled, created_at, endpoint, external_number`

// userSelect is what reading a user selects from users u: userColumns and
// the user's integration entries as a JSON array.
const userSelect = `SELECT u.tenant_id, u.id, u.username, u.display_name, u.email, u.roles, u.password_hash,
	u.skills, u.sip_username, u.sip_ha1, u.static_contact, u.disabled, u.created_at, u.endpoint, u.external_number,
	(SELECT json_group_array(json_object('crm', i.crm, 'username', i.username)) FROM user_integrations i
		WHERE i.tenant_id = u.tenant_id AND i.user_id = u.id) FROM users u `

// CreateUser stores a new user with its integration entries. It assigns an
// ID and CreatedAt when they are empty. ECONFLICT if the username is taken
// in the tenant (case-insensitively), the SIP username in any tenant, or a
// CRM username by another user of the tenant; ENOTFOUND if the tenant does
// not exist.
func (s *DB) CreateUser(ctx context.Context, u *cc.User) (err error) {
	defer wrap(&err, "create user %s", u.Username)
	if err := u.Validate(); err != nil {
		return err
	}
	u.ID = newID(u.ID, "usr")
	u.CreatedAt = created(u.CreatedAt)
	args, err := userArgs(u)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`, username_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		if err := userConflict(ctx, tx, err, u); err != nil {
			return err
		}
		return putIntegrations(ctx, tx, u)
	})
}

// UpdateUser replaces a user's fields (all but TenantID, ID and CreatedAt),
// its integration entries included: a user read, changed and written keeps
// them, one built without them loses them.
// ENOTFOUND if the tenant has no such user; ECONFLICT as CreateUser.
func (s *DB) UpdateUser(ctx context.Context, u *cc.User) (err error) {
	defer wrap(&err, "update user %s", u.ID)
	if err := u.Validate(); err != nil {
		return err
	}
	args, err := userArgs(u)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		err := execOne(ctx, tx, userNotFound(u.ID), `UPDATE users SET
			username = ?3, display_name = ?4, email = ?5, roles = ?6, password_hash = ?7, skills = ?8,
			sip_username = ?9, sip_ha1 = ?10, static_contact = ?11, disabled = ?12,
			endpoint = ?14, external_number = ?15, username_key = ?16
			WHERE tenant_id = ?1 AND id = ?2`, args...)
		if err := userConflict(ctx, tx, err, u); err != nil {
			return err
		}
		return putIntegrations(ctx, tx, u)
	})
}

func userConflict(ctx context.Context, q querier, err error, u *cc.User) error {
	return scopedConstraintError(ctx, q, err, u.TenantID, fmt.Sprintf("tenant %q not found", u.TenantID),
		func(tenant string) []conflict {
			return []conflict{
				{"users.tenant_id, users.username_key", fmt.Sprintf("username %q is already taken in tenant %s", u.Username, tenant)},
				{"users.sip_username", fmt.Sprintf("SIP username %q is already taken", u.SIPUsername)},
				{"users.tenant_id, users.id", fmt.Sprintf("user id %q already exists in tenant %s", u.ID, tenant)},
			}
		})
}

// putIntegrations replaces the user's stored integration entries with
// u.Integrations. ECONFLICT naming the user who has a CRM username when
// another user of the tenant has it.
func putIntegrations(ctx context.Context, tx *sql.Tx, u *cc.User) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_integrations WHERE tenant_id = ? AND user_id = ?`, u.TenantID, u.ID); err != nil {
		return err
	}
	for _, in := range u.Integrations {
		in.Normalize()
		_, err := tx.ExecContext(ctx, `INSERT INTO user_integrations (tenant_id, user_id, crm, username) VALUES (?, ?, ?, ?)`,
			u.TenantID, u.ID, in.CRM, in.Username)
		if _, ok := uniqueViolation(err); ok {
			other := "another user"
			var name string
			if qerr := tx.QueryRowContext(ctx, `SELECT u.username FROM user_integrations i JOIN users u ON u.tenant_id = i.tenant_id AND u.id = i.user_id
				WHERE i.tenant_id = ? AND i.crm = ? AND i.username = ?`, u.TenantID, in.CRM, in.Username).Scan(&name); qerr == nil {
				other = "user " + name
			}
			return cc.WrapError(cc.ECONFLICT, err, "%s username %q already belongs to %s in tenant %s: remove it there first", in.CRM, in.Username, other, tenantSlug(ctx, tx, u.TenantID))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func userNotFound(id string) error {
	return cc.Errorf(cc.ENOTFOUND, "user %q not found", id)
}

// User returns a user of the tenant by id. ENOTFOUND if none, also when it
// belongs to another tenant.
func (s *DB) User(ctx context.Context, tenantID, id string) (_ *cc.User, err error) {
	defer wrap(&err, "read user %s", id)
	return queryOne(ctx, s.db, scanUser, userNotFound(id),
		userSelect+`WHERE u.tenant_id = ? AND u.id = ?`, tenantID, id)
}

// UserByUsername returns a user of the tenant by username
// (case-insensitive). ENOTFOUND if none.
func (s *DB) UserByUsername(ctx context.Context, tenantID, username string) (_ *cc.User, err error) {
	defer wrap(&err, "read user %s", username)
	return queryOne(ctx, s.db, scanUser, cc.Errorf(cc.ENOTFOUND, "user %q not found", username),
		userSelect+`WHERE u.tenant_id = ? AND u.username_key = ?`, tenantID, nameKey(username))
}

// UserBySIPUsername returns the user whose phone registers with this SIP
// username, in any tenant. SIP usernames are matched exactly, as digest
// authentication compares them. ENOTFOUND if none.
func (s *DB) UserBySIPUsername(ctx context.Context, sipUsername string) (_ *cc.User, err error) {
	defer wrap(&err, "read user by SIP username %s", sipUsername)
	if sipUsername == "" {
		return nil, cc.Errorf(cc.ENOTFOUND, "no user has an empty SIP username")
	}
	return queryOne(ctx, s.db, scanUser, cc.Errorf(cc.ENOTFOUND, "no user has SIP username %q", sipUsername),
		userSelect+`WHERE u.sip_username = ?`, sipUsername)
}

// Users returns the tenant's users ordered by username.
func (s *DB) Users(ctx context.Context, tenantID string) (_ []*cc.User, err error) {
	defer wrap(&err, "list users of tenant %s", tenantID)
	return queryAll(ctx, s.db, scanUser,
		userSelect+`WHERE u.tenant_id = ? ORDER BY u.username_key, u.id`, tenantID)
}

// UserByIntegration returns the tenant's user whose entry for the CRM has
// this username (compared as cc.NormalizeCRMUsername returns it). ENOTFOUND
// naming the username when no user of the tenant has it.
func (s *DB) UserByIntegration(ctx context.Context, tenantID, crm, username string) (_ *cc.User, err error) {
	defer wrap(&err, "read user by %s username %s", crm, username)
	in := cc.Integration{CRM: crm, Username: username}
	in.Normalize()
	return queryOne(ctx, s.db, scanUser, cc.Errorf(cc.ENOTFOUND, "no Parley user has %s username %q: an admin maps it with parley admin user set-crm", in.CRM, in.Username),
		userSelect+`JOIN user_integrations i ON i.tenant_id = u.tenant_id AND i.user_id = u.id
		WHERE u.tenant_id = ? AND i.crm = ? AND i.username = ?`, tenantID, in.CRM, in.Username)
}

// userArgs returns the column values of u in userColumns order, then the
// username key. An empty endpoint is stored as the browser it reads as.
func userArgs(u *cc.User) ([]any, error) {
	var e encoder
	args := []any{u.TenantID, u.ID, u.Username, u.DisplayName, u.Email, e.json("roles", u.Roles),
		u.PasswordHash, e.json("skills", u.Skills), u.SIPUsername, u.SIPHA1, u.StaticContact,
		u.Disabled, e.time("created at", u.CreatedAt), string(u.EndpointKind()), u.ExternalNumber, nameKey(u.Username)}
	return args, e.err
}

func scanUser(sc scanner) (*cc.User, error) {
	var u cc.User
	err := sc.Scan(&u.TenantID, &u.ID, &u.Username, &u.DisplayName, &u.Email, jsonCol{&u.Roles},
		&u.PasswordHash, jsonCol{&u.Skills}, &u.SIPUsername, &u.SIPHA1, &u.StaticContact,
		&u.Disabled, timeCol{&u.CreatedAt}, &u.Endpoint, &u.ExternalNumber, jsonCol{&u.Integrations})
	if err != nil {
		return nil, err
	}
	if len(u.Integrations) == 0 {
		u.Integrations = nil
	}
	slices.SortFunc(u.Integrations, func(a, b cc.Integration) int { return strings.Compare(a.CRM, b.CRM) })
	return &u, nil
}

// nameKey is the form of a name that makes it unique case-insensitively.
func nameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }
