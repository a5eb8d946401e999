package center_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/view"
)

// TestScreenPopInEvents checks that the offered and connected events and
// the stored interaction carry the queue's screen-pop timing.
func TestScreenPopInEvents(t *testing.T) {
	f := newFixture(t, func(f *fixture) {
		f.support.ScreenPop = cc.ScreenPopOffer
		must(f.t, f.store.UpdateQueue(f.ctx, f.support))
	})
	for _, tc := range []struct {
		q    *cc.Queue
		want cc.ScreenPop
	}{{f.support, cc.ScreenPopOffer}, {f.sales, cc.ScreenPopAnswer}} {
		f.available("alice")
		h := f.arrive(tc.q, "+12015550123")
		in := next(t, h)
		if in.Offer == nil {
			t.Fatalf("%s: no offer: %+v", tc.q.Name, in)
		}
		must(t, h.Answered(in.Offer, nil))
		id := h.Interaction().ID
		if it := f.interaction(id); it.ScreenPop != tc.want {
			t.Errorf("%s: stored screen pop %q, want %q", tc.q.Name, it.ScreenPop, tc.want)
		}
		evs, err := f.store.Events(f.ctx, cc.EventFilter{TenantID: f.tenant.ID, InteractionID: id,
			Types: []cc.EventType{cc.EventInteractionOffered, cc.EventInteractionConnected}})
		must(t, err)
		if len(evs) != 2 {
			t.Fatalf("%s: %d offered/connected events, want 2", tc.q.Name, len(evs))
		}
		for _, e := range evs {
			var d view.InteractionEvent
			must(t, json.Unmarshal(e.Data, &d))
			if d.Interaction.ScreenPop != tc.want {
				t.Errorf("%s: %s event has screen_pop %q, want %q: %s", tc.q.Name, e.Type, d.Interaction.ScreenPop, tc.want, e.Data)
			}
		}
		h.Hangup("customer", "")
		if _, err := f.c.WrapUp(f.ctx, f.principal("alice"), id, cc.WrapUp{Notes: "x"}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestScreenPopFollowsOverflow: a call that overflows takes the screen-pop
// timing of the queue it moves to.
func TestScreenPopFollowsOverflow(t *testing.T) {
	f := newFixture(t, func(f *fixture) {
		f.sales.MaxWait = 50 * time.Millisecond
		f.sales.OverflowQueueID = f.support.ID
		f.support.ScreenPop = cc.ScreenPopOffer
		must(t, f.store.UpdateQueue(f.ctx, f.sales))
		must(t, f.store.UpdateQueue(f.ctx, f.support))
	})
	h := f.arrive(f.sales, "+12015550123")
	if it := h.Interaction(); it.ScreenPop != cc.ScreenPopAnswer {
		t.Fatalf("in Sales: screen pop %q, want answer", it.ScreenPop)
	}
	if in := next(t, h); in.Queue == nil || in.Queue.ID != f.support.ID {
		t.Fatalf("want overflow to Support, got %+v", in)
	}
	eventually(t, "the overflow stored", func() bool {
		it := f.interaction(h.Interaction().ID)
		return it.QueueID == f.support.ID && it.ScreenPop == cc.ScreenPopOffer
	})
	h.Hangup("customer", "")
}
