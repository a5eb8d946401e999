package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
)

var _ cc.InteractionStore = (*DB)(nil)

const interactionColumns = `tenant_id, id, channel, direction, state, outcome,
	customer_number, customer_extension, customer_raw, customer_name, customer_withheld, customer_email,
	dialed_number, entry_point_id, queue_id, agent_id, trunk_id, sip_call_id, data,
	created_at, queued_at, offered_at, answered_at, ended_at, wrapped_at, offers, end_reason,
	disposition, notes, matches, lookup_error, linked_record,
	log_status, log_ref, log_error, log_text, screen_pop, version`

// Interaction list limits.
const (
	DefaultInteractionLimit = 100  // for a filter with Limit 0
	MaxInteractionLimit     = 1000 // larger limits are cut to this
)

// CreateInteraction stores a new interaction and its change in one
// transaction. It assigns an ID and CreatedAt when they are empty, and fills
// the tenant of the change's events and outbox items when they have none.
// On success the events' Seq are set.
func (s *DB) CreateInteraction(ctx context.Context, it *cc.Interaction, ch cc.InteractionChange) (err error) {
	defer wrap(&err, "create interaction in tenant %s", it.TenantID)
	if err := checkInteraction(it, ch); err != nil {
		return err
	}
	it.ID = newID(it.ID, "int")
	it.CreatedAt = created(it.CreatedAt)
	args, err := interactionArgs(it)
	if err != nil {
		return err
	}
	var seqs []int64
	if err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := insertInteraction(ctx, tx, it, args); err != nil {
			return err
		}
		seqs, err = writeChange(ctx, tx, it.TenantID, ch)
		return err
	}); err != nil {
		return err
	}
	setSeqs(ch.Events, seqs)
	return nil
}

