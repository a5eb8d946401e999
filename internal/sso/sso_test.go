package sso

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/parley-cc/parley/internal/cc"
)

// testOP is a tiny OpenID provider shaped like the CRM's: discovery, the
// key set at /id/keys and a token endpoint that checks the client, the
// redirect URI and the PKCE verifier (S256), and signs the id_token.
type testOP struct {
	t      *testing.T
	srv    *httptest.Server
	key    *rsa.PrivateKey
	other  *rsa.PrivateKey // a key the key set does not publish
	now    func() time.Time
	mu     sync.Mutex
	codes  map[string]grant
	mutate func(claims map[string]any) // changes the next id_tokens' claims
	signer *rsa.PrivateKey             // nil: key
	// redirect is the callback URL the client must send (Parley's).
	redirect string
	// username signs in at the authorize endpoint (browser tests).
	username string
	// userinfo is what /services/oauth2/userinfo answers.
	userinfo map[string]any
	// refresh holds the refresh tokens the CRM accepts; a refresh rotates
	// the token it takes (refresh_test.go). revoked lists revoked tokens.
	refresh map[string]bool
	revoked []string
	// down makes the token and revocation endpoints drop the connection
	// (a CRM that cannot be reached).
	down bool
	// beforeRefresh, when set, runs as a refresh_token request comes in.
	beforeRefresh func()
}

type grant struct{ nonce, challenge, username string }

const (
	clientID     = "3MVG9parley"
	clientSecret = "sso-secret"
	publicURL    = "https://parley.example"
	crmOrigin    = "https://acme.lightning.force.com"
)

func newTestOP(t *testing.T, now func() time.Time, redirect string) *testOP {
	t.Helper()
	op := &testOP{t: t, now: now, codes: map[string]grant{}, redirect: redirect, refresh: map[string]bool{"5Aep-refresh": true}}
	var err error
	if op.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if op.other, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		u := op.srv.URL
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": u, "authorization_endpoint": u + "/services/oauth2/authorize",
			"token_endpoint": u + "/services/oauth2/token", "jwks_uri": u + "/id/keys",
			"userinfo_endpoint":        u + "/services/oauth2/userinfo",
			"revocation_endpoint":      u + "/services/oauth2/revoke",
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /id/keys", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &op.key.PublicKey, KeyID: "190", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("POST /services/oauth2/token", op.token)
	mux.HandleFunc("POST /services/oauth2/revoke", op.revoke)
	mux.HandleFunc("GET /services/oauth2/userinfo", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer 00Daccess" {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(op.userinfo)
	})
	// The CRM's sign-in and consent, already given: straight back to the
	// callback with a code, as a signed-in CRM user sees it.
	mux.HandleFunc("GET /services/oauth2/authorize", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, op.authorize(t, op.srv.URL+r.URL.RequestURI(), op.username), http.StatusFound)
	})
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	return op
}

func oauthError(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (op *testOP) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != clientID || secret != clientSecret {
		oauthError(w, "invalid_client", "invalid client credentials")
		return
	}
	if op.unreachable(w) {
		return
	}
	if r.PostForm.Get("grant_type") == "refresh_token" {
		op.refreshGrant(w, r.PostForm.Get("refresh_token"))
		return
	}
	if r.PostForm.Get("redirect_uri") != op.redirect {
		oauthError(w, "redirect_uri_mismatch", "redirect_uri must match configuration")
		return
	}
	op.mu.Lock()
	g, ok := op.codes[r.PostForm.Get("code")]
	delete(op.codes, r.PostForm.Get("code"))
	op.mu.Unlock()
	if !ok {
		oauthError(w, "invalid_grant", "invalid authorization code")
		return
	}
	v := r.PostForm.Get("code_verifier")
	sum := sha256.Sum256([]byte(v))
	if v == "" || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		oauthError(w, "invalid_grant", "invalid code verifier")
		return
	}
	now := op.now()
	claims := map[string]any{"iss": op.srv.URL, "sub": op.srv.URL + "/id/00D/005", "aud": clientID,
		"iat": now.Unix(), "exp": now.Add(120 * time.Second).Unix(), "nonce": g.nonce, "preferred_username": g.username}
	if op.mutate != nil {
		op.mutate(claims)
	}
	key := op.key
	if op.signer != nil {
		key = op.signer
	}
	sg, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "190"))
	if err != nil {
		op.t.Error(err)
		return
	}
	payload, _ := json.Marshal(claims)
	jws, err := sg.Sign(payload)
	if err != nil {
		op.t.Error(err)
		return
	}
	idToken, _ := jws.CompactSerialize()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": "00Daccess", "refresh_token": "5Aep-refresh",
		"token_type": "Bearer", "id_token": idToken, "instance_url": op.srv.URL})
}

