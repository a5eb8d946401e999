package devcrm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/parley-cc/parley/internal/auth"
	"github.com/parley-cc/parley/internal/cc"
)

// oidcClient is a connected app as the provider sees it.
type oidcClient struct{ app *storedApp }

func (c *oidcClient) public() bool { return c.app.secretHash == "" }

func (c *oidcClient) GetID() string                    { return c.app.clientID }
func (c *oidcClient) RedirectURIs() []string           { return c.app.callbackURLs }
func (c *oidcClient) PostLogoutRedirectURIs() []string { return nil }
func (c *oidcClient) ApplicationType() op.ApplicationType {
	if c.public() {
		return op.ApplicationTypeUserAgent
	}
	return op.ApplicationTypeWeb
}
func (c *oidcClient) AuthMethod() oidc.AuthMethod {
	if c.public() {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}
func (c *oidcClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *oidcClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c *oidcClient) LoginURL(id string) string            { return pathSignIn + "?id=" + id }
func (c *oidcClient) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (c *oidcClient) IDTokenLifetime() time.Duration       { return IDTokenLifetime }
func (c *oidcClient) ClockSkew() time.Duration             { return 0 }
func (c *oidcClient) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *oidcClient) IsScopeAllowed(scope string) bool     { return slices.Contains(Scopes, scope) }
func (c *oidcClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *oidcClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// DevMode lets public clients use http callback URLs (exact matches still),
// as Salesforce allows http://localhost callbacks.
func (c *oidcClient) DevMode() bool { return true }

// authRequest is an authorization request in flight.
type authRequest struct {
	s                                       *Server
	id, clientID, redirectURI, state, nonce string
	responseType, responseMode, prompt      string
	loginHint                               string
	challenge, challengeMethod              string
	scopes                                  []string
	userID                                  string
	authTime                                time.Time
	consented                               bool
}

func (a *authRequest) GetID() string         { return a.id }
func (a *authRequest) GetACR() string        { return "" }
func (a *authRequest) GetAMR() []string      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time {
	return a.authTime
}
func (a *authRequest) GetClientID() string { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.challenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.challenge, Method: oidc.CodeChallengeMethod(a.challengeMethod)}
}
func (a *authRequest) GetNonce() string                   { return a.nonce }
func (a *authRequest) GetRedirectURI() string             { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseType(a.responseType) }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(a.responseMode) }
func (a *authRequest) GetScopes() []string                { return a.scopes }
func (a *authRequest) GetState() string                   { return a.state }
func (a *authRequest) GetSubject() string {
	if a.userID == "" {
		return ""
	}
	return a.s.identityURL(a.userID)
}
func (a *authRequest) Done() bool { return a.userID != "" && a.consented }

// hasPrompt reports whether the request asked for prompt p.
func (a *authRequest) hasPrompt(p string) bool {
	return slices.Contains(strings.Fields(a.prompt), p)
}

// refreshRequest is what a refresh token stands for.
type refreshRequest struct {
	s                *Server
	tokenHash        string
	userID, clientID string
	scopes           []string
	authTime         time.Time
}

func (r *refreshRequest) GetAMR() []string            { return []string{"pwd"} }
func (r *refreshRequest) GetAudience() []string       { return []string{r.clientID} }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.authTime }
func (r *refreshRequest) GetClientID() string         { return r.clientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.s.identityURL(r.userID) }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }

// opStorage is the provider's storage: devcrm's database.
type opStorage struct{ s *Server }

var (
	_ op.Storage                   = (*opStorage)(nil)
	_ op.CanSetUserinfoFromRequest = (*opStorage)(nil)
	_ op.Client                    = (*oidcClient)(nil)
	_ op.AuthRequest               = (*authRequest)(nil)
	_ op.RefreshTokenRequest       = (*refreshRequest)(nil)
)

const authRequestColumns = `id, client_id, redirect_uri, scopes, state, nonce, response_type, response_mode, code_challenge,
	code_challenge_method, prompt, login_hint, coalesce(user_id, ''), auth_time, consented`

