// Package httpapi is Parley's REST and WebSocket API under /api/v1, with the
// health, readiness and metrics endpoints beside it.
//
// The handlers translate HTTP to calls on a Service and back: they parse and
// check input (body size, content type, unknown fields, id shapes, query
// parameters), map Parley error codes to HTTP status through one table, and
// never let a secret (password hash, SIP digest, CRM credentials, the internal
// cause of an error) reach a response. Live events reach browsers over a
// WebSocket opened with a short-lived, single-use ticket, never with the
// long-lived bearer token in the URL. The document of the API is
// api/openapi.yaml; a test keeps the two in step.
package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/ctiurl"
)

// Options configure a Server.
type Options struct {
	// Service is the contact center the API serves. Required.
	Service Service
	// Logger receives request failures with their causes; nil discards.
	Logger *slog.Logger
	// Registry receives the API's metrics and is served at /metrics; nil
	// uses a private registry.
	Registry *prometheus.Registry
	// Version is the build version, reported in the hello frame and in
	// the parley_build_info metric.
	Version string
	// Clock gives the time for tickets and rate limits; nil is the system clock.
	Clock cc.Clock
	// MetricsToken, when set, is the bearer token /metrics requires (the
	// metrics name tenants and queues); empty serves them to anyone who
	// reaches the listener.
	MetricsToken string
	// Panel, when set, serves the agent panel's pages under /cti/ (the CTI
	// adapter page and its assets; internal/panel). It sets its own
	// headers.
	Panel http.Handler
	// Admin, when set, serves the admin web pages under /admin/
	// (internal/adminweb). It sets its own headers.
	Admin http.Handler
	// SSO, when set, serves single sign-on from the CRM under /sso/
	// (GET /sso/start, /sso/callback, /sso/consent, POST /sso/consent and
	// /sso/handoff; internal/sso). It sets its own headers.
	SSO http.Handler
	// Softphone, when set, answers the panel's browser audio over the
	// events WebSocket (softphone.offer messages).
	Softphone Softphone
	// Clusters is the cluster table GET /api/v1/cti/domain-check checks
	// contact center domains with; nil is ctiurl.Default.
	Clusters *ctiurl.Clusters
}

// Server is the HTTP API. Create it with New, serve Handler, and Close it
// on shutdown to close the open WebSockets.
type Server struct {
	svc          Service
	log          *slog.Logger
	reg          *prometheus.Registry
	version      string
	metricsToken string
	panel        http.Handler
	admin        http.Handler
	sso          http.Handler
	softphone    Softphone
	clusters     *ctiurl.Clusters
	clock        cc.Clock
	mux          *http.ServeMux
	routes       []string // registered patterns, for the OpenAPI, isolation and CSRF tests
	metrics      *metrics
	tickets      *ticketStore
	signIns      *signInLimiter
	sockets      *socketSet

	// pingInterval and writeTimeout pace WebSocket keep-alive and writes.
	pingInterval time.Duration
	writeTimeout time.Duration
}

// Timing of WebSockets and tickets.
const (
	pingInterval    = 20 * time.Second
	wsWriteTimeout  = 10 * time.Second
	ticketTTL       = 30 * time.Second
	readyTimeout    = 5 * time.Second
	wrapUpBodyBytes = 6*cc.MaxNotesBytes + 4<<10 // notes at the limit, even if every byte is escaped
)

// New returns a Server for opts. It does no I/O.
func New(opts Options) *Server {
	if opts.Service == nil {
		panic("httpapi: Options.Service is nil")
	}
	s := &Server{
		svc:          opts.Service,
		log:          opts.Logger,
		reg:          opts.Registry,
		version:      opts.Version,
		clock:        opts.Clock,
		metricsToken: opts.MetricsToken,
		panel:        opts.Panel,
		admin:        opts.Admin,
		sso:          opts.SSO,
		softphone:    opts.Softphone,
		clusters:     opts.Clusters,
		mux:          http.NewServeMux(),
		pingInterval: pingInterval,
		writeTimeout: wsWriteTimeout,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
	}
	if s.clock == nil {
		s.clock = cc.SystemClock
	}
	if s.clusters == nil {
		s.clusters = ctiurl.Default()
	}
	if s.version == "" {
		s.version = "dev"
	}
	s.metrics = newMetrics(s.reg, s.version)
	s.tickets = newTicketStore(s.clock, ticketTTL)
	s.signIns = newSignInLimiter(s.clock)
	s.sockets = newSocketSet()
	s.register()
	return s
}

