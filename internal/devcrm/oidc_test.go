package devcrm

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/parley-cc/parley/internal/cc"
)

const (
	ssoCallback = "http://127.0.0.1:9/sso/callback"
	alicePW     = "alice-password-1"
	aliceID     = "005gK0Usr000003QCA"
	alice       = "alice@devcrm.example.com"
)

// oidcEnv is a started devcrm with a password for alice and a confidential
// and a public connected app.
type oidcEnv struct {
	*env
	app, public App
}

func newOIDCEnv(t *testing.T, mutate ...func(*Config)) *oidcEnv {
	t.Helper()
	e := &oidcEnv{env: newEnv(t, mutate...)}
	ctx := context.Background()
	if err := e.srv.SetUserPassword(ctx, alice, alicePW); err != nil {
		t.Fatal(err)
	}
	var err error
	if e.app, err = e.srv.CreateApp(ctx, App{Name: "Parley <SSO>", CallbackURLs: []string{ssoCallback}, RequirePKCE: true}); err != nil {
		t.Fatal(err)
	}
	if e.public, err = e.srv.CreateApp(ctx, App{Name: "Parley panel", CallbackURLs: []string{ssoCallback}, Public: true}); err != nil {
		t.Fatal(err)
	}
	return e
}

// browser is an HTTP client with a cookie jar that stops at the app's
// callback, as a browser's address bar would show it.
func ssoBrowser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), ssoCallback) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// authorizeParams are an authorization request's parameters with a PKCE
// challenge for verifier.
func authorizeParams(clientID, verifier string) url.Values {
	sum := sha256.Sum256([]byte(verifier))
	return url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {ssoCallback},
		"scope":                 {"openid id api refresh_token email profile"},
		"state":                 {"state-123"},
		"nonce":                 {"nonce-456"},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
}

type webPage struct {
	status   int
	url      string
	location string
	body     string
}

func do(t *testing.T, c *http.Client, method, target string, form url.Values) webPage {
	t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodPost {
		resp, err = c.PostForm(target, form)
	} else {
		resp, err = c.Get(target)
	}
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return webPage{status: resp.StatusCode, url: resp.Request.URL.String(), location: resp.Header.Get("Location"), body: string(body)}
}

var hiddenID = regexp.MustCompile(`name="id" value="([^"]+)"`)

func requestID(t *testing.T, p webPage) string {
	t.Helper()
	m := hiddenID.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no request id on %s (%d): %s", p.url, p.status, p.body)
	}
	return m[1]
}

// callbackQuery checks that p is the redirect to the app's callback and
// returns its query.
func callbackQuery(t *testing.T, p webPage) url.Values {
	t.Helper()
	if p.status != http.StatusFound || !strings.HasPrefix(p.location, ssoCallback+"?") {
		t.Fatalf("want a redirect to the callback, got %d at %s, Location %q: %s", p.status, p.url, p.location, p.body)
	}
	u, err := url.Parse(p.location)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// signInAndAllow walks the sign-in and consent pages from authorize (no
// consent page when alice allowed the app before) and returns the code.
func (e *oidcEnv) signInAndAllow(t *testing.T, c *http.Client, base string, params url.Values) string {
	t.Helper()
	p := do(t, c, http.MethodGet, base+"/services/oauth2/authorize?"+params.Encode(), nil)
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="login-button"`) {
		t.Fatalf("authorize: want the sign-in page, got %d %s", p.status, p.body)
	}
	id := requestID(t, p)
	p = do(t, c, http.MethodPost, e.srv.URL()+"/services/oauth2/login", url.Values{"id": {id}, "username": {alice}, "password": {alicePW}})
	if p.status == http.StatusFound { // alice allowed the app before
		return callbackQuery(t, p).Get("code")
	}
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="allow-button"`) {
		t.Fatalf("sign-in: want the consent page, got %d %s", p.status, p.body)
	}
	q := callbackQuery(t, do(t, c, http.MethodPost, e.srv.URL()+"/services/oauth2/consent", url.Values{"id": {id}, "decision": {"allow"}}))
	if q.Get("state") != params.Get("state") || q.Get("code") == "" {
		t.Fatalf("callback query %v: want the code and state %s", q, params.Get("state"))
	}
	return q.Get("code")
}

