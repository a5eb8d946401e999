package devcrm

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/parley-cc/parley/internal/auth"
)

// The OpenID provider's paths and lifetimes. The paths are Salesforce's.
const (
	pathAuthorize  = "/services/oauth2/authorize"
	pathToken      = "/services/oauth2/token"
	pathUserinfo   = "/services/oauth2/userinfo"
	pathRevoke     = "/services/oauth2/revoke"
	pathIntrospect = "/services/oauth2/introspect"
	pathKeys       = "/id/keys"
	pathDiscovery  = "/.well-known/openid-configuration"
	// pathSignIn is devcrm's page between authorize and the code: sign-in,
	// then consent.
	pathSignIn  = "/services/oauth2/login"
	pathConsent = "/services/oauth2/consent"
	// SandboxPath is the path a sandbox devcrm's issuer ends with
	// (Config.Sandbox): {URL}/sandbox, as test.salesforce.com stands apart
	// from login.salesforce.com.
	SandboxPath = "/sandbox"
	// IDTokenLifetime is how long an id_token is valid: 120 s, as
	// Salesforce's are.
	IDTokenLifetime = 2 * time.Minute
	// authRequestTTL bounds the time between authorize and the code
	// exchange.
	authRequestTTL = 10 * time.Minute
	// RefreshTokenTTL is how long a refresh token lives unused; each use
	// replaces it with a new one (rotation).
	RefreshTokenTTL = 90 * 24 * time.Hour
	// opTokenPrefix keeps the hashes of the provider's access token ids
	// apart from those of whole tokens in the access_token table.
	opTokenPrefix = "oidc:"
	// refreshIDPrefix marks a refresh token's hash handed to RevokeToken.
	refreshIDPrefix = "refresh:"
)

// Scopes lists the scopes devcrm's provider grants; others are dropped from
// a request, as the OpenID library does.
var Scopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, "id", "api", "refresh_token", oidc.ScopeOfflineAccess}

// claims are the claims devcrm's id_tokens and userinfo carry.
var claims = []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "c_hash", "azp",
	"preferred_username", "name", "given_name", "family_name", "email", "email_verified", "user_id", "organization_id", "active", "user_type"}

// Issuer returns the issuer of devcrm's OpenID provider: its URL, with
// SandboxPath appended when it emulates a sandbox. Empty before Start.
func (s *Server) Issuer() string {
	u := s.URL()
	if u == "" || !s.cfg.Sandbox {
		return u
	}
	return u + SandboxPath
}

// identityURL is a user's Salesforce identity URL, the id_token's sub:
// {issuer}/id/{orgId}/{userId}.
func (s *Server) identityURL(userID string) string {
	return s.Issuer() + "/id/" + s.OrgID() + "/" + userID
}

// userFromSubject reads the user Id back from an identity URL.
func (s *Server) userFromSubject(sub string) (string, bool) {
	rest, ok := strings.CutPrefix(sub, s.Issuer()+"/id/"+s.OrgID()+"/")
	return rest, ok && rest != "" && !strings.Contains(rest, "/")
}

// newProvider builds the zitadel OpenID provider on devcrm's storage. It
// does no I/O: keys and the token key are read when first needed.
func (s *Server) newProvider() (*op.Provider, error) {
	cfg := &op.Config{
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedScopes:       Scopes,
		SupportedClaims:       claims,
	}
	issuer := func(bool) (op.IssuerFromRequest, error) {
		return func(*http.Request) string { return s.Issuer() }, nil
	}
	return op.NewProvider(cfg, &opStorage{s: s}, issuer,
		op.WithAllowInsecure(), // devcrm runs on http://127.0.0.1 in development
		op.WithCustomAuthEndpoint(op.NewEndpoint(pathAuthorize)),
		op.WithCustomTokenEndpoint(op.NewEndpoint(pathToken)),
		op.WithCustomUserinfoEndpoint(op.NewEndpoint(pathUserinfo)),
		op.WithCustomRevocationEndpoint(op.NewEndpoint(pathRevoke)),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint(pathIntrospect)),
		op.WithCustomKeysEndpoint(op.NewEndpoint(pathKeys)),
		op.WithCrypto(&tokenCrypto{s: s}),
		// Browser apps may call the token, userinfo and keys endpoints from
		// any origin, but never with devcrm's cookies.
		op.WithCORSOptions(&cors.Options{AllowedOrigins: []string{"*"}, AllowedMethods: []string{http.MethodGet, http.MethodPost},
			AllowedHeaders: []string{"Authorization", "Content-Type", "Accept"}}),
	)
}