// authorize plays the CRM's sign-in for the authorize URL Parley redirected
// to: it checks the request and returns the callback URL the CRM would send
// the browser to.
func (op *testOP) authorize(t *testing.T, location, username string) string {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != op.srv.URL+"/services/oauth2/authorize" {
		t.Fatalf("redirected to %s, want the CRM's authorize endpoint", got)
	}
	q := u.Query()
	for k, want := range map[string]string{"response_type": "code", "client_id": clientID, "redirect_uri": op.redirect, "code_challenge_method": "S256"} {
		if q.Get(k) != want {
			t.Fatalf("authorize %s = %q, want %q", k, q.Get(k), want)
		}
	}
	if q.Get("state") == "" || q.Get("nonce") == "" || q.Get("code_challenge") == "" || !strings.Contains(q.Get("scope"), "openid") {
		t.Fatalf("authorize URL lacks state, nonce, code_challenge or the openid scope: %s", location)
	}
	code := cc.RandomToken(16)
	op.mu.Lock()
	op.codes[code] = grant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), username: username}
	op.mu.Unlock()
	return op.redirect + "?" + url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
}

// fakes of the stores and of center's sessions.
type fakeUsers map[string]*cc.User // by CRM username

func (f fakeUsers) UserByIntegration(_ context.Context, tenantID, crm, username string) (*cc.User, error) {
	if u := f[username]; u != nil && u.TenantID == tenantID && crm == CRMSalesforce {
		return u, nil
	}
	return nil, cc.Errorf(cc.ENOTFOUND, "no Parley user has the %s username %s", crm, username)
}

type fakeTenants map[string]*cc.Tenant

func (f fakeTenants) TenantBySlug(_ context.Context, slug string) (*cc.Tenant, error) {
	if t := f[slug]; t != nil {
		return t, nil
	}
	return nil, cc.Errorf(cc.ENOTFOUND, "tenant %q not found", slug)
}

type fakeSessions struct{ started []string }

func (f *fakeSessions) StartSession(_ context.Context, t *cc.Tenant, u *cc.User, method string) (string, *cc.Principal, error) {
	f.started = append(f.started, u.Username+" "+method)
	return "prl_token", &cc.Principal{Tenant: t, User: u, Session: &cc.Session{ExpiresAt: time.Now().Add(time.Hour)}}, nil
}

type fakeGrants struct {
	consents map[string]bool
	tokens   map[string]string
	issuers  map[string]string
}

func (f *fakeGrants) HasSSOConsent(_ context.Context, tenantID, userID, origin string) (bool, error) {
	return f.consents[tenantID+" "+userID+" "+origin], nil
}

func (f *fakeGrants) PutSSOConsent(_ context.Context, tenantID, userID, origin string, _ time.Time) error {
	f.consents[tenantID+" "+userID+" "+origin] = true
	return nil
}

func (f *fakeGrants) PutCRMGrant(_ context.Context, tenantID, userID, crm, issuer string, token []byte, _ time.Time) error {
	f.tokens[tenantID+" "+userID+" "+crm] = string(token)
	if f.issuers == nil {
		f.issuers = map[string]string{}
	}
	f.issuers[tenantID+" "+userID+" "+crm] = issuer
	return nil
}

func (f *fakeGrants) CRMGrant(_ context.Context, tenantID, userID, crm string) ([]byte, string, error) {
	k := tenantID + " " + userID + " " + crm
	if tok, ok := f.tokens[k]; ok {
		return []byte(tok), f.issuers[k], nil
	}
	return nil, "", cc.Errorf(cc.ENOTFOUND, "no %s refresh token stored for user %s", crm, userID)
}

func (f *fakeGrants) DeleteCRMRefreshToken(_ context.Context, tenantID, userID, crm string) error {
	delete(f.tokens, tenantID+" "+userID+" "+crm)
	return nil
}

type rig struct {
	op       *testOP
	h        *Handler
	tenant   *cc.Tenant
	sessions *fakeSessions
	grants   *fakeGrants
	now      time.Time
}

func newRig(t *testing.T) *rig { t.Helper(); return newRigAt(t, publicURL, nil) }

// newRigAt is newRig for Parley at public, with clock (nil: a fixed time
// the test can move).
func newRigAt(t *testing.T, public string, clock cc.Clock) *rig {
	t.Helper()
	rg := &rig{now: time.Now().UTC()}
	if clock == nil {
		clock = func() time.Time { return rg.now }
	}
	rg.op = newTestOP(t, clock, public+"/sso/callback")
	rg.tenant = &cc.Tenant{ID: "ten_acme", Slug: "acme", Kind: cc.KindUnifiedLoginUC, CRMOrigins: []string{crmOrigin},
		CRM: cc.CRMConnection{Kind: "salesforce", LoginURL: rg.op.srv.URL, SSOClientID: clientID, SSOClientSecret: []byte(clientSecret)}}
	legacy := &cc.Tenant{ID: "ten_old", Slug: "oldco", Kind: cc.KindLegacy, CRMOrigins: []string{crmOrigin}, CRM: rg.tenant.CRM}
	rg.sessions = &fakeSessions{}
	rg.grants = &fakeGrants{consents: map[string]bool{}, tokens: map[string]string{}}
	var err error
	rg.h, err = New(Options{PublicURL: public, Clock: clock,
		Tenants:  fakeTenants{"acme": rg.tenant, "oldco": legacy},
		Users:    fakeUsers{"alice@acme.example": {ID: "usr_alice", TenantID: "ten_acme", Username: "alice", DisplayName: "Alice <Agent>"}},
		Sessions: rg.sessions, Grants: rg.grants})
	if err != nil {
		t.Fatal(err)
	}
	return rg
}