// postToken posts to a token endpoint, with HTTP Basic credentials when
// user is not empty.
func postToken(t *testing.T, endpoint string, form url.Values, user, pass string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("token response %d: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, body
}

func TestOIDCCodeFlow(t *testing.T) {
	e := newOIDCEnv(t)
	ctx := context.Background()
	base := e.srv.URL()
	provider, err := gooidc.NewProvider(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := provider.Claims(&doc); err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]string{
		"issuer":                 base,
		"authorization_endpoint": base + "/services/oauth2/authorize",
		"token_endpoint":         base + "/services/oauth2/token",
		"userinfo_endpoint":      base + "/services/oauth2/userinfo",
		"revocation_endpoint":    base + "/services/oauth2/revoke",
		"jwks_uri":               base + "/id/keys",
	} {
		if doc[field] != want {
			t.Errorf("discovery %s = %v, want %s", field, doc[field], want)
		}
	}
	if _, ok := doc["end_session_endpoint"]; ok {
		t.Errorf("discovery lists end_session_endpoint, which devcrm does not serve")
	}

	c := ssoBrowser(t)
	verifier := "verifier-0123456789-0123456789-0123456789-0123456789"
	code := e.signInAndAllow(t, c, base, authorizeParams(e.app.ClientID, verifier))
	status, tok := postToken(t, provider.Endpoint().TokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {ssoCallback}, "code_verifier": {verifier}}, e.app.ClientID, e.app.ClientSecret)
	if status != http.StatusOK {
		t.Fatalf("code exchange: %d %v", status, tok)
	}
	identity := base + "/id/" + e.srv.OrgID() + "/" + aliceID
	if tok["instance_url"] != base || tok["id"] != identity || tok["token_type"] != "Bearer" || tok["signature"] == nil || tok["issued_at"] == nil {
		t.Errorf("token response lacks Salesforce's fields: %v", tok)
	}
	if _, ok := tok["expires_in"]; ok {
		t.Errorf("token response has expires_in, which Salesforce does not send: %v", tok)
	}
	rawID, _ := tok["id_token"].(string)
	access, _ := tok["access_token"].(string)
	refresh, _ := tok["refresh_token"].(string)
	if rawID == "" || access == "" || refresh == "" {
		t.Fatalf("want id_token, access_token and refresh_token: %v", tok)
	}

	idToken, err := provider.Verifier(&gooidc.Config{ClientID: e.app.ClientID}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("go-oidc rejects the id_token: %v", err)
	}
	if idToken.Subject != identity || idToken.Nonce != "nonce-456" || idToken.Expiry.Sub(idToken.IssuedAt) != IDTokenLifetime {
		t.Errorf("id_token sub %s nonce %s lifetime %s", idToken.Subject, idToken.Nonce, idToken.Expiry.Sub(idToken.IssuedAt))
	}
	if err := idToken.VerifyAccessToken(access); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	var claims map[string]any
	idToken.Claims(&claims)
	wantIdentity := map[string]any{"preferred_username": alice, "email": alice, "name": "Alice Agent",
		"organization_id": e.srv.OrgID(), "user_id": aliceID, "sub": identity}
	for k, v := range wantIdentity {
		if claims[k] != v {
			t.Errorf("id_token %s = %v, want %v", k, claims[k], v)
		}
	}

	info, err := provider.UserInfo(ctx, staticToken(access))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var infoClaims map[string]any
	info.Claims(&infoClaims)
	for k, v := range wantIdentity {
		if infoClaims[k] != v {
			t.Errorf("userinfo %s = %v, want %v", k, infoClaims[k], v)
		}
	}

	// The access token works on the REST API, as the user.
	e.token = access
	users := e.query("SELECT Id, Username, Email FROM User WHERE Username = 'alice@devcrm.example.com'")
	if len(users) != 1 || users[0]["Id"] != aliceID || users[0]["Email"] != alice {
		t.Errorf("REST with the OpenID access token: %v", users)
	}

	// The code works once.
	if status, body := postToken(t, provider.Endpoint().TokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {ssoCallback}, "code_verifier": {verifier}}, e.app.ClientID, e.app.ClientSecret); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("second use of the code: %d %v", status, body)
	}

	// Refresh with client_secret_post: a new refresh token replaces the old.
	refreshForm := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {e.app.ClientID}, "client_secret": {e.app.ClientSecret}}
	status, ref := postToken(t, provider.Endpoint().TokenURL, refreshForm, "", "")
	if status != http.StatusOK || ref["access_token"] == nil || ref["refresh_token"] == nil || ref["refresh_token"] == refresh || ref["id"] != identity {
		t.Fatalf("refresh: %d %v", status, ref)
	}
	if _, err := provider.Verifier(&gooidc.Config{ClientID: e.app.ClientID}).Verify(ctx, ref["id_token"].(string)); err != nil {
		t.Errorf("refreshed id_token: %v", err)
	}
	if status, body := postToken(t, provider.Endpoint().TokenURL, refreshForm, "", ""); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("reusing a rotated refresh token: %d %v", status, body)
	}
	refreshForm.Set("refresh_token", ref["refresh_token"].(string))
	refreshForm.Set("client_secret", "wrong")
	if status, body := postToken(t, provider.Endpoint().TokenURL, refreshForm, "", ""); status < 400 || body["error"] != "invalid_client" {
		t.Errorf("refresh with a wrong secret: %d %v", status, body)
	}

	// Revoking the refresh token ends it and the user's access tokens.
	revoke := url.Values{"token": {ref["refresh_token"].(string)}}
	resp, err := postBasic(base+"/services/oauth2/revoke", revoke, e.app.ClientID, e.app.ClientSecret)
	if err != nil || resp != http.StatusOK {
		t.Fatalf("revoke: %d %v", resp, err)
	}
	refreshForm.Set("client_secret", e.app.ClientSecret)
	if status, body := postToken(t, provider.Endpoint().TokenURL, refreshForm, "", ""); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("refresh after revoke: %d %v", status, body)
	}
	if _, err := provider.UserInfo(ctx, staticToken(ref["access_token"].(string))); err == nil {
		t.Errorf("userinfo answers with an access token whose refresh token was revoked")
	}
}