func (st *opStorage) scanRequest(row *sql.Row) (*authRequest, error) {
	a := &authRequest{s: st.s}
	var scopes string
	var authTime int64
	err := row.Scan(&a.id, &a.clientID, &a.redirectURI, &scopes, &a.state, &a.nonce, &a.responseType, &a.responseMode,
		&a.challenge, &a.challengeMethod, &a.prompt, &a.loginHint, &a.userID, &authTime, &a.consented)
	if err == sql.ErrNoRows {
		return nil, errors.New("unknown or expired authorization request: start again from the app")
	}
	if err != nil {
		return nil, fmt.Errorf("load authorization request: %w", err)
	}
	a.scopes = strings.Fields(scopes)
	if authTime > 0 {
		a.authTime = time.UnixMilli(authTime).UTC()
	}
	return a, nil
}

// CreateAuthRequest stores a validated authorization request. It refuses
// one without a PKCE challenge for a public app or an app that requires
// PKCE, and a challenge method other than S256 (which is assumed when the
// method is left out, as Salesforce does). refresh_token is
// Salesforce's name for offline_access: either gets a refresh token.
func (st *opStorage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	db, err := st.s.database()
	if err != nil {
		return nil, err
	}
	app, err := loadApp(ctx, db, req.ClientID)
	if err != nil {
		return nil, err
	}
	if app == nil {
		return nil, oidc.ErrInvalidClient().WithDescription("client identifier invalid")
	}
	client := &oidcClient{app: app}
	if (client.public() || app.requirePKCE) && req.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("missing required code challenge")
	}
	if req.CodeChallenge != "" && req.CodeChallengeMethod != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	scopes := slices.Clone([]string(req.Scopes))
	if slices.Contains(scopes, "refresh_token") && !slices.Contains(scopes, oidc.ScopeOfflineAccess) {
		scopes = append(scopes, oidc.ScopeOfflineAccess)
	}
	now := st.s.now()
	a := &authRequest{s: st.s, id: cc.RandomToken(24), clientID: req.ClientID, redirectURI: req.RedirectURI, state: req.State, nonce: req.Nonce,
		responseType: string(req.ResponseType), responseMode: string(req.ResponseMode), prompt: strings.Join(req.Prompt, " "),
		challenge: req.CodeChallenge, challengeMethod: string(req.CodeChallengeMethod), scopes: scopes, loginHint: req.LoginHint}
	if a.challenge != "" {
		// Salesforce takes code_challenge as the S256 hash with or without
		// code_challenge_method.
		a.challengeMethod = string(oidc.CodeChallengeMethodS256)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO oauth_request (id, client_id, redirect_uri, scopes, state, nonce, response_type, response_mode,
		code_challenge, code_challenge_method, prompt, login_hint, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.id, a.clientID, a.redirectURI, strings.Join(a.scopes, " "), a.state, a.nonce, a.responseType, a.responseMode,
		a.challenge, a.challengeMethod, a.prompt, a.loginHint, now.UnixMilli(), now.Add(authRequestTTL).UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store authorization request: %w", err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM oauth_request WHERE expires_at <= ?`, now.UnixMilli()); err != nil {
		return nil, fmt.Errorf("delete expired authorization requests: %w", err)
	}
	return a, nil
}

// AuthRequestByID loads a request that has not expired.
func (st *opStorage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	return st.requestByID(ctx, id)
}

func (st *opStorage) requestByID(ctx context.Context, id string) (*authRequest, error) {
	db, err := st.s.database()
	if err != nil {
		return nil, err
	}
	return st.scanRequest(db.QueryRowContext(ctx, `SELECT `+authRequestColumns+` FROM oauth_request WHERE id = ? AND expires_at > ?`, id, st.s.now().UnixMilli()))
}

// AuthRequestByCode loads the request a code was issued for.
func (st *opStorage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	db, err := st.s.database()
	if err != nil {
		return nil, err
	}
	return st.scanRequest(db.QueryRowContext(ctx, `SELECT `+authRequestColumns+` FROM oauth_request WHERE code_hash = ? AND expires_at > ?`,
		auth.HashToken(code), st.s.now().UnixMilli()))
}

// SaveAuthCode keeps the hash of the code issued for a request.
func (st *opStorage) SaveAuthCode(ctx context.Context, id, code string) error {
	db, err := st.s.database()
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `UPDATE oauth_request SET code_hash = ? WHERE id = ?`, auth.HashToken(code), id); err != nil {
		return fmt.Errorf("store authorization code: %w", err)
	}
	return nil
}

