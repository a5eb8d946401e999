package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/parley-cc/parley/internal/cc"
)

var _ cc.EventStore = (*DB)(nil)

const eventColumns = `tenant_id, seq, type, at, interaction_id, user_id, queue_id, data`

// DefaultEventLimit is how many events Events returns when the filter sets
// no limit.
const DefaultEventLimit = 1000

// AppendEvents stores events in one transaction, assigning each its tenant's
// next sequence number; on success each Event.Seq is set. Events of several
// tenants may be appended together. ENOTFOUND if a tenant does not exist.
func (s *DB) AppendEvents(ctx context.Context, events ...*cc.Event) (err error) {
	defer wrap(&err, "append events")
	if len(events) == 0 {
		return nil
	}
	var seqs []int64
	if err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		seqs, err = appendEvents(ctx, tx, events)
		return err
	}); err != nil {
		return err
	}
	setSeqs(events, seqs)
	return nil
}

// appendEvents writes events in tx and returns their sequence numbers, in
// order, for the caller to set once the transaction has committed. Each
// tenant's counter in tenant_seq moves once per call, by the number of its
// events, so the sequence has no gaps.
func appendEvents(ctx context.Context, tx *sql.Tx, events []*cc.Event) ([]int64, error) {
	count := map[string]int64{}
	var tenants []string
	for i, ev := range events {
		if ev == nil {
			return nil, cc.Errorf(cc.EINVALID, "event %d is nil", i)
		}
		if ev.TenantID == "" {
			return nil, cc.Errorf(cc.EINVALID, "event %d (%s) has no tenant", i, ev.Type)
		}
		if ev.Type == "" {
			return nil, cc.Errorf(cc.EINVALID, "event %d has no type", i)
		}
		if ev.Type == cc.EventQueueStatus {
			return nil, cc.Errorf(cc.EINVALID, "event %d: %s events travel only on the bus and are not stored", i, ev.Type)
		}
		if count[ev.TenantID] == 0 {
			tenants = append(tenants, ev.TenantID)
		}
		count[ev.TenantID]++
	}
	next := map[string]int64{}
	for _, t := range tenants {
		var last int64
		err := tx.QueryRowContext(ctx, `INSERT INTO tenant_seq (tenant_id, seq) VALUES (?, ?)
			ON CONFLICT (tenant_id) DO UPDATE SET seq = seq + excluded.seq
			RETURNING seq`, t, count[t]).Scan(&last)
		if err != nil {
			return nil, constraintError(err, fmt.Sprintf("tenant %q not found", t))
		}
		next[t] = last - count[t] + 1
	}
	seqs := make([]int64, len(events))
	for i, ev := range events {
		seqs[i] = next[ev.TenantID]
		next[ev.TenantID]++
		var e encoder
		args := []any{ev.TenantID, seqs[i], string(ev.Type), e.time("event time", ev.At), ev.InteractionID,
			ev.UserID, ev.QueueID, e.raw(fmt.Sprintf("event %d (%s) data", i, ev.Type), ev.Data)}
		if e.err != nil {
			return nil, e.err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO events (`+eventColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
			return nil, err
		}
	}
	return seqs, nil
}

func setSeqs(events []*cc.Event, seqs []int64) {
	for i, ev := range events {
		ev.Seq = seqs[i]
	}
}

// Events returns the tenant's events in sequence order, after AfterSeq and
// matching every filter that is set; Limit 0 means DefaultEventLimit.
func (s *DB) Events(ctx context.Context, f cc.EventFilter) (_ []*cc.Event, err error) {
	defer wrap(&err, "list events of tenant %s", f.TenantID)
	if f.TenantID == "" {
		return nil, cc.Errorf(cc.EINVALID, "event filter has no tenant")
	}
	if f.Limit < 0 {
		return nil, cc.Errorf(cc.EINVALID, "event limit %d: use 0 (the default of %d) or more", f.Limit, DefaultEventLimit)
	}
	limit := f.Limit
	if limit == 0 {
		limit = DefaultEventLimit
	}
	var c conditions
	c.add("tenant_id = ?", f.TenantID)
	c.add("seq > ?", f.AfterSeq)
	c.equal("interaction_id", f.InteractionID)
	c.equal("user_id", f.UserID)
	in(&c, "type", f.Types)
	return queryAll(ctx, s.db, scanEvent, `SELECT `+eventColumns+` FROM events WHERE `+c.sql()+
		` ORDER BY seq LIMIT ?`, append(c.args, limit)...)
}

func scanEvent(sc scanner) (*cc.Event, error) {
	var ev cc.Event
	if err := sc.Scan(&ev.TenantID, &ev.Seq, &ev.Type, timeCol{&ev.At}, &ev.InteractionID, &ev.UserID, &ev.QueueID, rawCol{&ev.Data}); err != nil {
		return nil, err
	}
	return &ev, nil
}
