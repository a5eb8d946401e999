package panel_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-cc/parley/internal/auth"
	"github.com/parley-cc/parley/internal/bus/inmem"
	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/center"
	"github.com/parley-cc/parley/internal/httpapi"
	"github.com/parley-cc/parley/internal/panel"
	"github.com/parley-cc/parley/internal/store/sqlite"
	"github.com/parley-cc/parley/internal/testkit/browser"
	"github.com/parley-cc/parley/internal/testkit/fakecrm"
)

// sessionTTL is the short session lifetime of the session tests: the
// panel refreshes well before it, several times during a test.
const sessionTTL = 6 * time.Second

// plainSealer seals nothing (no secrets in these tests).
type plainSealer struct{}

func (plainSealer) Seal(b []byte) ([]byte, error) { return append([]byte("x"), b...), nil }
func (plainSealer) Open(b []byte) ([]byte, error) { return b[1:], nil }

// realEnv is the panel on the real API (internal/httpapi, internal/center,
// SQLite) with short sessions, framed by the fake CRM in real Chromium.
// It records every API answer, to show that no request of any tab was
// refused while the tabs refreshed the session.
type realEnv struct {
	t    *testing.T
	ctx  context.Context
	host string
	api  string // Parley's origin

	mu       sync.Mutex
	answers  map[string]int // "METHOD path status" -> count
	unauthed []string       // 401 answers
}

func newRealEnv(t *testing.T) *realEnv {
	t.Helper()
	bctx := browser.New(t, browser.Options{})
	crm := fakecrm.Start(t)
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"), sqlite.Options{Sealer: plainSealer{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ten := &cc.Tenant{ID: cc.NewID("ten"), Slug: "acme", DisplayName: "Acme", Kind: cc.KindLegacy, Region: "US", TimeZone: "UTC",
		CRMOrigins: []string{crm.URL}}
	ten.Normalize()
	if err := store.CreateTenant(ctx, ten); err != nil {
		t.Fatal(err)
	}
	h, _ := auth.HashPassword("pw-agent-1")
	u := &cc.User{ID: cc.NewID("usr"), TenantID: ten.ID, Username: "agent", DisplayName: "Agent", Roles: []cc.Role{cc.RoleAgent},
		PasswordHash: h, Endpoint: cc.EndpointSIP, StaticContact: "sip:agent@127.0.0.1:5999",
		Integrations: []cc.Integration{{CRM: cc.CRMSalesforce, Username: "agent@acme.example"}}}
	u.Normalize()
	if err := store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	c := center.New(center.Options{Store: store, Bus: inmem.New(0), Logger: slog.New(slog.DiscardHandler),
		SessionTTL: sessionTTL, SessionMax: time.Hour, SessionGrace: 3 * time.Second, RefreshInterval: time.Hour, SweepInterval: time.Hour})
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	api := httpapi.New(httpapi.Options{Service: c, Registry: prometheus.NewRegistry(),
		Panel: panel.New(panel.Options{Tenants: store})})
	t.Cleanup(func() { api.Close() })
	e := &realEnv{t: t, ctx: bctx, answers: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: 200}
		api.Handler().ServeHTTP(rec, r)
		if strings.HasPrefix(r.URL.Path, "/api/") {
			e.mu.Lock()
			e.answers[r.Method+" "+r.URL.Path+" "+http.StatusText(rec.code)]++
			if rec.code == http.StatusUnauthorized {
				e.unauthed = append(e.unauthed, r.Method+" "+r.URL.Path)
			}
			e.mu.Unlock()
		}
	}))
	t.Cleanup(srv.Close)
	e.api = srv.URL
	e.host = crm.Lightning(srv.URL+"/cti/salesforce.html", nil)
	return e
}

// statusRecorder remembers the status; Unwrap lets the WebSocket upgrade
// reach the connection.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int)        { r.code = code; r.ResponseWriter.WriteHeader(code) }
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (e *realEnv) count(key string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.answers[key]
}

func (e *realEnv) open(ctx context.Context) {
	e.t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(e.host)); err != nil {
		e.t.Fatal(err)
	}
	in[bool](e.t, ctx, "start", `!document.getElementById('signin').hidden || !document.getElementById('main').hidden`)
}

