// Package telephony is Parley's SIP side, on sipgo and diago: it accepts
// calls from trunks (allowed by source network), matches the dialled number
// to an entry point, plays queue audio while the contact center finds an
// agent, rings the agent's SIP phone (registered to Parley's registrar, or a
// static contact) and bridges the two legs. G.711 only (PCMU, PCMA), over UDP
// and TCP.
//
// A source address may belong to trunks of several tenants (a catch-all
// 0.0.0.0/0 beside a carrier's 203.0.113.0/24, say). The tenants are then
// tried in one fixed order until one has an entry point for the dialled
// number: the trunk whose prefix holding the source is longest first, ties
// by tenant slug, then by trunk name. The store's order never decides.
//
// What happens to a call is decided by a cc.CallDirector (the contact
// center); this package only carries it out and reports back.
package telephony

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-cc/parley/internal/cc"
)

// Config configures the SIP side.
type Config struct {
	// UDP and TCP are the listen addresses ("127.0.0.1:5060"); an empty one
	// is not served. At least one is needed.
	UDP string
	TCP string
	// Realm is the digest realm of the registrar. SIP passwords are stored
	// as HA1 over this realm: changing it invalidates them.
	Realm string
	// ExternalHost is the address put in Contact headers and SDP when
	// Parley is behind NAT; empty uses the listen address.
	ExternalHost string
	// RTPPortMin and RTPPortMax bound the RTP ports (0 and 0: any).
	RTPPortMin, RTPPortMax int
	// SoundsDir holds WAV files that override or add to the bundled sounds.
	SoundsDir string
	// MinExpires and MaxExpires bound registration lifetimes (60s, 1h).
	MinExpires, MaxExpires time.Duration
	// RewriteContact rings a registered phone at the address its REGISTER
	// came from instead of its Contact host (phones behind NAT).
	RewriteContact bool
	UserAgent      string
	Logger         *slog.Logger
}

// Deps are what the SIP side needs from the rest of Parley.
type Deps struct {
	Store    cc.Store
	Director cc.CallDirector
	// OnRegistration is told when an agent's phone registered or left.
	OnRegistration func(ctx context.Context, tenantID, userID string)
	// Browser gives the audio of agents who talk through the panel; nil
	// when no softphone is served (offers to browser agents then fail).
	Browser BrowserLegs
}

// Server is the SIP side. Create it with New, then Start.
type Server struct {
	cfg    Config
	deps   Deps
	log    *slog.Logger
	sounds *Sounds

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	dg     *diago.Diago
	cancel context.CancelFunc

	draining atomic.Bool
	started  atomic.Bool
	calls    sync.WaitGroup
	mu       sync.Mutex
	active   map[liveCall]struct{}

	trunkMu    sync.Mutex
	trunks     []*cc.Trunk
	trunksRead time.Time

	nonceKey []byte
	failures *failureLimiter
	metrics  *metrics
}