// do serves one request with the cookies given and returns the response.
func (rg *rig) do(method, target string, form url.Values, cookies []*http.Cookie) *http.Response {
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	rg.h.ServeHTTP(w, r)
	return w.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return html.UnescapeString(b.String())
}

// start runs /sso/start and returns the authorize URL and the flow cookie.
func (rg *rig) start(t *testing.T) (string, []*http.Cookie) {
	t.Helper()
	res := rg.do("GET", "/sso/start?tenant=acme&origin="+url.QueryEscape(crmOrigin), nil, nil)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("start: %d %s", res.StatusCode, body(t, res))
	}
	return res.Header.Get("Location"), res.Cookies()
}

// signIn runs the flow up to the callback's response.
func (rg *rig) signIn(t *testing.T, username string) *http.Response {
	t.Helper()
	loc, cookies := rg.start(t)
	return rg.do("GET", rg.op.authorize(t, loc, username), nil, cookies)
}

// handoff answers the handoff page text (set with cookies) as its script
// does: POST /sso/handoff with the page's CSRF token and answer (take, or
// cancel when the page has no opener).
func (rg *rig) handoff(t *testing.T, text string, cookies []*http.Cookie, answer string) *http.Response {
	t.Helper()
	csrf := between(text, `data-handoff="`, `"`)
	if csrf == "" {
		t.Fatalf("not a handoff page: %s", text)
	}
	return rg.do("POST", "/sso/handoff", url.Values{"csrf": {csrf}, "answer": {answer}}, cookies)
}

// signedInToken runs a whole sign-in (consent already given) and the
// handoff, and returns the Parley token handed to the panel.
func (rg *rig) signedInToken(t *testing.T, username string) string {
	t.Helper()
	res := rg.signIn(t, username)
	text := body(t, res)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %s", res.StatusCode, text)
	}
	h := rg.handoff(t, text, res.Cookies(), "take")
	hb := body(t, h)
	token := between(hb, `"token":"`, `"`)
	if h.StatusCode != http.StatusOK || token == "" {
		t.Fatalf("handoff: %d %s", h.StatusCode, hb)
	}
	return token
}

func TestFlowConsentThenHandoff(t *testing.T) {
	rg := newRig(t)
	res := rg.signIn(t, "Alice@Acme.example")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/sso/consent" {
		t.Fatalf("callback: %d %s, want a redirect to the consent page", res.StatusCode, body(t, res))
	}
	consentCookies := res.Cookies()
	page := rg.do("GET", "/sso/consent", nil, consentCookies)
	text := body(t, page)
	if page.StatusCode != 200 || !strings.Contains(text, "Allow the Parley panel in "+crmOrigin+" to act as you") {
		t.Fatalf("consent page: %d %s", page.StatusCode, text)
	}
	csrf := between(text, `name="csrf" value="`, `"`)
	if csrf == "" {
		t.Fatalf("consent page has no CSRF token: %s", text)
	}
	if len(rg.sessions.started) != 0 {
		t.Fatalf("a session was created before the consent: %v", rg.sessions.started)
	}
	done := rg.do("POST", "/sso/consent", url.Values{"csrf": {csrf}, "answer": {"allow"}}, consentCookies)
	text = body(t, done)
	// The page holds no session: its script takes it from /sso/handoff
	// only when the panel that opened it is there to receive it.
	if done.StatusCode != 200 || strings.Contains(text, "prl_token") || !strings.Contains(text, `fetch("/sso/handoff"`) ||
		!strings.Contains(text, `postMessage(b,o)`) || !strings.Contains(text, "window.close()") || !strings.Contains(text, `o="`+publicURL+`"`) {
		t.Fatalf("handoff page: %d %s", done.StatusCode, text)
	}
	csp := done.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'nonce-") || !strings.Contains(csp, "frame-ancestors 'none'") ||
		!strings.Contains(csp, "connect-src 'self'") {
		t.Fatalf("CSP %q is not strict, or does not let the page reach /sso/handoff", csp)
	}
	if len(rg.sessions.started) != 0 || len(rg.grants.tokens) != 0 {
		t.Fatalf("a session or a CRM grant was kept before the page handed it off: %v %v", rg.sessions.started, rg.grants.tokens)
	}
	// Without the page's CSRF token: nothing.
	if res := rg.do("POST", "/sso/handoff", url.Values{"answer": {"take"}}, done.Cookies()); res.StatusCode != http.StatusForbidden || len(rg.sessions.started) != 0 {
		t.Fatalf("handoff without the CSRF token: %d %s", res.StatusCode, body(t, res))
	}
	h := rg.handoff(t, text, done.Cookies(), "take")
	hb := body(t, h)
	if h.StatusCode != 200 || !strings.Contains(hb, `"token":"prl_token"`) || !strings.Contains(hb, `"type":"parley.sso"`) ||
		!strings.HasPrefix(h.Header.Get("Content-Type"), "application/json") || h.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("handoff: %d %v %s", h.StatusCode, h.Header, hb)
	}
	if got := rg.sessions.started; len(got) != 1 || got[0] != "alice sso" {
		t.Fatalf("sessions started: %v", got)
	}
	if tok := rg.grants.tokens["ten_acme usr_alice salesforce"]; tok != "5Aep-refresh" {
		t.Fatalf("refresh token stored %q", tok)
	}
	// Handed off once only.
	if again := rg.handoff(t, text, done.Cookies(), "take"); again.StatusCode != http.StatusBadRequest || len(rg.sessions.started) != 1 {
		t.Fatalf("second handoff: %d %s", again.StatusCode, body(t, again))
	}
	// The second time there is no consent page: straight to the handoff.
	if tok := rg.signedInToken(t, "alice@acme.example"); tok != "prl_token" {
		t.Fatalf("second sign-in: %q", tok)
	}
}

