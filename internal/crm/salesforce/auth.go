package salesforce

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-cc/parley/internal/cc"
)

// assertionLifetime is how long a JWT bearer assertion is valid.
const assertionLifetime = 3 * time.Minute

// token is an access token and the instance it is valid for.
type token struct {
	accessToken string
	instanceURL string // without a trailing slash
}

// authenticator builds the form of a token request.
type authenticator interface {
	// grant returns the token request form and the grant's name for logs.
	grant() (url.Values, error)
	name() string
}

// newAuthenticator picks the JWT bearer flow when the connection has a
// private key, else the client credentials grant.
func newAuthenticator(conn cc.CRMConnection, loginURL string, now cc.Clock) (authenticator, error) {
	if len(conn.PrivateKey) > 0 {
		key, err := jwt.ParseRSAPrivateKeyFromPEM(conn.PrivateKey)
		if err != nil {
			return nil, cc.Errorf(cc.EINVALID, "CRM private key: give an unencrypted PEM RSA private key (PKCS #1 or PKCS #8): %v", err)
		}
		return &jwtBearer{clientID: conn.ClientID, username: conn.Username, audience: loginURL, key: key, now: now}, nil
	}
	return &clientCredentials{clientID: conn.ClientID, secret: string(conn.ClientSecret)}, nil
}

// jwtBearer is the OAuth 2.0 JWT bearer flow for an integration user.
type jwtBearer struct {
	clientID, username, audience string
	key                          *rsa.PrivateKey
	now                          cc.Clock
}

func (j *jwtBearer) name() string { return "jwt-bearer" }

func (j *jwtBearer) grant() (url.Values, error) {
	// MapClaims keeps "aud" a plain string, as Salesforce's examples send it.
	claims := jwt.MapClaims{
		"iss": j.clientID,
		"sub": j.username,
		"aud": j.audience,
		"exp": j.now().Add(assertionLifetime).Unix(),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(j.key)
	if err != nil {
		return nil, cc.WrapError(cc.EINTERNAL, err, "cannot sign the Salesforce JWT assertion")
	}
	return url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"assertion":  {signed},
	}, nil
}

// clientCredentials is the OAuth 2.0 client credentials grant.
type clientCredentials struct {
	clientID, secret string
}

func (c *clientCredentials) name() string { return "client-credentials" }

func (c *clientCredentials) grant() (url.Values, error) {
	return url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {c.clientID},
		"client_secret": {c.secret},
	}, nil
}

// tokenResponse is the token endpoint's answer. Salesforce sends no
// expires_in: a 401 is the expiry signal.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	InstanceURL string `json:"instance_url"`
	ID          string `json:"id"`
	TokenType   string `json:"token_type"`
}

// token returns the cached token, signing in when there is none. When stale
// is the token a request was just refused with, it is dropped and a new one
// fetched, unless another goroutine already replaced it.
func (c *Client) token(ctx context.Context, stale *token) (*token, error) {
	select {
	case c.authSem <- struct{}{}:
	case <-ctx.Done():
		return nil, cc.WrapError(cc.EUNAVAILABLE, ctx.Err(), "gave up waiting for the Salesforce sign-in")
	}
	defer func() { <-c.authSem }()
	c.mu.Lock()
	cur := c.tok
	c.mu.Unlock()
	if cur != nil && cur != stale {
		return cur, nil
	}
	tok, err := c.authenticate(ctx)
	c.mu.Lock()
	c.tok = tok // nil on failure: the next call signs in again
	c.mu.Unlock()
	return tok, err
}

// authenticate asks the token endpoint for a new access token.
func (c *Client) authenticate(ctx context.Context) (*token, error) {
	form, err := c.auth.grant()
	if err != nil {
		return nil, err
	}
	header := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	resp, err := c.roundTrip(ctx, http.MethodPost, c.loginURL+"/services/oauth2/token", header, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusOK {
		return nil, c.fail(parseAPIError(resp.status, resp.body), resp.header)
	}
	var tr tokenResponse
	if err := json.Unmarshal(resp.body, &tr); err != nil {
		return nil, cc.WrapError(cc.EUNAVAILABLE, err, "the Salesforce token endpoint sent an answer Parley cannot read")
	}
	if tr.AccessToken == "" {
		return nil, cc.Errorf(cc.EUNAVAILABLE, "the Salesforce token endpoint sent no access token")
	}
	u, err := url.Parse(tr.InstanceURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, cc.Errorf(cc.EUNAVAILABLE, "the Salesforce token endpoint sent instance_url %q, which is not an absolute http(s) URL", tr.InstanceURL)
	}
	c.log.Info("signed in to salesforce", "grant", c.auth.name(), "instance", u.Host)
	return &token{accessToken: tr.AccessToken, instanceURL: strings.TrimRight(tr.InstanceURL, "/")}, nil
}
