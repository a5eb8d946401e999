package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

var _ cc.OutboxStore = (*DB)(nil)

const outboxColumns = `id, tenant_id, interaction_id, kind, key, payload, attempts,
	next_attempt_at, last_error, created_at, delivered_at, result`

// DefaultOutboxLimit is how many items DueOutbox returns for limit 0.
const DefaultOutboxLimit = 100

// EnqueueOutbox stores new items in one transaction. It assigns IDs and
// CreatedAt when they are empty. An item whose (Kind, Key) is already stored
// is left alone, not an error; its ID is set to the stored item's. A zero
// NextAttemptAt is set to CreatedAt: the item is due at once. ENOTFOUND if a
// tenant does not exist.
func (s *DB) EnqueueOutbox(ctx context.Context, items ...*cc.OutboxItem) (err error) {
	defer wrap(&err, "enqueue outbox items")
	if len(items) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error { return enqueueOutbox(ctx, tx, items) })
}

func enqueueOutbox(ctx context.Context, tx *sql.Tx, items []*cc.OutboxItem) error {
	for i, it := range items {
		if it == nil {
			return cc.Errorf(cc.EINVALID, "outbox item %d is nil", i)
		}
		if it.TenantID == "" || it.Kind == "" || it.Key == "" {
			return cc.Errorf(cc.EINVALID, "outbox item %d needs a tenant, a kind and a key", i)
		}
		it.ID = newID(it.ID, "obx")
		it.CreatedAt = created(it.CreatedAt)
		if it.NextAttemptAt.IsZero() {
			it.NextAttemptAt = it.CreatedAt
		}
		var e encoder
		args := []any{it.ID, it.TenantID, it.InteractionID, it.Kind, it.Key,
			e.raw(fmt.Sprintf("outbox item %s payload", it.Key), it.Payload), int64(it.Attempts),
			e.time("next attempt", it.NextAttemptAt), it.LastError, e.time("created at", it.CreatedAt),
			e.time("delivered at", it.DeliveredAt), it.Result}
		if e.err != nil {
			return e.err
		}
		var id string
		err := tx.QueryRowContext(ctx, `INSERT INTO outbox (`+outboxColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (kind, key) DO NOTHING RETURNING id`, args...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			err = tx.QueryRowContext(ctx, `SELECT id FROM outbox WHERE kind = ? AND key = ?`, it.Kind, it.Key).Scan(&id)
		}
		if err != nil {
			return constraintError(err, fmt.Sprintf("tenant %q not found", it.TenantID),
				conflict{"outbox.id", fmt.Sprintf("outbox item id %q already exists", it.ID)})
		}
		it.ID = id
	}
	return nil
}

// DueOutbox returns undelivered items due at or before now, by due time and
// then creation; limit 0 means DefaultOutboxLimit.
func (s *DB) DueOutbox(ctx context.Context, now time.Time, limit int) (_ []*cc.OutboxItem, err error) {
	defer wrap(&err, "list due outbox items")
	if limit < 0 {
		return nil, cc.Errorf(cc.EINVALID, "outbox limit %d: use 0 (the default of %d) or more", limit, DefaultOutboxLimit)
	}
	if limit == 0 {
		limit = DefaultOutboxLimit
	}
	at, err := timeArg("now", now)
	if err != nil {
		return nil, err
	}
	return queryAll(ctx, s.db, scanOutbox, `SELECT `+outboxColumns+` FROM outbox
		WHERE delivered_at IS NULL AND next_attempt_at <= ?
		ORDER BY next_attempt_at, created_at, id LIMIT ?`, at, limit)
}

func outboxNotFound(id string) error {
	return cc.Errorf(cc.ENOTFOUND, "outbox item %q not found", id)
}

// OutboxItem returns an item by id. ENOTFOUND if none.
func (s *DB) OutboxItem(ctx context.Context, id string) (_ *cc.OutboxItem, err error) {
	defer wrap(&err, "read outbox item %s", id)
	return queryOne(ctx, s.db, scanOutbox, outboxNotFound(id), `SELECT `+outboxColumns+` FROM outbox WHERE id = ?`, id)
}

// CompleteOutbox marks an item delivered with its result. Completing an
// item already delivered keeps the first delivery. ENOTFOUND if none.
func (s *DB) CompleteOutbox(ctx context.Context, id, result string, at time.Time) (err error) {
	defer wrap(&err, "complete outbox item %s", id)
	return s.inTx(ctx, func(tx *sql.Tx) error { return completeOutbox(ctx, tx, "", id, result, at) })
}

// completeOutbox marks an item delivered; a non-empty tenantID restricts it
// to that tenant's items.
func completeOutbox(ctx context.Context, tx *sql.Tx, tenantID, id, result string, at time.Time) error {
	if at.IsZero() {
		return cc.Errorf(cc.EINVALID, "outbox item %s: the delivery time is zero", id)
	}
	deliveredAt, err := timeArg("delivered at", at)
	if err != nil {
		return err
	}
	delivered, err := outboxDelivered(ctx, tx, tenantID, id)
	if err != nil || delivered {
		return err // a delivered item keeps its first delivery
	}
	_, err = tx.ExecContext(ctx, `UPDATE outbox SET delivered_at = ?, result = ? WHERE id = ?`, deliveredAt, result, id)
	return err
}

// outboxDelivered reports whether an item is delivered; ENOTFOUND if there is
// no such item (of tenantID, when it is not empty).
func outboxDelivered(ctx context.Context, tx *sql.Tx, tenantID, id string) (bool, error) {
	var delivered bool
	err := tx.QueryRowContext(ctx, `SELECT delivered_at IS NOT NULL FROM outbox WHERE id = ? AND (? = '' OR tenant_id = ?)`,
		id, tenantID, tenantID).Scan(&delivered)
	if errors.Is(err, sql.ErrNoRows) {
		return false, outboxNotFound(id)
	}
	return delivered, err
}

// RetryOutbox records a failed attempt: it counts the attempt, keeps the
// error and sets when to try next. ENOTFOUND if none; ECONFLICT if the item
// is already delivered.
func (s *DB) RetryOutbox(ctx context.Context, id, lastError string, next time.Time) (err error) {
	defer wrap(&err, "retry outbox item %s", id)
	if next.IsZero() {
		return cc.Errorf(cc.EINVALID, "outbox item %s: give the time of the next attempt", id)
	}
	at, err := timeArg("next attempt", next)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		delivered, err := outboxDelivered(ctx, tx, "", id)
		if err != nil {
			return err
		}
		if delivered {
			return cc.Errorf(cc.ECONFLICT, "outbox item %q is already delivered", id)
		}
		_, err = tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?
			WHERE id = ?`, lastError, at, id)
		return err
	})
}

// PendingOutbox counts undelivered items.
func (s *DB) PendingOutbox(ctx context.Context) (_ int, err error) {
	defer wrap(&err, "count pending outbox items")
	var n int
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE delivered_at IS NULL`).Scan(&n)
	return n, err
}

func scanOutbox(sc scanner) (*cc.OutboxItem, error) {
	var it cc.OutboxItem
	err := sc.Scan(&it.ID, &it.TenantID, &it.InteractionID, &it.Kind, &it.Key, rawCol{&it.Payload}, &it.Attempts,
		timeCol{&it.NextAttemptAt}, &it.LastError, timeCol{&it.CreatedAt}, timeCol{&it.DeliveredAt}, &it.Result)
	if err != nil {
		return nil, err
	}
	return &it, nil
}
