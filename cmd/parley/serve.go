package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/parley-cc/parley/internal/adminweb"
	"github.com/parley-cc/parley/internal/bus/inmem"
	"github.com/parley-cc/parley/internal/center"
	"github.com/parley-cc/parley/internal/config"
	"github.com/parley-cc/parley/internal/crm/salesforce"
	"github.com/parley-cc/parley/internal/httpapi"
	"github.com/parley-cc/parley/internal/panel"
	"github.com/parley-cc/parley/internal/secret"
	"github.com/parley-cc/parley/internal/softphone"
	"github.com/parley-cc/parley/internal/sso"
	"github.com/parley-cc/parley/internal/store/sqlite"
	"github.com/parley-cc/parley/internal/telephony"
)

// Main is the running server: the program as a struct so tests can start
// it with :0 ports and a temp data dir.
type Main struct {
	Config config.Config
	Logger *slog.Logger

	Store   *sqlite.DB
	Keyring *secret.Keyring
	Bus     *inmem.Bus
	CRM     *salesforce.Provider
	Center  *center.Center
	SIP     *telephony.Server
	API     *httpapi.Server
	// Audio is the panel's browser audio (the softphone hub).
	Audio    *browserAudio
	Registry *prometheus.Registry
	// PprofAddr serves Go profiles (net/http/pprof) on a loopback
	// address when set (--pprof).
	PprofAddr string

	pprofServer   *http.Server
	stopHeartbeat func()
	httpServer    *http.Server
	httpLn        net.Listener
	baseCtx       context.Context
	cancelBase    context.CancelFunc
	// overrides applies the flags that override settings (after the file
	// and the environment).
	overrides func(*config.Config)
	tls       bool
	// dataLock is held from Run to Close, so that a second server on the
	// same data directory refuses to start. The demo takes it before
	// seeding and hands it over.
	dataLock *dataLock
}

// NewMain returns a Main with the default configuration.
func NewMain() *Main {
	return &Main{Config: config.Default()}
}

// ParseFlags reads the serve flags, the config file and the environment.
func (m *Main) ParseFlags(args []string, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	cfgFile := fs.String("config", os.Getenv("PARLEY_CONFIG"), "YAML configuration `file`")
	data := fs.String("data", "", "data `directory` (overrides data_dir)")
	httpAddr := fs.String("http", "", "HTTP listen `address` (overrides http.listen)")
	sipAddr := fs.String("sip", "", "SIP listen `address` for UDP and TCP (overrides sip.udp and sip.tcp)")
	fs.StringVar(&m.PprofAddr, "pprof", "", "serve Go profiles (CPU, heap, mutex, block) on this loopback `address`; off when empty")
	tlsCert := fs.String("tls-cert", "", "PEM certificate `file` for HTTPS and WSS (overrides http.tls_cert; needs --tls-key)")
	tlsKey := fs.String("tls-key", "", "PEM private key `file` of --tls-cert (overrides http.tls_key)")
	var ice listFlag
	fs.Var(&ice, "ice-server", "STUN/TURN `URL` for the panel's browser audio (repeatable; overrides webrtc.ice_servers)")
	iceUser := fs.String("ice-username", "", "TURN `username` (overrides webrtc.ice_username)")
	iceCred := fs.String("ice-credential", "", "TURN `credential` (overrides webrtc.ice_credential)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	m.overrides = func(c *config.Config) {
		if *tlsCert != "" {
			c.HTTP.TLSCert = *tlsCert
		}
		if *tlsKey != "" {
			c.HTTP.TLSKey = *tlsKey
		}
		if len(ice) > 0 {
			c.WebRTC.ICEServers = strings.Join(ice, ",")
		}
		if *iceUser != "" {
			c.WebRTC.ICEUsername = *iceUser
		}
		if *iceCred != "" {
			c.WebRTC.ICECredential = *iceCred
		}
	}
	if m.PprofAddr != "" {
		if err := checkPprofAddr(m.PprofAddr); err != nil {
			return err
		}
	}
	warnUnknownEnv(stderr)
	return m.configure(*cfgFile, *data, *httpAddr, *sipAddr)
}

