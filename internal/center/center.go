// Package center is the running contact center: it owns agent presence,
// routing (through internal/acd), the life of every interaction, wrap-up,
// and the durable CRM log outbox. Telephony reports calls to it through
// cc.CallDirector; the HTTP API calls its methods on behalf of signed-in users.
//
// All state of a tenant changes under that tenant's lock, in memory first and
// in the store in the same step; events are published after the store write.
// After a restart the center rebuilds its state from the store: calls that
// were live are closed as system-ended, their logs are still written, and
// agents keep their state.
package center

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/parley-cc/parley/internal/acd"
	"github.com/parley-cc/parley/internal/cc"
)

// Options configures a Center.
type Options struct {
	Store  cc.Store
	Bus    cc.EventBus
	CRM    cc.CRMProvider // nil: no tenant has a CRM
	Clock  cc.Clock
	Logger *slog.Logger
	// SessionTTL is how long an API session lasts without a refresh
	// (default 1h); SessionMax is its absolute end, refreshes included
	// (default 12h; never less than SessionTTL).
	SessionTTL, SessionMax time.Duration
	// SessionGrace is how long a token replaced by a refresh keeps working,
	// for the requests other tabs sent with it meanwhile (default 30s).
	SessionGrace time.Duration
	// CRMGrants refreshes the CRM grants of SSO sessions when they are
	// refreshed and revokes them on sign-out everywhere; nil: none (set it
	// later with UseCRMGrants, as internal/sso needs the center first).
	CRMGrants cc.CRMGrants
	// LookupTimeout bounds the CRM search at call arrival (default 3s).
	LookupTimeout time.Duration
	// PriorityStep is what one point of queue priority is worth in waiting time.
	PriorityStep time.Duration
	// RefreshInterval is how often configuration made by other processes
	// (parley admin) is picked up (default 5s).
	RefreshInterval time.Duration
	// SweepInterval is how often expired SIP registrations are swept (default 15s).
	SweepInterval time.Duration
	// OfferGrace is added to an offer's timeout before the center gives up on
	// hearing from the media side (default 15s).
	OfferGrace time.Duration
	// RetryMin and RetryMax bound the backoff of CRM log deliveries that
	// may pass (default 2s and 5m); RetryPermanent is the wait after an
	// error that needs a person (default 1h).
	RetryMin, RetryMax, RetryPermanent time.Duration
	// LastAlive is when the previous run was last known to be alive (its
	// heartbeat). Calls it left open are taken to have ended then, so a
	// crash does not count the downtime as talk time. Zero means now.
	LastAlive time.Time
	// Ready checks other parts (SIP listeners) for /readyz.
	Ready []func(context.Context) error
	// Dialer places click-to-dial calls; nil refuses them.
	Dialer cc.OutboundDialer
	// BrowserAudio tells whether a browser agent's panel has its audio
	// connected (the softphone hub); nil means none has, so browser
	// agents cannot be available. The hub calls AudioChanged when it changes.
	BrowserAudio cc.BrowserAudio
	// AudioRescue is how long an inbound call connected to a browser agent
	// waits, once the hub has said the agent's audio is gone (after its
	// own grace), for the audio to come back; then the call goes back to
	// its queue, keeping its place in line, and the agent is made not
	// ready (connection-lost). Zero: DefaultAudioRescue; negative: never.
	AudioRescue time.Duration
}

// DefaultAudioRescue is Options.AudioRescue when it is zero.
const DefaultAudioRescue = 60 * time.Second

// Center is the contact center. Create it with New, then Start.
type Center struct {
	opts   Options
	store  cc.Store
	bus    cc.EventBus
	crm    cc.CRMProvider
	clock  cc.Clock
	log    *slog.Logger
	metric *metrics

	grants cc.CRMGrants // nil: no SSO grants to refresh

	mu       sync.Mutex
	tenants  map[string]*tenantState // by tenant id
	draining bool

	writes     chan *commitJob // to the writer (batch.go)
	writerDone chan struct{}
	writeMu    sync.RWMutex // sends hold it shared; closing the writer holds it
	writerShut bool

	wake  chan struct{} // outbox worker
	dirty chan struct{} // queue status flusher
	stop  context.CancelFunc
	wg    sync.WaitGroup
	ctx   context.Context
	start time.Time
}

var _ cc.CallDirector = (*Center)(nil)