// Handler returns the HTTP handler of every route.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Close closes every open WebSocket with "going away", refuses new ones and
// returns when they are closed. REST routes keep working; stop the
// http.Server for those. Cancelling the http.Server's BaseContext closes the
// sockets the same way.
func (s *Server) Close() error {
	s.sockets.closeAll()
	return nil
}

// handlerFunc is a handler that returns its error for the caller to write.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// authedFunc is a handler for a signed-in principal.
type authedFunc func(w http.ResponseWriter, r *http.Request, p *cc.Principal) error

// register installs the routes. It is the table of contents of the API.
func (s *Server) register() {
	s.handle("POST /api/v1/sessions", nil, s.signIn)
	s.handle("DELETE /api/v1/sessions/current", nil, s.authed(s.signOut))
	s.handle("POST /api/v1/sessions/current/refresh", nil, s.authed(s.refreshSession))
	s.handle("DELETE /api/v1/me/sessions", nil, s.authed(s.signOutEverywhere))
	s.handle("GET /api/v1/me", nil, s.authed(s.me))
	s.handle("PUT /api/v1/me/state", nil, s.authed(s.setState))
	s.handle("GET /api/v1/queues", nil, s.authed(s.queues))
	s.handle("GET /api/v1/interactions", interactionQuery, s.authed(s.interactions))
	s.handle("GET /api/v1/interactions/{id}", nil, s.authed(s.interaction))
	s.handle("GET /api/v1/interactions/{id}/log", nil, s.authed(s.interactionLog))
	s.handle("PUT /api/v1/interactions/{id}/wrapup", nil, s.authed(s.wrapUp))
	s.handle("PUT /api/v1/interactions/{id}/link", nil, s.authed(s.link))
	s.handle("POST /api/v1/calls", nil, s.authed(s.placeCall))
	s.handle("POST /api/v1/interactions/{id}/accept", nil, s.authed(s.accept))
	s.handle("POST /api/v1/interactions/{id}/reject", nil, s.authed(s.reject))
	s.handle("POST /api/v1/interactions/{id}/hold", nil, s.authed(s.hold))
	s.handle("POST /api/v1/interactions/{id}/mute", nil, s.authed(s.mute))
	s.handle("POST /api/v1/interactions/{id}/dtmf", nil, s.authed(s.dtmf))
	s.handle("POST /api/v1/interactions/{id}/hangup", nil, s.authed(s.hangup))
	s.handle("POST /api/v1/interactions/{id}/transfer", nil, s.authed(s.transfer))
	s.handle("GET /api/v1/agents", nil, s.authed(s.agents))
	s.handle("GET /api/v1/cti/domain-check", []string{"domain"}, s.authed(s.domainCheck))
	s.handle("POST /api/v1/events/ticket", nil, s.authed(s.eventTicket))
	s.handle("GET /api/v1/events", []string{"ticket", "after"}, s.events)
	s.handle("GET /api/v1/admin/crm-users", nil, s.authed(s.crmUsers))
	s.handle("PUT /api/v1/admin/users/{id}/integrations/{crm}", nil, s.authed(s.setIntegration))
	s.handle("DELETE /api/v1/admin/users/{id}/integrations/{crm}", nil, s.authed(s.removeIntegration))
	s.handle("GET /healthz", nil, s.healthz)
	s.handle("GET /readyz", nil, s.readyz)
	s.handle("GET /metrics", nil, s.serveMetrics)
	if s.panel != nil {
		// Pages, not API routes: not in the API document.
		s.mux.Handle("GET /cti/", s.panel)
	}
	if s.admin != nil {
		s.mux.Handle("GET /admin/", s.admin)
	}
	if s.sso != nil {
		// Pages too: the sign-in popup's.
		s.mux.Handle("GET /sso/", s.sso)
		s.mux.Handle("POST /sso/consent", s.sso)
		s.mux.Handle("POST /sso/handoff", s.sso)
	}
}

