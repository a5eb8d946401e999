package devcrm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/parley-cc/parley/internal/cc"
)

// Defaults.
const (
	// DefaultAPIVersion is the newest REST API version served by default
	// (Spring '26).
	DefaultAPIVersion = "66.0"
	// MinAPIVersion is the oldest REST API version served.
	MinAPIVersion = 50
	// DefaultDescriptionCapBytes caps Task.Description, as the reference
	// product caps its call log comments.
	DefaultDescriptionCapBytes = cc.DefaultLogCapBytes
	// DefaultTokenTTL is how long an access token lives.
	DefaultTokenTTL = 2 * time.Hour
	// DefaultDailyAPILimit is the daily REST call allowance, that of a
	// Developer Edition org.
	DefaultDailyAPILimit = 15000
	// maxBodyBytes bounds a REST request body.
	maxBodyBytes = 8 << 20
)

// Config configures a devcrm server.
type Config struct {
	// Addr is the TCP address to listen on, such as "127.0.0.1:8090";
	// "127.0.0.1:0" picks a free port (see URL).
	Addr string
	// DBPath is the SQLite database file, created on first start. Data
	// survives restarts; the seed is imported only into a new database.
	DBPath string
	// SeedDir is a directory of CSV files in Salesforce export format
	// imported on first start; empty means the bundled DefaultSeed.
	SeedDir string
	// DescriptionCapBytes caps Task.Description in bytes; 0 means
	// DefaultDescriptionCapBytes.
	DescriptionCapBytes int
	// APIVersion is the newest REST API version served, such as "66.0";
	// every version from 50.0 up to it is served. Empty means
	// DefaultAPIVersion.
	APIVersion string
	// Logger receives devcrm's logs; nil discards them.
	Logger *slog.Logger
	// PublicURL is the URL clients reach devcrm at, used as instance_url and
	// accepted as JWT audience; empty means http:// and the listener's
	// address.
	PublicURL string
	// Audience is one more JWT bearer audience to accept besides devcrm's
	// own URL (for example a login host a client insists on using).
	Audience string
	// TokenTTL is how long access tokens live; 0 means DefaultTokenTTL.
	TokenTTL time.Duration
	// DailyAPILimit is the REST calls allowed per UTC day before 403
	// REQUEST_LIMIT_EXCEEDED; 0 means DefaultDailyAPILimit.
	DailyAPILimit int
	// EnableTestHooks serves POST and DELETE /__devcrm/faults (see Fault).
	// Never enable it where untrusted clients can reach devcrm.
	EnableTestHooks bool
	// Clock gives the time; nil means cc.SystemClock.
	Clock cc.Clock
	// Sandbox makes devcrm a sandbox org: its OpenID issuer is URL +
	// SandboxPath (as test.salesforce.com is a sandbox's login host) and the
	// provider's endpoints are served under that path too. A relying party
	// configured with the production issuer (the bare URL) then fails on
	// the issuer, as it would against a real sandbox.
	Sandbox bool
}

// Server is a devcrm instance: its database, its listener (its own origin)
// and one http.ServeMux serving every route.
type Server struct {
	cfg        Config
	log        *slog.Logger
	clock      cc.Clock
	mux        *http.ServeMux
	handler    http.Handler
	maxVersion int

	mu     sync.Mutex
	db     *sql.DB
	srv    *http.Server
	url    string
	orgID  string
	cancel context.CancelFunc
	done   chan struct{}

	usage  usageCounter
	faults faultQueue

	provider *op.Provider
	tokenKey []byte // seals the OpenID provider's tokens; set by Start

	keyMu sync.Mutex
	keys  []*signingKey // OpenID signing keys, newest first, once read
}

