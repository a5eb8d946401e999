package devcrm

import (
	"context"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parley-cc/parley/internal/auth"
	"github.com/parley-cc/parley/internal/cc"
)

// App is a connected app: a client allowed to get access tokens.
type App struct {
	// ClientID is the consumer key; JWT bearer assertions carry it as iss.
	ClientID string
	// ClientSecret enables the client credentials grant. Only its SHA-256
	// hash is stored.
	ClientSecret string
	// PublicKeyPEM verifies JWT bearer assertions: an X.509 certificate (as
	// Salesforce takes), a PKIX public key or a PKCS #1 RSA public key.
	PublicKeyPEM []byte
	// RunAsUsername is the user the client credentials grant acts as.
	RunAsUsername string
	// Name is the app's name on the consent page ("Allow Name to access
	// your devcrm data"); empty means the ClientID.
	Name string
	// CallbackURLs are the redirect URIs the authorization code flow
	// accepts, matched exactly (scheme, host, port, path and query): absolute
	// http or https URLs without a fragment.
	CallbackURLs []string
	// RequirePKCE refuses authorization requests without a code_challenge.
	// An app without a ClientSecret is public and always needs PKCE (S256).
	RequirePKCE bool
	// Public asks CreateApp for an app without a secret (a browser or
	// native app); RegisterApp refuses it with a ClientSecret.
	Public bool
}

// maxCallbackURLs bounds an app's callback URLs.
const maxCallbackURLs = 20

// checkCallbackURL says what is wrong with a callback URL, if anything.
func checkCallbackURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return cc.Errorf(cc.EINVALID, "callback URL %q: give an absolute URL such as https://parley.example.com/sso/callback", raw)
	case u.Scheme != "https" && u.Scheme != "http":
		return cc.Errorf(cc.EINVALID, "callback URL %q: use http or https", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return cc.Errorf(cc.EINVALID, "callback URL %q: remove the #fragment (OAuth forbids one)", raw)
	case u.User != nil:
		return cc.Errorf(cc.EINVALID, "callback URL %q: remove the user:password@ part", raw)
	case strings.ContainsAny(raw, " \t\r\n"):
		return cc.Errorf(cc.EINVALID, "callback URL %q has spaces", raw)
	}
	return nil
}

// CreateApp registers a new connected app and returns it with its
// credentials filled in: a consumer key (ClientID) when app has none, and a
// client secret when app has none and is not Public. The secret is shown
// only here; devcrm keeps its hash. Errors are those of RegisterApp, and
// ECONFLICT when the ClientID is taken.
func (s *Server) CreateApp(ctx context.Context, app App) (App, error) {
	db, err := s.database()
	if err != nil {
		return App{}, err
	}
	if app.ClientID == "" {
		app.ClientID = "3MVG9" + cc.RandomToken(30)
	} else if existing, err := loadApp(ctx, db, strings.TrimSpace(app.ClientID)); err != nil {
		return App{}, err
	} else if existing != nil {
		return App{}, cc.Errorf(cc.ECONFLICT, "connected app %s exists already: choose another client id", app.ClientID)
	}
	if !app.Public && app.ClientSecret == "" {
		app.ClientSecret = cc.RandomToken(32)
	}
	if err := s.RegisterApp(ctx, app); err != nil {
		return App{}, err
	}
	return app, nil
}

const (
	grantJWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	grantClientCredentials = "client_credentials"
	// maxAssertionLifetime is how far ahead a JWT bearer assertion's exp
	// may be.
	maxAssertionLifetime = 5 * time.Minute
	tokenScope           = "api"
)

// parsePublicKey reads an RSA public key from a PEM certificate or key.
func parsePublicKey(pemBytes []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, cc.Errorf(cc.EINVALID, "connected app key: give a PEM certificate or public key (-----BEGIN CERTIFICATE----- or -----BEGIN PUBLIC KEY-----)")
	}
	var key any
	var err error
	switch block.Type {
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "PRIVATE KEY", "RSA PRIVATE KEY":
		return nil, cc.Errorf(cc.EINVALID, "connected app key is a private key: register the public key or certificate and keep the private key with the client")
	default:
		return nil, cc.Errorf(cc.EINVALID, "connected app key: PEM block %q is not a certificate or public key", block.Type)
	}
	if err != nil {
		return nil, cc.WrapError(cc.EINVALID, err, "connected app key: the %s does not parse", strings.ToLower(block.Type))
	}
	rsaKey, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, cc.Errorf(cc.EINVALID, "connected app key: use an RSA key (JWT bearer assertions are signed RS256)")
	}
	return rsaKey, nil
}