// oidcRoutes serves the provider's endpoints under prefix ("" or
// SandboxPath).
func (s *Server) oidcRoutes(prefix string) {
	m := s.mux
	var h http.Handler = s.unstarted(s.provider)
	if prefix != "" {
		h = http.StripPrefix(prefix, h)
	}
	m.HandleFunc("GET "+prefix+pathDiscovery, s.handleDiscovery)
	m.Handle(prefix+pathAuthorize, s.checkAuthorizeClient(s.authorizeErrorPage(h)))
	m.Handle(prefix+pathAuthorize+"/callback", s.authorizeErrorPage(h))
	m.Handle(prefix+pathUserinfo, h)
	m.Handle("POST "+prefix+pathRevoke, h)
	m.Handle("POST "+prefix+pathIntrospect, h)
	m.Handle("GET "+prefix+pathKeys, h)
	m.Handle("POST "+prefix+pathToken, s.tokenRouter(h))
	m.HandleFunc("GET "+prefix+"/id/{org}/{user}", s.handleIdentity)
}

// unstarted answers 503 until Start, so the provider never sees an empty
// issuer.
func (s *Server) unstarted(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.URL() == "" {
			http.Error(w, "devcrm is not started", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// checkAuthorizeClient refuses, on devcrm's error page and saying what to
// fix, an authorization request whose client_id names no connected app or
// whose redirect_uri is not one of the app's callback URLs. The provider
// checks the same; this names the app and its URLs for whoever sets it up.
func (s *Server) checkAuthorizeClient(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		db, err := s.database()
		if err != nil || r.ParseForm() != nil {
			h.ServeHTTP(w, r)
			return
		}
		clientID, redirect := r.Form.Get("client_id"), r.Form.Get("redirect_uri")
		if clientID == "" || redirect == "" {
			h.ServeHTTP(w, r)
			return
		}
		app, err := loadApp(r.Context(), db, clientID)
		if err != nil {
			s.writePageError(w, r, err)
			return
		}
		var msg string
		switch {
		case app == nil:
			msg = fmt.Sprintf("No connected app has the consumer key (client_id) %q. Create one in Setup > App Manager (%s/setup/connectedapps).", clientID, s.URL())
		case !slices.Contains(app.callbackURLs, redirect):
			msg = fmt.Sprintf("The redirect_uri %q is not a callback URL of the connected app %s (they must match exactly). Its callback URLs: %s.",
				redirect, app.displayName(), strings.Join(app.callbackURLs, ", "))
			if len(app.callbackURLs) == 0 {
				msg = fmt.Sprintf("The connected app %s has no callback URL, so it cannot sign users in: recreate it in Setup > App Manager with one.", app.displayName())
			}
		default:
			h.ServeHTTP(w, r)
			return
		}
		s.log.Warn("devcrm authorize request refused", "client_id", clientID, "redirect_uri", redirect, "reason", msg)
		s.oauthFailure(w, http.StatusBadRequest, msg)
	})
}

// authorizeErrorPage shows the provider's authorize errors that it does not
// redirect (a wrong redirect_uri, an unknown client) on devcrm's error page
// instead of as plain text.
func (s *Server) authorizeErrorPage(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &bufferedResponse{header: http.Header{}}
		h.ServeHTTP(rec, r)
		if rec.status >= 400 && strings.HasPrefix(rec.header.Get("Content-Type"), "text/plain") {
			msg := strings.TrimSpace(rec.body.String())
			s.log.Warn("devcrm authorize request refused", "status", rec.status, "reason", msg)
			s.oauthFailure(w, rec.status, "The app's sign-in request is not valid, so devcrm does not send you back to it: "+msg)
			return
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(cmp(rec.status, http.StatusOK))
		w.Write(rec.body.Bytes())
	})
}

// handleNotSandbox answers the sandbox paths of a production devcrm.
func (s *Server) handleNotSandbox(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "this devcrm is a production org: its issuer is "+s.Issuer()+" (start devcrm with --sandbox for a sandbox org at "+s.URL()+SandboxPath+")", http.StatusNotFound)
}

