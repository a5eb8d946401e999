// Package sso is Parley's OpenID Connect relying party: an agent signs in to
// Parley with their CRM account (Salesforce or devcrm) from the panel, in a
// popup, with no second password.
//
// The flow: the panel opens GET /sso/start?tenant=SLUG&origin=<CRM
// origin>[&sandbox=true]; Parley checks every parameter, keeps state, nonce
// and a PKCE verifier in a short-lived sealed (AES-GCM) cookie named after the state,
// and redirects to the CRM's authorize endpoint found by OpenID discovery on
// the tenant's SSO login host (the My Domain when set, else the sandbox or
// production login host). The CRM redirects back to GET /sso/callback:
// Parley checks the state against the cookie, exchanges the code with the
// verifier, verifies the id_token with coreos/go-oidc (issuer, audience,
// expiry, signature, nonce; a nonce is accepted once), maps its
// preferred_username to a Parley user, asks once for Parley's own consent
// per user and CRM origin (GET|POST /sso/consent), and answers a handoff
// page. Only when that page has an opener (the panel) does its script take
// the sign-in (POST /sso/handoff): then Parley stores the CRM refresh token
// sealed, creates a Parley session and the page hands it to the panel with
// window.opener.postMessage to Parley's own origin. With no opener the page
// cancels: nothing is kept and the CRM's refresh token is revoked.
//
// The Handler also keeps the CRM grant alive for the center (cc.CRMGrants):
// every refresh of an SSO session refreshes the CRM refresh token at the
// issuer that gave it (RefreshGrant: invalid_grant ends the session, an
// unreachable CRM does not), and sign-out everywhere revokes it at the
// CRM's revocation endpoint (RevokeGrant).
package sso

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/ratelimit"
)

// CRMSalesforce is the CRM name of the integration entries SSO maps.
const CRMSalesforce = "salesforce"

// Timing of the flow.
const (
	// FlowTTL is how long a started sign-in may take, CRM sign-in and
	// consent included: the cookie's Max-Age.
	FlowTTL = 10 * time.Minute
	// ConsentTTL is how long Parley's consent page waits for an answer.
	ConsentTTL = 10 * time.Minute
	// cookiePrefix names the flow cookie; the state follows it.
	cookiePrefix = "parley_sso_"
	// consentCookie holds the id of a sign-in waiting for Parley's consent.
	consentCookie = "parley_sso_consent"
	// handoffCookie holds the id of a sign-in waiting for its page to
	// hand it to the panel.
	handoffCookie = "parley_sso_handoff"
	// HandoffTTL is how long a finished sign-in waits for its page to take
	// it (POST /sso/handoff); unclaimed, nothing of it is kept.
	HandoffTTL = 2 * time.Minute
	// StartsPerMinute is how many sign-ins one client address (its /64
	// for IPv6) may start in a minute, as many as password sign-in
	// attempts: an office behind one NAT address signs its agents in at
	// the start of a shift.
	StartsPerMinute = 30
)

// Users finds the Parley user mapped to a CRM username (the account
// mapping, internal/cc's UserStore).
type Users interface {
	// UserByIntegration returns the user whose integration entry for crm
	// is username. ENOTFOUND naming the username if none.
	UserByIntegration(ctx context.Context, tenantID, crm, username string) (*cc.User, error)
}

// Tenants finds tenants by slug.
type Tenants interface {
	// TenantBySlug returns a tenant by slug. ENOTFOUND if none.
	TenantBySlug(ctx context.Context, slug string) (*cc.Tenant, error)
}

// Sessions creates Parley sessions: the same kind password sign-in creates
// (internal/center's StartSession).
type Sessions interface {
	// StartSession creates a session for u and returns its bearer token.
	StartSession(ctx context.Context, t *cc.Tenant, u *cc.User, method string) (string, *cc.Principal, error)
}

// Grants stores what an SSO sign-in leaves behind (internal/store/sqlite).
type Grants interface {
	// HasSSOConsent reports whether the user allowed the panel in origin
	// to act as them.
	HasSSOConsent(ctx context.Context, tenantID, userID, origin string) (bool, error)
	// PutSSOConsent remembers that consent.
	PutSSOConsent(ctx context.Context, tenantID, userID, origin string, at time.Time) error
	// PutCRMGrant stores the user's CRM refresh token sealed at rest, with
	// the issuer that gave it.
	PutCRMGrant(ctx context.Context, tenantID, userID, crm, issuer string, token []byte, at time.Time) error
	// CRMGrant returns the user's CRM refresh token and its issuer ("" if
	// unknown). ENOTFOUND if none is stored.
	CRMGrant(ctx context.Context, tenantID, userID, crm string) (token []byte, issuer string, err error)
	// DeleteCRMRefreshToken forgets the user's CRM refresh token. Absent is
	// not an error.
	DeleteCRMRefreshToken(ctx context.Context, tenantID, userID, crm string) error
}