func (m *Main) configure(cfgFile, data, httpAddr, sipAddr string) error {
	if cfgFile != "" {
		if err := m.Config.LoadFile(cfgFile); err != nil {
			return err
		}
	}
	if err := m.Config.LoadEnv(os.Getenv); err != nil {
		return err
	}
	if data != "" {
		m.Config.DataDir = data
	}
	if httpAddr != "" {
		m.Config.HTTP.Listen = httpAddr
	}
	if sipAddr != "" {
		m.Config.SIP.UDP, m.Config.SIP.TCP = sipAddr, sipAddr
	}
	if m.overrides != nil {
		m.overrides(&m.Config)
	}
	return m.Config.Validate()
}

func newLogger(c config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Run locks the data directory (ECONFLICT when another server holds it),
// opens the store and starts the contact center, SIP and HTTP, in
// dependency order. It returns once everything listens.
func (m *Main) Run(ctx context.Context) (err error) {
	if m.Logger == nil {
		m.Logger = newLogger(m.Config, os.Stderr)
	}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	c := m.Config
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	if m.dataLock == nil {
		if m.dataLock, err = lockDataDir(c.DataDir); err != nil {
			return err
		}
	}
	if m.PprofAddr != "" {
		if m.pprofServer, _, err = startPprof(m.PprofAddr, m.Logger); err != nil {
			return err
		}
	}
	if m.Keyring, err = loadKeyring(ctx, &c); err != nil {
		return err
	}
	if m.Store, err = sqlite.Open(ctx, c.DatabasePath(), sqlite.Options{Sealer: m.Keyring, Logger: m.Logger, Synchronous: c.DatabaseSync}); err != nil {
		return fmt.Errorf("open database %s: %w", c.DatabasePath(), err)
	}
	if counts, err := m.Store.SealedCounts(ctx, secret.KeyID); err != nil {
		return err
	} else if msg := missingKeys(m.Keyring, keyringSource(&c), counts); msg != "" {
		m.Logger.Warn(msg)
	}
	m.Registry = prometheus.NewRegistry()
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.Bus = inmem.New(0)
	m.CRM = salesforce.NewProvider(salesforce.ProviderOptions{Options: salesforce.Options{Logger: m.Logger.With("component", "crm")}})
	if m.Audio, err = newBrowserAudio(c, m); err != nil {
		return err
	}
	lo, hi, _ := c.RTPRange()
	m.SIP, err = telephony.New(telephony.Config{
		UDP: c.SIP.UDP, TCP: c.SIP.TCP, Realm: c.SIP.Realm, ExternalHost: c.SIP.ExternalHost,
		RTPPortMin: lo, RTPPortMax: hi, SoundsDir: c.SIP.SoundsDir, RewriteContact: c.SIP.RewriteContact,
		UserAgent: "Parley/" + Version, Logger: m.Logger.With("component", "sip"),
	}, telephony.Deps{Store: m.Store, Browser: m.Audio})
	if err != nil {
		return err
	}
	heartbeat := filepath.Join(c.DataDir, "heartbeat")
	lastAlive := readHeartbeat(heartbeat)
	m.Center = center.New(center.Options{
		Store: m.Store, Bus: m.Bus, CRM: m.CRM, Logger: m.Logger.With("component", "center"), LastAlive: lastAlive,
		SessionTTL: c.Sessions.TTL.D(), SessionMax: c.Sessions.Max.D(), LookupTimeout: c.CRM.LookupTimeout.D(), PriorityStep: c.Routing.PriorityStep.D(),
		Ready: []func(context.Context) error{m.SIP.Ready}, Dialer: m.SIP, BrowserAudio: m.Audio.hub,
		AudioRescue: audioRescue(c.WebRTC.Rescue.D()),
	})
	center := m.Center
	m.Audio.hub.OnChange(func(k softphone.Key, _ bool) { center.AudioChanged(context.Background(), k.TenantID, k.UserID) })
	m.SIP.SetDirector(m.Center, m.Center.RegistrationChanged)
	if err := m.Center.Register(m.Registry); err != nil {
		return err
	}
	if err := m.SIP.Register(m.Registry); err != nil {
		return err
	}
	if err := m.Audio.register(m.Registry); err != nil {
		return err
	}
	if err := m.Center.Start(ctx); err != nil {
		return err
	}
	m.stopHeartbeat = startHeartbeat(heartbeat, m.Logger)
	if err := m.SIP.Start(ctx); err != nil {
		return err
	}
	clusters, err := c.Clusters()
	if err != nil {
		return err
	}
	ssoHandler, err := m.newSSO()
	if err != nil {
		return err
	}
	m.API = httpapi.New(httpapi.Options{Service: m.Center, Logger: m.Logger.With("component", "http"), Registry: m.Registry, Version: Version, MetricsToken: c.HTTP.MetricsToken, Softphone: m.Audio,
		Panel: panel.New(panel.Options{Tenants: m.Store, Logger: m.Logger.With("component", "panel")}), Clusters: clusters,
		Admin: adminweb.New(), SSO: ssoHandler})
	tlsConfig, err := loadTLS(c.HTTP)
	if err != nil {
		return err
	}
	m.httpLn, err = net.Listen("tcp", c.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.HTTP.Listen, err)
	}
	if tlsConfig != nil {
		m.httpLn, m.tls = tls.NewListener(m.httpLn, tlsConfig), true
	}
	m.baseCtx, m.cancelBase = context.WithCancel(context.Background())
	m.httpServer = &http.Server{
		Handler:           m.API.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return m.baseCtx },
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := m.httpServer.Serve(m.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("HTTP server stopped", "error", err)
		}
	}()
	m.Logger.Info("Parley is running", "http", m.HTTPURL(), "sip_udp", c.SIP.UDP, "sip_tcp", c.SIP.TCP, "data", c.DataDir)
	return nil
}

