// Package storetest is the conformance suite of cc.Store: one set of tests
// that every store (SQLite, PostgreSQL) must pass, so that they can be used
// in each other's place.
//
// A store's own test calls Run with a function that opens a new, empty store:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) cc.Store { return openTestDB(t) })
//	}
package storetest

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// Run runs the conformance suite. Every subtest calls open for a new, empty
// store with secret sealing configured, and closes that store when it ends;
// subtests run in parallel.
func Run(t *testing.T, open func(t *testing.T) cc.Store) {
	tests := []struct {
		name string
		fn   func(*fixture)
	}{
		{"Ping", testPing},
		{"Tenants", testTenants},
		{"TenantSecrets", testTenantSecrets},
		{"TenantCRMOrigins", testTenantCRMOrigins},
		{"Users", testUsers},
		{"UserIntegrations", testUserIntegrations},
		{"Presence", testPresence},
		{"Queues", testQueues},
		{"EntryPoints", testEntryPoints},
		{"Trunks", testTrunks},
		{"SearchData", testSearchData},
		{"Interactions", testInteractions},
		{"InteractionConflict", testInteractionConflict},
		{"InteractionAtomicity", testInteractionAtomicity},
		{"Commit", testCommit},
		{"InteractionFilters", testInteractionFilters},
		{"InteractionDefaultLimit", testInteractionDefaultLimit},
		{"OpenInteractions", testOpenInteractions},
		{"Events", testEvents},
		{"EventFilters", testEventFilters},
		{"EventDefaultLimit", testEventDefaultLimit},
		{"ConcurrentAppendEvents", testConcurrentAppendEvents},
		{"Outbox", testOutbox},
		{"OutboxIdempotency", testOutboxIdempotency},
		{"Sessions", testSessions},
		{"Registrations", testRegistrations},
		{"TenantIsolation", testTenantIsolation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close store: %v", err)
				}
			})
			tc.fn(&fixture{t: t, s: s, ctx: t.Context()})
		})
	}
}

// t0 is the suite's reference time: not in UTC and with nanoseconds, so that
// a store that rounds or keeps the zone is caught.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.FixedZone("UTC+1", 3600))

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// fixture is one subtest's store and helpers that create valid objects.
type fixture struct {
	t   *testing.T
	s   cc.Store
	ctx context.Context
}

// must fails the test at once on err.
func (f *fixture) must(err error, what string, args ...any) {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}

// wantCode reports an error unless err carries code.
func (f *fixture) wantCode(err error, code string, what string, args ...any) {
	f.t.Helper()
	if got := cc.ErrorCode(err); got != code {
		f.t.Errorf("%s: error code %q (%v), want %q", fmt.Sprintf(what, args...), got, err, code)
	}
}

// wantConflict reports an error unless err is ECONFLICT with a message that
// names value.
func (f *fixture) wantConflict(err error, value string, what string) {
	f.t.Helper()
	f.wantCode(err, cc.ECONFLICT, "%s", what)
	if err != nil && !strings.Contains(cc.ErrorMessage(err), value) {
		f.t.Errorf("%s: message %q does not name %q", what, cc.ErrorMessage(err), value)
	}
}

// equal reports an error naming the first difference between got and want.
func (f *fixture) equal(got, want any, what string, args ...any) {
	f.t.Helper()
	if d := diff(got, want); d != "" {
		f.t.Errorf("%s: %s", fmt.Sprintf(what, args...), d)
	}
}

// tenant creates a tenant with every field set.
func (f *fixture) tenant(slug string) *cc.Tenant {
	f.t.Helper()
	t := &cc.Tenant{
		Slug:            slug,
		DisplayName:     "Tenant " + slug,
		Kind:            cc.KindUnifiedLogin,
		Cluster:         "eu1",
		Region:          "CH",
		TimeZone:        "Europe/Zurich",
		NotReadyReasons: []string{"break", "lunch"},
		Dispositions:    []string{"Resolved", "Call back"},
		CRMOrigins:      []string{"https://" + slug + ".lightning.force.com"},
		CreatedAt:       t0,
	}
	t.Normalize()
	f.must(f.s.CreateTenant(f.ctx, t), "create tenant %s", slug)
	return t
}