// Options configure a Handler.
type Options struct {
	// PublicURL is Parley's public URL (config http.public_url): the
	// callback is PublicURL/sso/callback and the session is posted to its
	// origin, the panel's. Required.
	PublicURL string
	Tenants   Tenants
	Users     Users
	Sessions  Sessions
	Grants    Grants
	// HTTPClient reaches the CRM (discovery, keys, token); nil uses a
	// client with a 15-second timeout.
	HTTPClient *http.Client
	// Logger receives failures with their causes; nil discards.
	Logger *slog.Logger
	// Clock gives the time; nil is the system clock.
	Clock cc.Clock
	// CookieKey (16, 24 or 32 bytes) seals the flow cookies (AES-GCM); nil picks a random key, so a
	// restart ends the sign-ins under way (they are started again).
	CookieKey []byte
}

// Handler serves /sso/start, /sso/callback, /sso/consent and
// /sso/handoff. Create it with New.
type Handler struct {
	opts   Options
	origin string // Parley's own origin
	log    *slog.Logger
	clock  cc.Clock
	aead   cipher.AEAD // seals the flow cookies
	mux    *http.ServeMux
	starts *ratelimit.Keyed // sign-ins started, per client address

	mu        sync.Mutex
	providers map[string]*oidc.Provider // by issuer
	nonces    map[string]time.Time      // used nonces until they expire
	pending   map[string]*pendingSignIn // waiting for Parley's consent, by id
	// grantLocks serialize CRM grant refreshes per tenant/user.
	grantLocks map[string]*grantState
}

// pendingSignIn is a verified CRM user who has not yet given Parley's consent.
type pendingSignIn struct {
	tenant       *cc.Tenant
	user         *cc.User
	origin       string
	crmUsername  string
	refreshToken string
	issuer       string // the CRM login host that gave refreshToken
	csrf         string
	expires      time.Time
	// consented: waiting for the handoff (finish), not for the consent.
	consented bool
}