// New checks cfg and returns a server that is not started. It does no I/O.
func New(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		return nil, cc.Errorf(cc.EINVALID, "devcrm address is empty: give host:port such as 127.0.0.1:8090")
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return nil, cc.Errorf(cc.EINVALID, "devcrm address %q: give host:port such as 127.0.0.1:8090", cfg.Addr)
	}
	if _, err := dsn(cfg.DBPath); err != nil {
		return nil, err
	}
	if cfg.DescriptionCapBytes == 0 {
		cfg.DescriptionCapBytes = DefaultDescriptionCapBytes
	}
	if cfg.DescriptionCapBytes < 1 || cfg.DescriptionCapBytes > 131072 {
		return nil, cc.Errorf(cc.EINVALID, "devcrm Description cap %d bytes: use 1 to 131072", cfg.DescriptionCapBytes)
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	maxVersion, ok := parseVersionNumber(cfg.APIVersion)
	if !ok || maxVersion < MinAPIVersion {
		return nil, cc.Errorf(cc.EINVALID, "devcrm API version %q: use NN.0 with NN at least %d, such as %s", cfg.APIVersion, MinAPIVersion, DefaultAPIVersion)
	}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, cc.Errorf(cc.EINVALID, "devcrm public URL %q: give an origin such as https://devcrm.example.com", cfg.PublicURL)
		}
		cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.TokenTTL < time.Minute {
		return nil, cc.Errorf(cc.EINVALID, "devcrm token lifetime %s: use at least 1m", cfg.TokenTTL)
	}
	if cfg.DailyAPILimit == 0 {
		cfg.DailyAPILimit = DefaultDailyAPILimit
	}
	if cfg.DailyAPILimit < 0 {
		return nil, cc.Errorf(cc.EINVALID, "devcrm daily API limit %d: use a positive number", cfg.DailyAPILimit)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = cc.SystemClock
	}
	s := &Server{
		cfg:        cfg,
		log:        cfg.Logger.With("component", "devcrm"),
		clock:      cfg.Clock,
		mux:        http.NewServeMux(),
		maxVersion: maxVersion,
	}
	provider, err := s.newProvider()
	if err != nil {
		return nil, fmt.Errorf("devcrm OpenID provider: %w", err)
	}
	s.provider = provider
	s.routes()
	s.handler = s.withFaults(s.mux)
	return s, nil
}

func (s *Server) now() time.Time { return s.clock() }

// Start opens the database (creating and seeding it on first start), listens
// on Config.Addr and serves until Close. ctx bounds the start-up work only.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db != nil {
		return cc.Errorf(cc.ECONFLICT, "devcrm is already started")
	}
	db, err := openDB(ctx, s.cfg.DBPath)
	if err != nil {
		return fmt.Errorf("start devcrm: %w", err)
	}
	orgID, err := s.initialize(ctx, db)
	if err != nil {
		db.Close()
		return fmt.Errorf("start devcrm: %w", err)
	}
	if err := ensureAdministrator(ctx, db); err != nil {
		db.Close()
		return fmt.Errorf("start devcrm: %w", err)
	}
	tokenKey, err := loadTokenKey(ctx, db)
	if err != nil {
		db.Close()
		return fmt.Errorf("start devcrm: %w", err)
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		db.Close()
		return fmt.Errorf("start devcrm: listen on %s: %w", s.cfg.Addr, err)
	}
	s.db, s.orgID, s.tokenKey = db, orgID, tokenKey
	s.url = s.cfg.PublicURL
	if s.url == "" {
		s.url = "http://" + reachableAddr(ln.Addr())
	}
	base, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.done = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("devcrm stopped serving", "err", err)
		}
	}(s.srv, s.done)
	s.log.Info("devcrm listening", "url", s.url, "db", s.cfg.DBPath)
	return nil
}

// initialize seeds a new database and returns the org Id, which is made once
// and kept.
func (s *Server) initialize(ctx context.Context, db *sql.DB) (string, error) {
	var orgID string
	err := withTx(ctx, db, func(tx *sql.Tx) error {
		var err error
		if orgID, err = metaValue(ctx, tx, "org_id"); err != nil || orgID != "" {
			return err
		}
		seed := DefaultSeed()
		if s.cfg.SeedDir != "" {
			seed = os.DirFS(s.cfg.SeedDir)
		}
		counts, err := s.importSeed(ctx, tx, seed)
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		orgID = newID(PrefixOrganization)
		if err := setMeta(ctx, tx, "org_id", orgID); err != nil {
			return err
		}
		s.log.Info("devcrm database seeded", "records", counts)
		return setMeta(ctx, tx, "seeded_at", formatDateTime(s.now()))
	})
	return orgID, err
}

// reachableAddr turns a listener address into one a client can dial: an
// unspecified host (0.0.0.0, ::) becomes the loopback address.
func reachableAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if ip.To4() != nil {
			host = "127.0.0.1"
		} else {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, port)
}

