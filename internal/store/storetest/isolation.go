package storetest

import (
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// testTenantIsolation: every tenant-scoped call made with another tenant's
// id finds nothing and changes nothing, even with the right object id.
func testTenantIsolation(f *fixture) {
	acme, globex := f.tenant("acme"), f.tenant("globex")
	b := globex.ID
	u := f.user(acme, "alice", "alice-phone")
	q := f.queue(acme, "Sales")
	ep := f.entryPoint(acme, q, "+15550100")
	tr := f.trunk(acme, "carrier")
	it := newInteraction(acme, t0)
	it.AgentID, it.QueueID = u.ID, q.ID
	ev := cc.NewEvent(acme.ID, cc.EventInteractionQueued, t0, nil)
	ev.InteractionID, ev.UserID = "", u.ID
	item := outboxItem(acme, "int_iso", t0, t0)
	f.must(f.s.CreateInteraction(f.ctx, it, cc.InteractionChange{Events: []*cc.Event{ev}, Outbox: []*cc.OutboxItem{item}}), "create interaction")
	f.must(f.s.SavePresence(f.ctx, &cc.Presence{TenantID: acme.ID, UserID: u.ID, State: cc.StateAvailable, Since: t0}), "save presence")
	f.must(f.s.CreateSession(f.ctx, &cc.Session{TenantID: acme.ID, UserID: u.ID, TokenHash: "hash-1", CreatedAt: t0, ExpiresAt: at(time.Hour)}), "create session")
	reg := &cc.Registration{TenantID: acme.ID, UserID: u.ID, Contact: "sip:alice@10.0.0.5", ExpiresAt: at(time.Hour), UpdatedAt: t0}
	f.must(f.s.PutRegistration(f.ctx, reg), "put registration")

	notFound := []struct {
		name string
		call func() error
	}{
		{"User", func() error { _, err := f.s.User(f.ctx, b, u.ID); return err }},
		{"UserByUsername", func() error { _, err := f.s.UserByUsername(f.ctx, b, u.Username); return err }},
		{"Queue", func() error { _, err := f.s.Queue(f.ctx, b, q.ID); return err }},
		{"QueueByName", func() error { _, err := f.s.QueueByName(f.ctx, b, q.Name); return err }},
		{"EntryPointByNumber", func() error { _, err := f.s.EntryPointByNumber(f.ctx, b, ep.Number); return err }},
		{"Interaction", func() error { _, err := f.s.Interaction(f.ctx, b, it.ID); return err }},
		{"UpdateUser", func() error { c := *u; c.TenantID = b; return f.s.UpdateUser(f.ctx, &c) }},
		{"UpdateQueue", func() error { c := *q; c.TenantID = b; return f.s.UpdateQueue(f.ctx, &c) }},
		{"UpdateTrunk", func() error { c := *tr; c.TenantID = b; return f.s.UpdateTrunk(f.ctx, &c) }},
		{"UpdateInteraction", func() error {
			c := *it
			c.TenantID = b
			return f.s.UpdateInteraction(f.ctx, &c, cc.InteractionChange{})
		}},
		{"UpdateInteraction completing another tenant's outbox item", func() error {
			other := f.interaction(newInteraction(globex, t0))
			done := &cc.OutboxItem{ID: item.ID, Result: "x", DeliveredAt: t0}
			return f.s.UpdateInteraction(f.ctx, other, cc.InteractionChange{Completed: []*cc.OutboxItem{done}})
		}},
		{"DeleteEntryPoint", func() error { return f.s.DeleteEntryPoint(f.ctx, b, ep.ID) }},
		{"CreateEntryPoint into another tenant's queue", func() error {
			return f.s.CreateEntryPoint(f.ctx, &cc.EntryPoint{TenantID: b, Number: "+15550199", QueueID: q.ID})
		}},
		{"SavePresence of another tenant's user", func() error {
			return f.s.SavePresence(f.ctx, &cc.Presence{TenantID: b, UserID: u.ID, State: cc.StateAvailable})
		}},
		{"CreateSession for another tenant's user", func() error {
			return f.s.CreateSession(f.ctx, &cc.Session{TenantID: b, UserID: u.ID, TokenHash: "hash-2", ExpiresAt: at(time.Hour)})
		}},
		{"PutRegistration for another tenant's user", func() error {
			return f.s.PutRegistration(f.ctx, &cc.Registration{TenantID: b, UserID: u.ID, Contact: "sip:x@10.0.0.9", ExpiresAt: at(time.Hour)})
		}},
	}
	for _, c := range notFound {
		f.wantCode(c.call(), cc.ENOTFOUND, "%s with tenant B's id on tenant A's object", c.name)
	}

	empty := []struct {
		name string
		call func() (int, error)
	}{
		{"Users", func() (int, error) { l, err := f.s.Users(f.ctx, b); return len(l), err }},
		{"Presences", func() (int, error) { l, err := f.s.Presences(f.ctx, b); return len(l), err }},
		{"Queues", func() (int, error) { l, err := f.s.Queues(f.ctx, b); return len(l), err }},
		{"EntryPoints", func() (int, error) { l, err := f.s.EntryPoints(f.ctx, b); return len(l), err }},
		{"Trunks", func() (int, error) { l, err := f.s.Trunks(f.ctx, b); return len(l), err }},
		{"Interactions", func() (int, error) {
			l, err := f.s.Interactions(f.ctx, cc.InteractionFilter{TenantID: b, AgentID: u.ID})
			return len(l), err
		}},
		{"Events", func() (int, error) {
			l, err := f.s.Events(f.ctx, cc.EventFilter{TenantID: b, UserID: u.ID})
			return len(l), err
		}},
		{"Registrations", func() (int, error) { l, err := f.s.Registrations(f.ctx, b, u.ID, t0); return len(l), err }},
	}
	for _, c := range empty {
		n, err := c.call()
		f.must(err, "%s of tenant B", c.name)
		if n != 0 {
			f.t.Errorf("%s of tenant B returned %d of tenant A's objects", c.name, n)
		}
	}

	// Deletes with tenant B's id leave tenant A's objects alone.
	f.must(f.s.DeleteUserSessions(f.ctx, b, u.ID), "delete sessions with tenant B's id")
	f.must(f.s.DeleteRegistration(f.ctx, b, u.ID, ""), "delete registrations with tenant B's id")
	f.must(f.s.DeleteRegistration(f.ctx, b, u.ID, reg.Contact), "delete a registration with tenant B's id")
	if _, err := f.s.SessionByTokenHash(f.ctx, "hash-1", t0); err != nil {
		f.t.Errorf("tenant A's session is gone after a delete with tenant B's id: %v", err)
	}
	if rs, err := f.s.Registrations(f.ctx, acme.ID, u.ID, t0); err != nil || len(rs) != 1 {
		f.t.Errorf("tenant A's registration is gone after a delete with tenant B's id: %d, %v", len(rs), err)
	}
	if got, err := f.s.OutboxItem(f.ctx, item.ID); err != nil || !got.DeliveredAt.IsZero() {
		f.t.Errorf("tenant A's outbox item was delivered by tenant B's interaction: %+v, %v", got, err)
	}
	if got, err := f.s.User(f.ctx, acme.ID, u.ID); err != nil {
		f.t.Errorf("read tenant A's user: %v", err)
	} else {
		f.equal(got, u, "tenant A's user after tenant B's calls")
	}
}
