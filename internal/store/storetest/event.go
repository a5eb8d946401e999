package storetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

func seqs(list []*cc.Event) []int64 {
	out := []int64{}
	for _, ev := range list {
		out = append(out, ev.Seq)
	}
	return out
}

func testEvents(f *fixture) {
	acme, globex := f.tenant("acme"), f.tenant("globex")
	a1 := cc.NewEvent(acme.ID, cc.EventAgentState, t0, map[string]string{"state": "available"})
	a1.UserID = "usr_1"
	b1 := cc.NewEvent(globex.ID, cc.EventInteractionQueued, at(time.Second), nil)
	b1.InteractionID, b1.QueueID = "int_1", "que_1"
	a2 := cc.NewEvent(acme.ID, cc.EventInteractionOffered, at(2*time.Second), map[string]any{"offer": 1, "agents": []string{"usr_1"}})
	a3 := cc.NewEvent(acme.ID, cc.EventInteractionOfferFail, at(3*time.Second), nil)
	b2 := cc.NewEvent(globex.ID, cc.EventInteractionEnded, at(4*time.Second), nil)
	f.must(f.s.AppendEvents(f.ctx, a1, b1, a2, a3, b2), "append events of two tenants")
	f.equal(seqs([]*cc.Event{a1, a2, a3, b1, b2}), []int64{1, 2, 3, 1, 2}, "sequence numbers, per tenant")

	a4 := cc.NewEvent(acme.ID, cc.EventInteractionLinked, at(5*time.Second), json.RawMessage(`{"record":"003A"}`))
	f.must(f.s.AppendEvents(f.ctx, a4), "append one more event")
	if a4.Seq != 4 {
		f.t.Errorf("the next event got sequence %d, want 4", a4.Seq)
	}
	f.equal(f.events(acme.ID), []*cc.Event{a1, a2, a3, a4}, "events of acme")
	f.equal(f.events(globex.ID), []*cc.Event{b1, b2}, "events of globex")
	f.must(f.s.AppendEvents(f.ctx), "append no events")

	// A failed append writes nothing and uses up no sequence numbers.
	a5 := cc.NewEvent(acme.ID, cc.EventAgentState, t0, nil)
	f.wantCode(f.s.AppendEvents(f.ctx, a5, cc.NewEvent("ten_missing", cc.EventAgentState, t0, nil)), cc.ENOTFOUND,
		"append events with a missing tenant")
	f.wantCode(f.s.AppendEvents(f.ctx, a5, &cc.Event{At: t0, Type: cc.EventAgentState}), cc.EINVALID, "append an event without a tenant")
	f.wantCode(f.s.AppendEvents(f.ctx, a5, &cc.Event{TenantID: acme.ID, At: t0}), cc.EINVALID, "append an event without a type")
	f.wantCode(f.s.AppendEvents(f.ctx, a5, &cc.Event{TenantID: acme.ID, Type: cc.EventAgentState, At: t0, Data: json.RawMessage(`{x`)}),
		cc.EINVALID, "append an event whose data is not JSON")
	f.equal(seqs(f.events(acme.ID)), []int64{1, 2, 3, 4}, "events after failed appends")
	f.must(f.s.AppendEvents(f.ctx, a5), "append after failures")
	if a5.Seq != 5 {
		f.t.Errorf("after failed appends the next event got sequence %d, want 5", a5.Seq)
	}

	_, err := f.s.Events(f.ctx, cc.EventFilter{})
	f.wantCode(err, cc.EINVALID, "list events without a tenant")
}