// URL returns devcrm's base URL (its origin), such as
// "http://127.0.0.1:41234"; empty before Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// OrgID returns the 18-character Id of the emulated org; empty before Start.
func (s *Server) OrgID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.orgID
}

// Handler returns the handler that serves every devcrm route, for mounting
// in another server. It answers 503 until Start.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops serving (letting requests in flight finish for a few seconds)
// and closes the database. It may be called more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	srv, db, cancel, done := s.srv, s.db, s.cancel, s.done
	s.srv, s.db, s.cancel, s.done, s.url, s.tokenKey = nil, nil, nil, nil, "", nil
	s.mu.Unlock()
	s.keyMu.Lock()
	s.keys = nil
	s.keyMu.Unlock()
	var errs []error
	if srv != nil {
		ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down devcrm: %w", err))
			srv.Close()
		}
		stop()
		cancel()
		<-done
	}
	if db != nil {
		if err := db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close devcrm database: %w", err))
		}
	}
	return errors.Join(errs...)
}

// database returns the open database, or EUNAVAILABLE before Start.
func (s *Server) database() (*sql.DB, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil, cc.Errorf(cc.EUNAVAILABLE, "devcrm is not started")
	}
	return s.db, nil
}

// parseVersionNumber parses "62.0" into 62.
func parseVersionNumber(v string) (int, bool) {
	major, minor, ok := strings.Cut(v, ".")
	if !ok || minor != "0" || len(major) < 2 || len(major) > 3 {
		return 0, false
	}
	n, err := strconv.Atoi(major)
	if err != nil || n < 0 || strconv.Itoa(n) != major {
		return 0, false
	}
	return n, true
}

// routes registers every route on the one mux. Later additions (record
// pages, the Open CTI host page, the OpenID provider) register here too.
func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /services/data/{$}", s.handleVersions)
	s.restRoute("/services/data/{version}", map[string]restHandler{http.MethodGet: s.handleResources})
	s.restRoute("/services/data/{version}/{$}", map[string]restHandler{http.MethodGet: s.handleResources})
	for _, suffix := range []string{"", "/{$}"} {
		s.restRoute("/services/data/{version}/limits"+suffix, map[string]restHandler{http.MethodGet: s.handleLimits})
		s.restRoute("/services/data/{version}/query"+suffix, map[string]restHandler{http.MethodGet: s.handleQuery})
		s.restRoute("/services/data/{version}/search"+suffix, map[string]restHandler{http.MethodGet: s.handleSearch})
		s.restRoute("/services/data/{version}/sobjects/{object}"+suffix, map[string]restHandler{
			http.MethodGet:  s.handleObjectInfo,
			http.MethodPost: s.handleCreate,
		})
	}
	s.restRoute("/services/data/{version}/sobjects/{object}/{id}", map[string]restHandler{
		http.MethodGet:    s.handleRead,
		http.MethodPatch:  s.handleUpdate,
		http.MethodDelete: s.handleDelete,
	})
	s.oidcRoutes("")
	if s.cfg.Sandbox {
		s.oidcRoutes(SandboxPath)
	} else {
		m.HandleFunc(SandboxPath+"/", s.handleNotSandbox)
	}
	m.HandleFunc("/services/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/services/data/") {
			s.setLimitInfo(w, s.usage.used(s.now()))
		}
		writeErrors(w, notFound())
	})
	s.uiRoutes()
	if s.cfg.EnableTestHooks {
		m.HandleFunc("POST /__devcrm/faults", s.handleInjectFault)
		m.HandleFunc("DELETE /__devcrm/faults", s.handleClearFaults)
	}
}

// call is what the REST middleware learnt about a request.
type call struct {
	version string // "62.0"
	userID  string
	db      *sql.DB
}

type restHandler func(w http.ResponseWriter, r *http.Request, c *call)

// restRoute registers a REST path: it answers unsupported methods with 405
// as Salesforce does, and runs the handlers behind restCall.
func (s *Server) restRoute(pattern string, handlers map[string]restHandler) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete} {
		if handlers[m] != nil {
			allowed = append(allowed, m)
		}
	}
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		h := handlers[r.Method]
		if h == nil {
			s.setLimitInfo(w, s.usage.used(s.now()))
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeErrors(w, newAPIError(http.StatusMethodNotAllowed, codeMethodNotAllowed,
				fmt.Sprintf("HTTP Method '%s' not allowed. Allowed are %s", r.Method, strings.Join(allowed, ","))))
			return
		}
		s.restCall(w, r, h)
	})
}