// TestHandoffWithoutOpener: a sign-in opened in a tab of its own (no
// panel opened it) keeps nothing: the page cancels, no session is created,
// no CRM grant stored, and the CRM's refresh token is revoked at the CRM.
func TestHandoffWithoutOpener(t *testing.T) {
	rg := newRig(t)
	rg.grants.consents["ten_acme usr_alice "+crmOrigin] = true
	res := rg.signIn(t, "alice@acme.example")
	text := body(t, res)
	if res.StatusCode != 200 || !strings.Contains(text, "window.opener") {
		t.Fatalf("callback: %d %s", res.StatusCode, text)
	}
	c := rg.handoff(t, text, res.Cookies(), "cancel")
	if cb := body(t, c); c.StatusCode != 200 || strings.Contains(cb, "token") {
		t.Fatalf("cancel: %d %s", c.StatusCode, cb)
	}
	if len(rg.sessions.started) != 0 || len(rg.grants.tokens) != 0 {
		t.Fatalf("a sign-in no panel received kept a session or grant: %v %v", rg.sessions.started, rg.grants.tokens)
	}
	if len(rg.op.revoked) != 1 || rg.op.revoked[0] != "5Aep-refresh" {
		t.Fatalf("the CRM revoked %v, want the unused refresh token", rg.op.revoked)
	}
	if again := rg.handoff(t, text, res.Cookies(), "take"); again.StatusCode != http.StatusBadRequest || len(rg.sessions.started) != 0 {
		t.Fatalf("take after cancel: %d", again.StatusCode)
	}
	// An unanswered handoff expires with nothing kept.
	res = rg.signIn(t, "alice@acme.example")
	text = body(t, res)
	rg.now = rg.now.Add(HandoffTTL + time.Second)
	if late := rg.handoff(t, text, res.Cookies(), "take"); late.StatusCode != http.StatusBadRequest || !strings.Contains(body(t, late), "expired") {
		t.Fatalf("late handoff: %d", late.StatusCode)
	}
	if len(rg.sessions.started) != 0 {
		t.Fatalf("sessions: %v", rg.sessions.started)
	}
	// The next sign-in sweeps it: its refresh token is revoked at the CRM.
	rg.signIn(t, "alice@acme.example")
	deadline := time.Now().Add(10 * time.Second)
	for {
		rg.op.mu.Lock()
		n := len(rg.op.revoked)
		rg.op.mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the refresh token of an expired handoff was not revoked at the CRM: %d revoked", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, to)
	return v
}

func TestCookieAttributes(t *testing.T) {
	rg := newRig(t)
	res := rg.do("GET", "/sso/start?tenant=acme&origin="+url.QueryEscape(crmOrigin), nil, nil)
	raw := res.Header.Values("Set-Cookie")
	if len(raw) != 1 {
		t.Fatalf("Set-Cookie: %q", raw)
	}
	for _, attr := range []string{"SameSite=None", "Secure", "Partitioned", "HttpOnly", "Path=/sso/", "Max-Age=600"} {
		if !strings.Contains(raw[0], attr) {
			t.Errorf("flow cookie %q lacks %s", raw[0], attr)
		}
	}
	// The cookie is sealed: neither the nonce the authorize URL carries nor
	// any of the flow's JSON is readable in it.
	loc, _ := url.Parse(res.Header.Get("Location"))
	value, _, _ := strings.Cut(strings.SplitN(raw[0], "=", 2)[1], ";")
	plain, _ := base64.RawURLEncoding.DecodeString(value)
	if nonce := loc.Query().Get("nonce"); nonce == "" || strings.Contains(value+string(plain), nonce) || strings.Contains(string(plain), `"v":`) {
		t.Errorf("flow cookie shows the flow: %q (nonce %q)", plain, nonce)
	}
	res = rg.signIn(t, "alice@acme.example")
	for _, c := range res.Header.Values("Set-Cookie") {
		for _, attr := range []string{"SameSite=None", "Secure", "Partitioned", "HttpOnly"} {
			if !strings.Contains(c, attr) {
				t.Errorf("callback cookie %q lacks %s", c, attr)
			}
		}
	}
}

func TestStartRefuses(t *testing.T) {
	rg := newRig(t)
	for _, tc := range []struct{ name, query, want string }{
		{"origin not the tenant's", "tenant=acme&origin=https://evil.lightning.force.com", `"https://evil.lightning.force.com" is not one of tenant acme's CRM origins`},
		{"origin not a CRM origin", "tenant=acme&origin=https://evil.example", "is not one of tenant acme's CRM origins"},
		{"redirect parameter", "tenant=acme&origin=" + url.QueryEscape(crmOrigin) + "&redirect_uri=https://evil.example", `unknown parameter "redirect_uri"`},
		{"next parameter", "tenant=acme&origin=" + url.QueryEscape(crmOrigin) + "&next=//evil.example", `unknown parameter "next"`},
		{"no origin", "tenant=acme", "the origin parameter is missing"},
		{"no tenant", "origin=" + url.QueryEscape(crmOrigin), "the tenant parameter is missing"},
		{"unknown tenant", "tenant=nope&origin=" + url.QueryEscape(crmOrigin), `there is no tenant "nope"`},
		{"legacy tenant", "tenant=oldco&origin=" + url.QueryEscape(crmOrigin), "legacy (kind 1) tenant: single sign-on is not available for legacy tenants"},
		{"bad sandbox", "tenant=acme&origin=" + url.QueryEscape(crmOrigin) + "&sandbox=yes", `sandbox="yes"`},
		{"sandbox on a CRM without one", "tenant=acme&origin=" + url.QueryEscape(crmOrigin) + "&sandbox=true", "has no sandbox sign-in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := rg.do("GET", "/sso/start?"+tc.query, nil, nil)
			text := body(t, res)
			if res.StatusCode < 400 || !strings.Contains(text, tc.want) {
				t.Fatalf("%d %s, want an error containing %q", res.StatusCode, text, tc.want)
			}
			if res.Header.Get("Location") != "" || len(res.Cookies()) != 0 {
				t.Fatalf("a refused start redirected or set a cookie: %v %v", res.Header, res.Cookies())
			}
		})
	}
}