func staticToken(access string) oauth2.TokenSource {
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: access, TokenType: "Bearer"})
}

// postBasic posts a form with HTTP Basic client credentials and returns
// the status.
func postBasic(endpoint string, form url.Values, user, pass string) (int, error) {
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestOIDCPKCE(t *testing.T) {
	e := newOIDCEnv(t)
	base := e.srv.URL()
	verifier := "right-verifier-0123456789-0123456789-0123456789"
	for name, tc := range map[string]struct {
		app      App
		verifier string
	}{
		"confidential, no verifier": {e.app, ""},
		"confidential, wrong":       {e.app, "wrong-verifier-0123456789-0123456789-0123456789"},
		"public, no verifier":       {e.public, ""},
		"public, wrong":             {e.public, "wrong-verifier-0123456789-0123456789-0123456789"},
	} {
		code := e.signInAndAllow(t, ssoBrowser(t), base, authorizeParams(tc.app.ClientID, verifier))
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {ssoCallback}, "client_id": {tc.app.ClientID}}
		if tc.verifier != "" {
			form.Set("code_verifier", tc.verifier)
		}
		if tc.app.ClientSecret != "" {
			form.Set("client_secret", tc.app.ClientSecret)
		}
		if status, body := postToken(t, base+"/services/oauth2/token", form, "", ""); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("%s: %d %v, want invalid_grant", name, status, body)
		}
		// The right verifier still works for a public app: the code is
		// spent only by a successful exchange.
		form.Set("code_verifier", verifier)
		if status, body := postToken(t, base+"/services/oauth2/token", form, "", ""); status != http.StatusOK {
			t.Errorf("%s, then the right verifier: %d %v", name, status, body)
		}
	}

	// A challenge without code_challenge_method is S256, as in Salesforce.
	noMethod := authorizeParams(e.public.ClientID, verifier)
	noMethod.Del("code_challenge_method")
	code := e.signInAndAllow(t, ssoBrowser(t), base, noMethod)
	if status, body := postToken(t, base+"/services/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {ssoCallback}, "client_id": {e.public.ClientID}, "code_verifier": {verifier}}, "", ""); status != http.StatusOK {
		t.Errorf("challenge without a method: %d %v", status, body)
	}

	// An app that requires PKCE, and a public app, refuse a request
	// without a challenge; a public app refuses the plain method.
	for name, params := range map[string]url.Values{
		"confidential, no challenge": func() url.Values {
			p := authorizeParams(e.app.ClientID, verifier)
			p.Del("code_challenge")
			p.Del("code_challenge_method")
			return p
		}(),
		"public, no challenge": func() url.Values {
			p := authorizeParams(e.public.ClientID, verifier)
			p.Del("code_challenge")
			p.Del("code_challenge_method")
			return p
		}(),
		"confidential, plain": func() url.Values {
			p := authorizeParams(e.app.ClientID, verifier)
			p.Set("code_challenge", verifier)
			p.Set("code_challenge_method", "plain")
			return p
		}(),
		"public, plain": func() url.Values {
			p := authorizeParams(e.public.ClientID, verifier)
			p.Set("code_challenge", verifier)
			p.Set("code_challenge_method", "plain")
			return p
		}(),
	} {
		q := callbackQuery(t, do(t, ssoBrowser(t), http.MethodGet, base+"/services/oauth2/authorize?"+params.Encode(), nil))
		if q.Get("error") != "invalid_request" || q.Get("state") != "state-123" || q.Get("code") != "" {
			t.Errorf("%s: callback query %v, want invalid_request", name, q)
		}
	}
}