// restCall checks the API version and the bearer token, counts the call
// against the daily limit and sets Sforce-Limit-Info, then runs h.
func (s *Server) restCall(w http.ResponseWriter, r *http.Request, h restHandler) {
	now := s.now()
	s.setLimitInfo(w, s.usage.used(now))
	version := strings.TrimPrefix(r.PathValue("version"), "v")
	n, ok := parseVersionNumber(version)
	if !ok || !strings.HasPrefix(r.PathValue("version"), "v") || n < MinAPIVersion || n > s.maxVersion {
		writeErrors(w, notFound())
		return
	}
	db, err := s.database()
	if err != nil {
		writeErrors(w, newAPIError(http.StatusServiceUnavailable, codeServerUnavailable, "devcrm is not started"))
		return
	}
	userID, err := s.authenticate(r.Context(), db, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	used, ok := s.usage.add(now, s.cfg.DailyAPILimit)
	s.setLimitInfo(w, used)
	if !ok {
		writeErrors(w, newAPIError(http.StatusForbidden, codeRequestLimit, "TotalRequests Limit exceeded."))
		return
	}
	h(w, r, &call{version: version, userID: userID, db: db})
}

func (s *Server) setLimitInfo(w http.ResponseWriter, used int) {
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", used, s.cfg.DailyAPILimit))
}

// writeError writes an *apiError as is and anything else as a 500 with an
// error id that the log line carries too.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		writeErrors(w, ae)
		return
	}
	errorID := cc.RandomToken(5)
	s.log.Error("devcrm request failed", "method", r.Method, "path", r.URL.Path, "error_id", errorID, "err", err)
	writeErrors(w, newAPIError(http.StatusInternalServerError, codeUnknownException,
		"An unexpected error occurred. Please include this ErrorId if you contact support: "+errorID))
}

// releaseLabel names the Salesforce release of an API version: v50.0 was
// Winter '21, and there are three releases a year.
func releaseLabel(n int) string {
	season := [3]string{"Winter", "Spring", "Summer"}[(n-50)%3]
	return fmt.Sprintf("%s '%02d", season, 21+(n-50)/3)
}

func (s *Server) handleVersions(w http.ResponseWriter, r *http.Request) {
	s.setLimitInfo(w, s.usage.used(s.now()))
	type version struct {
		Label   string `json:"label"`
		URL     string `json:"url"`
		Version string `json:"version"`
	}
	var out []version
	for n := MinAPIVersion; n <= s.maxVersion; n++ {
		v := fmt.Sprintf("%d.0", n)
		out = append(out, version{Label: releaseLabel(n), URL: "/services/data/v" + v, Version: v})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleResources(w http.ResponseWriter, r *http.Request, c *call) {
	base := "/services/data/v" + c.version
	writeJSON(w, http.StatusOK, map[string]string{
		"limits":   base + "/limits",
		"query":    base + "/query",
		"search":   base + "/search",
		"sobjects": base + "/sobjects",
	})
}

func (s *Server) handleLimits(w http.ResponseWriter, r *http.Request, c *call) {
	used := s.usage.used(s.now())
	type limit struct {
		Max       int `json:"Max"`
		Remaining int `json:"Remaining"`
	}
	writeJSON(w, http.StatusOK, map[string]limit{
		"DailyApiRequests": {Max: s.cfg.DailyAPILimit, Remaining: max(0, s.cfg.DailyAPILimit-used)},
	})
}

// usageCounter counts REST calls per UTC day, in memory.
type usageCounter struct {
	mu  sync.Mutex
	day string
	n   int
}

func (u *usageCounter) used(now time.Time) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	if day := now.UTC().Format(time.DateOnly); day != u.day {
		return 0
	}
	return u.n
}

// add counts one call and reports whether it is within limit.
func (u *usageCounter) add(now time.Time, limit int) (int, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if day := now.UTC().Format(time.DateOnly); day != u.day {
		u.day, u.n = day, 0
	}
	if u.n >= limit {
		return u.n, false
	}
	u.n++
	return u.n, true
}
