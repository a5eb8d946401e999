package telephony

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/sipua"
)

// routeFrom routes an INVITE to +15550100 (or to, when given) from src.
func routeFrom(t *testing.T, store *testStore, src string, to ...string) (route, int) {
	t.Helper()
	s := &Server{deps: Deps{Store: store}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	req := invite(t, `From: <sip:2015550123@carrier.example>;tag=a`)
	if len(to) > 0 {
		req.Recipient.User = to[0]
	}
	req.SetSource(src)
	rt, code, _ := s.route(context.Background(), req)
	return rt, code
}

func TestRouteTriesTheMostSpecificTrunkFirst(t *testing.T) {
	type trunk struct{ tenant, name, cidrs, number string }
	tests := []struct {
		name       string
		trunks     []trunk // in store order
		src, to    string
		code       int
		tenant     string
		trunkNamed string
	}{
		{"narrow trunk wins over a catch-all listed first",
			[]trunk{{"zeta", "any", "0.0.0.0/0", "+15550100"}, {"acme", "lo", "127.0.0.0/8", "+15550100"}},
			"127.0.0.1:5070", "", 0, "acme", "lo"},
		{"narrow trunk wins over a catch-all listed last",
			[]trunk{{"acme", "lo", "127.0.0.0/8", "+15550100"}, {"zeta", "any", "0.0.0.0/0", "+15550100"}},
			"127.0.0.1:5070", "", 0, "acme", "lo"},
		{"the catch-all takes sources outside the narrow trunk",
			[]trunk{{"acme", "lo", "127.0.0.0/8", "+15550100"}, {"zeta", "any", "0.0.0.0/0", "+15550100"}},
			"192.0.2.7:5060", "", 0, "zeta", "any"},
		{"a single address beats a network",
			[]trunk{{"acme", "lo", "127.0.0.0/8", "+15550100"}, {"beta", "pbx", "10.0.0.0/8,127.0.0.1", "+15550100"}},
			"127.0.0.1:5070", "", 0, "beta", "pbx"},
		{"equal prefixes: tenant slug decides",
			[]trunk{{"beta", "lo", "127.0.0.0/8", "+15550100"}, {"acme", "lo", "127.0.0.0/8", "+15550100"}},
			"127.0.0.1:5070", "", 0, "acme", "lo"},
		{"a tenant's own trunks: the most specific is the call's trunk",
			[]trunk{{"acme", "wide", "127.0.0.0/8", "+15550100"}, {"acme", "desk", "127.0.0.1/32", ""}},
			"127.0.0.1:5070", "", 0, "acme", "desk"},
		{"equal prefixes in one tenant: trunk name decides",
			[]trunk{{"acme", "b-trunk", "127.0.0.0/8", "+15550100"}, {"acme", "a-trunk", "127.0.0.0/8", ""}},
			"127.0.0.1:5070", "", 0, "acme", "a-trunk"},
		{"the number decides when the specific tenant lacks it",
			[]trunk{{"acme", "lo", "127.0.0.0/8", "+15550101"}, {"zeta", "any", "0.0.0.0/0", "+15550100"}},
			"127.0.0.1:5070", "", 0, "zeta", "any"},
		{"IPv4-mapped source",
			[]trunk{{"zeta", "any", "0.0.0.0/0", "+15550100"}, {"acme", "lo", "127.0.0.0/8", "+15550100"}},
			"[::ffff:127.0.0.1]:5070", "", 0, "acme", "lo"},
		{"no trunk allows the source", []trunk{{"acme", "lo", "127.0.0.0/8", "+15550100"}}, "192.0.2.7:5060", "", 403, "", ""},
		{"no tenant has the number", []trunk{{"acme", "lo", "127.0.0.0/8", "+15550100"}}, "127.0.0.1:5070", "+15559999", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newTestStore()
			for _, tr := range tt.trunks {
				var nums []string
				if tr.number != "" {
					nums = append(nums, tr.number)
				}
				store.addTenantTrunk(t, tr.tenant, tr.name, tr.cidrs, nums...)
			}
			var to []string
			if tt.to != "" {
				to = append(to, tt.to)
			}
			rt, code := routeFrom(t, store, tt.src, to...)
			if code != tt.code {
				t.Fatalf("status %d, want %d", code, tt.code)
			}
			if code != 0 {
				return
			}
			if rt.tenant.Slug != tt.tenant || rt.trunk.Name != tt.trunkNamed || rt.entry.TenantID != rt.tenant.ID {
				t.Errorf("routed to tenant %s by trunk %s (entry point of %s), want tenant %s by trunk %s", rt.tenant.Slug, rt.trunk.Name, rt.entry.TenantID, tt.tenant, tt.trunkNamed)
			}
		})
	}
}

// TestCallGoesToTheTenantOfTheMostSpecificTrunk: two tenants have the
// dialled number; a call from 127.0.0.1 goes to the one whose trunk is
// 127.0.0.0/8, not to the one with 0.0.0.0/0, whichever the store lists
// first.
func TestCallGoesToTheTenantOfTheMostSpecificTrunk(t *testing.T) {
	for _, order := range [][2]string{{"acme", "zeta"}, {"zeta", "acme"}} {
		store := newTestStore()
		cidrs := map[string]string{"acme": "127.0.0.0/8", "zeta": "0.0.0.0/0"}
		for _, slug := range order {
			store.addTenant(t, slug, cidrs[slug], "+15550100")
		}
		d := &testDirector{arrivals: make(chan *testCall, 1)}
		addr := startServer(t, store, d)
		res := call(t, sipua.Options{From: "2015550123", Duration: 100 * time.Millisecond}, "sip:+15550100@"+addr)
		if !res.Answered {
			t.Fatalf("store order %v: %s, want the call answered", order, res)
		}
		c := <-d.arrivals
		if c.arrival.Tenant.Slug != "acme" || c.arrival.Trunk.Name != "acme" {
			t.Errorf("store order %v: the call went to tenant %s (trunk %s), want acme, whose 127.0.0.0/8 trunk names the source", order, c.arrival.Tenant.Slug, c.arrival.Trunk.Name)
		}
	}
}