func TestOIDCRedirectURIRefused(t *testing.T) {
	e := newOIDCEnv(t)
	with := func(client, key, value string) url.Values {
		p := authorizeParams(client, "v")
		if value == "" {
			p.Del(key)
		} else {
			p.Set(key, value)
		}
		return p
	}
	for name, tc := range map[string]struct {
		params url.Values
		want   string
	}{
		"other host":      {with(e.app.ClientID, "redirect_uri", "https://evil.example/cb"), "Its callback URLs: " + ssoCallback},
		"longer path":     {with(e.app.ClientID, "redirect_uri", ssoCallback+"/x"), "must match exactly"},
		"extra query":     {with(e.app.ClientID, "redirect_uri", ssoCallback+"?next=x"), "must match exactly"},
		"no redirect_uri": {with(e.app.ClientID, "redirect_uri", ""), "redirect_uri"},
		"unknown client":  {with("3MVG9nobody", "state", "s"), `consumer key (client_id) "3MVG9nobody"`},
	} {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		p := do(t, c, http.MethodGet, e.srv.URL()+"/services/oauth2/authorize?"+tc.params.Encode(), nil)
		if p.status != http.StatusBadRequest || p.location != "" || !strings.Contains(p.body, `id="oauth-error"`) || !strings.Contains(p.body, html.EscapeString(tc.want)) {
			t.Errorf("%s: %d Location %q, want 400, no redirect and an error page saying %q: %s", name, p.status, p.location, tc.want, p.body)
		}
	}
}

func TestOIDCDenyAndRememberedConsent(t *testing.T) {
	e := newOIDCEnv(t)
	base := e.srv.URL()
	c := ssoBrowser(t)
	first := authorizeParams(e.app.ClientID, "verifier-abcdefghijklmnopqrstuvwxyz-0123456789")
	first.Set("login_hint", alice)
	p := do(t, c, http.MethodGet, base+"/services/oauth2/authorize?"+first.Encode(), nil)
	if !strings.Contains(p.body, `value="`+alice+`"`) {
		t.Errorf("the sign-in page does not fill in login_hint: %s", p.body)
	}
	if !strings.Contains(p.body, "Parley &lt;SSO&gt;") {
		t.Errorf("the sign-in page does not name the app (escaped): %s", p.body)
	}
	id := requestID(t, p)
	p = do(t, c, http.MethodPost, base+"/services/oauth2/login", url.Values{"id": {id}, "username": {alice}, "password": {"wrong"}})
	if p.status != http.StatusUnauthorized || !strings.Contains(p.body, `id="login-error"`) {
		t.Fatalf("wrong password: %d %s", p.status, p.body)
	}
	p = do(t, c, http.MethodPost, base+"/services/oauth2/login", url.Values{"id": {id}, "username": {alice}, "password": {alicePW}})
	if !strings.Contains(p.body, "Allow <strong>Parley &lt;SSO&gt;</strong> to access your devcrm data?") {
		t.Fatalf("consent page: %s", p.body)
	}
	if strings.Contains(p.body, "offline_access") || !strings.Contains(p.body, "refresh_token") {
		t.Errorf("the consent page lists other scopes than the app asked for: %s", p.body)
	}
	// Another browser (no session) cannot answer alice's consent.
	if p := do(t, ssoBrowser(t), http.MethodPost, base+"/services/oauth2/consent", url.Values{"id": {id}, "decision": {"allow"}}); p.status != http.StatusForbidden {
		t.Errorf("consent from another browser: %d", p.status)
	}
	q := callbackQuery(t, do(t, c, http.MethodPost, base+"/services/oauth2/consent", url.Values{"id": {id}, "decision": {"deny"}}))
	if q.Get("error") != "access_denied" || q.Get("state") != "state-123" || q.Get("code") != "" {
		t.Errorf("deny: callback query %v", q)
	}

	// Denying is not remembered: the next request asks again, without a
	// sign-in (the browser is signed in to devcrm now); Allow is remembered.
	params := authorizeParams(e.app.ClientID, "verifier-abcdefghijklmnopqrstuvwxyz-0123456789")
	p = do(t, c, http.MethodGet, base+"/services/oauth2/authorize?"+params.Encode(), nil)
	if !strings.Contains(p.body, `id="allow-button"`) {
		t.Fatalf("second request: want the consent page straight away, got %d %s", p.status, p.body)
	}
	callbackQuery(t, do(t, c, http.MethodPost, base+"/services/oauth2/consent", url.Values{"id": {requestID(t, p)}, "decision": {"allow"}}))
	q = callbackQuery(t, do(t, c, http.MethodGet, base+"/services/oauth2/authorize?"+params.Encode(), nil))
	if q.Get("code") == "" || q.Get("state") != "state-123" {
		t.Errorf("third request: want a code with no page at all, got %v", q)
	}
	// Consent is per app: the public app asks, still without a sign-in.
	p = do(t, c, http.MethodGet, base+"/services/oauth2/authorize?"+authorizeParams(e.public.ClientID, "verifier-abcdefghijklmnopqrstuvwxyz-0123456789").Encode(), nil)
	if !strings.Contains(p.body, "Parley panel") || !strings.Contains(p.body, `id="allow-button"`) {
		t.Errorf("another app: want its consent page, got %s", p.body)
	}
	// prompt=login asks for the password again.
	params.Set("prompt", "login")
	if p := do(t, c, http.MethodGet, base+"/services/oauth2/authorize?"+params.Encode(), nil); !strings.Contains(p.body, `id="login-button"`) {
		t.Errorf("prompt=login: want the sign-in page, got %s", p.body)
	}
	// prompt=none for a user who has not allowed the app: consent_required.
	pn := authorizeParams(e.public.ClientID, "verifier-abcdefghijklmnopqrstuvwxyz-0123456789")
	pn.Set("prompt", "none")
	if q := callbackQuery(t, do(t, c, http.MethodGet, base+"/services/oauth2/authorize?"+pn.Encode(), nil)); q.Get("error") != "consent_required" {
		t.Errorf("prompt=none: %v", q)
	}
}

