package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-cc/parley/internal/auth"
	"github.com/parley-cc/parley/internal/bus/inmem"
	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/center"
	"github.com/parley-cc/parley/internal/httpapi/apitest"
	"github.com/parley-cc/parley/internal/store/sqlite"
)

// plainSealer seals nothing (no secrets in these tests).
type plainSealer struct{}

func (plainSealer) Seal(b []byte) ([]byte, error) { return append([]byte("x"), b...), nil }
func (plainSealer) Open(b []byte) ([]byte, error) { return b[1:], nil }

// sessionEnv is the API on the real center and a real SQLite store, with a
// clock the test moves: sessions of 1h, 3h at most, a 30s grace.
type sessionEnv struct {
	*wsEnv
	clk *fakeClock
}

func (e *sessionEnv) clock() time.Time        { return e.clk.Now() }
func (e *sessionEnv) advance(d time.Duration) { e.clk.Advance(d) }

func newSessionEnv(t *testing.T) *sessionEnv {
	t.Helper()
	ctx := context.Background()
	e := &sessionEnv{clk: &fakeClock{now: time.Now().UTC().Truncate(time.Second)}}
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"), sqlite.Options{Sealer: plainSealer{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ten := &cc.Tenant{ID: cc.NewID("ten"), Slug: "acme", Region: "US", TimeZone: "UTC", CreatedAt: e.clock()}
	ten.Normalize()
	if err := store.CreateTenant(ctx, ten); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alice", "bob"} {
		h, _ := auth.HashPassword("password-" + name)
		u := &cc.User{ID: cc.NewID("usr"), TenantID: ten.ID, Username: name, Roles: []cc.Role{cc.RoleAgent}, PasswordHash: h,
			Endpoint: cc.EndpointSIP, StaticContact: "sip:" + name + "@127.0.0.1:5999", CreatedAt: e.clock()}
		u.Normalize()
		if err := store.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	c := center.New(center.Options{Store: store, Bus: inmem.New(0), Clock: e.clock, Logger: slog.New(slog.DiscardHandler),
		SessionTTL: time.Hour, SessionMax: 3 * time.Hour, SessionGrace: 30 * time.Second,
		RefreshInterval: time.Hour, SweepInterval: time.Hour})
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	srv := New(Options{Service: c, Clock: e.clock, Registry: prometheus.NewRegistry()})
	t.Cleanup(func() { srv.Close() })
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	spec := loadSpec(t)
	e.wsEnv = &wsEnv{testEnv: &testEnv{srv: srv, spec: spec, kit: &apitest.Kit{Handler: srv.Handler(), Spec: spec, ErrorSchema: "Error"}}, ts: ts}
	return e
}