// RegisterApp adds a connected app, or replaces the one with the same
// ClientID. The server must be started. It returns EINVALID when the app
// has no credentials, the key is not an RSA public key or certificate, or
// the run-as user does not exist.
func (s *Server) RegisterApp(ctx context.Context, app App) error {
	db, err := s.database()
	if err != nil {
		return err
	}
	app.ClientID = strings.TrimSpace(app.ClientID)
	if app.ClientID == "" || len(app.ClientID) > 255 || strings.ContainsAny(app.ClientID, " \t\r\n") {
		return cc.Errorf(cc.EINVALID, "connected app client id %q: give 1-255 characters without spaces", app.ClientID)
	}
	if app.ClientSecret == "" && len(app.PublicKeyPEM) == 0 && len(app.CallbackURLs) == 0 {
		return cc.Errorf(cc.EINVALID, "connected app %s has no credentials: give a client secret, a public key, or callback URLs (a public app)", app.ClientID)
	}
	if app.Public && app.ClientSecret != "" {
		return cc.Errorf(cc.EINVALID, "connected app %s is public: give no client secret (or make it confidential)", app.ClientID)
	}
	if len(app.CallbackURLs) > maxCallbackURLs {
		return cc.Errorf(cc.EINVALID, "connected app %s has %d callback URLs: give at most %d", app.ClientID, len(app.CallbackURLs), maxCallbackURLs)
	}
	for _, u := range app.CallbackURLs {
		if err := checkCallbackURL(u); err != nil {
			return err
		}
	}
	app.Name = strings.TrimSpace(app.Name)
	if len(app.Name) > 255 || strings.ContainsAny(app.Name, "\r\n") {
		return cc.Errorf(cc.EINVALID, "connected app name %q: give one line of at most 255 characters", app.Name)
	}
	if len(app.PublicKeyPEM) > 0 {
		if _, err := parsePublicKey(app.PublicKeyPEM); err != nil {
			return err
		}
	}
	var runAs any
	if app.RunAsUsername != "" {
		u, err := userByUsername(ctx, db, app.RunAsUsername)
		if err != nil {
			return fmt.Errorf("register connected app: %w", err)
		}
		if u == nil {
			return cc.Errorf(cc.EINVALID, "connected app %s: run-as user %q does not exist; give the Username of a User", app.ClientID, app.RunAsUsername)
		}
		runAs = u["Id"]
	}
	secretHash := ""
	if app.ClientSecret != "" {
		secretHash = auth.HashToken(app.ClientSecret)
	}
	now := formatDateTime(s.now())
	_, err = db.ExecContext(ctx, `INSERT INTO connected_app (client_id, secret_hash, public_key_pem, run_as_user_id, name, callback_urls, require_pkce, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (client_id) DO UPDATE SET secret_hash = excluded.secret_hash, public_key_pem = excluded.public_key_pem,
			run_as_user_id = excluded.run_as_user_id, name = excluded.name, callback_urls = excluded.callback_urls,
			require_pkce = excluded.require_pkce, updated_at = excluded.updated_at`,
		app.ClientID, secretHash, string(app.PublicKeyPEM), runAs, app.Name, strings.Join(app.CallbackURLs, "\n"), app.RequirePKCE, now, now)
	if err != nil {
		return fmt.Errorf("register connected app %s: %w", app.ClientID, err)
	}
	return nil
}

// storedApp is a connected app as stored.
type storedApp struct {
	clientID     string
	secretHash   string
	publicKey    string
	runAsUser    sql.NullString
	name         string
	callbackURLs []string
	requirePKCE  bool
}

// displayName is the app's name for pages.
func (a *storedApp) displayName() string {
	if a.name != "" {
		return a.name
	}
	return a.clientID
}

// secretOK reports whether secret is the app's client secret.
func (a *storedApp) secretOK(secret string) bool {
	return a.secretHash != "" && subtle.ConstantTimeCompare([]byte(auth.HashToken(secret)), []byte(a.secretHash)) == 1
}

const appColumns = `client_id, secret_hash, public_key_pem, run_as_user_id, name, callback_urls, require_pkce`

func scanApp(scan func(...any) error) (*storedApp, error) {
	a := &storedApp{}
	var urls string
	if err := scan(&a.clientID, &a.secretHash, &a.publicKey, &a.runAsUser, &a.name, &urls, &a.requirePKCE); err != nil {
		return nil, err
	}
	a.callbackURLs = strings.Fields(urls)
	return a, nil
}

func loadApp(ctx context.Context, q querier, clientID string) (*storedApp, error) {
	a, err := scanApp(q.QueryRowContext(ctx, `SELECT `+appColumns+` FROM connected_app WHERE client_id = ?`, clientID).Scan)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load connected app: %w", err)
	}
	return a, nil
}