func TestOIDCSandbox(t *testing.T) {
	ctx := context.Background()
	prod := newOIDCEnv(t)
	if p := do(t, ssoBrowser(t), http.MethodGet, prod.srv.URL()+"/sandbox/.well-known/openid-configuration", nil); p.status != http.StatusNotFound {
		t.Errorf("a production devcrm serves a sandbox discovery: %d", p.status)
	}

	e := newOIDCEnv(t, func(c *Config) { c.Sandbox = true })
	base := e.srv.URL()
	if e.srv.Issuer() != base+"/sandbox" {
		t.Fatalf("sandbox issuer %s", e.srv.Issuer())
	}
	// A relying party configured for production fails on the issuer.
	if _, err := gooidc.NewProvider(ctx, base); err == nil || !strings.Contains(err.Error(), "issuer") {
		t.Errorf("production-configured discovery against a sandbox: %v, want an issuer mismatch", err)
	}
	provider, err := gooidc.NewProvider(ctx, base+"/sandbox")
	if err != nil {
		t.Fatal(err)
	}
	if provider.Endpoint().AuthURL != base+"/sandbox/services/oauth2/authorize" {
		t.Errorf("sandbox authorize endpoint %s", provider.Endpoint().AuthURL)
	}
	verifier := "sandbox-verifier-0123456789-0123456789-0123456789"
	code := e.signInAndAllow(t, ssoBrowser(t), base+"/sandbox", authorizeParams(e.app.ClientID, verifier))
	status, tok := postToken(t, provider.Endpoint().TokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {ssoCallback}, "code_verifier": {verifier}}, e.app.ClientID, e.app.ClientSecret)
	if status != http.StatusOK {
		t.Fatalf("sandbox code exchange: %d %v", status, tok)
	}
	idToken, err := provider.Verifier(&gooidc.Config{ClientID: e.app.ClientID}).Verify(ctx, tok["id_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if idToken.Subject != base+"/sandbox/id/"+e.srv.OrgID()+"/"+aliceID {
		t.Errorf("sandbox sub %s", idToken.Subject)
	}
	// A production verifier (issuer = the bare URL) refuses the token.
	keys := gooidc.NewRemoteKeySet(ctx, base+"/sandbox/id/keys")
	if _, err := gooidc.NewVerifier(base, keys, &gooidc.Config{ClientID: e.app.ClientID}).Verify(ctx, tok["id_token"].(string)); err == nil {
		t.Errorf("a production verifier accepts a sandbox id_token")
	}
}

func TestOIDCSignedInSession(t *testing.T) {
	e := newOIDCEnv(t)
	c := ssoBrowser(t)
	p := do(t, c, http.MethodPost, e.srv.URL()+"/login", url.Values{"username": {alice}, "password": {alicePW}, "next": {"/lightning/page/home"}})
	if p.status != http.StatusOK {
		t.Fatalf("sign in to devcrm: %d", p.status)
	}
	p = do(t, c, http.MethodGet, e.srv.URL()+"/services/oauth2/authorize?"+authorizeParams(e.app.ClientID, "verifier-abcdefghijklmnopqrstuvwxyz-0123456789").Encode(), nil)
	if !strings.Contains(p.body, `id="allow-button"`) || !strings.Contains(p.body, alice) {
		t.Errorf("signed in to devcrm: want the consent page for alice, got %s", p.body)
	}
	if !strings.Contains(p.url, "/services/oauth2/login") {
		t.Errorf("consent page at %s", p.url)
	}
}