// New returns a Handler. It does no I/O.
func New(opts Options) (*Handler, error) {
	u, err := url.Parse(strings.TrimRight(opts.PublicURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, cc.Errorf(cc.EINVALID, "SSO: Parley's public URL %q: give an absolute URL such as https://parley.example.com (http.public_url)", opts.PublicURL)
	}
	if opts.Tenants == nil || opts.Users == nil || opts.Sessions == nil || opts.Grants == nil {
		return nil, errors.New("sso: Options.Tenants, Users, Sessions and Grants are required")
	}
	opts.PublicURL = u.String()
	h := &Handler{
		opts: opts, origin: u.Scheme + "://" + u.Host, log: opts.Logger, clock: opts.Clock,
		providers: map[string]*oidc.Provider{}, nonces: map[string]time.Time{}, pending: map[string]*pendingSignIn{},
		grantLocks: map[string]*grantState{},
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.clock == nil {
		h.clock = cc.SystemClock
	}
	if u.Scheme == "http" && !trustworthyHost(u.Hostname()) {
		h.log.Warn("single sign-on needs https: browsers drop its Secure sign-in cookies on a plain-http host other than loopback, so every sign-in would stop with a state mismatch; give http.public_url an https URL",
			"public_url", opts.PublicURL)
	}
	if h.opts.HTTPClient == nil {
		h.opts.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	key := opts.CookieKey
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sso: the cookie key must be 16, 24 or 32 bytes: %w", err)
	}
	if h.aead, err = cipher.NewGCM(block); err != nil {
		return nil, fmt.Errorf("sso: %w", err)
	}
	h.starts = ratelimit.New(h.clock, "sign-ins started from this address", StartsPerMinute, time.Minute)
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET /sso/start", h.start)
	h.mux.HandleFunc("GET /sso/callback", h.callback)
	h.mux.HandleFunc("GET /sso/consent", h.consentPage)
	h.mux.HandleFunc("POST /sso/consent", h.consent)
	h.mux.HandleFunc("POST /sso/handoff", h.handoff)
	return h, nil
}

// trustworthyHost reports whether browsers treat http:// on host as a
// secure context that keeps Secure cookies: loopback addresses and
// localhost (Chromium and Firefox do).
func trustworthyHost(host string) bool {
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// ServeHTTP serves the /sso/ routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// LoginHost returns the issuer SSO signs in with for the tenant: the My
// Domain when set; else, for a sandbox, https://test.salesforce.com in
// place of https://login.salesforce.com, or LoginURL + "/sandbox" for
// another host (devcrm's sandbox issuer); else the login URL.
func LoginHost(c *cc.CRMConnection, sandbox bool) string {
	if c.MyDomain != "" {
		return strings.TrimRight(c.MyDomain, "/")
	}
	login := strings.TrimRight(c.LoginURL, "/")
	if !sandbox {
		return login
	}
	if u, err := url.Parse(login); err == nil && strings.EqualFold(u.Host, "login.salesforce.com") {
		return "https://test.salesforce.com"
	}
	return login + "/sandbox"
}

// flow is what the flow cookie keeps between start and callback.
type flow struct {
	Tenant   string `json:"t"`
	Origin   string `json:"o"`
	Sandbox  bool   `json:"s,omitempty"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Expires  int64  `json:"e"`
	// Used marks the cookie the callback leaves in place of the flow: it
	// holds nothing else, and says "already used" to a second callback.
	Used bool `json:"u,omitempty"`
}

// start checks the parameters and redirects to the CRM's authorize endpoint.
func (h *Handler) start(w http.ResponseWriter, r *http.Request) {
	// Before anything else, so that even refused starts count: they probe
	// tenants and origins.
	if err := h.starts.Allow(ratelimit.ClientKey(r)); err != nil {
		h.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	for k, vs := range q {
		if k != "tenant" && k != "origin" && k != "sandbox" {
			h.fail(w, r, cc.Errorf(cc.EINVALID, "unknown parameter %q: /sso/start takes only tenant, origin and sandbox (it never redirects anywhere but the CRM)", k))
			return
		}
		if len(vs) > 1 {
			h.fail(w, r, cc.Errorf(cc.EINVALID, "parameter %q is given %d times: give it once", k, len(vs)))
			return
		}
	}
	slug, origin := strings.TrimSpace(q.Get("tenant")), strings.TrimSpace(q.Get("origin"))
	var sandbox bool
	switch q.Get("sandbox") {
	case "", "false":
	case "true":
		sandbox = true
	default:
		h.fail(w, r, cc.Errorf(cc.EINVALID, "sandbox=%q: use sandbox=true for a sandbox org, or leave it out", q.Get("sandbox")))
		return
	}
	t, cfg, err := h.tenantConfig(r.Context(), slug, origin, sandbox)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f := flow{Tenant: t.Slug, Sandbox: sandbox, Nonce: cc.RandomToken(32), Verifier: oauth2.GenerateVerifier(),
		Expires: h.clock().Add(FlowTTL).Unix()}
	f.Origin, _ = cc.ParseCRMOrigin(origin)
	state := cc.RandomToken(32)
	if err := h.setFlowCookie(w, state, &f); err != nil {
		h.fail(w, r, err)
		return
	}
	u := cfg.AuthCodeURL(state, oauth2.SetAuthURLParam("nonce", f.Nonce), oauth2.S256ChallengeOption(f.Verifier),
		oauth2.SetAuthURLParam("display", "popup"))
	h.log.Info("SSO started", "tenant", t.Slug, "origin", f.Origin, "sandbox", sandbox)
	http.Redirect(w, r, u, http.StatusFound)
}

// tenantConfig checks the tenant and the CRM origin and returns the OAuth
// configuration of the tenant's SSO login host (discovered).
func (h *Handler) tenantConfig(ctx context.Context, slug, origin string, sandbox bool) (*cc.Tenant, *oauth2.Config, error) {
	if slug == "" {
		return nil, nil, cc.Errorf(cc.EINVALID, "the tenant parameter is missing: open the sign-in from the panel, which gives it")
	}
	t, err := h.opts.Tenants.TenantBySlug(ctx, slug)
	if cc.IsCode(err, cc.ENOTFOUND) {
		return nil, nil, cc.Errorf(cc.ENOTFOUND, "there is no tenant %q: check the contact center domain in the panel's settings", slug)
	} else if err != nil {
		return nil, nil, err
	}
	if err := t.CheckSSO(); err != nil {
		return nil, nil, err
	}
	if origin == "" {
		return nil, nil, cc.Errorf(cc.EINVALID, "the origin parameter is missing: open the sign-in from the panel inside the CRM")
	}
	if !t.AllowsCRMOrigin(origin) {
		return nil, nil, cc.Errorf(cc.EFORBIDDEN, "%q is not one of tenant %s's CRM origins: if it is the tenant's CRM, an administrator adds it with parley admin tenant set --tenant %s --add-crm-origin ORIGIN", origin, t.Slug, t.Slug)
	}
	if t.CRM.Kind == "" || t.CRM.SSOClientID == "" {
		return nil, nil, cc.Errorf(cc.EFORBIDDEN, "tenant %s has no SSO connected app: an administrator runs parley admin crm set --tenant %s --sso-client-id ID --sso-client-secret-file FILE", t.Slug, t.Slug)
	}
	isSandbox, known := t.CRM.Sandbox()
	if sandbox && known && !isSandbox && t.CRM.MyDomain == "" {
		return nil, nil, cc.Errorf(cc.EINVALID, "sandbox=true, but tenant %s's CRM is a production org (it signs in at %s): the call center's CTI adapter URL must not say sandbox=true; an administrator prints the right one with parley admin cti-url --tenant %s --sso", t.Slug, t.CRM.LoginURL, t.Slug)
	}
	p, err := h.provider(ctx, t, LoginHost(&t.CRM, sandbox))
	if err != nil && sandbox && !known && t.CRM.MyDomain == "" && cc.ErrorCode(err) == cc.EUNAVAILABLE {
		// A CRM Parley cannot tell apart (devcrm): its sandbox issuer is
		// LoginURL/sandbox, which a production org does not have.
		return nil, nil, cc.WrapError(cc.EUNAVAILABLE, err, "the CRM at %s has no sandbox sign-in (%s did not answer OpenID discovery): if tenant %s's org is not a sandbox, the CTI adapter URL must not say sandbox=true (parley admin cti-url --tenant %s --sso prints it); if it is, retry later", t.CRM.LoginURL, LoginHost(&t.CRM, sandbox), t.Slug, t.Slug)
	}
	if err != nil {
		return nil, nil, err
	}
	// client_secret_post, Salesforce's documented form; and one attempt,
	// so that the CRM's answer to the code is the one the page shows.
	ep := p.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	return t, &oauth2.Config{
		ClientID: t.CRM.SSOClientID, ClientSecret: string(t.CRM.SSOClientSecret), Endpoint: ep,
		RedirectURL: h.opts.PublicURL + "/sso/callback", Scopes: []string{oidc.ScopeOpenID, "id", "api", "refresh_token"},
	}, nil
}

// provider returns the discovered provider of issuer (the SSO login host
// of tenant t, named in errors), cached.
func (h *Handler) provider(ctx context.Context, t *cc.Tenant, issuer string) (*oidc.Provider, error) {
	h.mu.Lock()
	p := h.providers[issuer]
	h.mu.Unlock()
	if p != nil {
		return p, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, h.opts.HTTPClient), issuer)
	if err != nil {
		if named := h.discoveredIssuer(ctx, issuer); named != "" && named != issuer {
			// Another spelling of the same CRM (localhost for 127.0.0.1,
			// http for https, a path): the id_tokens would all be refused.
			return nil, cc.WrapError(cc.EFORBIDDEN, err, "the CRM at %s names its issuer %s: the tenant's CRM login URL (or My Domain) must be exactly that; an administrator runs parley admin crm set --tenant %s --login-url %s (or --my-domain)", issuer, named, t.Slug, named)
		}
		return nil, cc.WrapError(cc.EUNAVAILABLE, err, "the CRM's sign-in service at %s did not answer OpenID discovery: check the tenant's CRM login URL or My Domain, or retry later", issuer)
	}
	h.mu.Lock()
	h.providers[issuer] = p
	h.mu.Unlock()
	return p, nil
}

// discoveredIssuer returns the issuer the discovery document at issuer
// names, or "" when there is none to read.
func (h *Handler) discoveredIssuer(ctx context.Context, issuer string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, issuer+"/.well-known/openid-configuration", nil)
	if err != nil {
		return ""
	}
	res, err := h.opts.HTTPClient.Do(req)
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if res.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&doc) != nil {
		return ""
	}
	return doc.Issuer
}

// callback finishes the CRM sign-in.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" || len(state) > 100 {
		h.fail(w, r, cc.Errorf(cc.EINVALID, "the CRM's answer has no valid state: start the sign-in again from the panel"))
		return
	}
	f, err := h.flowCookie(r, state)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// The flow is spent: the cookie becomes a sealed marker with nothing
	// of the flow in it, so that the same callback again is told it was
	// used rather than that this browser never started it.
	if err := h.setFlowCookie(w, state, &flow{Used: true, Expires: f.Expires}); err != nil {
		h.clearCookie(w, cookiePrefix+state)
	}
	if e := q.Get("error"); e != "" {
		h.fail(w, r, cc.Errorf(cc.EFORBIDDEN, "the CRM refused the sign-in: %s %s", e, q.Get("error_description")))
		return
	}
	code := q.Get("code")
	if code == "" {
		h.fail(w, r, cc.Errorf(cc.EINVALID, "the CRM's answer has no authorization code: start the sign-in again from the panel"))
		return
	}
	if f.Verifier == "" {
		h.fail(w, r, cc.Errorf(cc.EINVALID, "the sign-in cookie has no PKCE verifier: start the sign-in again from the panel"))
		return
	}
	t, cfg, err := h.tenantConfig(ctx, f.Tenant, f.Origin, f.Sandbox)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cctx := oidc.ClientContext(ctx, h.opts.HTTPClient)
	tok, err := cfg.Exchange(cctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		h.fail(w, r, cc.WrapError(cc.EUNAUTHORIZED, err, "the CRM refused the authorization code: %s; start the sign-in again from the panel", exchangeReason(err)))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		h.fail(w, r, cc.Errorf(cc.EUNAUTHORIZED, "the CRM returned no id_token: the connected app must allow the openid scope"))
		return
	}
	p, err := h.provider(ctx, t, LoginHost(&t.CRM, f.Sandbox))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: h.clock}).Verify(cctx, raw)
	if err != nil {
		h.fail(w, r, cc.WrapError(cc.EUNAUTHORIZED, err, "the CRM's id_token was refused (%s): sign-in stopped", verifyReason(err)))
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		h.fail(w, r, cc.Errorf(cc.EUNAUTHORIZED, "the CRM's id_token was refused (its nonce is not the one this sign-in sent): start the sign-in again from the panel"))
		return
	}
	if !h.useNonce(f.Nonce, idt.Expiry) {
		h.fail(w, r, cc.Errorf(cc.EUNAUTHORIZED, "the CRM's id_token was refused (its nonce was already used: a replayed sign-in): start the sign-in again from the panel"))
		return
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			h.fail(w, r, cc.WrapError(cc.EUNAUTHORIZED, err, "the CRM's id_token was refused (its at_hash does not match the access token): sign-in stopped"))
			return
		}
	}
	crmUser, err := crmUsername(cctx, p, idt, tok)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u, err := h.opts.Users.UserByIntegration(ctx, t.ID, CRMSalesforce, crmUser)
	if cc.IsCode(err, cc.ENOTFOUND) {
		h.failPage(w, http.StatusForbidden, page{Title: "No Parley user for this CRM user",
			Message: fmt.Sprintf("The CRM user %s has no Parley user in tenant %s. An administrator maps it to a Parley user with:", crmUser, t.Slug),
			Command: fmt.Sprintf("parley admin user set-crm --tenant %s --user USERNAME --crm %s --username %s", t.Slug, CRMSalesforce, crmUser)})
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	ps := &pendingSignIn{tenant: t, user: u, origin: f.Origin, crmUsername: crmUser, refreshToken: tok.RefreshToken,
		issuer: LoginHost(&t.CRM, f.Sandbox), csrf: cc.RandomToken(32), expires: h.clock().Add(ConsentTTL)}
	ok, err := h.opts.Grants.HasSSOConsent(ctx, t.ID, u.ID, f.Origin)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !ok {
		id := h.putPending(ps)
		h.setCookie(w, consentCookie, id, ConsentTTL)
		http.Redirect(w, r, "/sso/consent", http.StatusSeeOther)
		return
	}
	h.finish(w, r, ps)
}

// crmUsername returns the CRM username, lowercased: the id_token's
// preferred_username, or, when the id_token carries no profile claims, the
// userinfo endpoint's (for the same subject).
func crmUsername(ctx context.Context, p *oidc.Provider, idt *oidc.IDToken, tok *oauth2.Token) (string, error) {
	var claims struct {
		PreferredUsername string `json:"preferred_username"`
	}
	if err := idt.Claims(&claims); err != nil {
		return "", cc.WrapError(cc.EUNAUTHORIZED, err, "the CRM's id_token claims are unreadable")
	}
	if claims.PreferredUsername == "" && p.UserInfoEndpoint() != "" {
		ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return "", cc.WrapError(cc.EUNAVAILABLE, err, "the CRM's userinfo endpoint did not answer with the username: retry the sign-in")
		}
		if ui.Subject != idt.Subject {
			return "", cc.Errorf(cc.EUNAUTHORIZED, "the CRM's userinfo is of another user than its id_token: sign-in stopped")
		}
		if err := ui.Claims(&claims); err != nil {
			return "", cc.WrapError(cc.EUNAUTHORIZED, err, "the CRM's userinfo is unreadable")
		}
	}
	u := strings.ToLower(strings.TrimSpace(claims.PreferredUsername))
	if u == "" {
		return "", cc.Errorf(cc.EUNAUTHORIZED, "the CRM gave no preferred_username (the CRM username): the connected app must grant the openid and id scopes")
	}
	return u, nil
}

// consentPage shows Parley's consent for the sign-in waiting for it.
func (h *Handler) consentPage(w http.ResponseWriter, r *http.Request) {
	ps, _, err := h.pendingFromCookie(r, consentCookie, false)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.page(w, http.StatusOK, page{Title: "Allow the Parley panel",
		Message: fmt.Sprintf("Allow the Parley panel in %s to act as you (%s, tenant %s)?", ps.origin, ps.user.Username, ps.tenant.Slug),
		Detail:  fmt.Sprintf("You signed in to the CRM as %s. Parley asks this once for each CRM site.", ps.crmUsername),
		CSRF:    ps.csrf})
}

// consent records the answer to Parley's consent.
func (h *Handler) consent(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, cc.Errorf(cc.EINVALID, "the consent form could not be read: answer it again"))
		return
	}
	ps, id, err := h.pendingFromCookie(r, consentCookie, false)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(ps.csrf)) != 1 {
		h.fail(w, r, cc.Errorf(cc.EFORBIDDEN, "the consent form's CSRF token is missing or wrong: answer the consent page Parley showed you"))
		return
	}
	h.takePending(id)
	h.clearCookie(w, consentCookie)
	switch r.PostForm.Get("answer") {
	case "allow":
	case "deny":
		h.failPage(w, http.StatusForbidden, page{Title: "Sign-in cancelled",
			Message: fmt.Sprintf("You did not allow the Parley panel in %s to act as you: sign in again from the panel to be asked again.", ps.origin)})
		return
	default:
		h.fail(w, r, cc.Errorf(cc.EINVALID, "the consent answer must be allow or deny"))
		return
	}
	if err := h.opts.Grants.PutSSOConsent(r.Context(), ps.tenant.ID, ps.user.ID, ps.origin, h.clock()); err != nil {
		h.fail(w, r, err)
		return
	}
	h.finish(w, r, ps)
}

// finish ends the sign-in on a page that hands it to the panel. Nothing is
// kept yet: the page's script takes the session (POST /sso/handoff) only
// when the panel that opened it is there to receive it, and otherwise
// cancels, so that a sign-in opened in a tab of its own leaves no session
// and no CRM grant behind.
func (h *Handler) finish(w http.ResponseWriter, r *http.Request, ps *pendingSignIn) {
	ps.consented, ps.csrf, ps.expires = true, cc.RandomToken(32), h.clock().Add(HandoffTTL)
	id := h.putPending(ps)
	h.setCookie(w, handoffCookie, id, HandoffTTL)
	h.log.Info("SSO verified; waiting for the handoff", "tenant", ps.tenant.Slug, "user", ps.user.Username, "crm_user", ps.crmUsername, "origin", ps.origin)
	h.page(w, http.StatusOK, page{Title: "Signed in", Message: "Signing in to Parley as " + ps.user.Username + ". This window closes itself.",
		Claim: ps.csrf, TargetOrigin: h.origin})
}

// handoff is POST /sso/handoff, the handoff page's script: answer=take
// stores the CRM refresh token, creates the Parley session and answers
// the message the page posts to the panel (JSON); answer=cancel (the page
// has no opener) revokes the CRM's refresh token at the CRM and keeps
// nothing. Either way the sign-in is spent.
func (h *Handler) handoff(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		h.failJSON(w, r, cc.Errorf(cc.EINVALID, "the handoff could not be read: sign in again from the panel"))
		return
	}
	ps, id, err := h.pendingFromCookie(r, handoffCookie, true)
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(ps.csrf)) != 1 {
		h.failJSON(w, r, cc.Errorf(cc.EFORBIDDEN, "the handoff's CSRF token is missing or wrong: sign in again from the panel"))
		return
	}
	answer := r.PostForm.Get("answer")
	if answer != "take" && answer != "cancel" {
		h.failJSON(w, r, cc.Errorf(cc.EINVALID, "the handoff answer must be take or cancel"))
		return
	}
	h.takePending(id)
	h.clearCookie(w, handoffCookie)
	if answer == "cancel" {
		if ps.refreshToken != "" {
			if err := h.revoke(ctx, ps.tenant, ps.issuer, ps.refreshToken); err != nil {
				h.log.Warn("the refresh token of a sign-in no panel received was not revoked at the CRM", "tenant", ps.tenant.Slug, "user", ps.user.Username, "err", err)
			}
		}
		h.log.Info("SSO sign-in dropped: no panel opened its window", "tenant", ps.tenant.Slug, "user", ps.user.Username)
		h.json(w, http.StatusOK, map[string]string{"type": "parley.sso.cancelled"})
		return
	}
	if ps.refreshToken != "" {
		if err := h.opts.Grants.PutCRMGrant(ctx, ps.tenant.ID, ps.user.ID, CRMSalesforce, ps.issuer, []byte(ps.refreshToken), h.clock()); err != nil {
			h.failJSON(w, r, err)
			return
		}
	}
	token, pr, err := h.opts.Sessions.StartSession(ctx, ps.tenant, ps.user, cc.SessionSSO)
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	h.log.Info("SSO signed in", "tenant", ps.tenant.Slug, "user", ps.user.Username, "crm_user", ps.crmUsername, "origin", ps.origin)
	h.json(w, http.StatusOK, &handoff{Type: "parley.sso", Token: token, ExpiresAt: pr.Session.ExpiresAt.UTC().Format(time.RFC3339),
		User: handoffUser{ID: ps.user.ID, Username: ps.user.Username, DisplayName: ps.user.DisplayName, Tenant: ps.tenant.Slug}})
}

// handoff is the message the popup posts to the panel.
type handoff struct {
	Type      string      `json:"type"`
	Token     string      `json:"token"`
	ExpiresAt string      `json:"expires_at"`
	User      handoffUser `json:"user"`
}

type handoffUser struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Tenant      string `json:"tenant"`
}

// useNonce records a nonce as used until exp; false if it was used already.
func (h *Handler) useNonce(nonce string, exp time.Time) bool {
	now := h.clock()
	h.mu.Lock()
	defer h.mu.Unlock()
	for n, until := range h.nonces {
		if now.After(until) {
			delete(h.nonces, n)
		}
	}
	if _, used := h.nonces[nonce]; used {
		return false
	}
	// The flow cookie outlives a short id_token: keep the nonce as long
	// as either could be presented again.
	until := now.Add(FlowTTL)
	if exp.After(until) {
		until = exp
	}
	h.nonces[nonce] = until
	return true
}

// putPending keeps ps under a new id and drops the sign-ins that expired.
// The CRM refresh tokens of expired handoffs (a page that never took or
// cancelled its sign-in: the window closed first) are revoked at the CRM
// in the background.
func (h *Handler) putPending(ps *pendingSignIn) string {
	id := cc.RandomToken(32)
	now := h.clock()
	var unclaimed []*pendingSignIn
	h.mu.Lock()
	for k, p := range h.pending {
		if now.After(p.expires) {
			delete(h.pending, k)
			if p.consented && p.refreshToken != "" {
				unclaimed = append(unclaimed, p)
			}
		}
	}
	h.pending[id] = ps
	h.mu.Unlock()
	if len(unclaimed) > 0 {
		go h.revokeUnclaimed(unclaimed)
	}
	return id
}

// revokeUnclaimed revokes the CRM refresh tokens of sign-ins no page took.
func (h *Handler) revokeUnclaimed(ps []*pendingSignIn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, p := range ps {
		if err := h.revoke(ctx, p.tenant, p.issuer, p.refreshToken); err != nil {
			h.log.Warn("the refresh token of a sign-in no panel took was not revoked at the CRM", "tenant", p.tenant.Slug, "user", p.user.Username, "err", err)
		} else {
			h.log.Info("revoked the CRM refresh token of a sign-in no panel took", "tenant", p.tenant.Slug, "user", p.user.Username)
		}
	}
}

func (h *Handler) takePending(id string) {
	h.mu.Lock()
	delete(h.pending, id)
	h.mu.Unlock()
}

// pendingFromCookie returns the sign-in the cookie names: waiting for the
// consent, or (consented) for the handoff.
func (h *Handler) pendingFromCookie(r *http.Request, cookie string, consented bool) (*pendingSignIn, string, error) {
	waiting, page := "your consent", "this consent page expired or was already answered"
	if consented {
		waiting, page = "its handoff to the panel", "this sign-in expired or was already handed to the panel"
	}
	c, err := r.Cookie(cookie)
	if err != nil || c.Value == "" {
		return nil, "", cc.Errorf(cc.EINVALID, "no sign-in is waiting for %s (the cookie is missing): start the sign-in again from the panel", waiting)
	}
	h.mu.Lock()
	ps := h.pending[c.Value]
	h.mu.Unlock()
	if ps == nil || ps.consented != consented || h.clock().After(ps.expires) {
		return nil, "", cc.Errorf(cc.EINVALID, "%s: start the sign-in again from the panel", page)
	}
	return ps, c.Value, nil
}

// setFlowCookie stores f in the cookie named after state, sealed with
// AES-GCM under the handler's key with the state as additional data: the
// browser holds the PKCE verifier and the nonce but cannot read them, and
// a cookie moved to another state does not open.
func (h *Handler) setFlowCookie(w http.ResponseWriter, state string, f *flow) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode SSO flow: %w", err)
	}
	nonce := make([]byte, h.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("seal SSO flow: %w", err)
	}
	ttl := FlowTTL
	if f.Used {
		// The marker lives as long as the flow could have been presented.
		ttl = min(max(time.Unix(f.Expires, 0).Sub(h.clock()), time.Second), FlowTTL)
	}
	h.setCookie(w, cookiePrefix+state, base64.RawURLEncoding.EncodeToString(h.aead.Seal(nonce, nonce, b, []byte(state))), ttl)
	return nil
}

// flowCookie reads and checks the flow cookie of state.
func (h *Handler) flowCookie(r *http.Request, state string) (*flow, error) {
	c, err := r.Cookie(cookiePrefix + state)
	if err != nil {
		return nil, cc.Errorf(cc.EINVALID, "state mismatch: this browser did not start this sign-in (no sign-in cookie for its state; cookies may be blocked, or it expired): start the sign-in again from the panel")
	}
	sealed, err := base64.RawURLEncoding.DecodeString(c.Value)
	ns := h.aead.NonceSize()
	if err != nil || len(sealed) < ns {
		return nil, cc.Errorf(cc.EINVALID, "the sign-in cookie is unreadable: start the sign-in again from the panel")
	}
	b, err := h.aead.Open(nil, sealed[:ns], sealed[ns:], []byte(state))
	if err != nil {
		return nil, cc.Errorf(cc.EINVALID, "state mismatch: the sign-in cookie does not belong to this state (or Parley restarted since the sign-in began): start the sign-in again from the panel")
	}
	var f flow
	if json.Unmarshal(b, &f) != nil {
		return nil, cc.Errorf(cc.EINVALID, "the sign-in cookie is unreadable: start the sign-in again from the panel")
	}
	if f.Used {
		return nil, cc.Errorf(cc.EINVALID, "this sign-in was already used (this page was loaded again, or the CRM's answer replayed): close this window and start the sign-in again from the panel")
	}
	if h.clock().Unix() > f.Expires {
		return nil, cc.Errorf(cc.EINVALID, "this sign-in took longer than %s and expired: start it again from the panel", FlowTTL)
	}
	return &f, nil
}

// setCookie sets a cookie the popup's cross-site navigation carries:
// SameSite=None, Secure, Partitioned, HttpOnly, only under /sso/.
func (h *Handler) setCookie(w http.ResponseWriter, name, value string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/sso/", MaxAge: int(ttl / time.Second),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode, Partitioned: true})
}

func (h *Handler) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/sso/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode, Partitioned: true})
}

// exchangeReason names why the token endpoint refused the code.
func exchangeReason(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		if re.ErrorDescription != "" {
			return re.ErrorCode + ": " + re.ErrorDescription
		}
		return re.ErrorCode
	}
	return "the token endpoint did not answer"
}

// verifyReason names which id_token check failed.
func verifyReason(err error) string {
	var exp *oidc.TokenExpiredError
	msg := err.Error()
	switch {
	case errors.As(err, &exp):
		return "it expired"
	case strings.Contains(msg, "issued by a different provider"):
		return "wrong issuer: " + msg
	case strings.Contains(msg, "audience"):
		return "wrong audience: " + msg
	case strings.Contains(msg, "signature"):
		return "bad signature"
	}
	return msg
}
