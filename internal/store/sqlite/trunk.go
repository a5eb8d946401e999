package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/parley-cc/parley/internal/cc"
)

var _ cc.TrunkStore = (*DB)(nil)

const trunkColumns = `tenant_id, id, name, cidrs, outbound_uri, created_at`

// CreateTrunk stores a new trunk. It assigns an ID and CreatedAt when they
// are empty. ECONFLICT if the name is taken in the tenant (case-insensitively);
// ENOTFOUND if the tenant does not exist.
func (s *DB) CreateTrunk(ctx context.Context, t *cc.Trunk) (err error) {
	defer wrap(&err, "create trunk %s", t.Name)
	if err := t.Validate(); err != nil {
		return err
	}
	t.ID = newID(t.ID, "trk")
	t.CreatedAt = created(t.CreatedAt)
	args, err := trunkArgs(t)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO trunks (`+trunkColumns+`, name_key) VALUES (?, ?, ?, ?, ?, ?, ?)`, args...)
		return trunkConflict(ctx, tx, err, t)
	})
}

// UpdateTrunk replaces a trunk's fields (all but TenantID, ID and
// CreatedAt). ENOTFOUND if the tenant has no such trunk; ECONFLICT if the new
// name is taken.
func (s *DB) UpdateTrunk(ctx context.Context, t *cc.Trunk) (err error) {
	defer wrap(&err, "update trunk %s", t.ID)
	if err := t.Validate(); err != nil {
		return err
	}
	args, err := trunkArgs(t)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		err := execOne(ctx, tx, cc.Errorf(cc.ENOTFOUND, "trunk %q not found", t.ID), `UPDATE trunks SET
			name = ?3, cidrs = ?4, outbound_uri = ?5, name_key = ?7
			WHERE tenant_id = ?1 AND id = ?2`, args...)
		return trunkConflict(ctx, tx, err, t)
	})
}

func trunkConflict(ctx context.Context, q querier, err error, t *cc.Trunk) error {
	return scopedConstraintError(ctx, q, err, t.TenantID, fmt.Sprintf("tenant %q not found", t.TenantID),
		func(tenant string) []conflict {
			return []conflict{
				{"trunks.tenant_id, trunks.name_key", fmt.Sprintf("trunk name %q is already taken in tenant %s", t.Name, tenant)},
				{"trunks.tenant_id, trunks.id", fmt.Sprintf("trunk id %q already exists in tenant %s", t.ID, tenant)},
			}
		})
}

// Trunks returns the tenant's trunks, or every tenant's when tenantID is
// empty, ordered by tenant id and name.
func (s *DB) Trunks(ctx context.Context, tenantID string) (_ []*cc.Trunk, err error) {
	defer wrap(&err, "list trunks")
	if tenantID == "" {
		return queryAll(ctx, s.db, scanTrunk, `SELECT `+trunkColumns+` FROM trunks ORDER BY tenant_id, name_key, id`)
	}
	return queryAll(ctx, s.db, scanTrunk,
		`SELECT `+trunkColumns+` FROM trunks WHERE tenant_id = ? ORDER BY name_key, id`, tenantID)
}

// trunkArgs returns the column values of t in trunkColumns order, then the
// name key.
func trunkArgs(t *cc.Trunk) ([]any, error) {
	var e encoder
	args := []any{t.TenantID, t.ID, t.Name, e.json("networks", t.CIDRs), t.OutboundURI,
		e.time("created at", t.CreatedAt), nameKey(t.Name)}
	return args, e.err
}

func scanTrunk(sc scanner) (*cc.Trunk, error) {
	var t cc.Trunk
	if err := sc.Scan(&t.TenantID, &t.ID, &t.Name, jsonCol{&t.CIDRs}, &t.OutboundURI, timeCol{&t.CreatedAt}); err != nil {
		return nil, err
	}
	return &t, nil
}
