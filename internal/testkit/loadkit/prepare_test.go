package loadkit

import (
	"context"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/auth"
	"github.com/parley-cc/parley/internal/bus/inmem"
	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/center"
	"github.com/parley-cc/parley/internal/config"
	"github.com/parley-cc/parley/internal/secret"
	"github.com/parley-cc/parley/internal/store/sqlite"
)

func benchSetup(agents int) Setup {
	return Setup{
		Tenant: "bench", Queue: "Bench", EntryPoint: "bench", EarlyMedia: true,
		TrunkSource: netip.MustParseAddr("127.0.0.1"), Agents: agents,
		Endpoint: cc.EndpointSIP, AgentHost: "127.0.0.1:5090", Available: true,
	}
}

// openPrepared opens a prepared data directory the way `parley serve` does.
func openPrepared(t *testing.T, dir string) *sqlite.DB {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dir
	keyring, err := secret.Load(cfg.KeyFilePath(), false)
	if err != nil {
		t.Fatalf("the keyring the server loads: %v", err)
	}
	db, err := sqlite.Open(context.Background(), cfg.DatabasePath(), sqlite.Options{Sealer: keyring})
	if err != nil {
		t.Fatalf("the database the server opens: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestPrepareWritesTheBenchTenant(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	if err := Prepare(ctx, dir, benchSetup(25)); err != nil {
		t.Fatal(err)
	}
	db := openPrepared(t, dir)
	ten, err := db.TenantBySlug(ctx, "bench")
	if err != nil {
		t.Fatal(err)
	}
	q, err := db.QueueByName(ctx, ten.ID, "Bench")
	if err != nil {
		t.Fatal(err)
	}
	if q.WrapUp != 0 || q.OfferTimeout != cc.DefaultOfferTimeout || q.MaxWait != 0 {
		t.Errorf("queue wrap-up %s, offer timeout %s, max wait %s; want 0, the default %s, 0", q.WrapUp, q.OfferTimeout, q.MaxWait, cc.DefaultOfferTimeout)
	}
	ep, err := db.EntryPointByNumber(ctx, ten.ID, "bench")
	if err != nil {
		t.Fatalf("entry point for the dialled user bench: %v", err)
	}
	if ep.QueueID != q.ID || !ep.EarlyMedia {
		t.Errorf("entry point = %+v, want the queue %s with early media", ep, q.ID)
	}
	trunks, err := db.Trunks(ctx, ten.ID)
	if err != nil || len(trunks) != 1 {
		t.Fatalf("trunks = %v, %v; want one", trunks, err)
	}
	if !trunks[0].Allows(netip.MustParseAddr("127.0.0.1")) || trunks[0].Allows(netip.MustParseAddr("127.0.0.2")) {
		t.Errorf("trunk sources %v: want 127.0.0.1 only", trunks[0].CIDRs)
	}
	users, err := db.Users(ctx, ten.ID)
	if err != nil || len(users) != 25 {
		t.Fatalf("users = %d, %v; want 25 agents", len(users), err)
	}
	pres, err := db.Presences(ctx, ten.ID)
	if err != nil {
		t.Fatal(err)
	}
	byUser := map[string]*cc.Presence{}
	for _, p := range pres {
		byUser[p.UserID] = p
	}
	for _, u := range users {
		if !u.IsAgent() || !strings.HasPrefix(u.Username, "agent") || u.StaticContact != "sip:"+u.Username+"@127.0.0.1:5090" {
			t.Errorf("user %s: roles %v, static contact %q; want an agent ringing the UAS", u.Username, u.Roles, u.StaticContact)
		}
		if len(u.Skills) != 1 || u.Skills[0] != q.Skills[0] {
			t.Errorf("user %s: skills %v, want the queue's %v", u.Username, u.Skills, q.Skills)
		}
		if p := byUser[u.ID]; p == nil || p.State != cc.StateAvailable {
			t.Errorf("user %s: presence %+v, want available", u.Username, p)
		}
	}
}

func TestPrepareBrowserAgents(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	s := benchSetup(3)
	s.Endpoint, s.AgentHost, s.Password, s.Available = cc.EndpointBrowser, "", "load-pass-1", false
	if err := Prepare(ctx, dir, s); err != nil {
		t.Fatal(err)
	}
	db := openPrepared(t, dir)
	ten, _ := db.TenantBySlug(ctx, "bench")
	users, err := db.Users(ctx, ten.ID)
	if err != nil || len(users) != 3 {
		t.Fatalf("users = %d, %v; want 3 agents", len(users), err)
	}
	for _, u := range users {
		if u.EndpointKind() != cc.EndpointBrowser || u.StaticContact != "" || !auth.VerifyPassword(u.PasswordHash, "load-pass-1") {
			t.Errorf("user %s: endpoint %s, contact %q, password set %v; want a browser agent who signs in with the password", u.Username, u.EndpointKind(), u.StaticContact, auth.VerifyPassword(u.PasswordHash, "load-pass-1"))
		}
	}
	if pres, err := db.Presences(ctx, ten.ID); err != nil || len(pres) != 0 {
		t.Errorf("presences = %v, %v; want none stored (browser agents go available themselves)", pres, err)
	}
}

// TestPreparedTenantRoutes starts the real contact center on a prepared
// directory: the stored presence makes the agents available, and the first
// call goes to the agent idle longest, at the UAS.
func TestPreparedTenantRoutes(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	if err := Prepare(ctx, dir, benchSetup(3)); err != nil {
		t.Fatal(err)
	}
	db := openPrepared(t, dir)
	bus := inmem.New(0)
	defer bus.Close()
	c := center.New(center.Options{Store: db, Bus: bus, Logger: slog.New(slog.DiscardHandler)})
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ten, _ := db.TenantBySlug(ctx, "bench")
	ep, _ := db.EntryPointByNumber(ctx, ten.ID, "bench")
	h, err := c.Arrive(ctx, cc.Arrival{Tenant: ten, EntryPoint: ep, Customer: cc.Customer{Raw: "sipp"}, Dialed: "bench", SIPCallID: "1-1@127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Hangup("customer", "test over")
	select {
	case in := <-h.Instructions():
		if in.Offer == nil {
			t.Fatalf("first instruction %+v, want an offer", in)
		}
		if in.Offer.Agent.Username != "agent00001" || len(in.Offer.Endpoints) != 1 || in.Offer.Endpoints[0] != "sip:agent00001@127.0.0.1:5090" {
			t.Errorf("offer to %s at %v, want agent00001 (idle longest) at sip:agent00001@127.0.0.1:5090", in.Offer.Agent.Username, in.Offer.Endpoints)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no offer within 10s: the prepared agents are not available to the center")
	}
}

func TestPrepareRefusesAndExplains(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	if err := Prepare(ctx, dir, benchSetup(2)); err != nil {
		t.Fatal(err)
	}
	if err := Prepare(ctx, dir, benchSetup(2)); !cc.IsCode(err, cc.ECONFLICT) || !strings.Contains(err.Error(), "already holds a database") {
		t.Errorf("second Prepare into the same directory = %v, want ECONFLICT", err)
	}
	for _, tt := range []struct {
		name string
		edit func(*Setup)
		want string
	}{
		{"no agents", func(s *Setup) { s.Agents = 0 }, "agents 0"},
		{"trunk off the machine", func(s *Setup) { s.TrunkSource = netip.MustParseAddr("192.0.2.7") }, "loopback only"},
		{"UAS off the machine", func(s *Setup) { s.AgentHost = "192.0.2.7:5090" }, "loopback ip:port"},
		{"browser agents without a password", func(s *Setup) { s.Endpoint, s.Available = cc.EndpointBrowser, false }, "need a password"},
		{"browser agents available", func(s *Setup) { s.Endpoint, s.Password = cc.EndpointBrowser, "x" }, "cannot start available"},
		{"no endpoint", func(s *Setup) { s.Endpoint = "" }, "use sip or browser"},
		{"entry point not an alias", func(s *Setup) { s.EntryPoint = "Bench Line" }, "entry point number"},
	} {
		s := benchSetup(2)
		tt.edit(&s)
		err := Prepare(ctx, filepath.Join(t.TempDir(), "data"), s)
		if !cc.IsCode(err, cc.EINVALID) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Prepare = %v, want EINVALID saying %q", tt.name, err, tt.want)
		}
	}
}