func userByUsername(ctx context.Context, q querier, username string) (record, error) {
	users := objectByName(objUser)
	rows, err := q.QueryContext(ctx, "SELECT "+users.selectList()+` FROM "User" WHERE "Username" = ?`, username)
	if err != nil {
		return nil, fmt.Errorf("look up user %s: %w", username, err)
	}
	recs, err := scanRecords(users, rows)
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	return recs[0], nil
}

// oauthError is an error of the token endpoint, in the OAuth 2.0 shape
// Salesforce uses.
type oauthError struct {
	status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
	reason      string // what devcrm logs about it
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func invalidGrant(description, reason string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, Code: "invalid_grant", Description: description, reason: reason}
}

// tokenResponse is the token endpoint's answer. The JWT bearer and client
// credentials grants give no refresh token.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	InstanceURL string `json:"instance_url"`
	ID          string `json:"id"`
	TokenType   string `json:"token_type"`
	IssuedAt    string `json:"issued_at"`
	Scope       string `json:"scope"`
	Signature   string `json:"signature,omitempty"`
}

// handleToken answers POST /services/oauth2/token.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	db, err := s.database()
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, &oauthError{Code: "temporarily_unavailable", Description: "devcrm is not started"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, &oauthError{Code: "invalid_request", Description: "the body must be a form (application/x-www-form-urlencoded)"})
		return
	}
	var resp *tokenResponse
	switch grant := r.PostForm.Get("grant_type"); grant {
	case grantJWTBearer:
		resp, err = s.jwtBearer(r.Context(), db, r.PostForm.Get("assertion"))
	case grantClientCredentials:
		resp, err = s.clientCredentials(r.Context(), db, r)
	default:
		err = &oauthError{status: http.StatusBadRequest, Code: "unsupported_grant_type", Description: "grant type not supported",
			reason: fmt.Sprintf("grant_type %q; devcrm takes authorization_code, refresh_token, %s and %s", grant, grantJWTBearer, grantClientCredentials)}
	}
	if err != nil {
		if oe, ok := err.(*oauthError); ok {
			s.log.Warn("devcrm token request refused", "error", oe.Code, "reason", oe.reason)
			writeJSON(w, oe.status, oe)
			return
		}
		errorID := cc.RandomToken(5)
		s.log.Error("devcrm token request failed", "error_id", errorID, "err", err)
		writeJSON(w, http.StatusInternalServerError, &oauthError{Code: "server_error", Description: "unexpected error " + errorID})
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// jwtBearer checks an RS256 assertion: iss names a connected app with a
// key, the signature verifies with it, aud is devcrm (or the configured
// audience), exp is in the future and at most five minutes ahead, and sub is
// an active user's Username.
func (s *Server) jwtBearer(ctx context.Context, db *sql.DB, assertion string) (*tokenResponse, error) {
	if assertion == "" {
		return nil, invalidGrant("invalid assertion", "no assertion parameter")
	}
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(assertion, &claims); err != nil {
		return nil, invalidGrant("invalid assertion", "the assertion is not a JWT: "+err.Error())
	}
	app, err := loadApp(ctx, db, claims.Issuer)
	if err != nil {
		return nil, err
	}
	if app == nil {
		return nil, &oauthError{status: http.StatusBadRequest, Code: "invalid_client_id", Description: "client identifier invalid",
			reason: fmt.Sprintf("no connected app has client id %q (the assertion's iss)", claims.Issuer)}
	}
	if app.publicKey == "" {
		return nil, invalidGrant("invalid assertion", "connected app "+app.clientID+" has no public key for JWT bearer")
	}
	key, err := parsePublicKey([]byte(app.publicKey))
	if err != nil {
		return nil, err
	}
	_, err = jwt.ParseWithClaims(assertion, &jwt.RegisteredClaims{}, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	if err != nil {
		return nil, invalidGrant("invalid assertion", "signature check failed: "+err.Error())
	}
	if !s.audienceOK(claims.Audience) {
		return nil, invalidGrant("audience is invalid", fmt.Sprintf("aud %v; use %s", []string(claims.Audience), s.URL()))
	}
	now := s.now()
	switch {
	case claims.ExpiresAt == nil:
		return nil, invalidGrant("invalid assertion", "the assertion has no exp")
	case !claims.ExpiresAt.After(now):
		return nil, invalidGrant("expired authorization code", "exp "+claims.ExpiresAt.UTC().Format(time.RFC3339)+" has passed")
	case claims.ExpiresAt.Sub(now) > maxAssertionLifetime:
		return nil, invalidGrant("invalid assertion", "exp is more than 5 minutes ahead")
	case claims.NotBefore != nil && claims.NotBefore.After(now):
		return nil, invalidGrant("invalid assertion", "nbf is in the future")
	}
	user, err := userByUsername(ctx, db, claims.Subject)
	if err != nil {
		return nil, err
	}
	if user == nil {
		return nil, invalidGrant("user hasn't approved this consumer", fmt.Sprintf("no user has username %q (the assertion's sub)", claims.Subject))
	}
	if user["IsActive"] != true {
		return nil, invalidGrant("inactive user", "user "+claims.Subject+" is not active")
	}
	return s.issueToken(ctx, db, user["Id"].(string), app.clientID, "")
}

func (s *Server) audienceOK(aud jwt.ClaimStrings) bool {
	for _, a := range aud {
		a = strings.TrimSuffix(a, "/")
		if a == s.URL() || a == s.Issuer() || s.cfg.Audience != "" && a == strings.TrimSuffix(s.cfg.Audience, "/") {
			return true
		}
	}
	return false
}

// clientCredentials checks client_id and client_secret (form fields or HTTP
// Basic) and issues a token for the app's run-as user.
func (s *Server) clientCredentials(ctx context.Context, db *sql.DB, r *http.Request) (*tokenResponse, error) {
	clientID, secret, basic := r.BasicAuth()
	if !basic {
		clientID, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	app, err := loadApp(ctx, db, clientID)
	if err != nil {
		return nil, err
	}
	if app == nil {
		return nil, &oauthError{status: http.StatusBadRequest, Code: "invalid_client_id", Description: "client identifier invalid",
			reason: fmt.Sprintf("no connected app has client id %q", clientID)}
	}
	if !app.secretOK(secret) {
		return nil, &oauthError{status: http.StatusBadRequest, Code: "invalid_client", Description: "invalid client credentials",
			reason: "wrong or missing client secret for " + clientID}
	}
	if !app.runAsUser.Valid {
		return nil, invalidGrant("no client credentials user enabled", "connected app "+clientID+" has no run-as user")
	}
	user, err := getRecord(ctx, db, objectByName(objUser), app.runAsUser.String)
	if err != nil {
		return nil, err
	}
	if user == nil || user["IsActive"] != true {
		return nil, invalidGrant("inactive user", "the run-as user of "+clientID+" is not active")
	}
	return s.issueToken(ctx, db, app.runAsUser.String, clientID, secret)
}

// issueToken stores a new access token's hash and returns the response.
// The signature, when a client secret is at hand, is Salesforce's:
// base64(HMAC-SHA256(secret, id + issued_at)).
func (s *Server) issueToken(ctx context.Context, db *sql.DB, userID, clientID, secret string) (*tokenResponse, error) {
	now := s.now()
	orgID := s.OrgID()
	token := orgID[:15] + "!" + cc.RandomToken(32)
	_, err := db.ExecContext(ctx, `INSERT INTO access_token (token_hash, user_id, client_id, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		auth.HashToken(token), userID, clientID, now.UnixMilli(), now.Add(s.cfg.TokenTTL).UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store access token: %w", err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM access_token WHERE expires_at <= ?`, now.UnixMilli()); err != nil {
		return nil, fmt.Errorf("delete expired access tokens: %w", err)
	}
	base := s.URL()
	resp := &tokenResponse{
		AccessToken: token,
		InstanceURL: base,
		ID:          s.identityURL(userID),
		TokenType:   "Bearer",
		IssuedAt:    strconv.FormatInt(now.UnixMilli(), 10),
		Scope:       tokenScope,
	}
	if secret != "" {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(resp.ID + resp.IssuedAt))
		resp.Signature = base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
	return resp, nil
}

// authenticate returns the user of the request's bearer token ("Bearer" or
// Salesforce's older "OAuth" scheme), or 401 INVALID_SESSION_ID.
func (s *Server) authenticate(ctx context.Context, db *sql.DB, r *http.Request) (string, error) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if token == "" || !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "OAuth") {
		return "", invalidSession()
	}
	var userID string
	var active bool
	err := db.QueryRowContext(ctx, `SELECT t.user_id, u."IsActive" FROM access_token t JOIN "User" u ON u."Id" = t.user_id
		WHERE t.token_hash = ? AND t.expires_at > ?`, auth.HashToken(token), s.now().UnixMilli()).Scan(&userID, &active)
	if err == sql.ErrNoRows {
		// An access token of the OpenID flows (authorization code, refresh)
		// works on the REST API too, as Salesforce's do.
		if userID, err := s.accessTokenUser(ctx, token); err != nil || userID != "" {
			return userID, err
		}
		return "", invalidSession()
	}
	if err == nil && !active {
		return "", invalidSession()
	}
	if err != nil {
		return "", fmt.Errorf("check access token: %w", err)
	}
	return userID, nil
}
