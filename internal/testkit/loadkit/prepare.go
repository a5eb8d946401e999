package loadkit

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/parley-cc/parley/internal/auth"
	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/config"
	"github.com/parley-cc/parley/internal/secret"
	"github.com/parley-cc/parley/internal/store/sqlite"
)

// Setup is the tenant a benchmark data directory holds: one queue behind
// one entry point, a trunk for the load generator's address, and agents:
// SIP agents whose static contacts ring one UAS (AgentHost), or browser
// agents who sign in with Password and take calls in the softphone.
type Setup struct {
	Tenant     string // tenant slug, e.g. "bench"
	Queue      string // queue name
	EntryPoint string // the dialled user (a SIP alias entry point), e.g. "bench"
	// EarlyMedia answers the caller only when an agent answers (the caller
	// hears the queue as 183 early media meanwhile), so that INVITE -> 200
	// covers routing and the agent leg, as it does through a proxy.
	EarlyMedia bool
	// TrunkSource is the address the calls come from.
	TrunkSource netip.Addr
	Agents      int
	// Endpoint is where the agents take calls: cc.EndpointSIP (AgentHost
	// answers for every agent) or cc.EndpointBrowser.
	Endpoint cc.Endpoint
	// AgentHost is host:port of the UAS that answers for every SIP agent.
	AgentHost string
	// Password, when set, is every agent's password (hashed once, so that
	// hundreds of agents are quick to write).
	Password string
	// Available stores every agent as available (the server restores it),
	// ordered by index for longest-idle routing. Browser agents go
	// available themselves once their audio is connected.
	Available bool
}

// Validate returns EINVALID naming the first field that is wrong.
func (s *Setup) Validate() error {
	if s.Agents < 1 || s.Agents > 100000 {
		return cc.Errorf(cc.EINVALID, "agents %d: use 1 to 100000", s.Agents)
	}
	if !s.TrunkSource.IsLoopback() {
		return cc.Errorf(cc.EINVALID, "trunk source %s: the benchmark is loopback only; use 127.0.0.1", s.TrunkSource)
	}
	switch s.Endpoint {
	case cc.EndpointSIP:
		if err := CheckLoopback("agent host (--uas-port)", s.AgentHost); err != nil {
			return err
		}
	case cc.EndpointBrowser:
		if s.Password == "" {
			return cc.Errorf(cc.EINVALID, "browser agents need a password to sign in with")
		}
		if s.Available {
			return cc.Errorf(cc.EINVALID, "browser agents cannot start available: they go available once their audio is connected")
		}
	default:
		return cc.Errorf(cc.EINVALID, "agent endpoint %q: use sip or browser", s.Endpoint)
	}
	return nil
}

// AgentName returns the username of the i-th agent (from 0).
func AgentName(i int) string { return fmt.Sprintf("agent%05d", i+1) }

// Prepare writes the setup into a new data directory for `parley serve
// --data dir`, through the store Parley itself opens: the same database
// file and keyring paths as the server's defaults, every object checked by
// its own Validate. dir must not hold a database yet.
func Prepare(ctx context.Context, dir string, s Setup) error {
	if err := s.Validate(); err != nil {
		return err
	}
	cfg := config.Default()
	cfg.DataDir = dir
	if _, err := os.Stat(cfg.DatabasePath()); err == nil {
		return cc.Errorf(cc.ECONFLICT, "data directory %s already holds a database: give a new directory", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("prepare data directory: %w", err)
	}
	keyring, err := secret.Load(cfg.KeyFilePath(), true)
	if err != nil {
		return fmt.Errorf("prepare data directory: %w", err)
	}
	store, err := sqlite.Open(ctx, cfg.DatabasePath(), sqlite.Options{Sealer: keyring})
	if err != nil {
		return fmt.Errorf("prepare data directory: %w", err)
	}
	defer store.Close()
	if err := prepareStore(ctx, store, s); err != nil {
		return fmt.Errorf("prepare data directory %s: %w", dir, err)
	}
	return store.Close()
}

func prepareStore(ctx context.Context, store cc.Store, s Setup) error {
	now := time.Now().UTC()
	t := &cc.Tenant{ID: cc.NewID("ten"), Slug: s.Tenant, Region: "US", CreatedAt: now}
	t.Normalize()
	if err := t.Validate(); err != nil {
		return err
	}
	if err := store.CreateTenant(ctx, t); err != nil {
		return fmt.Errorf("create tenant: %w", err)
	}
	q := &cc.Queue{ID: cc.NewID("que"), TenantID: t.ID, Name: s.Queue, WrapUp: 0, CreatedAt: now}
	q.Normalize()
	if err := q.Validate(); err != nil {
		return err
	}
	if err := store.CreateQueue(ctx, q); err != nil {
		return fmt.Errorf("create queue: %w", err)
	}
	ep := &cc.EntryPoint{ID: cc.NewID("ent"), TenantID: t.ID, Number: s.EntryPoint, QueueID: q.ID, Name: "load test", EarlyMedia: s.EarlyMedia, CreatedAt: now}
	if err := ep.Validate(); err != nil {
		return err
	}
	if err := store.CreateEntryPoint(ctx, ep); err != nil {
		return fmt.Errorf("create entry point: %w", err)
	}
	tr := &cc.Trunk{ID: cc.NewID("trk"), TenantID: t.ID, Name: "loopback", CIDRs: []netip.Prefix{netip.PrefixFrom(s.TrunkSource, s.TrunkSource.BitLen())}, CreatedAt: now}
	if err := tr.Validate(); err != nil {
		return err
	}
	if err := store.CreateTrunk(ctx, tr); err != nil {
		return fmt.Errorf("create trunk: %w", err)
	}
	var hash string
	if s.Password != "" {
		var err error
		if hash, err = auth.HashPassword(s.Password); err != nil {
			return err
		}
	}
	for i := range s.Agents {
		name := AgentName(i)
		u := &cc.User{
			ID: cc.NewID("usr"), TenantID: t.ID, Username: name, DisplayName: "Load agent " + name[5:],
			Roles: []cc.Role{cc.RoleAgent}, Skills: append([]string(nil), q.Skills...),
			Endpoint: s.Endpoint, PasswordHash: hash, CreatedAt: now,
		}
		if s.Endpoint == cc.EndpointSIP {
			u.StaticContact = "sip:" + name + "@" + s.AgentHost
		}
		u.Normalize()
		if err := u.Validate(); err != nil {
			return err
		}
		if err := store.CreateUser(ctx, u); err != nil {
			return fmt.Errorf("create agent %s: %w", name, err)
		}
		if !s.Available {
			continue
		}
		// Agent i has been idle longest when i is smallest.
		since := now.Add(time.Duration(i-s.Agents) * time.Millisecond)
		p := &cc.Presence{TenantID: t.ID, UserID: u.ID, State: cc.StateAvailable, Since: since, AvailableSince: since, Version: 1}
		if err := store.SavePresence(ctx, p); err != nil {
			return fmt.Errorf("make agent %s available: %w", name, err)
		}
	}
	return nil
}
