package center

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/crmlog"
)

// WrapUp records an agent's notes and disposition. During wrap-up it ends
// the wrap-up (the log is written and the agent moves on); afterwards it
// corrects the interaction and rewrites its CRM log (the same Task).
func (c *Center) WrapUp(ctx context.Context, p *cc.Principal, id string, w cc.WrapUp) (*cc.Interaction, error) {
	ts, err := c.tenantState(p.Tenant.ID)
	if err != nil {
		return nil, err
	}
	ts.mu.Lock()
	defer c.unlock(ts)
	it, err := c.visibleInteractionLocked(ctx, ts, p, id)
	if err != nil {
		return nil, err
	}
	if !p.CanSeeTenant() && it.AgentID != p.User.ID {
		return nil, cc.ErrInteractionNotFound(id)
	}
	if it.State != cc.InteractionEnded {
		return nil, cc.Errorf(cc.ECONFLICT, "interaction %s is still %s: wrap up after it ends", id, it.State)
	}
	q := ts.queues[it.QueueID]
	dispositions := ts.tenant.Dispositions
	if q != nil {
		dispositions = q.DispositionsFor(ts.tenant)
	}
	if err := w.Validate(dispositions); err != nil {
		return nil, err
	}
	if w.RecordID != "" {
		if _, ok := findMatch(it, w.RecordID); !ok {
			return nil, cc.Errorf(cc.EINVALID, "record %s is not one of this interaction's CRM matches", w.RecordID)
		}
	}
	if live := ts.wrapping[it.ID]; live != nil {
		if err := c.finishWrapUpLocked(ctx, ts, live, &w, p.User.Username); err != nil {
			return nil, err
		}
		cp := *live
		return &cp, nil
	}
	if it.WrappedAt.IsZero() {
		// Ended without a live wrap-up (e.g. before a restart): finish it now.
		if err := c.finishWrapUpLocked(ctx, ts, it, &w, p.User.Username); err != nil {
			return nil, err
		}
		return it, nil
	}
	// A correction after wrap-up: fields left empty keep their value, so an
	// empty body cannot wipe notes by accident.
	if strings.TrimSpace(w.Notes) == "" && w.Disposition == "" && w.RecordID == "" {
		return nil, cc.Errorf(cc.EINVALID, "interaction %s is already wrapped up: give the notes, disposition or record to correct", id)
	}
	if strings.TrimSpace(w.Notes) == "" {
		w.Notes = it.Notes
	}
	if w.Disposition == "" {
		w.Disposition = it.Disposition
	}
	applyWrapUp(it, &w)
	c.logLocked(ctx, ts, it, []*cc.Event{c.interactionEvent(ts, it, cc.EventInteractionWrapped, c.clock(), "corrected by "+p.User.Username, "")})
	return it, nil
}

// Link links the interaction to one of its CRM matches (the agent's pick).
func (c *Center) Link(ctx context.Context, p *cc.Principal, id, recordID string) (*cc.Interaction, error) {
	ts, err := c.tenantState(p.Tenant.ID)
	if err != nil {
		return nil, err
	}
	ts.mu.Lock()
	defer c.unlock(ts)
	it, err := c.visibleInteractionLocked(ctx, ts, p, id)
	if err != nil {
		return nil, err
	}
	rec, ok := findMatch(it, recordID)
	if !ok {
		return nil, cc.Errorf(cc.EINVALID, "record %q is not one of this interaction's CRM matches", recordID)
	}
	it.LinkedRecord = &rec
	e := c.interactionEvent(ts, it, cc.EventInteractionLinked, c.clock(), "linked by "+p.User.Username, "")
	if !it.WrappedAt.IsZero() {
		// Already logged: rewrite the log with the new link.
		c.logLocked(ctx, ts, it, []*cc.Event{e})
	} else {
		c.saveLocked(ctx, ts, it, nil, e)
	}
	cp := *it
	return &cp, nil
}

func findMatch(it *cc.Interaction, id string) (cc.CRMRecord, bool) {
	for _, m := range it.Matches {
		if m.ID == id || (len(id) == 15 && len(m.ID) == 18 && strings.HasPrefix(m.ID, id)) {
			return m, true
		}
	}
	return cc.CRMRecord{}, false
}

func applyWrapUp(it *cc.Interaction, w *cc.WrapUp) {
	if w == nil {
		return
	}
	it.Notes = w.Notes
	it.Disposition = w.Disposition
	if w.RecordID != "" {
		if rec, ok := findMatch(it, w.RecordID); ok {
			it.LinkedRecord = &rec
		}
	}
}

// finishWrapUpLocked ends an interaction's wrap-up: notes and disposition
// (w may be nil when the time ran out), the log into the outbox, and the
// agent to its next state.
func (c *Center) finishWrapUpLocked(ctx context.Context, ts *tenantState, it *cc.Interaction, w *cc.WrapUp, by string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	now := c.clock()
	applyWrapUp(it, w)
	it.WrappedAt = now
	delete(ts.wrapping, it.ID)
	c.logLocked(ctx, ts, it, []*cc.Event{c.interactionEvent(ts, it, cc.EventInteractionWrapped, now, by, "")})
	if a := ts.agents[it.AgentID]; a != nil && a.presence.State == cc.StateWrapUp && a.presence.InteractionID == it.ID {
		a.stopTimer()
		if err := c.setPresenceLocked(ctx, ts, a, cc.PresenceChange{Op: cc.OpWrapUpDone, At: now}); err != nil {
			return err
		}
	}
	return nil
}

// logLocked builds the interaction's CRM log and stores it with the
// interaction in one transaction, in the outbox when the tenant has a CRM.
func (c *Center) logLocked(ctx context.Context, ts *tenantState, it *cc.Interaction, events []*cc.Event) {
	qname, aname := names{ts}.QueueName(it.QueueID), names{ts}.AgentName(it.AgentID)
	log, full := crmlog.Build(crmlog.Input{Tenant: ts.tenant, Interaction: it, QueueName: qname, AgentName: aname})
	it.LogText = full
	var outbox []*cc.OutboxItem
	if ts.tenant.CRM.Kind == "" {
		it.LogStatus = cc.LogSkipped
	} else {
		payload, err := json.Marshal(log)
		if err != nil {
			c.log.Error("marshal CRM log", "interaction", it.ID, "error", err)
		} else {
			it.LogStatus = cc.LogPending
			it.LogError = ""
			outbox = append(outbox, &cc.OutboxItem{
				ID:            cc.NewID("obx"),
				TenantID:      it.TenantID,
				InteractionID: it.ID,
				Kind:          cc.OutboxCRMLog,
				// One item per version of the log: a correction after
				// delivery is a new item, delivered to the same Task.
				Key:           it.ID + "#" + strconv.FormatInt(it.Version+1, 10),
				Payload:       payload,
				CreatedAt:     c.clock(),
				NextAttemptAt: c.clock(),
			})
		}
	}
	c.saveLocked(ctx, ts, it, outbox, events...)
}
