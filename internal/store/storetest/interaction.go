package storetest

import (
	"encoding/json"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

func interactionIDs(list []*cc.Interaction) []string {
	return ids(list, func(it *cc.Interaction) string { return it.ID })
}

func testInteractions(f *fixture) {
	acme := f.tenant("acme")
	it := newInteraction(acme, t0)
	it.ID = "int_suite1"
	it.Customer = cc.Customer{Number: "+41445550100", Extension: "12", Raw: "+41 44 555 01 00 ext 12", Name: "Ada", Email: "ada@example.com"}
	it.EntryPointID, it.QueueID, it.TrunkID, it.SIPCallID = "ep_1", "que_1", "trk_1", "a84b4c76e66710@pc33.example.com"
	it.Data = map[string]string{"ivr.lang": "de", "x-account": "4711"}
	it.Matches = []cc.CRMRecord{
		{Type: "Contact", ID: "003A", Name: "Ada Lovelace", Phone: "+41445550100", Company: "Analytical Engines"},
		{Type: "Lead", ID: "00QB", Name: "Ada L."},
	}
	queued := cc.NewEvent(acme.ID, cc.EventInteractionQueued, t0, map[string]string{"queue": "Sales"})
	queued.InteractionID, queued.QueueID = it.ID, "que_1"
	item := &cc.OutboxItem{TenantID: acme.ID, InteractionID: it.ID, Kind: cc.OutboxCRMLog, Key: it.ID,
		Payload: json.RawMessage(`{"subject":"Call from Ada"}`), NextAttemptAt: at(time.Minute), CreatedAt: t0}
	f.must(f.s.CreateInteraction(f.ctx, it, cc.InteractionChange{Events: []*cc.Event{queued}, Outbox: []*cc.OutboxItem{item}}),
		"create interaction")
	if queued.Seq != 1 {
		f.t.Errorf("the first event of a tenant got sequence %d, want 1", queued.Seq)
	}
	got, err := f.s.Interaction(f.ctx, acme.ID, it.ID)
	f.must(err, "read interaction")
	f.equal(got, it, "created interaction")
	f.equal(f.events(acme.ID), []*cc.Event{queued}, "events of the created interaction")
	stored, err := f.s.OutboxItem(f.ctx, item.ID)
	f.must(err, "read outbox item")
	f.equal(stored, item, "outbox item of the created interaction")

	it.State, it.AgentID, it.OfferedAt, it.AnsweredAt, it.Offers = cc.InteractionConnected, "usr_1", at(5*time.Second), at(9*time.Second), 1
	connected := cc.NewEvent(acme.ID, cc.EventInteractionConnected, at(9*time.Second), nil)
	connected.InteractionID, connected.UserID = it.ID, "usr_1"
	f.must(f.s.UpdateInteraction(f.ctx, it, cc.InteractionChange{Events: []*cc.Event{connected}}), "update interaction")
	if it.Version != 1 {
		f.t.Errorf("after one update the version is %d, want 1", it.Version)
	}
	got, err = f.s.Interaction(f.ctx, acme.ID, it.ID)
	f.must(err, "read updated interaction")
	f.equal(got, it, "updated interaction")

	// Ending, wrapping up and logging in one change that also completes the
	// CRM log's outbox item.
	it.State, it.Outcome, it.EndedAt, it.WrappedAt = cc.InteractionEnded, cc.OutcomeAnswered, at(time.Minute), at(90*time.Second)
	it.EndReason, it.Disposition, it.Notes = "customer", "Resolved", "Wants a callback on Friday.\nÜberweisung erhalten."
	it.LinkedRecord = &it.Matches[0]
	it.LogStatus, it.LogRef, it.LogText = cc.LogDelivered, "00T5", "Call from Ada\nResolved"
	wrapped := cc.NewEvent(acme.ID, cc.EventInteractionWrapped, at(90*time.Second), map[string]any{"disposition": "Resolved", "seconds": 30})
	logged := cc.NewEvent(acme.ID, cc.EventInteractionLogged, at(91*time.Second), map[string]string{"ref": "00T5"})
	wrapped.InteractionID, logged.InteractionID = it.ID, it.ID
	done := &cc.OutboxItem{ID: item.ID, Result: "00T5", DeliveredAt: at(91 * time.Second)}
	f.must(f.s.UpdateInteraction(f.ctx, it, cc.InteractionChange{Events: []*cc.Event{wrapped, logged}, Completed: []*cc.OutboxItem{done}}),
		"end interaction")
	if it.Version != 2 {
		f.t.Errorf("after two updates the version is %d, want 2", it.Version)
	}
	got, err = f.s.Interaction(f.ctx, acme.ID, it.ID)
	f.must(err, "read ended interaction")
	f.equal(got, it, "ended interaction")
	f.equal(f.events(acme.ID), []*cc.Event{queued, connected, wrapped, logged}, "events of the interaction")
	item.DeliveredAt, item.Result = done.DeliveredAt, done.Result
	stored, err = f.s.OutboxItem(f.ctx, item.ID)
	f.must(err, "read completed outbox item")
	f.equal(stored, item, "completed outbox item")

	auto := f.interaction(newInteraction(acme, at(time.Hour)))
	if auto.ID == "" || auto.ID == it.ID {
		f.t.Errorf("CreateInteraction assigned id %q", auto.ID)
	}
	f.wantCode(f.s.CreateInteraction(f.ctx, withID(newInteraction(acme, t0), it.ID), cc.InteractionChange{}),
		cc.ECONFLICT, "create interaction with a taken id")
	f.wantCode(f.s.CreateInteraction(f.ctx, newInteraction(&cc.Tenant{ID: "ten_missing"}, t0), cc.InteractionChange{}),
		cc.ENOTFOUND, "create interaction in a missing tenant")
	bad := newInteraction(acme, t0)
	bad.State = "ringing"
	f.wantCode(f.s.CreateInteraction(f.ctx, bad, cc.InteractionChange{}), cc.EINVALID, "create interaction in an unknown state")
	_, err = f.s.Interaction(f.ctx, acme.ID, "int_missing")
	f.wantCode(err, cc.ENOTFOUND, "read missing interaction")
	f.wantCode(f.s.UpdateInteraction(f.ctx, withID(newInteraction(acme, t0), "int_missing"), cc.InteractionChange{}),
		cc.ENOTFOUND, "update missing interaction")
}

// testInteractionConflict: an update from a stale copy fails and writes
// nothing.
func testInteractionConflict(f *fixture) {
	acme := f.tenant("acme")
	it := f.interaction(newInteraction(acme, t0))
	stale := *it
	it.State, it.AgentID = cc.InteractionOffered, "usr_1"
	f.must(f.s.UpdateInteraction(f.ctx, it, cc.InteractionChange{}), "update interaction")

	stale.State = cc.InteractionConnected
	ev := cc.NewEvent(acme.ID, cc.EventInteractionConnected, t0, nil)
	item := &cc.OutboxItem{TenantID: acme.ID, Kind: cc.OutboxCRMLog, Key: "stale", CreatedAt: t0}
	err := f.s.UpdateInteraction(f.ctx, &stale, cc.InteractionChange{Events: []*cc.Event{ev}, Outbox: []*cc.OutboxItem{item}})
	f.wantCode(err, cc.ECONFLICT, "update from a stale version")
	if stale.Version != 0 {
		f.t.Errorf("a failed update moved the caller's version to %d", stale.Version)
	}
	got, err := f.s.Interaction(f.ctx, acme.ID, it.ID)
	f.must(err, "read interaction")
	f.equal(got, it, "interaction after a stale update")
	f.equal(f.events(acme.ID), []*cc.Event(nil), "events after a stale update")
	n, err := f.s.PendingOutbox(f.ctx)
	f.must(err, "count outbox")
	if n != 0 {
		f.t.Errorf("a stale update enqueued %d outbox items", n)
	}
}

// testInteractionAtomicity: when any part of a change fails, none of it is
// written, neither the interaction nor its events nor its outbox items.
func testInteractionAtomicity(f *fixture) {
	acme := f.tenant("acme")
	it := f.interaction(newInteraction(acme, t0))
	next := func() (*cc.Interaction, cc.InteractionChange) {
		c := *it
		c.State = cc.InteractionConnected
		ev := cc.NewEvent(acme.ID, cc.EventInteractionConnected, t0, nil)
		ev.InteractionID = it.ID
		item := &cc.OutboxItem{TenantID: acme.ID, InteractionID: it.ID, Kind: cc.OutboxCRMLog, Key: it.ID, CreatedAt: t0}
		return &c, cc.InteractionChange{Events: []*cc.Event{ev}, Outbox: []*cc.OutboxItem{item}}
	}
	check := func(what string) {
		f.t.Helper()
		got, err := f.s.Interaction(f.ctx, acme.ID, it.ID)
		f.must(err, "read interaction")
		f.equal(got, it, "interaction after %s", what)
		f.equal(f.events(acme.ID), []*cc.Event(nil), "events after %s", what)
		due, err := f.s.DueOutbox(f.ctx, at(time.Hour), 0)
		f.must(err, "list due outbox")
		f.equal(due, []*cc.OutboxItem(nil), "outbox after %s", what)
	}

	c, ch := next()
	ch.Completed = []*cc.OutboxItem{{ID: "obx_missing", Result: "x", DeliveredAt: t0}}
	f.wantCode(f.s.UpdateInteraction(f.ctx, c, ch), cc.ENOTFOUND, "update completing a missing outbox item")
	check("completing a missing outbox item")

	c, ch = next()
	ch.Events = append(ch.Events, &cc.Event{TenantID: acme.ID, At: t0}) // no type
	f.wantCode(f.s.UpdateInteraction(f.ctx, c, ch), cc.EINVALID, "update with an event without a type")
	check("an event without a type")

	c, ch = next()
	ch.Outbox[0].Payload = json.RawMessage(`{"unterminated":`)
	f.wantCode(f.s.UpdateInteraction(f.ctx, c, ch), cc.EINVALID, "update with an outbox payload that is not JSON")
	check("an outbox payload that is not JSON")

	created := withID(newInteraction(acme, t0), "int_atomic")
	_, ch = next()
	ch.Completed = []*cc.OutboxItem{{ID: "obx_missing", Result: "x", DeliveredAt: t0}}
	f.wantCode(f.s.CreateInteraction(f.ctx, created, ch), cc.ENOTFOUND, "create completing a missing outbox item")
	_, err := f.s.Interaction(f.ctx, acme.ID, "int_atomic")
	f.wantCode(err, cc.ENOTFOUND, "read interaction whose creation failed")
	check("a failed creation")

	// After the failures the sequence goes on without a gap.
	ev := cc.NewEvent(acme.ID, cc.EventAgentState, t0, nil)
	f.must(f.s.AppendEvents(f.ctx, ev), "append event")
	if ev.Seq != 1 {
		f.t.Errorf("after failed changes the first event got sequence %d, want 1", ev.Seq)
	}
}

// withID sets the ID of it and returns it.
func withID(it *cc.Interaction, id string) *cc.Interaction {
	it.ID = id
	return it
}

func testInteractionFilters(f *fixture) {
	acme, globex := f.tenant("acme"), f.tenant("globex")
	specs := []struct {
		queue, agent string
		state        cc.InteractionState
	}{
		{"que_1", "usr_a", cc.InteractionEnded},
		{"que_2", "usr_b", cc.InteractionConnected},
		{"que_1", "usr_a", cc.InteractionQueued},
		{"que_1", "", cc.InteractionQueued},
		{"que_2", "usr_a", cc.InteractionEnded},
		{"que_1", "usr_b", cc.InteractionOffered},
	}
	var its []string
	for i, sp := range specs {
		it := newInteraction(acme, at(time.Duration(i)*time.Minute))
		it.QueueID, it.AgentID, it.State = sp.queue, sp.agent, sp.state
		its = append(its, f.interaction(it).ID)
	}
	other := newInteraction(globex, at(3*time.Minute))
	other.QueueID, other.AgentID = "que_1", "usr_a"
	f.interaction(other)

	pick := func(idx ...int) []string {
		out := []string{}
		for _, i := range idx {
			out = append(out, its[i])
		}
		return out
	}
	cases := []struct {
		name   string
		filter cc.InteractionFilter
		want   []string
	}{
		{"all, newest first", cc.InteractionFilter{}, pick(5, 4, 3, 2, 1, 0)},
		{"agent", cc.InteractionFilter{AgentID: "usr_a"}, pick(4, 2, 0)},
		{"queue", cc.InteractionFilter{QueueID: "que_1"}, pick(5, 3, 2, 0)},
		{"agent and queue", cc.InteractionFilter{AgentID: "usr_a", QueueID: "que_1"}, pick(2, 0)},
		{"states", cc.InteractionFilter{States: []cc.InteractionState{cc.InteractionQueued, cc.InteractionOffered}}, pick(5, 3, 2)},
		{"since is inclusive, before exclusive", cc.InteractionFilter{Since: at(2 * time.Minute), Before: at(5 * time.Minute)}, pick(4, 3, 2)},
		{"since a nanosecond later", cc.InteractionFilter{Since: at(2*time.Minute + 1), Before: at(5 * time.Minute)}, pick(4, 3)},
		{"limit", cc.InteractionFilter{Limit: 2}, pick(5, 4)},
		{"no match", cc.InteractionFilter{AgentID: "usr_none"}, nil},
	}
	for _, c := range cases {
		c.filter.TenantID = acme.ID
		list, err := f.s.Interactions(f.ctx, c.filter)
		f.must(err, "list interactions (%s)", c.name)
		f.equal(interactionIDs(list), c.want, "interactions (%s)", c.name)
	}
	_, err := f.s.Interactions(f.ctx, cc.InteractionFilter{})
	f.wantCode(err, cc.EINVALID, "list interactions without a tenant")
	_, err = f.s.Interactions(f.ctx, cc.InteractionFilter{TenantID: acme.ID, Limit: -1})
	f.wantCode(err, cc.EINVALID, "list interactions with a negative limit")
}

func testInteractionDefaultLimit(f *fixture) {
	acme := f.tenant("acme")
	var newest string
	for i := range 101 {
		newest = f.interaction(newInteraction(acme, at(time.Duration(i)*time.Second))).ID
	}
	list, err := f.s.Interactions(f.ctx, cc.InteractionFilter{TenantID: acme.ID})
	f.must(err, "list interactions")
	if len(list) != 100 {
		f.t.Fatalf("listed %d interactions without a limit, want the default of 100", len(list))
	}
	if list[0].ID != newest {
		f.t.Errorf("the first interaction listed is %s, want the newest, %s", list[0].ID, newest)
	}
}

func testOpenInteractions(f *fixture) {
	acme, globex := f.tenant("acme"), f.tenant("globex")
	mk := func(t *cc.Tenant, created time.Duration, state cc.InteractionState, outcome cc.Outcome, wrapped bool) *cc.Interaction {
		it := newInteraction(t, at(created))
		it.State, it.Outcome = state, outcome
		if state == cc.InteractionEnded {
			it.EndedAt = at(created + time.Second)
		}
		if wrapped {
			it.WrappedAt = at(created + 2*time.Second)
		}
		return f.interaction(it)
	}
	queued := mk(acme, time.Minute, cc.InteractionQueued, "", false)
	connected := mk(globex, 0, cc.InteractionConnected, "", false)
	unwrapped := mk(acme, 2*time.Minute, cc.InteractionEnded, cc.OutcomeAnswered, false)
	mk(acme, 3*time.Minute, cc.InteractionEnded, cc.OutcomeAnswered, true)
	mk(acme, -time.Minute, cc.InteractionEnded, cc.OutcomeAbandoned, false)
	mk(globex, 5*time.Minute, cc.InteractionEnded, cc.OutcomeFailed, false)
	offered := mk(globex, 4*time.Minute, cc.InteractionOffered, "", false)

	list, err := f.s.OpenInteractions(f.ctx)
	f.must(err, "list open interactions")
	f.equal(list, []*cc.Interaction{connected, queued, unwrapped, offered}, "open interactions, oldest first")
}