func TestOIDCKeyKept(t *testing.T) {
	e := newOIDCEnv(t)
	kid := func() string {
		p := do(t, ssoBrowser(t), http.MethodGet, e.srv.URL()+"/id/keys", nil)
		var set struct {
			Keys []struct {
				Kid, Alg, Use, Kty string
				D                  string `json:"d"`
			} `json:"keys"`
		}
		if err := json.Unmarshal([]byte(p.body), &set); err != nil || len(set.Keys) != 1 {
			t.Fatalf("/id/keys: %v %s", err, p.body)
		}
		k := set.Keys[0]
		if k.Kid == "" || k.Alg != "RS256" || k.Use != "sig" || k.Kty != "RSA" || k.D != "" {
			t.Fatalf("/id/keys publishes %+v", k)
		}
		return k.Kid
	}
	before := kid()
	e.restart()
	if after := kid(); after != before {
		t.Errorf("key id %s after restart, was %s", after, before)
	}
}

func TestCreateApp(t *testing.T) {
	e := newOIDCEnv(t)
	ctx := context.Background()
	if !strings.HasPrefix(e.app.ClientID, "3MVG9") || e.app.ClientSecret == "" || e.public.ClientSecret != "" {
		t.Errorf("CreateApp: %+v %+v", e.app, e.public)
	}
	for name, app := range map[string]App{
		"relative URL":         {CallbackURLs: []string{"/sso/callback"}},
		"fragment":             {CallbackURLs: []string{"https://p.example/cb#x"}},
		"ftp":                  {CallbackURLs: []string{"ftp://p.example/cb"}},
		"two-line name":        {Name: "a\nb", CallbackURLs: []string{"https://p.example/cb"}},
		"public with a secret": {Public: true, ClientSecret: "s", CallbackURLs: []string{"https://p.example/cb"}},
	} {
		if _, err := e.srv.CreateApp(ctx, app); cc.ErrorCode(err) != cc.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	if _, err := e.srv.CreateApp(ctx, App{ClientID: e.app.ClientID, CallbackURLs: []string{ssoCallback}}); cc.ErrorCode(err) != cc.ECONFLICT {
		t.Errorf("taken client id: %v", err)
	}
	apps, err := e.srv.ConnectedApps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range apps {
		if a.ClientID == e.public.ClientID {
			found = a.RequirePKCE && a.Public && a.Name == "Parley panel"
		}
	}
	if !found {
		t.Errorf("ConnectedApps: %+v", apps)
	}
}

func TestAppManagerPage(t *testing.T) {
	e := newOIDCEnv(t)
	ctx := context.Background()
	if err := e.srv.SetUserPassword(ctx, DefaultAdministrator, "admin-password"); err != nil {
		t.Fatal(err)
	}
	signIn := func(user, pw string) *http.Client {
		c := ssoBrowser(t)
		if p := do(t, c, http.MethodPost, e.srv.URL()+"/login", url.Values{"username": {user}, "password": {pw}}); p.status != http.StatusOK {
			t.Fatalf("sign in %s: %d", user, p.status)
		}
		return c
	}
	if p := do(t, signIn(alice, alicePW), http.MethodGet, e.srv.URL()+"/setup/connectedapps", nil); p.status != http.StatusForbidden {
		t.Errorf("App Manager for a non-administrator: %d", p.status)
	}
	admin := signIn(DefaultAdministrator, "admin-password")
	p := do(t, admin, http.MethodPost, e.srv.URL()+"/setup/connectedapps", url.Values{"name": {"Parley <test>"}, "callback_urls": {"https://parley.example/sso/callback\nhttp://localhost:8080/sso/callback"}})
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="new-client-secret"`) || !strings.Contains(p.body, "Parley &lt;test&gt;") {
		t.Fatalf("create app: %d %s", p.status, p.body)
	}
	m := regexp.MustCompile(`id="new-client-id">([^<]+)<`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no client id shown: %s", p.body)
	}
	// The new app signs users in.
	params := authorizeParams(m[1], "v")
	params.Set("redirect_uri", "https://parley.example/sso/callback")
	if p := do(t, ssoBrowser(t), http.MethodGet, e.srv.URL()+"/services/oauth2/authorize?"+params.Encode(), nil); !strings.Contains(p.body, "Parley &lt;test&gt;") {
		t.Errorf("authorize with the new app: %d %s", p.status, p.body)
	}
	if p := do(t, admin, http.MethodPost, e.srv.URL()+"/setup/connectedapps", url.Values{"name": {"x"}, "callback_urls": {"not a url"}}); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="app-errors"`) {
		t.Errorf("bad callback URL: %d %s", p.status, p.body)
	}
}