// handleDiscovery serves the OpenID configuration as Salesforce's reads:
// the library's document without the endpoints devcrm does not serve.
func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	issuer := s.Issuer()
	if issuer == "" {
		http.Error(w, "devcrm is not started", http.StatusServiceUnavailable)
		return
	}
	ctx := op.ContextWithIssuer(r.Context(), issuer)
	doc := op.CreateDiscoveryConfig(ctx, s.provider, s.provider.Storage())
	doc.EndSessionEndpoint = ""
	doc.DeviceAuthorizationEndpoint = ""
	doc.CheckSessionIframe = ""
	doc.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	doc.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeBearer, oidc.GrantTypeClientCredentials}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, doc)
}

// tokenRouter sends the JWT bearer and client credentials grants to
// devcrm's own handler and the others (authorization_code, refresh_token)
// to the provider, whose answer it completes as Salesforce's.
func (s *Server) tokenRouter(provider http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			writeJSON(w, http.StatusBadRequest, &oauthError{Code: "invalid_request", Description: "the body must be a form (application/x-www-form-urlencoded)"})
			return
		}
		switch r.PostForm.Get("grant_type") {
		case string(oidc.GrantTypeCode):
			if oe := s.checkVerifierPresent(r); oe != nil {
				s.log.Warn("devcrm token request refused", "error", oe.Code, "reason", oe.reason)
				w.Header().Set("Cache-Control", "no-store")
				writeJSON(w, oe.status, oe)
				return
			}
		case string(oidc.GrantTypeRefreshToken):
		default:
			s.handleToken(w, r)
			return
		}
		rec := &bufferedResponse{header: http.Header{}}
		provider.ServeHTTP(rec, r)
		body := rec.body.Bytes()
		if rec.status == 0 || rec.status == http.StatusOK {
			body = s.salesforceTokenResponse(r, body)
		}
		for k, v := range rec.header {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(cmp(rec.status, http.StatusOK))
		w.Write(body)
	})
}

func cmp(status, def int) int {
	if status == 0 {
		return def
	}
	return status
}

// checkVerifierPresent answers invalid_grant when the code was issued for
// a PKCE challenge and the request has no code_verifier, as Salesforce does
// (the library would say invalid_request).
func (s *Server) checkVerifierPresent(r *http.Request) *oauthError {
	code := r.PostForm.Get("code")
	if code == "" || r.PostForm.Get("code_verifier") != "" {
		return nil
	}
	db, err := s.database()
	if err != nil {
		return nil
	}
	var challenge string
	err = db.QueryRowContext(r.Context(), `SELECT code_challenge FROM oauth_request WHERE code_hash = ?`, auth.HashToken(code)).Scan(&challenge)
	if err != nil || challenge == "" {
		return nil
	}
	return invalidGrant("invalid code verifier", "the code was issued for a PKCE code_challenge and the request has no code_verifier")
}

// bufferedResponse keeps the provider's token response to rewrite it.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}
func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

// salesforceTokenResponse adds Salesforce's fields to a successful token
// response (instance_url, id, issued_at, and signature when the client sent
// its secret) and drops expires_in, which Salesforce does not send.
func (s *Server) salesforceTokenResponse(r *http.Request, body []byte) []byte {
	var resp map[string]any
	if err := json.Unmarshal(body, &resp); err != nil {
		return body
	}
	token, _ := resp["access_token"].(string)
	userID, err := s.accessTokenUser(r.Context(), token)
	if err != nil || userID == "" {
		return body
	}
	delete(resp, "expires_in")
	id := s.identityURL(userID)
	issuedAt := strconv.FormatInt(s.now().UnixMilli(), 10)
	resp["instance_url"] = s.URL()
	resp["id"] = id
	resp["issued_at"] = issuedAt
	_, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 2.3.1: Basic credentials are form-encoded first.
		if plain, err := url.QueryUnescape(secret); err == nil {
			secret = plain
		}
	} else {
		secret = r.PostForm.Get("client_secret")
	}
	if secret != "" {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(id + issuedAt))
		resp["signature"] = base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
	out, err := json.Marshal(resp)
	if err != nil {
		return body
	}
	return out
}

// accessTokenUser returns the user of one of the provider's access tokens,
// or "" when the token is not one (or has expired).
func (s *Server) accessTokenUser(ctx context.Context, token string) (string, error) {
	if token == "" {
		return "", nil
	}
	plain, err := (&tokenCrypto{s: s}).Decrypt(token)
	if err != nil {
		return "", nil
	}
	tokenID, _, _ := strings.Cut(plain, ":")
	row, err := s.opAccessToken(ctx, tokenID)
	if err != nil || row == nil {
		return "", err
	}
	return row.userID, nil
}
