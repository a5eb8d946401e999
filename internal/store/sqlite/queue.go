package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/parley-cc/parley/internal/cc"
)

var _ cc.QueueStore = (*DB)(nil)

const queueColumns = `tenant_id, id, name, priority, skills, service_level, wrap_up,
	offer_timeout, max_wait, overflow_queue_id, dispositions, announcement, hold_music, created_at,
	screen_pop, search_fields`

// CreateQueue stores a new queue. It assigns an ID and CreatedAt when they
// are empty. ECONFLICT if the name is taken in the tenant (case-insensitively);
// ENOTFOUND if the tenant does not exist.
func (s *DB) CreateQueue(ctx context.Context, q *cc.Queue) (err error) {
	defer wrap(&err, "create queue %s", q.Name)
	if err := q.Validate(); err != nil {
		return err
	}
	q.ID = newID(q.ID, "que")
	q.CreatedAt = created(q.CreatedAt)
	args, err := queueArgs(q)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO queues (`+queueColumns+`, name_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		return queueConflict(ctx, tx, err, q)
	})
}

// UpdateQueue replaces a queue's fields (all but TenantID, ID and
// CreatedAt). ENOTFOUND if the tenant has no such queue; ECONFLICT if the new
// name is taken.
func (s *DB) UpdateQueue(ctx context.Context, q *cc.Queue) (err error) {
	defer wrap(&err, "update queue %s", q.ID)
	if err := q.Validate(); err != nil {
		return err
	}
	args, err := queueArgs(q)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		err := execOne(ctx, tx, queueNotFound(q.ID), `UPDATE queues SET
			name = ?3, priority = ?4, skills = ?5, service_level = ?6, wrap_up = ?7,
			offer_timeout = ?8, max_wait = ?9, overflow_queue_id = ?10, dispositions = ?11,
			announcement = ?12, hold_music = ?13, screen_pop = ?15, search_fields = ?16, name_key = ?17
			WHERE tenant_id = ?1 AND id = ?2`, args...)
		return queueConflict(ctx, tx, err, q)
	})
}

func queueConflict(ctx context.Context, q querier, err error, qu *cc.Queue) error {
	return scopedConstraintError(ctx, q, err, qu.TenantID, fmt.Sprintf("tenant %q not found", qu.TenantID),
		func(tenant string) []conflict {
			return []conflict{
				{"queues.tenant_id, queues.name_key", fmt.Sprintf("queue name %q is already taken in tenant %s", qu.Name, tenant)},
				{"queues.tenant_id, queues.id", fmt.Sprintf("queue id %q already exists in tenant %s", qu.ID, tenant)},
			}
		})
}

func queueNotFound(id string) error {
	return cc.Errorf(cc.ENOTFOUND, "queue %q not found", id)
}

// Queue returns a queue of the tenant by id. ENOTFOUND if none.
func (s *DB) Queue(ctx context.Context, tenantID, id string) (_ *cc.Queue, err error) {
	defer wrap(&err, "read queue %s", id)
	return queryOne(ctx, s.db, scanQueue, queueNotFound(id),
		`SELECT `+queueColumns+` FROM queues WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

// QueueByName returns a queue of the tenant by name (case-insensitive).
// ENOTFOUND if none.
func (s *DB) QueueByName(ctx context.Context, tenantID, name string) (_ *cc.Queue, err error) {
	defer wrap(&err, "read queue %s", name)
	return queryOne(ctx, s.db, scanQueue, cc.Errorf(cc.ENOTFOUND, "queue %q not found", name),
		`SELECT `+queueColumns+` FROM queues WHERE tenant_id = ? AND name_key = ?`, tenantID, nameKey(name))
}

// Queues returns the tenant's queues ordered by name (case-insensitively).
func (s *DB) Queues(ctx context.Context, tenantID string) (_ []*cc.Queue, err error) {
	defer wrap(&err, "list queues of tenant %s", tenantID)
	return queryAll(ctx, s.db, scanQueue,
		`SELECT `+queueColumns+` FROM queues WHERE tenant_id = ? ORDER BY name_key, id`, tenantID)
}

// queueArgs returns the column values of q in queueColumns order, then the
// name key.
func queueArgs(q *cc.Queue) ([]any, error) {
	var e encoder
	args := []any{q.TenantID, q.ID, q.Name, int64(q.Priority), e.json("skills", q.Skills),
		int64(q.ServiceLevel), int64(q.WrapUp), int64(q.OfferTimeout), int64(q.MaxWait),
		q.OverflowQueueID, e.json("dispositions", q.Dispositions), q.Announcement, q.HoldMusic,
		e.time("created at", q.CreatedAt), string(q.ScreenPop), e.json("search fields", q.SearchFields), nameKey(q.Name)}
	return args, e.err
}

func scanQueue(sc scanner) (*cc.Queue, error) {
	var q cc.Queue
	err := sc.Scan(&q.TenantID, &q.ID, &q.Name, &q.Priority, jsonCol{&q.Skills},
		durationCol{&q.ServiceLevel}, durationCol{&q.WrapUp}, durationCol{&q.OfferTimeout},
		durationCol{&q.MaxWait}, &q.OverflowQueueID, jsonCol{&q.Dispositions}, &q.Announcement,
		&q.HoldMusic, timeCol{&q.CreatedAt}, &q.ScreenPop, jsonCol{&q.SearchFields})
	if err != nil {
		return nil, err
	}
	return &q, nil
}