// user creates an agent of tenant t; sip may be empty.
func (f *fixture) user(t *cc.Tenant, username, sip string) *cc.User {
	f.t.Helper()
	u := newUser(t, username, sip)
	f.must(f.s.CreateUser(f.ctx, u), "create user %s", username)
	return u
}

func newUser(t *cc.Tenant, username, sip string) *cc.User {
	u := &cc.User{
		TenantID:     t.ID,
		Username:     username,
		DisplayName:  "Agent " + username,
		Email:        username + "@example.com",
		Roles:        []cc.Role{cc.RoleAgent, cc.RoleSupervisor},
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		Skills:       []string{"billing", "sales"},
		Endpoint:     cc.EndpointBrowser,
		CreatedAt:    t0,
	}
	if sip != "" {
		u.Endpoint = cc.EndpointSIP
		u.SIPUsername = sip
		u.SIPHA1 = "0123456789abcdef0123456789abcdef"
		u.StaticContact = "sip:" + sip + "@10.0.0.5:5060"
	}
	return u
}

// queue creates a queue of tenant t.
func (f *fixture) queue(t *cc.Tenant, name string) *cc.Queue {
	f.t.Helper()
	q := &cc.Queue{
		TenantID:     t.ID,
		Name:         name,
		Priority:     7,
		Skills:       []string{"sales"},
		ServiceLevel: 30 * time.Second,
		WrapUp:       45*time.Second + 1,
		OfferTimeout: 15 * time.Second,
		MaxWait:      10 * time.Minute,
		Dispositions: []string{"Sold", "Not interested"},
		Announcement: "welcome.wav",
		HoldMusic:    "jazz.wav",
		CreatedAt:    t0,
	}
	f.must(f.s.CreateQueue(f.ctx, q), "create queue %s", name)
	return q
}

// entryPoint creates an entry point of tenant t into queue q.
func (f *fixture) entryPoint(t *cc.Tenant, q *cc.Queue, number string) *cc.EntryPoint {
	f.t.Helper()
	ep := &cc.EntryPoint{TenantID: t.ID, Number: number, QueueID: q.ID, Name: "Line " + number, EarlyMedia: true, CreatedAt: t0}
	f.must(f.s.CreateEntryPoint(f.ctx, ep), "create entry point %s", number)
	return ep
}

// trunk creates a trunk of tenant t.
func (f *fixture) trunk(t *cc.Tenant, name string) *cc.Trunk {
	f.t.Helper()
	tr := &cc.Trunk{
		TenantID:    t.ID,
		Name:        name,
		CIDRs:       []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32")},
		OutboundURI: "sip:gateway.example.net:5060",
		CreatedAt:   t0,
	}
	f.must(f.s.CreateTrunk(f.ctx, tr), "create trunk %s", name)
	return tr
}

// newInteraction returns a queued phone interaction of tenant t, created at
// created, that is not stored yet.
func newInteraction(t *cc.Tenant, created time.Time) *cc.Interaction {
	return &cc.Interaction{
		TenantID:     t.ID,
		Channel:      cc.ChannelPhone,
		Direction:    cc.Inbound,
		State:        cc.InteractionQueued,
		Customer:     cc.Customer{Number: "+41445550100", Raw: "+41 44 555 01 00", Name: "Ada"},
		DialedNumber: "+15550100",
		CreatedAt:    created,
		QueuedAt:     created,
	}
}

// interaction creates an interaction with no change.
func (f *fixture) interaction(it *cc.Interaction) *cc.Interaction {
	f.t.Helper()
	f.must(f.s.CreateInteraction(f.ctx, it, cc.InteractionChange{}), "create interaction")
	return it
}

// events returns all of a tenant's events.
func (f *fixture) events(tenantID string) []*cc.Event {
	f.t.Helper()
	evs, err := f.s.Events(f.ctx, cc.EventFilter{TenantID: tenantID})
	f.must(err, "list events of %s", tenantID)
	return evs
}

func testPing(f *fixture) {
	f.must(f.s.Ping(f.ctx), "ping")
}