// handle registers h for pattern. query lists the query parameters the
// route accepts; any other is an error that names it.
func (s *Server) handle(pattern string, query []string, h handlerFunc) {
	s.routes = append(s.routes, pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		err := checkQuery(r, query)
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

// authed resolves the bearer token before calling h.
func (s *Server) authed(h authedFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		token, err := bearerToken(r)
		if err != nil {
			return err
		}
		p, err := s.svc.Authenticate(r.Context(), token)
		if err != nil {
			return fmt.Errorf("authenticate: %w", err)
		}
		if p == nil || p.Tenant == nil || p.User == nil {
			return cc.Errorf(cc.EINTERNAL, "authenticate returned no principal")
		}
		return h(w, r, p)
	}
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", cc.Errorf(cc.EUNAUTHORIZED, "sign in first: send the token from POST /api/v1/sessions as Authorization: Bearer <token>")
	}
	scheme, token, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", cc.Errorf(cc.EUNAUTHORIZED, "authorization scheme %q is not supported: use Authorization: Bearer <token>", scheme)
	}
	token = strings.TrimSpace(token)
	if token == "" || len(token) > 512 || strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return "", cc.Errorf(cc.EUNAUTHORIZED, "the bearer token is malformed: send the token from POST /api/v1/sessions as it was given")
	}
	return token, nil
}

// serveHTTP sets the common headers, routes the request, answers unmatched
// requests with JSON errors, recovers panics and records metrics.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	_, pattern := s.mux.Handler(r)
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "handler panic", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !sw.wroteHeader {
				s.writeError(sw, r, cc.Errorf(cc.EINTERNAL, "internal error"))
			}
		}
		s.metrics.observe(pattern, sw.status(), time.Since(start))
	}()
	if pattern == "" {
		s.unmatched(sw, r)
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// unmatched answers a request no route serves: 405 with Allow when the path
// exists for other methods, else 404.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	probe := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.code == http.StatusMethodNotAllowed {
		allow := probe.header.Get("Allow")
		w.Header().Set("Allow", allow)
		s.writeErrorStatus(w, r, http.StatusMethodNotAllowed,
			cc.Errorf(cc.EINVALID, "method %s is not allowed on %s: use %s", r.Method, r.URL.Path, allow))
		return
	}
	s.writeError(w, r, cc.Errorf(cc.ENOTFOUND, "no route %s %s: see the API document for the routes", r.Method, r.URL.Path))
}

// statusWriter remembers the status written through it.
type statusWriter struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.code, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController and the WebSocket upgrade the
// underlying writer (Hijacker, Flusher).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) status() int {
	if !w.wroteHeader {
		return http.StatusOK
	}
	return w.code
}

// headerRecorder captures the status and headers of the router's own
// not-found and method-not-allowed handlers, discarding their text bodies.
type headerRecorder struct {
	header http.Header
	code   int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(code int) {
	if h.code == 0 {
		h.code = code
	}
}

// socketSet tracks open WebSockets so that they can be closed on sign-out
// and shutdown.
type socketSet struct {
	mu     sync.Mutex
	closed bool
	m      map[*socket]struct{}
	wg     sync.WaitGroup
}

func newSocketSet() *socketSet { return &socketSet{m: map[*socket]struct{}{}} }

// add tracks k; it reports false once the set is closed.
func (ss *socketSet) add(k *socket) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return false
	}
	ss.m[k] = struct{}{}
	ss.wg.Add(1)
	return true
}

// remove forgets k once its socket is closed.
func (ss *socketSet) remove(k *socket) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if _, ok := ss.m[k]; ok {
		delete(ss.m, k)
		ss.wg.Done()
	}
}

// closeSession ends the sockets opened by one session with reason.
func (ss *socketSet) closeSession(sessionID string, reason *closeReason) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for k := range ss.m {
		if k.sessionID == sessionID {
			k.stop(reason)
		}
	}
}

// closeUser ends the sockets of every session of a user with reason.
func (ss *socketSet) closeUser(tenantID, userID string, reason *closeReason) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for k := range ss.m {
		if k.tenantID == tenantID && k.userID == userID {
			k.stop(reason)
		}
	}
}

// closeAll ends every socket, refuses new ones and waits until the open
// ones have sent their close frames (bounded by the close handshake).
func (ss *socketSet) closeAll() {
	ss.mu.Lock()
	ss.closed = true
	for k := range ss.m {
		k.stop(closeShutdown)
	}
	ss.mu.Unlock()
	ss.wg.Wait()
}