func TestUserQuery(t *testing.T) {
	e := newEnv(t)
	users := e.query("SELECT Id, Username, Email FROM User")
	if len(users) != 7 {
		t.Fatalf("%d users: %v", len(users), users)
	}
	for _, u := range users {
		if u["Id"] == nil || !strings.HasSuffix(u["Username"].(string), "@devcrm.example.com") || u["Email"] == nil {
			t.Errorf("user %v", u)
		}
	}
}

func TestOIDCCORSWithoutCookies(t *testing.T) {
	e := newOIDCEnv(t)
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL()+"/id/keys", nil)
	req.Header.Set("Origin", "https://elsewhere.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("CORS headers %v: want any origin, never credentials", resp.Header)
	}
}

func TestSandboxJWTBearer(t *testing.T) {
	e := newOIDCEnv(t, func(c *Config) { c.Sandbox = true })
	claims := e.claims()
	claims["aud"] = e.srv.Issuer()
	status, body := e.tokenRequest(url.Values{"grant_type": {grantJWTBearer}, "assertion": {e.assertion(claims)}})
	if status != http.StatusOK || body["id"] != e.srv.Issuer()+"/id/"+e.srv.OrgID()+"/"+integrationU {
		t.Errorf("JWT bearer with the sandbox issuer as audience: %d %v", status, body)
	}
}