// signIn signs a user in with the password and returns the session.
func (e *sessionEnv) signIn(t *testing.T, username string) sessionView {
	t.Helper()
	res := e.kit.Do(t, apitest.Scenario{Method: "POST", URL: "/api/v1/sessions", WantStatus: 201,
		Body: `{"tenant":"acme","username":"` + username + `","password":"password-` + username + `"}`})
	var v sessionView
	if err := json.Unmarshal(res.Body, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func (e *sessionEnv) refresh(t *testing.T, token string) sessionView {
	t.Helper()
	res := e.kit.Do(t, apitest.Scenario{Method: "POST", URL: "/api/v1/sessions/current/refresh", Token: token, WantStatus: 200,
		WantContains: []string{`"max_expires_at"`, `"method":"password"`}})
	var v sessionView
	if err := json.Unmarshal(res.Body, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSessionRefreshRoutes: a refresh rotates the token and moves the
// expiry on; the replaced token serves the other tabs' requests during the
// grace, but cannot refresh again; the expiry stops at the absolute end,
// where a refresh says to sign in again.
func TestSessionRefreshRoutes(t *testing.T) {
	e := newSessionEnv(t)
	s := e.signIn(t, "alice")
	if s.MaxExpiresAt == nil || !s.MaxExpiresAt.Equal(e.clock().Add(3*time.Hour)) || !s.ExpiresAt.Equal(e.clock().Add(time.Hour)) {
		t.Fatalf("sign-in: expires %s, max %v", s.ExpiresAt, s.MaxExpiresAt)
	}
	e.advance(50 * time.Minute)
	r := e.refresh(t, s.Token)
	if r.Token == s.Token || !r.ExpiresAt.Equal(e.clock().Add(time.Hour)) {
		t.Fatalf("refresh: same token or expiry %s", r.ExpiresAt)
	}
	e.kit.Run(t, []apitest.Scenario{
		{Name: "another tab's request with the replaced token, in the grace", Method: "GET", URL: "/api/v1/me", Token: s.Token, WantStatus: 200},
		{Name: "another tab refreshes with the replaced token", Method: "POST", URL: "/api/v1/sessions/current/refresh", Token: s.Token,
			WantStatus: 409, WantContains: []string{"another tab", "use the newest token"}},
		{Name: "the replaced token after the grace", Method: "GET", URL: "/api/v1/me", Token: s.Token, WantStatus: 401,
			Before: func(testing.TB) { e.advance(31 * time.Second) }, WantContains: []string{"sign in again"}},
		{Name: "the new token past the first expiry", Method: "GET", URL: "/api/v1/me", Token: r.Token, WantStatus: 200,
			Before: func(testing.TB) { e.advance(20 * time.Minute) }},
		{Name: "no token", Method: "POST", URL: "/api/v1/sessions/current/refresh", WantStatus: 401, WantContains: []string{"sign in first"}},
	}...)
	e.advance(30 * time.Minute)
	r = e.refresh(t, r.Token)
	r = e.refresh(t, r.Token)
	e.advance(50 * time.Minute)
	r = e.refresh(t, r.Token)
	if !r.ExpiresAt.Equal(*r.MaxExpiresAt) {
		t.Fatalf("expiry %s, want it capped at the absolute end %s", r.ExpiresAt, r.MaxExpiresAt)
	}
	e.kit.Do(t, apitest.Scenario{Name: "refresh at the longest life", Method: "POST", URL: "/api/v1/sessions/current/refresh", Token: r.Token,
		WantStatus: 403, WantContains: []string{"longest life", "sign in again"}})
	e.kit.Do(t, apitest.Scenario{Name: "the session at its absolute end", Method: "GET", URL: "/api/v1/me", Token: r.Token,
		WantStatus: 401, Before: func(testing.TB) { e.advance(r.MaxExpiresAt.Sub(e.clock())) }})
}

// TestSignOutEverywhereRoute: DELETE /api/v1/me/sessions ends every session
// of the caller and closes their sockets saying why; another user's stay.
// DELETE /api/v1/sessions/current ends only its own.
func TestSignOutEverywhereRoute(t *testing.T) {
	e := newSessionEnv(t)
	tab1, browser2, bob := e.signIn(t, "alice"), e.signIn(t, "alice"), e.signIn(t, "bob")
	one := e.signIn(t, "alice")
	c1, _ := e.connect(t, tab1.Token, "")
	c2, _ := e.connect(t, browser2.Token, "")
	cb, _ := e.connect(t, bob.Token, "")

	e.kit.Do(t, apitest.Scenario{Method: "DELETE", URL: "/api/v1/sessions/current", Token: one.Token, WantStatus: 204})
	e.kit.Do(t, apitest.Scenario{Name: "the others after one sign-out", Method: "GET", URL: "/api/v1/me", Token: tab1.Token, WantStatus: 200})

	e.kit.Do(t, apitest.Scenario{Method: "DELETE", URL: "/api/v1/me/sessions", Token: browser2.Token, WantStatus: 204})
	for _, c := range []*websocket.Conn{c1, c2} {
		if ce := readClose(t, c); ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "signed out everywhere") {
			t.Fatalf("close = %d %q, want 1008 signed out everywhere", ce.Code, ce.Reason)
		}
	}
	e.kit.Run(t, []apitest.Scenario{
		{Name: "tab 1 after sign-out everywhere", Method: "GET", URL: "/api/v1/me", Token: tab1.Token, WantStatus: 401, WantContains: []string{"sign in again"}},
		{Name: "browser 2 after sign-out everywhere", Method: "POST", URL: "/api/v1/sessions/current/refresh", Token: browser2.Token, WantStatus: 401},
		{Name: "another user", Method: "GET", URL: "/api/v1/me", Token: bob.Token, WantStatus: 200},
		{Name: "without a token", Method: "DELETE", URL: "/api/v1/me/sessions", WantStatus: 401},
	}...)
	// Bob's socket is open: it answers a ping (CloseRead reads for it).
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	if err := cb.Ping(cb.CloseRead(ctx)); err != nil {
		t.Fatalf("bob's socket: %v", err)
	}
}

// TestSocketEndsWhenTheSessionEndsElsewhere: a session deleted behind the
// API's back (parley admin user sign-out, another node) closes its socket
// at the next ping, saying the session ended.
func TestSocketEndsWhenTheSessionEndsElsewhere(t *testing.T) {
	e := newSessionEnv(t)
	e.srv.pingInterval = 50 * time.Millisecond
	s := e.signIn(t, "alice")
	c, _ := e.connect(t, s.Token, "")
	p, err := e.srv.svc.Authenticate(context.Background(), s.Token)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.svc.(*center.Center).SignOutUser(context.Background(), p.Tenant, p.User); err != nil {
		t.Fatal(err)
	}
	// The client reads, so the library answers the server's pings.
	if ce := readClose(t, c); ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "signed out: the session ended") {
		t.Fatalf("close = %d %q, want 1008 signed out: the session ended", ce.Code, ce.Reason)
	}
}

// TestConcurrentRefreshAndRequests: tabs that refresh at once with the same
// token get one new token between them (the others 409, which the panel
// answers by taking up the stored token), and requests sent with the old
// token meanwhile all succeed: nobody is signed out.
func TestConcurrentRefreshAndRequests(t *testing.T) {
	e := newSessionEnv(t)
	s := e.signIn(t, "alice")
	e.advance(50 * time.Minute)
	const tabs = 4
	statuses := make(chan int, 3*tabs)
	var wg sync.WaitGroup
	for range tabs {
		wg.Go(func() {
			res := e.kit.Do(t, apitest.Scenario{Method: "POST", URL: "/api/v1/sessions/current/refresh", Token: s.Token, WantStatus: 0})
			statuses <- res.Status
		})
		for range 2 {
			wg.Go(func() {
				res := e.kit.Do(t, apitest.Scenario{Method: "GET", URL: "/api/v1/me", Token: s.Token, WantStatus: 0})
				statuses <- -res.Status // negative: a request, not a refresh
			})
		}
	}
	wg.Wait()
	close(statuses)
	got := map[int]int{}
	for st := range statuses {
		got[st]++
	}
	if got[200] != 1 || got[409] != tabs-1 || got[-200] != 2*tabs {
		t.Fatalf("answers %v: want one refresh 200, %d refreshes 409 and every request 200", got, tabs-1)
	}
}