// New returns a center; it does no I/O.
func New(opts Options) *Center {
	if opts.Clock == nil {
		opts.Clock = cc.SystemClock
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.SessionTTL == 0 {
		opts.SessionTTL = time.Hour
	}
	if opts.SessionMax == 0 {
		opts.SessionMax = 12 * time.Hour
	}
	opts.SessionMax = max(opts.SessionMax, opts.SessionTTL)
	if opts.SessionGrace == 0 {
		opts.SessionGrace = 30 * time.Second
	}
	if opts.LookupTimeout == 0 {
		opts.LookupTimeout = 3 * time.Second
	}
	if opts.RefreshInterval == 0 {
		opts.RefreshInterval = 5 * time.Second
	}
	if opts.SweepInterval == 0 {
		opts.SweepInterval = 15 * time.Second
	}
	if opts.OfferGrace == 0 {
		opts.OfferGrace = 15 * time.Second
	}
	if opts.AudioRescue == 0 {
		opts.AudioRescue = DefaultAudioRescue
	}
	if opts.RetryMin == 0 {
		opts.RetryMin = 2 * time.Second
	}
	if opts.RetryMax == 0 {
		opts.RetryMax = 5 * time.Minute
	}
	if opts.RetryPermanent == 0 {
		opts.RetryPermanent = time.Hour
	}
	return &Center{
		opts:       opts,
		store:      opts.Store,
		bus:        opts.Bus,
		crm:        opts.CRM,
		grants:     opts.CRMGrants,
		clock:      opts.Clock,
		log:        opts.Logger,
		metric:     newMetrics(),
		tenants:    map[string]*tenantState{},
		wake:       make(chan struct{}, 1),
		writes:     make(chan *commitJob, 4096),
		writerDone: make(chan struct{}),
		dirty:      make(chan struct{}, 1),
	}
}

// Start loads every tenant, recovers what a previous run left open, and
// starts the background workers (outbox, sweeper, status, refresh).
func (c *Center) Start(ctx context.Context) error {
	c.start = c.clock()
	go c.writeLoop()
	tenants, err := c.store.Tenants(ctx)
	if err != nil {
		return fmt.Errorf("start center: %w", err)
	}
	for _, t := range tenants {
		if _, err := c.loadTenant(ctx, t); err != nil {
			return fmt.Errorf("start center: tenant %s: %w", t.Slug, err)
		}
	}
	if err := c.recover(ctx); err != nil {
		return fmt.Errorf("start center: recover: %w", err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	c.ctx, c.stop = wctx, cancel
	c.goLoop(c.outboxLoop)
	c.goLoop(c.statusLoop)
	c.goLoop(func(ctx context.Context) { c.tick(ctx, c.opts.SweepInterval, c.sweep) })
	c.goLoop(func(ctx context.Context) { c.tick(ctx, c.opts.RefreshInterval, c.refresh) })
	c.kickOutbox()
	return nil
}

func (c *Center) goLoop(f func(context.Context)) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f(c.ctx)
	}()
}

func (c *Center) tick(ctx context.Context, every time.Duration, f func(context.Context)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f(ctx)
		}
	}
}

// Drain stops taking new calls; calls in progress go on.
func (c *Center) Drain() {
	c.mu.Lock()
	c.draining = true
	c.mu.Unlock()
}

// LiveCalls counts calls in progress across tenants.
func (c *Center) LiveCalls() int {
	n := 0
	for _, ts := range c.tenantList() {
		ts.mu.Lock()
		n += len(ts.live) + len(ts.outbound)
		c.unlock(ts)
	}
	return n
}

// Close stops the background workers and every timer. Calls still live are
// left to the media side to end; Close does not write to the store after
// the workers stopped.
func (c *Center) Close() error {
	if c.stop != nil {
		c.stop()
	}
	c.wg.Wait()
	for _, ts := range c.tenantList() {
		ts.mu.Lock()
		ts.closed = true
		for _, a := range ts.agents {
			a.stopTimer()
		}
		for _, cl := range ts.live {
			cl.stopTimers()
		}
		c.unlock(ts)
	}
	// Everything handed to the writer is written before the store closes.
	c.writeMu.Lock()
	if !c.writerShut {
		c.writerShut = true
		close(c.writes)
	}
	c.writeMu.Unlock()
	if c.stop != nil {
		<-c.writerDone
	}
	return nil
}

