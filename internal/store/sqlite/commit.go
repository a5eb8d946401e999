package sqlite

import (
	"context"
	"database/sql"

	"github.com/parley-cc/parley/internal/cc"
)

var _ cc.Committer = (*DB)(nil)

// Commit applies a change in one transaction (see cc.Committer): one step of
// the contact center costs one commit, whatever it touched.
func (s *DB) Commit(ctx context.Context, ch *cc.Change) (err error) {
	defer wrap(&err, "commit change")
	creates := make([][]any, len(ch.Create))
	for i, it := range ch.Create {
		if err := checkInteraction(it, cc.InteractionChange{}); err != nil {
			return err
		}
		it.ID = newID(it.ID, "int")
		it.CreatedAt = created(it.CreatedAt)
		if creates[i], err = interactionArgs(it); err != nil {
			return err
		}
	}
	updates := make([][]any, len(ch.Update))
	for i, it := range ch.Update {
		if err := checkInteraction(it, cc.InteractionChange{}); err != nil {
			return err
		}
		if updates[i], err = interactionArgs(it); err != nil {
			return err
		}
	}
	presences := make([][]any, len(ch.Presences))
	for i, p := range ch.Presences {
		if presences[i], err = presenceArgs(p); err != nil {
			return err
		}
	}
	for i, ev := range ch.Events {
		if ev == nil || ev.TenantID == "" {
			return cc.Errorf(cc.EINVALID, "event %d has no tenant", i)
		}
	}
	for i, item := range ch.Outbox {
		if item == nil || item.TenantID == "" {
			return cc.Errorf(cc.EINVALID, "outbox item %d has no tenant", i)
		}
	}
	var seqs []int64
	if err := s.inTx(ctx, func(tx *sql.Tx) error {
		for i, it := range ch.Create {
			if err := insertInteraction(ctx, tx, it, creates[i]); err != nil {
				return err
			}
		}
		for i, it := range ch.Update {
			if err := updateInteraction(ctx, tx, it, updates[i]); err != nil {
				return err
			}
		}
		for i, p := range ch.Presences {
			if err := savePresence(ctx, tx, p, presences[i]); err != nil {
				return err
			}
		}
		if len(ch.Events) > 0 {
			var err error
			if seqs, err = appendEvents(ctx, tx, ch.Events); err != nil {
				return err
			}
		}
		if err := enqueueOutbox(ctx, tx, ch.Outbox); err != nil {
			return err
		}
		for _, item := range ch.Completed {
			if item == nil || item.ID == "" {
				return cc.Errorf(cc.EINVALID, "completed outbox item has no id")
			}
			tenant := item.TenantID
			if err := completeOutbox(ctx, tx, tenant, item.ID, item.Result, item.DeliveredAt); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	for _, it := range ch.Update {
		it.Version++
	}
	setSeqs(ch.Events, seqs)
	return nil
}