func insertInteraction(ctx context.Context, tx *sql.Tx, it *cc.Interaction, args []any) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO interactions (`+interactionColumns+`)
		VALUES (`+placeholders(len(args))+`)`, args...)
	if err != nil {
		return constraintError(err, fmt.Sprintf("tenant %q not found", it.TenantID),
			conflict{"interactions.tenant_id, interactions.id", fmt.Sprintf("interaction %q already exists", it.ID)})
	}
	return nil
}

// updateInteraction writes it if its version is the stored one.
func updateInteraction(ctx context.Context, tx *sql.Tx, it *cc.Interaction, args []any) error {
	n, err := execCount(ctx, tx, updateInteractionSQL, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return versionConflict(ctx, tx, it)
	}
	return nil
}

// UpdateInteraction replaces an interaction's fields (all but TenantID, ID
// and CreatedAt) and stores its change, in one transaction, if the stored
// version is it.Version. ENOTFOUND if the tenant has no such interaction;
// ECONFLICT if the version differs, and then nothing is written. On success
// it.Version is incremented and the events' Seq are set.
func (s *DB) UpdateInteraction(ctx context.Context, it *cc.Interaction, ch cc.InteractionChange) (err error) {
	defer wrap(&err, "update interaction %s", it.ID)
	if err := checkInteraction(it, ch); err != nil {
		return err
	}
	args, err := interactionArgs(it)
	if err != nil {
		return err
	}
	var seqs []int64
	if err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := updateInteraction(ctx, tx, it, args); err != nil {
			return err
		}
		seqs, err = writeChange(ctx, tx, it.TenantID, ch)
		return err
	}); err != nil {
		return err
	}
	it.Version++
	setSeqs(ch.Events, seqs)
	return nil
}

// updateInteractionSQL sets every column of interactionColumns but
// tenant_id, id and created_at from interactionArgs, and moves the version on
// by one if it is still the given one (the last argument).
var updateInteractionSQL = func() string {
	cols := strings.Split(interactionColumns, ",")
	var set []string
	for i, col := range cols {
		switch col = strings.TrimSpace(col); col {
		case "tenant_id", "id", "created_at":
		case "version":
			set = append(set, "version = version + 1")
		default:
			set = append(set, fmt.Sprintf("%s = ?%d", col, i+1))
		}
	}
	return `UPDATE interactions SET ` + strings.Join(set, ", ") +
		fmt.Sprintf(` WHERE tenant_id = ?1 AND id = ?2 AND version = ?%d`, len(cols))
}()

// versionConflict explains why an update matched no row.
func versionConflict(ctx context.Context, tx *sql.Tx, it *cc.Interaction) error {
	var stored int64
	err := tx.QueryRowContext(ctx, `SELECT version FROM interactions WHERE tenant_id = ? AND id = ?`, it.TenantID, it.ID).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		return interactionNotFound(it.ID)
	}
	if err != nil {
		return err
	}
	return cc.Errorf(cc.ECONFLICT, "interaction %s was changed meanwhile (version %d, not %d): read it again and retry", it.ID, stored, it.Version)
}

func interactionNotFound(id string) error { return cc.ErrInteractionNotFound(id) }

// checkInteraction checks what the store relies on, and gives the change's
// events and outbox items the interaction's tenant when they have none.
func checkInteraction(it *cc.Interaction, ch cc.InteractionChange) error {
	if it.TenantID == "" {
		return cc.Errorf(cc.EINVALID, "interaction has no tenant")
	}
	switch it.State {
	case cc.InteractionQueued, cc.InteractionOffered, cc.InteractionConnected, cc.InteractionEnded:
	default:
		return cc.Errorf(cc.EINVALID, "interaction state %q: use queued, offered, connected or ended", it.State)
	}
	for i, ev := range ch.Events {
		if ev == nil {
			return cc.Errorf(cc.EINVALID, "event %d is nil", i)
		}
		if err := sameTenant(&ev.TenantID, it.TenantID, "event %d (%s)", i, ev.Type); err != nil {
			return err
		}
	}
	for i, item := range ch.Outbox {
		if item == nil {
			return cc.Errorf(cc.EINVALID, "outbox item %d is nil", i)
		}
		if err := sameTenant(&item.TenantID, it.TenantID, "outbox item %s", item.Key); err != nil {
			return err
		}
	}
	for i, item := range ch.Completed {
		if item == nil || item.ID == "" {
			return cc.Errorf(cc.EINVALID, "completed outbox item %d has no id", i)
		}
	}
	return nil
}

// sameTenant sets an empty *tenant to want and fails when *tenant is another
// tenant.
func sameTenant(tenant *string, want string, format string, args ...any) error {
	if *tenant == "" {
		*tenant = want
	}
	if *tenant != want {
		return cc.Errorf(cc.EINVALID, "%s belongs to tenant %s, not to the interaction's", fmt.Sprintf(format, args...), *tenant)
	}
	return nil
}

// writeChange writes an interaction's events, new outbox items and
// deliveries in tx, and returns the events' sequence numbers.
func writeChange(ctx context.Context, tx *sql.Tx, tenantID string, ch cc.InteractionChange) ([]int64, error) {
	var seqs []int64
	if len(ch.Events) > 0 {
		var err error
		if seqs, err = appendEvents(ctx, tx, ch.Events); err != nil {
			return nil, err
		}
	}
	if err := enqueueOutbox(ctx, tx, ch.Outbox); err != nil {
		return nil, err
	}
	for _, item := range ch.Completed {
		if err := completeOutbox(ctx, tx, tenantID, item.ID, item.Result, item.DeliveredAt); err != nil {
			return nil, err
		}
	}
	return seqs, nil
}

// Interaction returns an interaction of the tenant. ENOTFOUND if none.
func (s *DB) Interaction(ctx context.Context, tenantID, id string) (_ *cc.Interaction, err error) {
	defer wrap(&err, "read interaction %s", id)
	return queryOne(ctx, s.db, scanInteraction, interactionNotFound(id),
		`SELECT `+interactionColumns+` FROM interactions WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