// DeleteAuthRequest ends a request: its code works once.
func (st *opStorage) DeleteAuthRequest(ctx context.Context, id string) error {
	db, err := st.s.database()
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM oauth_request WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete authorization request: %w", err)
	}
	return nil
}

// tokenGrant is who and what a token request is for.
func tokenGrant(req op.TokenRequest) (userID, clientID string, scopes []string, authTime time.Time, err error) {
	switch r := req.(type) {
	case *authRequest:
		return r.userID, r.clientID, r.scopes, r.authTime, nil
	case *refreshRequest:
		return r.userID, r.clientID, r.scopes, r.authTime, nil
	}
	return "", "", nil, time.Time{}, oidc.ErrUnsupportedGrantType()
}

// CreateAccessToken stores a new access token's id (hashed) for the user;
// the token the client gets is that id sealed by tokenCrypto.
func (st *opStorage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	db, err := st.s.database()
	if err != nil {
		return "", time.Time{}, err
	}
	userID, clientID, scopes, _, err := tokenGrant(req)
	if err != nil {
		return "", time.Time{}, err
	}
	return st.s.storeAccessToken(ctx, db, userID, clientID, scopes)
}

func (s *Server) storeAccessToken(ctx context.Context, q querier, userID, clientID string, scopes []string) (string, time.Time, error) {
	now := s.now()
	exp := now.Add(s.cfg.TokenTTL)
	id := cc.RandomToken(32)
	_, err := q.ExecContext(ctx, `INSERT INTO access_token (token_hash, user_id, client_id, issued_at, expires_at, scopes) VALUES (?, ?, ?, ?, ?, ?)`,
		auth.HashToken(opTokenPrefix+id), userID, clientID, now.UnixMilli(), exp.UnixMilli(), strings.Join(scopes, " "))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("store access token: %w", err)
	}
	return id, exp, nil
}

// CreateAccessAndRefreshTokens stores an access token and a new refresh
// token; a refresh token used for it is deleted (rotation), in the same
// transaction.
func (st *opStorage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	db, err := st.s.database()
	if err != nil {
		return "", "", time.Time{}, err
	}
	userID, clientID, scopes, authTime, err := tokenGrant(req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	var accessID, refresh string
	var exp time.Time
	err = withTx(ctx, db, func(tx *sql.Tx) error {
		if current != "" {
			res, err := tx.ExecContext(ctx, `DELETE FROM oauth_refresh_token WHERE token_hash = ?`, auth.HashToken(current))
			if err != nil {
				return fmt.Errorf("rotate refresh token: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return oidc.ErrInvalidGrant().WithDescription("expired access/refresh token")
			}
		}
		var err error
		if accessID, exp, err = st.s.storeAccessToken(ctx, tx, userID, clientID, scopes); err != nil {
			return err
		}
		now := st.s.now()
		refresh = "5Aep861" + cc.RandomToken(40)
		_, err = tx.ExecContext(ctx, `INSERT INTO oauth_refresh_token (token_hash, user_id, client_id, scopes, auth_time, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, auth.HashToken(refresh), userID, clientID, strings.Join(scopes, " "), authTime.UnixMilli(),
			now.UnixMilli(), now.Add(RefreshTokenTTL).UnixMilli())
		if err != nil {
			return fmt.Errorf("store refresh token: %w", err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM oauth_refresh_token WHERE expires_at <= ?`, now.UnixMilli())
		return err
	})
	if err != nil {
		return "", "", time.Time{}, err
	}
	return accessID, refresh, exp, nil
}

// TokenRequestByRefreshToken loads what a live refresh token of an active
// user stands for.
func (st *opStorage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	db, err := st.s.database()
	if err != nil {
		return nil, err
	}
	r := &refreshRequest{s: st.s, tokenHash: auth.HashToken(token)}
	var scopes string
	var authTime int64
	err = db.QueryRowContext(ctx, `SELECT t.user_id, t.client_id, t.scopes, t.auth_time FROM oauth_refresh_token t JOIN "User" u ON u."Id" = t.user_id
		WHERE t.token_hash = ? AND t.expires_at > ? AND u."IsActive" = 1`, r.tokenHash, st.s.now().UnixMilli()).Scan(&r.userID, &r.clientID, &scopes, &authTime)
	if err == sql.ErrNoRows {
		return nil, errors.New("unknown, used or expired refresh token")
	}
	if err != nil {
		return nil, fmt.Errorf("load refresh token: %w", err)
	}
	r.scopes = strings.Fields(scopes)
	r.authTime = time.UnixMilli(authTime).UTC()
	return r, nil
}

// TerminateSession revokes the user's tokens for the app.
func (st *opStorage) TerminateSession(ctx context.Context, subject, clientID string) error {
	userID, ok := st.s.userFromSubject(subject)
	if !ok {
		userID = subject
	}
	return st.s.revokeUserTokens(ctx, userID, clientID)
}

func (s *Server) revokeUserTokens(ctx context.Context, userID, clientID string) error {
	db, err := s.database()
	if err != nil {
		return err
	}
	return withTx(ctx, db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM oauth_refresh_token WHERE user_id = ? AND client_id = ?`, userID, clientID); err != nil {
			return fmt.Errorf("revoke refresh tokens: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM access_token WHERE user_id = ? AND client_id = ?`, userID, clientID); err != nil {
			return fmt.Errorf("revoke access tokens: %w", err)
		}
		return nil
	})
}