func testEventFilters(f *fixture) {
	acme := f.tenant("acme")
	mk := func(typ cc.EventType, interaction, user string) *cc.Event {
		ev := cc.NewEvent(acme.ID, typ, t0, nil)
		ev.InteractionID, ev.UserID = interaction, user
		return ev
	}
	f.must(f.s.AppendEvents(f.ctx,
		mk(cc.EventInteractionQueued, "int_1", ""),
		mk(cc.EventAgentState, "", "usr_1"),
		mk(cc.EventInteractionOffered, "int_1", "usr_1"),
		mk(cc.EventInteractionConnected, "int_1", "usr_1"),
		mk(cc.EventAgentState, "", "usr_2"),
		mk(cc.EventInteractionEnded, "int_2", "usr_2"),
	), "append events")
	cases := []struct {
		name   string
		filter cc.EventFilter
		want   []int64
	}{
		{"all", cc.EventFilter{}, []int64{1, 2, 3, 4, 5, 6}},
		{"after", cc.EventFilter{AfterSeq: 3}, []int64{4, 5, 6}},
		{"after the last", cc.EventFilter{AfterSeq: 6}, nil},
		{"interaction", cc.EventFilter{InteractionID: "int_1"}, []int64{1, 3, 4}},
		{"interaction after", cc.EventFilter{InteractionID: "int_1", AfterSeq: 1}, []int64{3, 4}},
		{"user", cc.EventFilter{UserID: "usr_1"}, []int64{2, 3, 4}},
		{"types", cc.EventFilter{Types: []cc.EventType{cc.EventAgentState, cc.EventInteractionEnded}}, []int64{2, 5, 6}},
		{"types and user", cc.EventFilter{Types: []cc.EventType{cc.EventAgentState, cc.EventInteractionEnded}, UserID: "usr_2"}, []int64{5, 6}},
		{"limit", cc.EventFilter{AfterSeq: 1, Limit: 2}, []int64{2, 3}},
	}
	for _, c := range cases {
		c.filter.TenantID = acme.ID
		list, err := f.s.Events(f.ctx, c.filter)
		f.must(err, "list events (%s)", c.name)
		f.equal(seqs(list), c.want, "events (%s)", c.name)
	}
}

func testEventDefaultLimit(f *fixture) {
	acme := f.tenant("acme")
	evs := make([]*cc.Event, 1001)
	for i := range evs {
		evs[i] = cc.NewEvent(acme.ID, cc.EventAgentState, at(time.Duration(i)), nil)
	}
	f.must(f.s.AppendEvents(f.ctx, evs...), "append 1001 events")
	list := f.events(acme.ID)
	if len(list) != 1000 || list[0].Seq != 1 || list[999].Seq != 1000 {
		f.t.Fatalf("listed %d events without a limit, want the default of 1000, from 1 to 1000", len(list))
	}
	rest, err := f.s.Events(f.ctx, cc.EventFilter{TenantID: acme.ID, AfterSeq: 1000})
	f.must(err, "list the rest")
	f.equal(seqs(rest), []int64{1001}, "events after 1000")
}

// testConcurrentAppendEvents: concurrent appends to two tenants give each
// tenant one sequence without gaps or repeats.
func testConcurrentAppendEvents(f *fixture) {
	tenants := []*cc.Tenant{f.tenant("acme"), f.tenant("globex")}
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	appended := make([][]*cc.Event, workers)
	for w := range workers {
		wg.Go(func() {
			t := tenants[w%len(tenants)]
			for r := range rounds {
				batch := []*cc.Event{cc.NewEvent(t.ID, cc.EventAgentState, t0, map[string]int{"worker": w, "round": r})}
				if r%2 == 1 {
					batch = append(batch, cc.NewEvent(t.ID, cc.EventInteractionQueued, t0, nil))
				}
				if err := f.s.AppendEvents(f.ctx, batch...); err != nil {
					errs <- fmt.Errorf("worker %d round %d: %w", w, r, err)
					return
				}
				appended[w] = append(appended[w], batch...)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		f.t.Error(err)
	}
	for i, t := range tenants {
		assigned := map[int64]bool{}
		total := 0
		for w := i; w < workers; w += len(tenants) {
			for _, ev := range appended[w] {
				if assigned[ev.Seq] {
					f.t.Errorf("tenant %s: sequence %d was assigned twice", t.Slug, ev.Seq)
				}
				assigned[ev.Seq] = true
				total++
			}
		}
		list := f.events(t.ID)
		if len(list) != total {
			f.t.Errorf("tenant %s: %d events stored, want %d", t.Slug, len(list), total)
		}
		for j, ev := range list {
			if ev.Seq != int64(j+1) {
				f.t.Fatalf("tenant %s: event %d has sequence %d: the sequence has a gap", t.Slug, j, ev.Seq)
			}
			if !assigned[ev.Seq] {
				f.t.Errorf("tenant %s: stored sequence %d was not reported to any appender", t.Slug, ev.Seq)
			}
		}
	}
}