func TestIdentityURL(t *testing.T) {
	e := newOIDCEnv(t)
	get := func(path, token string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL()+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	path := "/id/" + e.srv.OrgID() + "/" + aliceID
	status, body := get(path+"?version=62.0", e.token)
	urls, _ := body["urls"].(map[string]any)
	if status != http.StatusOK || body["id"] != e.srv.URL()+path || body["username"] != alice || body["organization_id"] != e.srv.OrgID() ||
		urls["rest"] != e.srv.URL()+"/services/data/v62.0/" {
		t.Errorf("identity: %d %v", status, body)
	}
	if status, _ := get(path, ""); status != http.StatusUnauthorized {
		t.Errorf("identity without a token: %d", status)
	}
	if status, _ := get("/id/00DgK0Org000009AAA/"+aliceID, e.token); status != http.StatusForbidden {
		t.Errorf("identity of another org: %d", status)
	}
	if status, _ := get("/id/"+e.srv.OrgID()+"/005gK0Usr000099QCA", e.token); status != http.StatusNotFound {
		t.Errorf("identity of no user: %d", status)
	}
}

func TestOIDCRequestExpires(t *testing.T) {
	e := newOIDCEnv(t)
	c := ssoBrowser(t)
	p := do(t, c, http.MethodGet, e.srv.URL()+"/services/oauth2/authorize?"+authorizeParams(e.app.ClientID, "verifier-abcdefghijklmnopqrstuvwxyz-0123456789").Encode(), nil)
	id := requestID(t, p)
	e.clock.Advance(authRequestTTL + time.Second)
	p = do(t, c, http.MethodPost, e.srv.URL()+"/services/oauth2/login", url.Values{"id": {id}, "username": {alice}, "password": {alicePW}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "expired") || p.location != "" {
		t.Errorf("sign-in after the request expired: %d %s", p.status, p.body)
	}
}

func TestOIDCRevokeAccessToken(t *testing.T) {
	e := newOIDCEnv(t)
	ctx := context.Background()
	verifier := "verifier-abcdefghijklmnopqrstuvwxyz-0123456789"
	code := e.signInAndAllow(t, ssoBrowser(t), e.srv.URL(), authorizeParams(e.app.ClientID, verifier))
	status, tok := postToken(t, e.srv.URL()+"/services/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {ssoCallback}, "code_verifier": {verifier}}, e.app.ClientID, e.app.ClientSecret)
	if status != http.StatusOK {
		t.Fatalf("code exchange: %d %v", status, tok)
	}
	provider, err := gooidc.NewProvider(ctx, e.srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	access := tok["access_token"].(string)
	if _, err := provider.UserInfo(ctx, staticToken(access)); err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if status, err := postBasic(e.srv.URL()+"/services/oauth2/revoke", url.Values{"token": {access}, "token_type_hint": {"access_token"}}, e.app.ClientID, e.app.ClientSecret); err != nil || status != http.StatusOK {
		t.Fatalf("revoke: %d %v", status, err)
	}
	if _, err := provider.UserInfo(ctx, staticToken(access)); err == nil {
		t.Errorf("userinfo answers a revoked access token")
	}
	e.token = access
	if r := e.request(http.MethodGet, "/services/data/v62.0/limits", nil); r.status != http.StatusUnauthorized {
		t.Errorf("REST with a revoked access token: %d", r.status)
	}
}

// FuzzTokenCrypto: any bearer token or code a client sends is opened
// without panicking, and what Encrypt seals opens to the same text, with the
// subject's colons escaped so the token id and subject split at the first.
func FuzzTokenCrypto(f *testing.F) {
	s := &Server{tokenKey: make([]byte, 32)}
	c := &tokenCrypto{s: s}
	for _, seed := range []string{"", "abc", "id:https://x/id/00D/005", "::", "a:b:c"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, plain string) {
		c.Decrypt(plain)
		sealed, err := c.Encrypt(plain)
		if err != nil {
			t.Fatal(err)
		}
		opened, err := c.Decrypt(sealed)
		if err != nil {
			t.Fatal(err)
		}
		id, rest, ok := strings.Cut(plain, ":")
		want := id
		if ok {
			want = id + ":" + strings.ReplaceAll(rest, ":", "%3A")
		}
		if opened != want {
			t.Errorf("Decrypt(Encrypt(%q)) = %q, want %q", plain, opened, want)
		}
	})
}

func TestOIDCIntrospect(t *testing.T) {
	e := newOIDCEnv(t)
	verifier := "verifier-abcdefghijklmnopqrstuvwxyz-0123456789"
	code := e.signInAndAllow(t, ssoBrowser(t), e.srv.URL(), authorizeParams(e.app.ClientID, verifier))
	_, tok := postToken(t, e.srv.URL()+"/services/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {ssoCallback}, "code_verifier": {verifier}}, e.app.ClientID, e.app.ClientSecret)
	for name, tc := range map[string]struct {
		token  string
		active bool
	}{
		"live token": {tok["access_token"].(string), true},
		"garbage":    {"not-a-token", false},
	} {
		status, body := postToken(t, e.srv.URL()+"/services/oauth2/introspect", url.Values{"token": {tc.token}}, e.app.ClientID, e.app.ClientSecret)
		if status != http.StatusOK || body["active"] != tc.active || tc.active && (body["username"] != alice || body["client_id"] != e.app.ClientID) {
			t.Errorf("%s: %d %v", name, status, body)
		}
	}
	if status, err := postBasic(e.srv.URL()+"/services/oauth2/introspect", url.Values{"token": {tok["access_token"].(string)}}, e.app.ClientID, "wrong"); err != nil || status != http.StatusUnauthorized {
		t.Errorf("introspect with a wrong secret: %d", status)
	}
}

func TestOIDCDeactivatedUser(t *testing.T) {
	e := newOIDCEnv(t)
	ctx := context.Background()
	verifier := "verifier-abcdefghijklmnopqrstuvwxyz-0123456789"
	code := e.signInAndAllow(t, ssoBrowser(t), e.srv.URL(), authorizeParams(e.app.ClientID, verifier))
	_, tok := postToken(t, e.srv.URL()+"/services/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {ssoCallback}, "code_verifier": {verifier}}, e.app.ClientID, e.app.ClientSecret)
	db, _ := e.srv.database()
	if _, err := db.Exec(`UPDATE "User" SET "IsActive" = 0 WHERE "Username" = ?`, alice); err != nil {
		t.Fatal(err)
	}
	if status, body := postToken(t, e.srv.URL()+"/services/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}},
		e.app.ClientID, e.app.ClientSecret); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("refresh for a deactivated user: %d %v", status, body)
	}
	provider, err := gooidc.NewProvider(ctx, e.srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.UserInfo(ctx, staticToken(tok["access_token"].(string))); err == nil {
		t.Errorf("userinfo answers for a deactivated user")
	}
	p := do(t, ssoBrowser(t), http.MethodGet, e.srv.URL()+"/services/oauth2/authorize?"+authorizeParams(e.app.ClientID, verifier).Encode(), nil)
	p = do(t, ssoBrowser(t), http.MethodPost, e.srv.URL()+"/services/oauth2/login", url.Values{"id": {requestID(t, p)}, "username": {alice}, "password": {alicePW}})
	if p.status != http.StatusUnauthorized {
		t.Errorf("a deactivated user signs in: %d", p.status)
	}
}