// TestStartSandboxForProduction: sandbox=true for a tenant whose CRM is a
// known production org is refused with the command that prints the right
// adapter URL, before Parley asks the CRM anything.
func TestStartSandboxForProduction(t *testing.T) {
	rg := newRig(t)
	rg.tenant.CRM.LoginURL = "https://login.salesforce.com"
	res := rg.do("GET", "/sso/start?tenant=acme&sandbox=true&origin="+url.QueryEscape(crmOrigin), nil, nil)
	text := body(t, res)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(text, "CRM is a production org") || !strings.Contains(text, "parley admin cti-url --tenant acme --sso") {
		t.Fatalf("%d %s", res.StatusCode, text)
	}
}

func TestCallbackRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(rg *rig)
		want string
	}{
		{"wrong issuer", func(rg *rig) { rg.op.mutate = func(c map[string]any) { c["iss"] = "https://login.salesforce.com" } }, "wrong issuer"},
		{"wrong audience", func(rg *rig) { rg.op.mutate = func(c map[string]any) { c["aud"] = "3MVG9other" } }, "wrong audience"},
		{"expired", func(rg *rig) {
			rg.op.mutate = func(c map[string]any) {
				c["iat"] = rg.now.Add(-10 * time.Minute).Unix()
				c["exp"] = rg.now.Add(-8 * time.Minute).Unix()
			}
		}, "it expired"},
		{"bad signature", func(rg *rig) { rg.op.signer = rg.op.other }, "bad signature"},
		{"wrong nonce", func(rg *rig) { rg.op.mutate = func(c map[string]any) { c["nonce"] = "another" } }, "its nonce is not the one this sign-in sent"},
		{"wrong at_hash", func(rg *rig) { rg.op.mutate = func(c map[string]any) { c["at_hash"] = "d3Jvbmc" } }, "its at_hash does not match the access token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rg := newRig(t)
			tc.set(rg)
			res := rg.signIn(t, "alice@acme.example")
			text := body(t, res)
			if res.StatusCode != http.StatusUnauthorized || !strings.Contains(text, "the CRM's id_token was refused") || !strings.Contains(text, tc.want) {
				t.Fatalf("%d %s, want 401 with %q", res.StatusCode, text, tc.want)
			}
			if len(rg.sessions.started) != 0 {
				t.Fatalf("a session was created: %v", rg.sessions.started)
			}
		})
	}
}

