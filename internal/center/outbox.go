package center

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// Outbox retry policy (Options.Retry*): exponential from 2s to 5m with
// jitter for errors that may pass (CRM down, limits); one hour for errors
// that need a person (bad configuration, rejected data), so that a fix is
// picked up without a restart and nothing is dropped.
const outboxBatch = 20

func (c *Center) kickOutbox() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// outboxLoop delivers due outbox items until ctx ends.
func (c *Center) outboxLoop(ctx context.Context) {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	for {
		next := c.deliverDue(ctx)
		if next <= 0 || next > 30*time.Second {
			next = 30 * time.Second
		}
		t.Reset(next)
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		case <-t.C:
		}
	}
}

// deliverDue delivers what is due and returns how long to sleep.
func (c *Center) deliverDue(ctx context.Context) time.Duration {
	for ctx.Err() == nil {
		items, err := c.store.DueOutbox(ctx, c.clock(), outboxBatch)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Error("read outbox", "error", err)
			}
			return 5 * time.Second
		}
		if len(items) == 0 {
			// Items waiting for a retry are polled every second; an idle
			// outbox sleeps until kicked.
			if n, err := c.store.PendingOutbox(ctx); err == nil && n > 0 {
				return time.Second
			}
			return 30 * time.Second
		}
		for _, item := range items {
			if ctx.Err() != nil {
				return 0
			}
			c.deliver(ctx, item)
		}
		if len(items) < outboxBatch {
			return time.Second
		}
	}
	return 0
}

func (c *Center) deliver(ctx context.Context, item *cc.OutboxItem) {
	ts, err := c.tenantState(item.TenantID)
	if err != nil {
		c.retry(ctx, item, err, c.opts.RetryPermanent)
		return
	}
	if item.Kind != cc.OutboxCRMLog {
		c.retry(ctx, item, errors.New("unknown outbox kind "+item.Kind), c.opts.RetryPermanent)
		return
	}
	var log cc.CallLog
	if err := json.Unmarshal(item.Payload, &log); err != nil {
		c.retry(ctx, item, err, c.opts.RetryPermanent)
		return
	}
	ts.mu.Lock()
	tenant := ts.tenant
	c.unlock(ts)
	if c.crm == nil || tenant.CRM.Kind == "" {
		c.complete(ctx, ts, item, "", cc.LogSkipped, "")
		return
	}
	crm, err := c.crm.CRM(ctx, tenant)
	if err == nil && crm == nil {
		c.complete(ctx, ts, item, "", cc.LogSkipped, "")
		return
	}
	if err != nil {
		c.failed(ctx, ts, item, err)
		return
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	ref, err := crm.WriteLog(wctx, &log)
	cancel()
	if err != nil {
		c.failed(ctx, ts, item, err)
		return
	}
	c.metric.logs.WithLabelValues("delivered").Inc()
	c.complete(ctx, ts, item, ref, cc.LogDelivered, "")
}

// failed records a failed delivery and schedules the next attempt.
func (c *Center) failed(ctx context.Context, ts *tenantState, item *cc.OutboxItem, err error) {
	if ctx.Err() != nil {
		return // shutting down: the item stays due
	}
	c.metric.logs.WithLabelValues("failed").Inc()
	var wait time.Duration
	switch cc.ErrorCode(err) {
	case cc.EINVALID, cc.EFORBIDDEN, cc.ENOTFOUND:
		wait = c.opts.RetryPermanent
	default:
		wait = backoff(item.Attempts, c.opts.RetryMin, c.opts.RetryMax)
	}
	var ra cc.RetryAfter
	if errors.As(err, &ra) && ra.RetryAfter() > wait {
		wait = ra.RetryAfter()
	}
	c.log.Warn("CRM log not delivered; will retry", "interaction", item.InteractionID, "attempt", item.Attempts+1, "retry_in", wait.Round(time.Second), "error", err)
	c.retry(ctx, item, err, wait)
	ts.mu.Lock()
	defer c.unlock(ts)
	it, lerr := c.loadInteractionLocked(ctx, ts, item.InteractionID)
	if lerr != nil {
		return
	}
	msg := cc.ErrorMessage(err)
	if it.LogError == msg {
		return
	}
	it.LogError = msg
	e := c.interactionEvent(ts, it, cc.EventInteractionLogFailed, c.clock(), "retrying in "+wait.Round(time.Second).String(), msg)
	c.saveLocked(ctx, ts, it, nil, e)
}

func (c *Center) retry(ctx context.Context, item *cc.OutboxItem, err error, wait time.Duration) {
	if rerr := c.store.RetryOutbox(ctx, item.ID, err.Error(), c.clock().Add(wait)); rerr != nil {
		c.log.Error("record outbox retry", "item", item.ID, "error", rerr)
	}
}

// complete marks an item delivered together with the interaction's log
// status, in one transaction.
func (c *Center) complete(ctx context.Context, ts *tenantState, item *cc.OutboxItem, ref string, status cc.LogStatus, _ string) {
	ts.mu.Lock()
	defer c.unlock(ts)
	now := c.clock()
	done := &cc.OutboxItem{ID: item.ID, Result: ref, DeliveredAt: now}
	it, err := c.loadInteractionLocked(ctx, ts, item.InteractionID)
	if err != nil {
		if cerr := c.store.CompleteOutbox(ctx, item.ID, ref, now); cerr != nil {
			c.log.Error("complete outbox item", "item", item.ID, "error", cerr)
		}
		return
	}
	it.LogStatus = status
	it.LogError = ""
	if ref != "" {
		it.LogRef = ref
	}
	var events []*cc.Event
	if status == cc.LogDelivered {
		events = append(events, c.interactionEvent(ts, it, cc.EventInteractionLogged, now, "", ref))
	}
	ts.touchLocked(it)
	ts.eventsLocked(events...)
	ts.batch.change.Completed = append(ts.batch.change.Completed, done)
}

func backoff(attempts int, lo, hi time.Duration) time.Duration {
	d := lo << min(attempts, 10)
	if d > hi || d <= 0 {
		d = hi
	}
	// full jitter in [d/2, d]
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// loadInteractionLocked returns the live copy of an interaction when the
// center holds one, else the stored one.
func (c *Center) loadInteractionLocked(ctx context.Context, ts *tenantState, id string) (*cc.Interaction, error) {
	if cl := ts.live[id]; cl != nil {
		return cl.it, nil
	}
	if oc := ts.outbound[id]; oc != nil {
		return oc.it, nil
	}
	if it := ts.wrapping[id]; it != nil {
		return it, nil
	}
	if pw := ts.pending[id]; pw != nil {
		// written (or being written) by an earlier step: newer than, or
		// the same as, what the store would give
		cp := pw.it
		return &cp, nil
	}
	return c.store.Interaction(ctx, ts.tenant.ID, id)
}
