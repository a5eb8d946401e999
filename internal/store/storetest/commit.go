package storetest

import (
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// testCommit: a change with interactions, presence, events and outbox work
// lands in one transaction, or not at all.
func testCommit(f *fixture) {
	acme := f.tenant("acme")
	alice := f.user(acme, "alice", "")
	it := withID(newInteraction(acme, t0), "int_commit")
	p := &cc.Presence{TenantID: acme.ID, UserID: alice.ID, State: cc.StateOffered, Since: t0, InteractionID: it.ID, Version: 3}
	queued := cc.NewEvent(acme.ID, cc.EventInteractionQueued, t0, nil)
	queued.InteractionID = it.ID
	state := cc.NewEvent(acme.ID, cc.EventAgentState, t0, nil)
	state.UserID = alice.ID
	item := &cc.OutboxItem{TenantID: acme.ID, InteractionID: it.ID, Kind: cc.OutboxCRMLog, Key: "commit#1", CreatedAt: t0}
	ch := &cc.Change{Create: []*cc.Interaction{it}, Presences: []*cc.Presence{p}, Events: []*cc.Event{queued, state}, Outbox: []*cc.OutboxItem{item}}
	if ch.Empty() || (&cc.Change{}).Empty() == false {
		f.t.Error("Change.Empty is wrong")
	}
	f.must(f.s.Commit(f.ctx, ch), "commit a creation")
	if queued.Seq != 1 || state.Seq != 2 {
		f.t.Errorf("event sequences %d, %d, want 1, 2", queued.Seq, state.Seq)
	}
	got, err := f.s.Interaction(f.ctx, acme.ID, it.ID)
	f.must(err, "read created interaction")
	f.equal(got, it, "created interaction")
	list, err := f.s.Presences(f.ctx, acme.ID)
	f.must(err, "list presence")
	f.equal(list, []*cc.Presence{p}, "presence")
	f.pending(1, "after the creation")

	// An update: the version moves on; delivery of the item in the same change.
	it.State = cc.InteractionConnected
	p2 := *p
	p2.State, p2.Version = cc.StateBusy, 4
	connected := cc.NewEvent(acme.ID, cc.EventInteractionConnected, at(time.Second), nil)
	due, err := f.s.DueOutbox(f.ctx, at(time.Hour), 0)
	f.must(err, "due outbox")
	done := &cc.OutboxItem{ID: due[0].ID, Result: "00T1", DeliveredAt: at(time.Second)}
	f.must(f.s.Commit(f.ctx, &cc.Change{Update: []*cc.Interaction{it}, Presences: []*cc.Presence{&p2}, Events: []*cc.Event{connected}, Completed: []*cc.OutboxItem{done}}), "commit an update")
	if it.Version != 1 || connected.Seq != 3 {
		f.t.Errorf("after the update: version %d, seq %d; want 1, 3", it.Version, connected.Seq)
	}
	f.pending(0, "after the delivery")

	// A stale update fails the whole change: no presence, event or outbox write.
	stale := *it
	stale.Version = 0
	stale.State = cc.InteractionEnded
	p3 := p2
	p3.State = cc.StateWrapUp
	ended := cc.NewEvent(acme.ID, cc.EventInteractionEnded, at(2*time.Second), nil)
	other := &cc.OutboxItem{TenantID: acme.ID, Kind: cc.OutboxCRMLog, Key: "commit#2", CreatedAt: t0}
	err = f.s.Commit(f.ctx, &cc.Change{Update: []*cc.Interaction{&stale}, Presences: []*cc.Presence{&p3}, Events: []*cc.Event{ended}, Outbox: []*cc.OutboxItem{other}})
	f.wantCode(err, cc.ECONFLICT, "commit with a stale version")
	if stale.Version != 0 || ended.Seq != 0 {
		f.t.Errorf("a failed commit set version %d, seq %d", stale.Version, ended.Seq)
	}
	got, err = f.s.Interaction(f.ctx, acme.ID, it.ID)
	f.must(err, "read interaction")
	f.equal(got, it, "interaction after a failed commit")
	list, err = f.s.Presences(f.ctx, acme.ID)
	f.must(err, "list presence")
	f.equal(list, []*cc.Presence{&p2}, "presence after a failed commit")
	if n := len(f.events(acme.ID)); n != 3 {
		f.t.Errorf("%d events after a failed commit, want 3", n)
	}
	f.pending(0, "after a failed commit")

	// Creating an existing id, or delivering an unknown item, fails the same way.
	dup := withID(newInteraction(acme, t0), "int_commit")
	f.wantCode(f.s.Commit(f.ctx, &cc.Change{Create: []*cc.Interaction{dup}, Events: []*cc.Event{cc.NewEvent(acme.ID, cc.EventInteractionQueued, t0, nil)}}), cc.ECONFLICT, "commit creating an existing interaction")
	f.wantCode(f.s.Commit(f.ctx, &cc.Change{Presences: []*cc.Presence{&p3}, Completed: []*cc.OutboxItem{{ID: "obx_missing", Result: "x", DeliveredAt: t0}}}), cc.ENOTFOUND, "commit delivering an unknown item")
	list, _ = f.s.Presences(f.ctx, acme.ID)
	f.equal(list, []*cc.Presence{&p2}, "presence after failed commits")
	f.wantCode(f.s.Commit(f.ctx, &cc.Change{Events: []*cc.Event{{Type: cc.EventAgentState, At: t0}}}), cc.EINVALID, "commit an event without a tenant")
	f.must(f.s.Commit(f.ctx, &cc.Change{}), "commit nothing")
}