func TestReplayedNonce(t *testing.T) {
	rg := newRig(t)
	rg.grants.consents["ten_acme usr_alice "+crmOrigin] = true
	loc, cookies := rg.start(t)
	first := rg.do("GET", rg.op.authorize(t, loc, "alice@acme.example"), nil, cookies)
	if text := body(t, first); first.StatusCode != 200 || rg.handoff(t, text, first.Cookies(), "take").StatusCode != 200 {
		t.Fatalf("first callback: %d %s", first.StatusCode, text)
	}
	// The same cookie and state with a fresh code whose id_token carries
	// the same nonce: a replay.
	res := rg.do("GET", rg.op.authorize(t, loc, "alice@acme.example"), nil, cookies)
	if text := body(t, res); res.StatusCode != http.StatusUnauthorized || !strings.Contains(text, "its nonce was already used") {
		t.Fatalf("replay: %d %s", res.StatusCode, text)
	}
	if len(rg.sessions.started) != 1 {
		t.Fatalf("sessions: %v", rg.sessions.started)
	}
}

// TestCallbackUsedTwice: the callback of a finished sign-in, loaded again
// in the same browser (a reload, the back button, a replay), says the
// sign-in was already used, not that the browser did not start it; the
// marker the cookie becomes holds nothing of the flow.
func TestCallbackUsedTwice(t *testing.T) {
	rg := newRig(t)
	rg.grants.consents["ten_acme usr_alice "+crmOrigin] = true
	loc, cookies := rg.start(t)
	cb := rg.op.authorize(t, loc, "alice@acme.example")
	first := rg.do("GET", cb, nil, cookies)
	if text := body(t, first); first.StatusCode != 200 || rg.handoff(t, text, first.Cookies(), "take").StatusCode != 200 {
		t.Fatalf("first callback: %d %s", first.StatusCode, text)
	}
	var marker *http.Cookie
	for _, c := range first.Cookies() {
		if c.Name == cookies[0].Name {
			marker = c
		}
	}
	if marker == nil || marker.Value == "" || marker.Value == cookies[0].Value || marker.MaxAge <= 0 {
		t.Fatalf("the callback left no used marker in place of the flow cookie: %+v", first.Cookies())
	}
	res := rg.do("GET", cb, nil, []*http.Cookie{marker})
	if text := body(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(text, "this sign-in was already used") || strings.Contains(text, "did not start") {
		t.Fatalf("callback again: %d %s", res.StatusCode, text)
	}
	// The marker is bound to its state like the flow cookie.
	_, other := rg.start(t)
	moved := &http.Cookie{Name: other[0].Name, Value: marker.Value}
	otherCB := strings.Replace(cb, strings.TrimPrefix(cookies[0].Name, cookiePrefix), strings.TrimPrefix(other[0].Name, cookiePrefix), 1)
	if res := rg.do("GET", otherCB, nil, []*http.Cookie{moved}); !strings.Contains(body(t, res), "does not belong to this state") {
		t.Fatalf("a marker moved to another state is not refused: %d", res.StatusCode)
	}
	if len(rg.sessions.started) != 1 {
		t.Fatalf("sessions: %v", rg.sessions.started)
	}
}

func TestStateMismatch(t *testing.T) {
	rg := newRig(t)
	loc, cookies := rg.start(t)
	cb := rg.op.authorize(t, loc, "alice@acme.example")
	// Another state than the cookie's: the cookie is looked up by state.
	forged := strings.Replace(cb, "state=", "state=x", 1)
	if res := rg.do("GET", forged, nil, cookies); !strings.Contains(body(t, res), "state mismatch") || res.StatusCode != 400 {
		t.Fatalf("forged state: %d", res.StatusCode)
	}
	// No cookie at all (another browser).
	if res := rg.do("GET", cb, nil, nil); !strings.Contains(body(t, res), "state mismatch: this browser did not start this sign-in") {
		t.Fatalf("no cookie: %d", res.StatusCode)
	}
	// The cookie of another flow renamed to this state: its MAC is bound to
	// its own state.
	_, other := rg.start(t)
	renamed := &http.Cookie{Name: cookies[0].Name, Value: other[0].Value}
	if res := rg.do("GET", cb, nil, []*http.Cookie{renamed}); !strings.Contains(body(t, res), "the sign-in cookie does not belong to this state") {
		t.Fatalf("renamed cookie: %d", res.StatusCode)
	}
	if len(rg.sessions.started) != 0 {
		t.Fatalf("sessions: %v", rg.sessions.started)
	}
}

// forgedCallback starts a sign-in, has the CRM answer it, and calls the
// callback with a validly signed cookie holding f instead of the real one.
func (rg *rig) forgedCallback(t *testing.T, f flow) *http.Response {
	t.Helper()
	loc, _ := rg.start(t)
	cb := rg.op.authorize(t, loc, "alice@acme.example")
	u, _ := url.Parse(cb)
	w := httptest.NewRecorder()
	f.Tenant, f.Origin, f.Nonce, f.Expires = "acme", crmOrigin, "n", rg.now.Add(time.Minute).Unix()
	if err := rg.h.setFlowCookie(w, u.Query().Get("state"), &f); err != nil {
		t.Fatal(err)
	}
	return rg.do("GET", cb, nil, w.Result().Cookies())
}

func TestMissingPKCEVerifier(t *testing.T) {
	rg := newRig(t)
	res := rg.forgedCallback(t, flow{})
	if text := body(t, res); res.StatusCode != 400 || !strings.Contains(text, "no PKCE verifier") {
		t.Fatalf("%d %s", res.StatusCode, text)
	}
	// A wrong verifier: the CRM refuses the code, and the page says so.
	res = rg.forgedCallback(t, flow{Verifier: "wrong-verifier-wrong-verifier-wrong-verifier"})
	if text := body(t, res); res.StatusCode != 401 || !strings.Contains(text, "the CRM refused the authorization code: invalid_grant: invalid code verifier") {
		t.Fatalf("%d %s", res.StatusCode, text)
	}
	if len(rg.sessions.started) != 0 {
		t.Fatalf("sessions: %v", rg.sessions.started)
	}
}

func TestNoMapping(t *testing.T) {
	rg := newRig(t)
	res := rg.signIn(t, "bob@acme.example")
	text := body(t, res)
	if res.StatusCode != 403 || !strings.Contains(text, "The CRM user bob@acme.example has no Parley user in tenant acme") ||
		!strings.Contains(text, "parley admin user set-crm --tenant acme --user USERNAME --crm salesforce --username bob@acme.example") {
		t.Fatalf("%d %s", res.StatusCode, text)
	}
	// The panel is told too, at Parley's origin only (body unescapes the
	// page's HTML, not its script's \u escapes).
	if !strings.Contains(text, `postMessage({type:"parley.sso.failed",message:"The CRM user bob@acme.example has no Parley user in tenant acme.`) ||
		!strings.Contains(text, `},"`+publicURL+`");`) {
		t.Errorf("the page does not post the failure to Parley's origin:\n%s", text)
	}
}

func TestConsentCSRF(t *testing.T) {
	rg := newRig(t)
	res := rg.signIn(t, "alice@acme.example")
	cookies := res.Cookies()
	for _, csrf := range []string{"", "guess"} {
		res := rg.do("POST", "/sso/consent", url.Values{"csrf": {csrf}, "answer": {"allow"}}, cookies)
		if text := body(t, res); res.StatusCode != 403 || !strings.Contains(text, "CSRF token is missing or wrong") {
			t.Fatalf("csrf %q: %d %s", csrf, res.StatusCode, text)
		}
	}
	if len(rg.sessions.started) != 0 || len(rg.grants.consents) != 0 {
		t.Fatalf("consent without CSRF token had effect: %v %v", rg.sessions.started, rg.grants.consents)
	}
	// Without the consent cookie the form is refused too.
	if res := rg.do("POST", "/sso/consent", url.Values{"csrf": {"x"}, "answer": {"allow"}}, nil); res.StatusCode != 400 {
		t.Fatalf("no cookie: %d", res.StatusCode)
	}
}

func TestCallbackEscapesCRMError(t *testing.T) {
	rg := newRig(t)
	loc, cookies := rg.start(t)
	u, _ := url.Parse(loc)
	cb := "/sso/callback?" + url.Values{"state": {u.Query().Get("state")}, "error": {"access_denied"}, "error_description": {"<script>alert(1)</script>"}}.Encode()
	r := httptest.NewRequest("GET", cb, nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	rg.h.ServeHTTP(w, r)
	if raw := w.Body.String(); strings.Contains(raw, "<script>alert") || !strings.Contains(raw, "access_denied") {
		t.Fatalf("CRM error page: %s", raw)
	}
}

func TestLoginHost(t *testing.T) {
	for _, tc := range []struct {
		c       cc.CRMConnection
		sandbox bool
		want    string
	}{
		{cc.CRMConnection{LoginURL: "https://login.salesforce.com"}, false, "https://login.salesforce.com"},
		{cc.CRMConnection{LoginURL: "https://login.salesforce.com/"}, true, "https://test.salesforce.com"},
		{cc.CRMConnection{LoginURL: "http://127.0.0.1:8081"}, true, "http://127.0.0.1:8081/sandbox"},
		{cc.CRMConnection{LoginURL: "https://login.salesforce.com", MyDomain: "https://acme.my.salesforce.com/"}, false, "https://acme.my.salesforce.com"},
	} {
		if got := LoginHost(&tc.c, tc.sandbox); got != tc.want {
			t.Errorf("LoginHost(%+v, %v) = %q, want %q", tc.c, tc.sandbox, got, tc.want)
		}
	}
}

// TestCallbackRedirectsNowhere checks that redirect parameters smuggled into
// the callback are ignored: its only redirect is Parley's own consent page.
func TestCallbackRedirectsNowhere(t *testing.T) {
	rg := newRig(t)
	loc, cookies := rg.start(t)
	cb := rg.op.authorize(t, loc, "alice@acme.example") + "&redirect_uri=https://evil.example&next=//evil.example&return_to=https://evil.example"
	res := rg.do("GET", cb, nil, cookies)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/sso/consent" {
		t.Fatalf("callback: %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	page := rg.do("GET", "/sso/consent", nil, res.Cookies())
	csrf := between(body(t, page), `name="csrf" value="`, `"`)
	done := rg.do("POST", "/sso/consent?next=https://evil.example", url.Values{"csrf": {csrf}, "answer": {"allow"}, "redirect_uri": {"https://evil.example"}}, res.Cookies())
	text := body(t, done)
	if done.Header.Get("Location") != "" || strings.Contains(text, "evil.example") || !strings.Contains(text, `o="`+publicURL+`"`) {
		t.Fatalf("consent: %d Location %q %s", done.StatusCode, done.Header.Get("Location"), text)
	}
}

// TestConsentDenied checks that denying Parley's consent creates no session
// and remembers nothing.
func TestConsentDenied(t *testing.T) {
	rg := newRig(t)
	res := rg.signIn(t, "alice@acme.example")
	page := rg.do("GET", "/sso/consent", nil, res.Cookies())
	csrf := between(body(t, page), `name="csrf" value="`, `"`)
	done := rg.do("POST", "/sso/consent", url.Values{"csrf": {csrf}, "answer": {"deny"}}, res.Cookies())
	if text := body(t, done); done.StatusCode != 403 || !strings.Contains(text, "You did not allow the Parley panel in "+crmOrigin) {
		t.Fatalf("deny: %d %s", done.StatusCode, text)
	}
	if len(rg.sessions.started) != 0 || len(rg.grants.consents) != 0 || len(rg.grants.tokens) != 0 {
		t.Fatalf("a denied consent had effect: %v %v %v", rg.sessions.started, rg.grants.consents, rg.grants.tokens)
	}
	// The answered consent cannot be answered again.
	again := rg.do("POST", "/sso/consent", url.Values{"csrf": {csrf}, "answer": {"allow"}}, res.Cookies())
	if text := body(t, again); again.StatusCode != 400 || !strings.Contains(text, "expired or was already answered") {
		t.Fatalf("second answer: %d %s", again.StatusCode, text)
	}
}

// Tenants lists the tenants (the panel's Tenants, for the browser test).
func (f fakeTenants) Tenants(context.Context) ([]*cc.Tenant, error) {
	var ts []*cc.Tenant
	for _, t := range f {
		ts = append(ts, t)
	}
	return ts, nil
}

// TestUsernameFromUserinfo checks that an id_token without
// preferred_username is completed from userinfo, for the same subject only.
func TestUsernameFromUserinfo(t *testing.T) {
	rg := newRig(t)
	rg.grants.consents["ten_acme usr_alice "+crmOrigin] = true
	rg.op.mutate = func(c map[string]any) { delete(c, "preferred_username") }
	rg.op.userinfo = map[string]any{"sub": rg.op.srv.URL + "/id/00D/005", "preferred_username": "Alice@acme.example"}
	if rg.signedInToken(t, ""); len(rg.sessions.started) != 1 {
		t.Fatalf("userinfo username: sessions %v", rg.sessions.started)
	}
	rg.op.userinfo["sub"] = rg.op.srv.URL + "/id/00D/other"
	res := rg.signIn(t, "")
	if text := body(t, res); res.StatusCode != 401 || !strings.Contains(text, "userinfo is of another user") {
		t.Fatalf("userinfo of another subject: %d %s", res.StatusCode, text)
	}
}

// TestIssuerSpelledOtherwise: a login URL that reaches the CRM under
// another name than its issuer (localhost for 127.0.0.1) is refused with
// the issuer to configure, not as a CRM that does not answer.
func TestIssuerSpelledOtherwise(t *testing.T) {
	rg := newRig(t)
	issuer := rg.op.srv.URL
	rg.tenant.CRM.LoginURL = strings.Replace(issuer, "127.0.0.1", "localhost", 1)
	res := rg.do("GET", "/sso/start?tenant=acme&origin="+url.QueryEscape(crmOrigin), nil, nil)
	text := body(t, res)
	want := "the CRM at " + rg.tenant.CRM.LoginURL + " names its issuer " + issuer + ": the tenant's CRM login URL (or My Domain) must be exactly that; an administrator runs parley admin crm set --tenant acme --login-url " + issuer
	if res.StatusCode != http.StatusForbidden || !strings.Contains(text, want) {
		t.Fatalf("%d %s, want 403 with %q", res.StatusCode, text, want)
	}
}

// TestPlainHTTPPublicURLWarns: a plain-http public URL on a host other than
// loopback is logged as unable to sign in (Secure cookies are dropped
// there); https and loopback are not.
func TestPlainHTTPPublicURLWarns(t *testing.T) {
	for public, warns := range map[string]bool{"http://parley.lan:8080": true, "http://10.0.0.5": true, "https://parley.example": false,
		"http://127.0.0.1:8080": false, "http://[::1]:8080": false, "http://localhost:8080": false, "http://app.localhost": false} {
		var logs strings.Builder
		_, err := New(Options{PublicURL: public, Tenants: fakeTenants{}, Users: fakeUsers{}, Sessions: &fakeSessions{}, Grants: &fakeGrants{},
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(logs.String(), "single sign-on needs https"); got != warns {
			t.Errorf("%s: warned %v, want %v (%s)", public, got, warns, logs.String())
		}
	}
}
