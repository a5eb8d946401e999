package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/parley-cc/parley/internal/cc"
)

var _ cc.PresenceStore = (*DB)(nil)

const presenceColumns = `tenant_id, user_id, state, reason, since, available_since,
	interaction_id, outbound, return_state, return_reason, pending_state, pending_reason,
	wrap_up_deadline, version`

// SavePresence stores p, replacing the previous value. ENOTFOUND if the
// tenant has no such user.
func (s *DB) SavePresence(ctx context.Context, p *cc.Presence) (err error) {
	defer wrap(&err, "save presence of user %s", p.UserID)
	args, err := presenceArgs(p)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error { return savePresence(ctx, tx, p, args) })
}

// presenceArgs checks p and returns its column values.
func presenceArgs(p *cc.Presence) ([]any, error) {
	if p.TenantID == "" || p.UserID == "" {
		return nil, cc.Errorf(cc.EINVALID, "presence needs a tenant and a user")
	}
	if p.State != "" && !p.State.Valid() {
		return nil, cc.Errorf(cc.EINVALID, "presence state %q is not a known agent state", p.State)
	}
	var e encoder
	args := []any{p.TenantID, p.UserID, string(p.State), p.Reason, e.time("since", p.Since),
		e.time("available since", p.AvailableSince), p.InteractionID, p.Outbound,
		string(p.ReturnState), p.ReturnReason, string(p.PendingState), p.PendingReason,
		e.time("wrap-up deadline", p.WrapUpDeadline), p.Version}
	return args, e.err
}

func savePresence(ctx context.Context, tx *sql.Tx, p *cc.Presence, args []any) error {
	_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO presence (`+presenceColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	if err != nil {
		return constraintError(err, fmt.Sprintf("user %q not found", p.UserID))
	}
	return nil
}

// Presences returns the presence of every agent of the tenant that has one,
// ordered by user id.
func (s *DB) Presences(ctx context.Context, tenantID string) (_ []*cc.Presence, err error) {
	defer wrap(&err, "list presence of tenant %s", tenantID)
	return queryAll(ctx, s.db, scanPresence,
		`SELECT `+presenceColumns+` FROM presence WHERE tenant_id = ? ORDER BY user_id`, tenantID)
}

func scanPresence(sc scanner) (*cc.Presence, error) {
	var p cc.Presence
	err := sc.Scan(&p.TenantID, &p.UserID, &p.State, &p.Reason, timeCol{&p.Since},
		timeCol{&p.AvailableSince}, &p.InteractionID, &p.Outbound, &p.ReturnState, &p.ReturnReason,
		&p.PendingState, &p.PendingReason, timeCol{&p.WrapUpDeadline}, &p.Version)
	if err != nil {
		return nil, err
	}
	return &p, nil
}