// Ready reports whether the store and the other registered parts answer.
func (c *Center) Ready(ctx context.Context) error {
	if err := c.store.Ping(ctx); err != nil {
		return cc.WrapError(cc.EUNAVAILABLE, err, "store is not answering")
	}
	if c.stop == nil {
		return cc.Errorf(cc.EUNAVAILABLE, "contact center is starting")
	}
	c.mu.Lock()
	draining := c.draining
	c.mu.Unlock()
	if draining {
		return cc.Errorf(cc.EUNAVAILABLE, "draining: not taking new calls")
	}
	for _, f := range c.opts.Ready {
		if err := f(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (c *Center) tenantList() []*tenantState {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*tenantState, 0, len(c.tenants))
	for _, ts := range c.tenants {
		out = append(out, ts)
	}
	return out
}

func (c *Center) tenantState(id string) (*tenantState, error) {
	c.mu.Lock()
	ts := c.tenants[id]
	c.mu.Unlock()
	if ts == nil {
		return nil, cc.Errorf(cc.ENOTFOUND, "tenant not found")
	}
	return ts, nil
}

// tenantState is one tenant's live state; everything in it changes under mu.
type tenantState struct {
	mu       sync.Mutex
	tenant   *cc.Tenant
	engine   *acd.Engine
	queues   map[string]*cc.Queue
	agents   map[string]*agentState // agents by user id
	users    map[string]*cc.User    // every user by id (names)
	live     map[string]*call       // inbound calls by interaction id
	outbound map[string]*outCall    // click-to-dial calls by interaction id
	wrapping map[string]*cc.Interaction
	lookups  map[string][]time.Time // queue id -> arrival times of calls still being looked up
	stats    map[string]*queueStats
	dirty    map[string]bool // queues whose status changed
	batch    batch           // writes of the current step (see batch.go)
	pending  map[string]*pendingWrite
	closed   bool
}

type agentState struct {
	user     *cc.User
	presence cc.Presence
	timer    *time.Timer // wrap-up deadline
	rescue   *time.Timer // the call goes back to its queue (watchCallAudioLocked)
	// audioGone: the hub said the browser agent's audio is gone past its
	// grace (AudioChanged), and it has not said it is back.
	audioGone bool
}

func (a *agentState) stopTimer() {
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
}

func (a *agentState) stopRescue() {
	if a.rescue != nil {
		a.rescue.Stop()
		a.rescue = nil
	}
}

func (c *Center) loadTenant(ctx context.Context, t *cc.Tenant) (*tenantState, error) {
	eng, err := acd.New(acd.Options{PriorityStep: c.opts.PriorityStep, Clock: c.clock})
	if err != nil {
		return nil, err
	}
	ts := &tenantState{
		tenant:   t,
		engine:   eng,
		queues:   map[string]*cc.Queue{},
		agents:   map[string]*agentState{},
		users:    map[string]*cc.User{},
		live:     map[string]*call{},
		outbound: map[string]*outCall{},
		wrapping: map[string]*cc.Interaction{},
		lookups:  map[string][]time.Time{},
		stats:    map[string]*queueStats{},
		dirty:    map[string]bool{},
	}
	queues, err := c.store.Queues(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	for _, q := range queues {
		ts.queues[q.ID] = q
		if _, err := eng.SetQueue(q.ID, q.Priority, q.Skills); err != nil {
			return nil, fmt.Errorf("queue %s: %w", q.Name, err)
		}
	}
	users, err := c.store.Users(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	presences, err := c.store.Presences(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	byUser := map[string]*cc.Presence{}
	for _, p := range presences {
		byUser[p.UserID] = p
	}
	for _, u := range users {
		ts.users[u.ID] = u
		if !u.IsAgent() || u.Disabled {
			continue
		}
		a := &agentState{user: u, presence: cc.Presence{TenantID: t.ID, UserID: u.ID, State: cc.StateLoggedOut}}
		if p := byUser[u.ID]; p != nil {
			a.presence = *p
		}
		ts.agents[u.ID] = a
		if _, _, err := eng.SetAgent(u.ID, skillsOrNone(u.Skills)); err != nil {
			return nil, fmt.Errorf("agent %s: %w", u.Username, err)
		}
	}
	if err := c.loadStats(ctx, ts); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.tenants[t.ID] = ts
	c.mu.Unlock()
	return ts, nil
}

// skillsOrNone keeps an agent without skills out of every queue that has
// skills, while still letting the engine know the agent.
func skillsOrNone(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// refresh picks up tenants, users and queues changed by other processes.
func (c *Center) refresh(ctx context.Context) {
	tenants, err := c.store.Tenants(ctx)
	if err != nil {
		c.log.Warn("refresh configuration", "error", err)
		return
	}
	for _, t := range tenants {
		c.mu.Lock()
		ts := c.tenants[t.ID]
		c.mu.Unlock()
		if ts == nil {
			if _, err := c.loadTenant(ctx, t); err != nil {
				c.log.Error("load new tenant", "tenant", t.Slug, "error", err)
			} else {
				c.log.Info("tenant added", "tenant", t.Slug)
			}
			continue
		}
		if err := c.refreshTenant(ctx, ts, t); err != nil && !errors.Is(err, context.Canceled) {
			c.log.Warn("refresh tenant", "tenant", t.Slug, "error", err)
		}
	}
}

// ReloadConfig applies configuration changes at once (after an admin change).
func (c *Center) ReloadConfig(ctx context.Context) { c.refresh(ctx) }

func (c *Center) refreshTenant(ctx context.Context, ts *tenantState, t *cc.Tenant) error {
	queues, err := c.store.Queues(ctx, t.ID)
	if err != nil {
		return err
	}
	users, err := c.store.Users(ctx, t.ID)
	if err != nil {
		return err
	}
	ts.mu.Lock()
	defer c.unlock(ts)
	if ts.closed {
		return nil
	}
	ts.tenant = t
	var assigns []acd.Assignment
	seen := map[string]bool{}
	for _, q := range queues {
		seen[q.ID] = true
		old := ts.queues[q.ID]
		ts.queues[q.ID] = q
		if old != nil && old.Priority == q.Priority && slices.Equal(old.Skills, q.Skills) {
			continue
		}
		as, err := ts.engine.SetQueue(q.ID, q.Priority, q.Skills)
		if err != nil {
			c.log.Error("apply queue change", "queue", q.Name, "error", err)
			continue
		}
		assigns = append(assigns, as...)
		ts.dirty[q.ID] = true
	}
	for id := range ts.queues {
		if !seen[id] {
			// A deleted queue keeps its waiting calls where they are: they
			// stay in the engine until served or abandoned elsewhere.
			c.log.Warn("queue vanished from the store; keeping it until restart", "queue", id)
		}
	}
	for _, u := range users {
		ts.users[u.ID] = u
		a := ts.agents[u.ID]
		agentNow := u.IsAgent() && !u.Disabled
		switch {
		case a == nil && agentNow:
			ts.agents[u.ID] = &agentState{user: u, presence: cc.Presence{TenantID: t.ID, UserID: u.ID, State: cc.StateLoggedOut}}
			if _, _, err := ts.engine.SetAgent(u.ID, skillsOrNone(u.Skills)); err != nil {
				c.log.Error("add agent", "agent", u.Username, "error", err)
			}
		case a != nil && !agentNow:
			// Removed as an agent (or disabled): sign out of routing once
			// no interaction holds the agent.
			if a.presence.InteractionID == "" {
				if a.presence.State != cc.StateLoggedOut {
					c.setPresenceLocked(ctx, ts, a, cc.PresenceChange{Op: cc.OpSet, State: cc.StateLoggedOut})
				}
				a.stopTimer()
				if err := ts.engine.RemoveAgent(u.ID); err != nil {
					c.log.Error("remove agent", "agent", u.Username, "error", err)
				}
				delete(ts.agents, u.ID)
				c.markAgentQueuesDirty(ts, a)
			}
		case a != nil:
			changed := !slices.Equal(a.user.Skills, u.Skills)
			a.user = u
			if changed {
				as, ok, err := ts.engine.SetAgent(u.ID, skillsOrNone(u.Skills))
				if err != nil {
					c.log.Error("apply skill change", "agent", u.Username, "error", err)
				} else if ok {
					assigns = append(assigns, as)
				}
				c.markAgentQueuesDirty(ts, a)
			}
		}
	}
	for _, as := range assigns {
		c.offerLocked(ctx, ts, as)
	}
	return nil
}