func (e *realEnv) signIn(ctx context.Context) {
	e.t.Helper()
	in[bool](e.t, ctx, "sign-in form", `!document.getElementById('signin').hidden`)
	in[bool](e.t, ctx, "fill in", `(document.getElementById('signin-username').value = 'agent',
		document.getElementById('signin-password').value = 'pw-agent-1',
		document.getElementById('signin-submit').click(), true)`)
	in[bool](e.t, ctx, "signed in", `!document.getElementById('main').hidden`)
}

// token is the session token the panel of ctx holds.
func token(t *testing.T, ctx context.Context) string {
	t.Helper()
	return in[string](t, ctx, "the panel's token", `parleyPanel.state.session ? parleyPanel.state.session.token : 'none'`)
}

// TestPanelRefreshesTheSessionAcrossTabs: with a session of a few seconds,
// two tabs of one agent stay signed in through several refreshes: one tab
// refreshes each time and the other takes up its token, no request of
// either is refused, and the events socket stays up. Signing out in one
// tab signs out the other and a second browser of the same agent, each
// with a message.
func TestPanelRefreshesTheSessionAcrossTabs(t *testing.T) {
	e := newRealEnv(t)
	a := e.ctx
	e.open(a)
	e.signIn(a)
	b, _ := chromedp.NewContext(a)
	e.open(b)
	in[bool](t, b, "B signed in with A's session", `!document.getElementById('main').hidden`)
	first := token(t, a)
	// The events socket keeps working through the refreshes: tab B shows
	// A's state changes.
	const refreshes = "POST /api/v1/sessions/current/refresh OK"
	const stored = `JSON.parse(localStorage.getItem('parley.session.acme')).token`
	tok := first
	for range 3 {
		// One of the tabs refreshes and stores the token; both take it up.
		in[bool](t, a, "a refresh", stored+` !== `+jsString(tok))
		tok = in[string](t, a, "the stored token", stored)
		for _, tab := range []context.Context{a, b} {
			in[bool](t, tab, "the tab holds the stored token", `parleyPanel.state.session.token === `+stored)
		}
	}
	if n := e.count(refreshes); n < 3 {
		t.Fatalf("%d refreshes answered, want 3 or more", n)
	}
	if token(t, a) == first {
		t.Fatal("the token did not change through three refreshes")
	}
	// Past several lifetimes of the first token: both tabs work, on the
	// sockets they opened first.
	for _, tab := range []context.Context{a, b} {
		in[bool](t, tab, "one socket through the refreshes", `parleyPanel.state.events.opens === 1`)
	}
	in[bool](t, a, "A goes available", `(document.getElementById('presence').value = 'available', document.getElementById('presence').dispatchEvent(new Event('change')), true)`)
	in[bool](t, b, "B shows it over its socket", `document.getElementById('presence').value === 'available'`)
	// A tab may refresh with a token another tab has just replaced, when
	// localStorage had not shown it the new one yet: that refresh is
	// refused (409) and the tab takes the new token up. No request is
	// ever refused for want of a session.
	e.mu.Lock()
	unauthed := append([]string(nil), e.unauthed...)
	e.mu.Unlock()
	if len(unauthed) > 0 {
		t.Fatalf("while the tabs refreshed: 401 answers to %v", unauthed)
	}

	// A second browser (its own storage) signs the same agent in.
	other, cancel := chromedp.NewContext(a, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	e.open(other)
	e.signIn(other)

	// Sign out in tab A: every tab and browser shows the sign-in.
	in[bool](t, a, "sign out", `(() => { const s = document.getElementById('presence'); s.value = 'signout'; s.dispatchEvent(new Event('change')); return true; })()`)
	msgA := in[string](t, a, "A signed out", `!document.getElementById('signin').hidden && document.getElementById('signin-error').textContent`)
	msgB := in[string](t, b, "B signed out", `!document.getElementById('signin').hidden && document.getElementById('signin-error').textContent`)
	msgO := in[string](t, other, "the other browser signed out", `!document.getElementById('signin').hidden && document.getElementById('signin-error').textContent`)
	// Tab B hears it from tab A or from its socket, the other browser from
	// its socket or a refused request, whichever is first.
	if !strings.Contains(msgA, "every tab and browser") || !(strings.Contains(msgB, "another tab") || strings.Contains(msgB, "Signed out everywhere")) ||
		!strings.Contains(strings.ToLower(msgO), "signed out") {
		t.Errorf("messages: tab A %q, tab B %q, other browser %q", msgA, msgB, msgO)
	}
	if n := e.count("DELETE /api/v1/me/sessions No Content"); n != 1 {
		t.Errorf("sign-out everywhere called %d times, want 1", n)
	}
}

func jsString(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// TestPanelSignsOutForAnotherCRMUser is the shared workstation: the
// panel's session is kept in the browser, and the next person signs in to
// the CRM there. With Parley's Apex class in the org the panel asks the CRM
// who is signed in: its own user stays signed in; another CRM user ends the
// session, on the server too, with a message naming both; a CRM without
// the class changes nothing.
func TestPanelSignsOutForAnotherCRMUser(t *testing.T) {
	e := newRealEnv(t)
	ctx := e.ctx
	open := func(apexUser string) {
		t.Helper()
		target := e.host
		if apexUser != "" {
			target += "&" + url.Values{"apexUser": {apexUser}}.Encode()
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(target)); err != nil {
			t.Fatal(err)
		}
		in[bool](t, ctx, "start", `!document.getElementById('signin').hidden || !document.getElementById('main').hidden`)
	}

	// No Apex class: nothing to compare with, the session stays.
	open("")
	e.signIn(ctx)
	in[bool](t, ctx, "the check is off", `parleyPanel.state.crmUser === ''`)

	// An answer that is no username (an HTML page, say) proves nothing:
	// the check is off, the session stays.
	open("<b>Session expired</b>")
	in[bool](t, ctx, "not a username", `parleyPanel.state.crmUser === '' && !document.getElementById('main').hidden`)

	// The CRM is signed in as the agent (case aside): the session stays.
	open("Agent@Acme.example")
	in[bool](t, ctx, "the CRM's answer", `parleyPanel.state.crmUser === 'agent@acme.example'`)
	if shown := in[string](t, ctx, "Settings", `document.getElementById('settings-crm-user').textContent`); shown != "CRM user check: on: the CRM is signed in as agent@acme.example." {
		t.Errorf("Settings says %q", shown)
	}
	if hidden := in[string](t, ctx, "still signed in", `String(document.getElementById('main').hidden)`); hidden != "false" {
		t.Fatal("the panel signed out though the CRM user is its own")
	}
	tok := token(t, ctx)
	// A second tab of the same CRM.
	other, _ := chromedp.NewContext(ctx)
	if err := chromedp.Do(other, chromedp.Navigate(e.host+"&apexUser=agent@acme.example")); err != nil {
		t.Fatal(err)
	}
	in[bool](t, other, "the other tab signed in", `!document.getElementById('main').hidden && parleyPanel.state.crmUser === 'agent@acme.example'`)
	browser.Eval[bool](t, other, `(crm.apexUser = 'bob@acme.example', true)`) // its page is stale

	// Another person signs in to the CRM in this browser.
	open("bob@acme.example")
	msg := in[string](t, ctx, "signed out", `!document.getElementById('signin').hidden && document.getElementById('signin-error').textContent`)
	// The other tab says why too.
	if said := in[string](t, other, "the other tab signed out", `!document.getElementById('signin').hidden && document.getElementById('signin-error').textContent`); !strings.Contains(said, "the CRM user is bob@acme.example") {
		t.Errorf("the other tab says %q, want the reason", said)
	}
	for _, want := range []string{"the CRM user is bob@acme.example", "Agent's (agent@acme.example)", "Sign in as yourself"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the panel says %q, want %q", msg, want)
		}
	}
	if stored := in[string](t, ctx, "the stored session", `String(localStorage.getItem('parley.session.acme'))`); stored != "null" {
		t.Errorf("the session is still stored: %s", stored)
	}
	// The panel ends the session on the server just after it signed out.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		req, _ := http.NewRequest("GET", e.api+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ended session's token: %d, want 401", resp.StatusCode)
		}
	}
}