// New returns a server; it reads the sounds but opens no socket.
func New(cfg Config, deps Deps) (*Server, error) {
	if cfg.UDP == "" && cfg.TCP == "" {
		return nil, cc.Errorf(cc.EINVALID, "SIP: give a UDP or a TCP listen address")
	}
	for _, a := range []string{cfg.UDP, cfg.TCP} {
		if a == "" {
			continue
		}
		if _, err := netip.ParseAddrPort(a); err != nil {
			return nil, cc.Errorf(cc.EINVALID, "SIP listen address %q: use ip:port such as 127.0.0.1:5060", a)
		}
	}
	if cfg.Realm == "" {
		cfg.Realm = "parley"
	}
	if cfg.MinExpires == 0 {
		cfg.MinExpires = 60 * time.Second
	}
	if cfg.MaxExpires == 0 {
		cfg.MaxExpires = time.Hour
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "Parley"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RTPPortMin != 0 || cfg.RTPPortMax != 0 {
		if cfg.RTPPortMin < 1024 || cfg.RTPPortMax > 65535 || cfg.RTPPortMax-cfg.RTPPortMin+1 < 100 {
			return nil, cc.Errorf(cc.EINVALID, "RTP ports %d-%d: use a range of at least 100 ports within 1024-65535", cfg.RTPPortMin, cfg.RTPPortMax)
		}
	}
	sounds, err := LoadSounds(cfg.SoundsDir)
	if err != nil {
		return nil, err
	}
	return &Server{
		cfg:      cfg,
		deps:     deps,
		log:      cfg.Logger,
		sounds:   sounds,
		active:   map[liveCall]struct{}{},
		nonceKey: []byte(cc.RandomToken(32)),
		failures: newFailureLimiter(10, 5*time.Minute),
		metrics:  newMetrics(),
	}, nil
}

// Codecs are the audio codecs Parley offers and accepts.
var Codecs = []media.Codec{media.CodecAudioUlaw, media.CodecAudioAlaw, media.CodecTelephoneEvent8000}

// SetDirector sets who decides what happens to calls, and who hears of
// registrations, when they could not be given to New (they depend on the
// server). Call it before Start.
func (s *Server) SetDirector(d cc.CallDirector, onRegistration func(ctx context.Context, tenantID, userID string)) {
	s.deps.Director = d
	s.deps.OnRegistration = onRegistration
}

// Start opens the listeners and serves until Close.
func (s *Server) Start(ctx context.Context) error {
	host := s.cfg.ExternalHost
	if host == "" {
		for _, a := range []string{s.cfg.UDP, s.cfg.TCP} {
			if a != "" {
				host, _, _ = net.SplitHostPort(a)
				break
			}
		}
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(s.cfg.UserAgent), sipgo.WithUserAgentHostname(host))
	if err != nil {
		return fmt.Errorf("start SIP: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(s.log))
	if err != nil {
		return fmt.Errorf("start SIP: %w", err)
	}
	if s.cfg.RTPPortMin != 0 {
		media.RTPPortStart, media.RTPPortEnd = s.cfg.RTPPortMin, s.cfg.RTPPortMax
	}
	opts := []diago.DiagoOption{
		diago.WithServer(srv),
		diago.WithLogger(s.log),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: Codecs}),
	}
	for _, tr := range []struct{ proto, addr string }{{"udp", s.cfg.UDP}, {"tcp", s.cfg.TCP}} {
		if tr.addr == "" {
			continue
		}
		h, p, _ := net.SplitHostPort(tr.addr)
		port, _ := strconv.Atoi(p)
		t := diago.Transport{Transport: tr.proto, BindHost: h, BindPort: port}
		if s.cfg.ExternalHost != "" {
			t.ExternalHost = s.cfg.ExternalHost
		}
		opts = append(opts, diago.WithTransport(t))
	}
	dg := diago.NewDiago(ua, opts...)
	// sipgo keeps one handler per method: ours must come after NewDiago.
	srv.OnRegister(s.handleRegister)
	s.ua, s.srv, s.dg = ua, srv, dg
	sctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if err := dg.ServeBackground(sctx, s.handleInvite); err != nil {
		cancel()
		return fmt.Errorf("start SIP: listen: %w", err)
	}
	s.started.Store(true)
	s.log.Info("SIP listening", "udp", s.cfg.UDP, "tcp", s.cfg.TCP, "realm", s.cfg.Realm)
	return nil
}

// Ready reports whether the listeners are up.
func (s *Server) Ready(context.Context) error {
	if !s.started.Load() {
		return cc.Errorf(cc.EUNAVAILABLE, "SIP is not listening yet")
	}
	return nil
}

// Drain refuses new calls with 503; calls in progress go on.
func (s *Server) Drain() { s.draining.Store(true) }

// ActiveCalls counts calls in progress.
func (s *Server) ActiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.active)
}

// Wait waits until no call is in progress or ctx ends.
func (s *Server) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.calls.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close hangs up every call in progress and closes the listeners.
func (s *Server) Close() error {
	s.draining.Store(true)
	s.mu.Lock()
	for c := range s.active {
		c.terminate()
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	werr := s.Wait(ctx)
	if s.cancel != nil {
		s.cancel()
	}
	var err error
	if s.srv != nil {
		err = s.srv.Close()
	}
	if s.ua != nil {
		err = errors.Join(err, s.ua.Close())
	}
	if werr != nil {
		s.log.Warn("calls still ending at SIP shutdown", "calls", s.ActiveCalls())
	}
	return err
}

// Diago exposes the SIP stack to callers that place calls (the call
// command and outbound dialling).
func (s *Server) Diago() *diago.Diago { return s.dg }

// Register adds the SIP metrics to a registry.
func (s *Server) Register(reg prometheus.Registerer) error { return s.metrics.register(reg, s) }

// trunksCached returns every tenant's trunks, read at most every 2 seconds.
func (s *Server) trunksCached(ctx context.Context) ([]*cc.Trunk, error) {
	s.trunkMu.Lock()
	defer s.trunkMu.Unlock()
	if s.trunks != nil && time.Since(s.trunksRead) < 2*time.Second {
		return s.trunks, nil
	}
	ts, err := s.deps.Store.Trunks(ctx, "")
	if err != nil {
		return nil, err
	}
	s.trunks, s.trunksRead = ts, time.Now()
	return ts, nil
}

// sourceAddr returns the address a request came from.
func sourceAddr(req *sip.Request) (netip.Addr, bool) {
	src := req.Source()
	if ap, err := netip.ParseAddrPort(src); err == nil {
		return ap.Addr().Unmap(), true
	}
	host, _, err := net.SplitHostPort(src)
	if err != nil {
		host = src
	}
	a, err := netip.ParseAddr(host)
	return a.Unmap(), err == nil
}
