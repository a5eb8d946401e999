package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/parley-cc/parley/internal/cc"
)

var _ cc.EntryPointStore = (*DB)(nil)

const entryPointColumns = `tenant_id, id, number, queue_id, name, early_media, created_at, collect`

// CreateEntryPoint stores a new entry point. It assigns an ID and CreatedAt
// when they are empty. ECONFLICT if the number is taken in the tenant;
// ENOTFOUND if the tenant has no such queue.
func (s *DB) CreateEntryPoint(ctx context.Context, ep *cc.EntryPoint) (err error) {
	defer wrap(&err, "create entry point %s", ep.Number)
	if err := ep.Validate(); err != nil {
		return err
	}
	ep.ID = newID(ep.ID, "ep")
	ep.CreatedAt = created(ep.CreatedAt)
	var e encoder
	args := []any{ep.TenantID, ep.ID, ep.Number, ep.QueueID, ep.Name, ep.EarlyMedia, e.time("created at", ep.CreatedAt), e.json("digit collection", ep.Collect)}
	if e.err != nil {
		return e.err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO entry_points (`+entryPointColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		return scopedConstraintError(ctx, tx, err, ep.TenantID, fmt.Sprintf("queue %q not found", ep.QueueID),
			func(tenant string) []conflict {
				return []conflict{
					{"entry_points.tenant_id, entry_points.number", fmt.Sprintf("number %s is already an entry point of tenant %s", ep.Number, tenant)},
					{"entry_points.tenant_id, entry_points.id", fmt.Sprintf("entry point id %q already exists in tenant %s", ep.ID, tenant)},
				}
			})
	})
}

// EntryPointByNumber returns the tenant's entry point for an E.164 number.
// ENOTFOUND if none.
func (s *DB) EntryPointByNumber(ctx context.Context, tenantID, number string) (_ *cc.EntryPoint, err error) {
	defer wrap(&err, "read entry point %s", number)
	return queryOne(ctx, s.db, scanEntryPoint, cc.Errorf(cc.ENOTFOUND, "number %s is not an entry point", number),
		`SELECT `+entryPointColumns+` FROM entry_points WHERE tenant_id = ? AND number = ?`, tenantID, number)
}

// EntryPoints returns the tenant's entry points ordered by number.
func (s *DB) EntryPoints(ctx context.Context, tenantID string) (_ []*cc.EntryPoint, err error) {
	defer wrap(&err, "list entry points of tenant %s", tenantID)
	return queryAll(ctx, s.db, scanEntryPoint,
		`SELECT `+entryPointColumns+` FROM entry_points WHERE tenant_id = ? ORDER BY number`, tenantID)
}

// DeleteEntryPoint removes one. ENOTFOUND if the tenant has no such entry
// point.
func (s *DB) DeleteEntryPoint(ctx context.Context, tenantID, id string) (err error) {
	defer wrap(&err, "delete entry point %s", id)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, cc.Errorf(cc.ENOTFOUND, "entry point %q not found", id),
			`DELETE FROM entry_points WHERE tenant_id = ? AND id = ?`, tenantID, id)
	})
}

func scanEntryPoint(sc scanner) (*cc.EntryPoint, error) {
	var ep cc.EntryPoint
	if err := sc.Scan(&ep.TenantID, &ep.ID, &ep.Number, &ep.QueueID, &ep.Name, &ep.EarlyMedia, timeCol{&ep.CreatedAt}, jsonCol{&ep.Collect}); err != nil {
		return nil, err
	}
	return &ep, nil
}