// Interactions returns the tenant's interactions that match every filter
// that is set, newest first. Limit 0 means DefaultInteractionLimit; more than
// MaxInteractionLimit is cut to it.
func (s *DB) Interactions(ctx context.Context, f cc.InteractionFilter) (_ []*cc.Interaction, err error) {
	defer wrap(&err, "list interactions of tenant %s", f.TenantID)
	if f.TenantID == "" {
		return nil, cc.Errorf(cc.EINVALID, "interaction filter has no tenant")
	}
	if f.Limit < 0 {
		return nil, cc.Errorf(cc.EINVALID, "interaction limit %d: use 0 (the default of %d) to %d", f.Limit, DefaultInteractionLimit, MaxInteractionLimit)
	}
	limit := f.Limit
	if limit == 0 {
		limit = DefaultInteractionLimit
	}
	limit = min(limit, MaxInteractionLimit)
	var e encoder
	var c conditions
	c.add("tenant_id = ?", f.TenantID)
	c.equal("agent_id", f.AgentID)
	c.equal("queue_id", f.QueueID)
	in(&c, "state", f.States)
	if !f.Since.IsZero() {
		c.add("created_at >= ?", e.time("since", f.Since))
	}
	if !f.Before.IsZero() {
		c.add("created_at < ?", e.time("before", f.Before))
	}
	if e.err != nil {
		return nil, e.err
	}
	return queryAll(ctx, s.db, scanInteraction, `SELECT `+interactionColumns+` FROM interactions WHERE `+c.sql()+
		` ORDER BY created_at DESC, id DESC LIMIT ?`, append(c.args, limit)...)
}

// OpenInteractions returns every interaction of any tenant that is not
// ended, or that ended answered and has no wrap-up yet, oldest first.
func (s *DB) OpenInteractions(ctx context.Context) (_ []*cc.Interaction, err error) {
	defer wrap(&err, "list open interactions")
	return queryAll(ctx, s.db, scanInteraction, `SELECT `+interactionColumns+` FROM interactions
		WHERE state <> 'ended' OR (wrapped_at IS NULL AND outcome = 'answered')
		ORDER BY created_at, tenant_id, id`)
}

// interactionArgs returns the column values of it in interactionColumns order.
func interactionArgs(it *cc.Interaction) ([]any, error) {
	var e encoder
	c := it.Customer
	args := []any{it.TenantID, it.ID, string(it.Channel), string(it.Direction), string(it.State), string(it.Outcome),
		c.Number, c.Extension, c.Raw, c.Name, c.Withheld, c.Email,
		it.DialedNumber, it.EntryPointID, it.QueueID, it.AgentID, it.TrunkID, it.SIPCallID, e.json("data", it.Data),
		e.time("created at", it.CreatedAt), e.time("queued at", it.QueuedAt), e.time("offered at", it.OfferedAt),
		e.time("answered at", it.AnsweredAt), e.time("ended at", it.EndedAt), e.time("wrapped at", it.WrappedAt),
		int64(it.Offers), it.EndReason, it.Disposition, it.Notes, e.json("CRM matches", it.Matches), it.LookupError,
		e.json("linked record", it.LinkedRecord), string(it.LogStatus), it.LogRef, it.LogError, it.LogText, string(it.ScreenPop), it.Version}
	return args, e.err
}

func scanInteraction(sc scanner) (*cc.Interaction, error) {
	var it cc.Interaction
	c := &it.Customer
	err := sc.Scan(&it.TenantID, &it.ID, &it.Channel, &it.Direction, &it.State, &it.Outcome,
		&c.Number, &c.Extension, &c.Raw, &c.Name, &c.Withheld, &c.Email,
		&it.DialedNumber, &it.EntryPointID, &it.QueueID, &it.AgentID, &it.TrunkID, &it.SIPCallID, jsonCol{&it.Data},
		timeCol{&it.CreatedAt}, timeCol{&it.QueuedAt}, timeCol{&it.OfferedAt},
		timeCol{&it.AnsweredAt}, timeCol{&it.EndedAt}, timeCol{&it.WrappedAt},
		&it.Offers, &it.EndReason, &it.Disposition, &it.Notes, jsonCol{&it.Matches}, &it.LookupError,
		jsonCol{&it.LinkedRecord}, &it.LogStatus, &it.LogRef, &it.LogError, &it.LogText, &it.ScreenPop, &it.Version)
	if err != nil {
		return nil, err
	}
	return &it, nil
}
