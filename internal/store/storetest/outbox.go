package storetest

import (
	"encoding/json"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

func outboxItem(t *cc.Tenant, key string, next, created time.Time) *cc.OutboxItem {
	return &cc.OutboxItem{TenantID: t.ID, InteractionID: key, Kind: cc.OutboxCRMLog, Key: key,
		Payload: json.RawMessage(`{"key":"` + key + `"}`), NextAttemptAt: next, CreatedAt: created}
}

func outboxKeys(list []*cc.OutboxItem) []string {
	return ids(list, func(it *cc.OutboxItem) string { return it.Key })
}

func (f *fixture) pending(want int, what string) {
	f.t.Helper()
	n, err := f.s.PendingOutbox(f.ctx)
	f.must(err, "count pending outbox items")
	if n != want {
		f.t.Errorf("%s: %d pending outbox items, want %d", what, n, want)
	}
}

func (f *fixture) due(now time.Time, limit int, want []string, what string) {
	f.t.Helper()
	list, err := f.s.DueOutbox(f.ctx, now, limit)
	f.must(err, "list due outbox items")
	f.equal(outboxKeys(list), want, "%s", what)
}

func testOutbox(f *fixture) {
	acme, globex := f.tenant("acme"), f.tenant("globex")
	a := outboxItem(acme, "a", at(time.Minute), t0)
	b := outboxItem(acme, "b", time.Time{}, at(30*time.Second)) // due when created
	c := outboxItem(globex, "c", at(time.Minute), at(10*time.Second))
	d := outboxItem(acme, "d", at(10*time.Minute), t0)
	f.must(f.s.EnqueueOutbox(f.ctx, a, b, c, d), "enqueue outbox items")
	if a.ID == "" || a.ID == b.ID {
		f.t.Fatalf("EnqueueOutbox assigned ids %q and %q", a.ID, b.ID)
	}
	got, err := f.s.OutboxItem(f.ctx, a.ID)
	f.must(err, "read outbox item")
	f.equal(got, a, "outbox item")

	// Due order: by due time, then by creation; a zero due time is due at once.
	f.due(at(5*time.Minute), 0, []string{"b", "a", "c"}, "due items")
	f.due(at(5*time.Minute), 2, []string{"b", "a"}, "due items with a limit")
	f.due(at(30*time.Second), 0, []string{"b"}, "items due at the time given")
	f.due(at(-time.Hour), 0, nil, "items due before any")
	f.pending(4, "after enqueue")

	f.must(f.s.RetryOutbox(f.ctx, a.ID, "503 Service Unavailable", at(20*time.Minute)), "retry")
	f.must(f.s.RetryOutbox(f.ctx, a.ID, "REQUEST_LIMIT_EXCEEDED", at(25*time.Minute)), "retry again")
	a.Attempts, a.LastError, a.NextAttemptAt = 2, "REQUEST_LIMIT_EXCEEDED", at(25*time.Minute)
	got, err = f.s.OutboxItem(f.ctx, a.ID)
	f.must(err, "read retried outbox item")
	f.equal(got, a, "retried outbox item")
	f.due(at(5*time.Minute), 0, []string{"b", "c"}, "due items after a retry")

	f.must(f.s.CompleteOutbox(f.ctx, b.ID, "00T123", at(2*time.Minute)), "complete")
	b.Result, b.DeliveredAt = "00T123", at(2*time.Minute)
	b.NextAttemptAt = b.CreatedAt // a zero due time reads as the creation time
	got, err = f.s.OutboxItem(f.ctx, b.ID)
	f.must(err, "read completed outbox item")
	f.equal(got, b, "completed outbox item")
	f.must(f.s.CompleteOutbox(f.ctx, b.ID, "00T999", at(3*time.Minute)), "complete twice")
	got, err = f.s.OutboxItem(f.ctx, b.ID)
	f.must(err, "read outbox item completed twice")
	f.equal(got, b, "outbox item completed twice keeps its first delivery")
	f.wantCode(f.s.RetryOutbox(f.ctx, b.ID, "late failure", at(time.Hour)), cc.ECONFLICT, "retry a delivered item")
	f.pending(3, "after a delivery")
	f.due(at(time.Hour), 0, []string{"c", "d", "a"}, "due items later")

	f.wantCode(f.s.CompleteOutbox(f.ctx, c.ID, "x", time.Time{}), cc.EINVALID, "complete without a delivery time")
	f.wantCode(f.s.RetryOutbox(f.ctx, c.ID, "x", time.Time{}), cc.EINVALID, "retry without a next time")
	_, err = f.s.OutboxItem(f.ctx, "obx_missing")
	f.wantCode(err, cc.ENOTFOUND, "read missing outbox item")
	f.wantCode(f.s.CompleteOutbox(f.ctx, "obx_missing", "x", t0), cc.ENOTFOUND, "complete missing outbox item")
	f.wantCode(f.s.RetryOutbox(f.ctx, "obx_missing", "x", t0), cc.ENOTFOUND, "retry missing outbox item")
	f.wantCode(f.s.EnqueueOutbox(f.ctx, &cc.OutboxItem{TenantID: acme.ID, Kind: cc.OutboxCRMLog}), cc.EINVALID, "enqueue without a key")
	f.wantCode(f.s.EnqueueOutbox(f.ctx, outboxItem(&cc.Tenant{ID: "ten_missing"}, "e", t0, t0)), cc.ENOTFOUND, "enqueue for a missing tenant")
	f.pending(3, "after failed calls")
}

// testOutboxIdempotency: the store keeps one item per (Kind, Key), whoever
// enqueues it again and however often.
func testOutboxIdempotency(f *fixture) {
	acme := f.tenant("acme")
	a := outboxItem(acme, "int_1", t0, t0)
	f.must(f.s.EnqueueOutbox(f.ctx, a), "enqueue")
	again := outboxItem(acme, "int_1", at(time.Hour), at(time.Hour))
	again.Payload = json.RawMessage(`{"second":true}`)
	f.must(f.s.EnqueueOutbox(f.ctx, again), "enqueue the same kind and key")
	got, err := f.s.OutboxItem(f.ctx, a.ID)
	f.must(err, "read outbox item")
	f.equal(got, a, "outbox item after a second enqueue")
	f.pending(1, "after enqueueing the same key twice")

	other := outboxItem(acme, "int_1", t0, t0)
	other.Kind = "crm.other"
	f.must(f.s.EnqueueOutbox(f.ctx, other, outboxItem(acme, "int_2", t0, t0), outboxItem(acme, "int_2", t0, t0)),
		"enqueue another kind, and one key twice in one call")
	f.pending(3, "after enqueueing another kind and a new key twice")

	// Through an interaction's change, too, and after delivery.
	f.must(f.s.CompleteOutbox(f.ctx, a.ID, "00T1", at(time.Second)), "complete")
	it := newInteraction(acme, t0)
	f.must(f.s.CreateInteraction(f.ctx, it, cc.InteractionChange{Outbox: []*cc.OutboxItem{outboxItem(acme, "int_1", t0, t0)}}),
		"create interaction enqueueing a delivered key")
	f.pending(2, "after enqueueing a delivered key")
	got, err = f.s.OutboxItem(f.ctx, a.ID)
	f.must(err, "read delivered outbox item")
	if got.DeliveredAt.IsZero() || got.Result != "00T1" {
		f.t.Errorf("enqueueing a delivered key again changed it: %+v", got)
	}
}