// RevokeToken revokes an access token (by id) or a refresh token (with
// the access tokens of the same user and app, as Salesforce does). Tokens
// of other apps and unknown tokens are left alone and the answer is still
// success (RFC 7009).
func (st *opStorage) RevokeToken(ctx context.Context, tokenOrID, _, clientID string) *oidc.Error {
	db, err := st.s.database()
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if hash, ok := strings.CutPrefix(tokenOrID, refreshIDPrefix); ok {
		var userID string
		err := db.QueryRowContext(ctx, `SELECT user_id FROM oauth_refresh_token WHERE token_hash = ? AND client_id = ?`, hash, clientID).Scan(&userID)
		if err == sql.ErrNoRows {
			return nil
		}
		if err == nil {
			err = st.s.revokeUserTokens(ctx, userID, clientID)
		}
		if err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
		return nil
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM access_token WHERE token_hash = ? AND client_id = ?`, auth.HashToken(opTokenPrefix+tokenOrID), clientID); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

// GetRefreshTokenInfo names a refresh token of the app for RevokeToken.
func (st *opStorage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	db, err := st.s.database()
	if err != nil {
		return "", "", err
	}
	hash := auth.HashToken(token)
	var userID string
	err = db.QueryRowContext(ctx, `SELECT user_id FROM oauth_refresh_token WHERE token_hash = ? AND client_id = ?`, hash, clientID).Scan(&userID)
	if err == sql.ErrNoRows {
		return "", "", op.ErrInvalidRefreshToken
	}
	if err != nil {
		return "", "", fmt.Errorf("look up refresh token: %w", err)
	}
	return st.s.identityURL(userID), refreshIDPrefix + hash, nil
}

// SigningKey is the newest RS256 key.
func (st *opStorage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	keys, err := st.s.signingKeys(ctx)
	if err != nil {
		return nil, err
	}
	return keys[0], nil
}

// SignatureAlgorithms is RS256 only, as Salesforce's.
func (st *opStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// KeySet is every key's public half.
func (st *opStorage) KeySet(ctx context.Context) ([]op.Key, error) {
	keys, err := st.s.signingKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, len(keys))
	for i, k := range keys {
		out[i] = publicKey{k}
	}
	return out, nil
}

// GetClientByClientID loads a connected app.
func (st *opStorage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	db, err := st.s.database()
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	app, err := loadApp(ctx, db, clientID)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if app == nil {
		return nil, fmt.Errorf("no connected app has client id %q", clientID)
	}
	return &oidcClient{app: app}, nil
}

// AuthorizeClientIDSecret checks a confidential app's secret.
func (st *opStorage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	db, err := st.s.database()
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	app, err := loadApp(ctx, db, clientID)
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if app == nil || !app.secretOK(secret) {
		return errors.New("invalid client credentials")
	}
	return nil
}

// SetUserinfoFromScopes is empty: SetUserinfoFromRequest fills id_tokens.
func (st *opStorage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest puts the identity claims in an id_token.
func (st *opStorage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, _ []string) error {
	userID, ok := st.s.userFromSubject(req.GetSubject())
	if !ok {
		return oidc.ErrServerError().WithDescription("the request has no user")
	}
	return st.s.fillUserinfo(ctx, info, userID)
}

// SetUserinfoFromToken answers /services/oauth2/userinfo for a live access
// token.
func (st *opStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, _, _ string) error {
	row, err := st.s.opAccessToken(ctx, tokenID)
	if err != nil {
		return err
	}
	if row == nil {
		return oidc.ErrAccessDenied().WithDescription("invalid or expired access token")
	}
	return st.s.fillUserinfo(ctx, info, row.userID)
}

// SetIntrospectionFromToken answers /services/oauth2/introspect.
func (st *opStorage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, _, clientID string) error {
	row, err := st.s.opAccessToken(ctx, tokenID)
	if err != nil || row == nil {
		return err
	}
	info := &oidc.UserInfo{}
	if err := st.s.fillUserinfo(ctx, info, row.userID); err != nil {
		return err
	}
	resp.Active = true
	resp.Subject = info.Subject
	resp.Username = info.PreferredUsername
	resp.ClientID = row.clientID
	resp.Scope = oidc.SpaceDelimitedArray(strings.Fields(row.scopes))
	resp.TokenType = oidc.BearerToken
	resp.Expiration = oidc.FromTime(row.expires)
	resp.Issuer = st.s.Issuer()
	return nil
}

// GetPrivateClaimsFromScopes adds nothing to (opaque) access tokens.
func (st *opStorage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID refuses: devcrm's JWT bearer grant has its own
// handler, and apps do not authenticate with private_key_jwt.
func (st *opStorage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("private_key_jwt is not supported: use client_secret_basic or client_secret_post")
}

// ValidateJWTProfileScopes keeps the scopes (the grant is not routed to the
// provider).
func (st *opStorage) ValidateJWTProfileScopes(_ context.Context, _ string, scopes []string) ([]string, error) {
	return scopes, nil
}

// Health pings the database.
func (st *opStorage) Health(ctx context.Context) error {
	db, err := st.s.database()
	if err != nil {
		return err
	}
	return db.PingContext(ctx)
}

// opTokenRow is one of the provider's live access tokens.
type opTokenRow struct {
	userID, clientID, scopes string
	expires                  time.Time
}

func (s *Server) opAccessToken(ctx context.Context, tokenID string) (*opTokenRow, error) {
	db, err := s.database()
	if err != nil {
		return nil, err
	}
	row := &opTokenRow{}
	var exp int64
	err = db.QueryRowContext(ctx, `SELECT t.user_id, t.client_id, t.scopes, t.expires_at FROM access_token t JOIN "User" u ON u."Id" = t.user_id
		WHERE t.token_hash = ? AND t.expires_at > ? AND u."IsActive" = 1`, auth.HashToken(opTokenPrefix+tokenID), s.now().UnixMilli()).
		Scan(&row.userID, &row.clientID, &row.scopes, &exp)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up access token: %w", err)
	}
	row.expires = time.UnixMilli(exp)
	return row, nil
}

// fillUserinfo sets the identity claims Salesforce's userinfo has: sub (the
// identity URL), preferred_username (the Username), name, given_name,
// family_name, email, email_verified, user_id, organization_id, active and
// user_type.
func (s *Server) fillUserinfo(ctx context.Context, info *oidc.UserInfo, userID string) error {
	db, err := s.database()
	if err != nil {
		return err
	}
	u, err := getRecord(ctx, db, objectByName(objUser), userID)
	if err != nil {
		return fmt.Errorf("load user %s: %w", userID, err)
	}
	if u == nil || u["IsActive"] != true {
		return oidc.ErrAccessDenied().WithDescription("inactive user")
	}
	info.Subject = s.identityURL(userID)
	info.PreferredUsername = text(u["Username"])
	info.Name = text(u["Name"])
	info.GivenName = text(u["FirstName"])
	info.FamilyName = text(u["LastName"])
	info.Email = text(u["Email"])
	info.EmailVerified = oidc.Bool(true)
	info.AppendClaims("user_id", userID)
	info.AppendClaims("organization_id", s.OrgID())
	info.AppendClaims("active", true)
	info.AppendClaims("user_type", "STANDARD")
	return nil
}