// newSSO returns the /sso/ pages, or nil (with a warning) while the store
// cannot map CRM usernames to users (the account mapping, UserByIntegration).
func (m *Main) newSSO() (http.Handler, error) {
	h, err := sso.New(sso.Options{PublicURL: m.Config.PublicURL(), Tenants: m.Store, Users: m.Store, Sessions: m.Center,
		Grants: m.Store, Logger: m.Logger.With("component", "sso")})
	if err != nil {
		return nil, err
	}
	// Refreshing an SSO session refreshes its CRM grant; sign-out
	// everywhere revokes it.
	m.Center.UseCRMGrants(h)
	return h, nil
}

// HTTPURL is the address the API listens on.
func (m *Main) HTTPURL() string {
	if m.httpLn == nil {
		return ""
	}
	if m.tls {
		return "https://" + m.httpLn.Addr().String()
	}
	return "http://" + m.httpLn.Addr().String()
}

// loadTLS reads http.tls_cert and http.tls_key; nil when neither is set.
func loadTLS(h config.HTTP) (*tls.Config, error) {
	if h.TLSCert == "" {
		return nil, nil
	}
	pair, err := tls.LoadX509KeyPair(h.TLSCert, h.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("http.tls_cert %s and http.tls_key %s: %w: give a PEM certificate (with its chain) and the PEM private key that belongs to it", h.TLSCert, h.TLSKey, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// listFlag is a flag given several times.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

// Set adds one value.
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// Shutdown drains: it stops taking new calls, lets live calls finish up to
// the drain timeout (or until ctx ends: a second signal), then closes.
func (m *Main) Shutdown(ctx context.Context) error {
	if m.SIP != nil && m.Center != nil {
		m.SIP.Drain()
		m.Center.Drain()
		if n := m.SIP.ActiveCalls(); n > 0 {
			m.Logger.Info("draining: waiting for live calls to end (signal again to force)", "calls", n, "timeout", m.Config.Shutdown.Timeout.D())
			dctx, cancel := context.WithTimeout(ctx, m.Config.Shutdown.Timeout.D())
			_ = m.SIP.Wait(dctx)
			cancel()
		}
	}
	return m.Close()
}

// Close stops everything in reverse order of Run.
func (m *Main) Close() error {
	var errs []error
	if m.httpServer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if m.API != nil {
			errs = append(errs, m.API.Close())
		}
		m.cancelBase()
		errs = append(errs, m.httpServer.Shutdown(ctx))
		cancel()
		m.httpServer = nil
	}
	if m.SIP != nil {
		errs = append(errs, m.SIP.Close())
		m.SIP = nil
	}
	if m.Audio != nil {
		errs = append(errs, m.Audio.hub.Close())
		m.Audio = nil
	}
	if m.stopHeartbeat != nil {
		m.stopHeartbeat()
		m.stopHeartbeat = nil
	}
	if m.Center != nil {
		errs = append(errs, m.Center.Close())
		m.Center = nil
	}
	if m.Bus != nil {
		errs = append(errs, m.Bus.Close())
		m.Bus = nil
	}
	if m.Store != nil {
		errs = append(errs, m.Store.Close())
		m.Store = nil
	}
	if m.pprofServer != nil {
		errs = append(errs, stopPprof(m.pprofServer))
		m.pprofServer = nil
	}
	errs = append(errs, m.dataLock.Close())
	m.dataLock = nil
	return errors.Join(errs...)
}

// The heartbeat file's modification time is the last moment this server
// was known to be alive; after a crash, calls it carried are taken to have
// ended then (not at the restart).
const heartbeatEvery = 2 * time.Second

func readHeartbeat(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime().UTC()
}

// startHeartbeat touches path every heartbeatEvery until the returned stop
// function is called.
func startHeartbeat(path string, log *slog.Logger) func() {
	touch := func() {
		now := time.Now()
		if err := os.Chtimes(path, now, now); errors.Is(err, os.ErrNotExist) {
			err = os.WriteFile(path, nil, 0o600)
		} else if err != nil {
			log.Warn("heartbeat", "error", err)
		}
	}
	touch()
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				touch()
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		touch()
	}
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	m := NewMain()
	if err := m.ParseFlags(args, stderr); err != nil {
		return err
	}
	m.Logger = newLogger(m.Config, stderr)
	if err := m.Run(ctx); err != nil {
		return err
	}
	return waitAndShutdown(ctx, m)
}

// waitAndShutdown waits for the first signal, drains, and forces on the second.
func waitAndShutdown(ctx context.Context, m *Main) error {
	<-ctx.Done()
	m.Logger.Info("shutting down")
	force, stop := signalContext()
	defer stop()
	return m.Shutdown(force)
}

func runCheckConfig(args []string, stdout, stderr io.Writer) error {
	m := NewMain()
	fs := newFlagSet("check-config", stderr)
	cfgFile := fs.String("config", os.Getenv("PARLEY_CONFIG"), "YAML configuration `file`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	warnUnknownEnv(stderr)
	if err := m.configure(*cfgFile, "", "", ""); err != nil {
		return exitError{1, "configuration is not valid: " + err.Error()}
	}
	if _, err := loadTLS(m.Config.HTTP); err != nil {
		return exitError{1, "configuration is not valid: " + err.Error()}
	}
	fmt.Fprintln(stdout, "# configuration is valid; the values Parley runs with:")
	if os.Getenv("PARLEY_SECRET_KEY") != "" {
		fmt.Fprintln(stdout, "# PARLEY_SECRET_KEY is set: it is the keyring, and secrets.key_file is not read")
	}
	fmt.Fprint(stdout, strings.TrimSpace(m.Config.YAML())+"\n")
	return nil
}

// audioRescue is center.Options.AudioRescue for webrtc.rescue, whose 0s
// means never.
func audioRescue(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
