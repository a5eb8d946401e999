package devcrm

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parley-cc/parley/internal/cc"
)

func TestJWTBearer(t *testing.T) {
	e := newEnv(t)
	status, body := e.tokenRequest(url.Values{"grant_type": {grantJWTBearer}, "assertion": {e.assertion(e.claims())}})
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, body)
	}
	token, _ := body["access_token"].(string)
	org := e.srv.OrgID()
	if !strings.HasPrefix(token, org[:15]+"!") || len(token) < 40 {
		t.Errorf("access_token %q, want the org's 15-character Id, '!' and a random part", token)
	}
	for k, want := range map[string]any{
		"instance_url": e.srv.URL(),
		"id":           e.srv.URL() + "/id/" + org + "/" + integrationU,
		"token_type":   "Bearer",
		"issued_at":    strconv.FormatInt(testStart.UnixMilli(), 10),
		"scope":        "api",
	} {
		if body[k] != want {
			t.Errorf("%s = %v, want %v", k, body[k], want)
		}
	}
	if _, ok := body["refresh_token"]; ok {
		t.Error("the JWT bearer grant gave a refresh token")
	}
	e.token = token
	if r := e.request(http.MethodGet, "/services/data/v62.0/limits", nil); r.status != http.StatusOK {
		t.Errorf("the new token does not work: %d %s", r.status, r.body)
	}

	// The token is stored as its hash only.
	db, _ := e.srv.database()
	var stored string
	if err := db.QueryRow(`SELECT token_hash FROM access_token WHERE token_hash = ?`, token).Scan(&stored); err == nil {
		t.Error("the access token is stored in the clear")
	}
}

func TestJWTBearerRejections(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Audience = "https://login.salesforce.com" })
	with := func(k string, v any) jwt.MapClaims {
		c := e.claims()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	now := e.clock.Now()
	tests := []struct {
		name      string
		assertion string
		code      string
		desc      string
	}{
		{"bad signature", signJWT(t, jwt.SigningMethodRS256, e.claims(), otherKey()), "invalid_grant", "invalid assertion"},
		{"HMAC instead of RSA", signJWT(t, jwt.SigningMethodHS256, e.claims(), publicKeyPEM(t, testKey())), "invalid_grant", "invalid assertion"},
		{"not a JWT", "not.a.jwt", "invalid_grant", "invalid assertion"},
		{"no assertion", "", "invalid_grant", "invalid assertion"},
		{"wrong iss", e.assertion(with("iss", "3MVG9unknown")), "invalid_client_id", "client identifier invalid"},
		{"iss of an app without a key", e.assertion(with("iss", secretClient)), "invalid_grant", "invalid assertion"},
		{"unknown sub", e.assertion(with("sub", "nobody@devcrm.example.com")), "invalid_grant", "user hasn't approved this consumer"},
		{"expired", e.assertion(with("exp", now.Add(-time.Second).Unix())), "invalid_grant", "expired authorization code"},
		{"exp is now", e.assertion(with("exp", now.Unix())), "invalid_grant", "expired authorization code"},
		{"exp too far ahead", e.assertion(with("exp", now.Add(5*time.Minute+time.Second).Unix())), "invalid_grant", "invalid assertion"},
		{"no exp", e.assertion(with("exp", nil)), "invalid_grant", "invalid assertion"},
		{"not yet valid", e.assertion(with("nbf", now.Add(time.Minute).Unix())), "invalid_grant", "invalid assertion"},
		{"wrong aud", e.assertion(with("aud", "https://test.salesforce.com")), "invalid_grant", "audience is invalid"},
		{"no aud", e.assertion(with("aud", nil)), "invalid_grant", "audience is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.tokenRequest(url.Values{"grant_type": {grantJWTBearer}, "assertion": {tt.assertion}})
			if status != http.StatusBadRequest || body["error"] != tt.code || body["error_description"] != tt.desc {
				t.Errorf("%d %v, want 400 %s %q", status, body, tt.code, tt.desc)
			}
			if _, ok := body["access_token"]; ok {
				t.Error("an access token came with the error")
			}
		})
	}

	// The limits of what is accepted.
	for name, claims := range map[string]jwt.MapClaims{
		"exp exactly 5 minutes ahead": with("exp", now.Add(5*time.Minute).Unix()),
		"configured audience":         with("aud", "https://login.salesforce.com"),
		"audience list":               with("aud", []string{"https://elsewhere.example", e.srv.URL() + "/"}),
		"username in another case":    with("sub", strings.ToUpper(integration)),
	} {
		if status, body := e.tokenRequest(url.Values{"grant_type": {grantJWTBearer}, "assertion": {e.assertion(claims)}}); status != http.StatusOK {
			t.Errorf("%s: %d %v, want a token", name, status, body)
		}
	}
}

func TestUnsupportedGrant(t *testing.T) {
	e := newEnv(t)
	for _, grant := range []string{"password", "urn:ietf:params:oauth:grant-type:device_code", ""} {
		status, body := e.tokenRequest(url.Values{"grant_type": {grant}})
		if status != http.StatusBadRequest || body["error"] != "unsupported_grant_type" || body["error_description"] != "grant type not supported" {
			t.Errorf("grant %q: %d %v", grant, status, body)
		}
	}
}

func TestClientCredentials(t *testing.T) {
	e := newEnv(t)
	status, body := e.tokenRequest(url.Values{"grant_type": {"client_credentials"}, "client_id": {secretClient}, "client_secret": {testSecret}})
	if status != http.StatusOK {
		t.Fatalf("form credentials: %d %v", status, body)
	}
	id, issued := body["id"].(string), body["issued_at"].(string)
	if !strings.HasSuffix(id, "/"+integrationU) {
		t.Errorf("id %q, want the run-as user", id)
	}
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write([]byte(id + issued))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); body["signature"] != want {
		t.Errorf("signature %v, want %s", body["signature"], want)
	}

	// HTTP Basic.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL()+"/services/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(secretClient, testSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("basic credentials: %d", resp.StatusCode)
	}

	ctx := context.Background()
	if err := e.srv.RegisterApp(ctx, App{ClientID: "3MVG9noRunAs", ClientSecret: "s"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		id, secret, code, desc string
	}{
		{secretClient, "wrong", "invalid_client", "invalid client credentials"},
		{secretClient, "", "invalid_client", "invalid client credentials"},
		{testClientID, "anything", "invalid_client", "invalid client credentials"}, // a JWT-only app
		{"3MVG9unknown", testSecret, "invalid_client_id", "client identifier invalid"},
		{"3MVG9noRunAs", "s", "invalid_grant", "no client credentials user enabled"},
	} {
		status, body := e.tokenRequest(url.Values{"grant_type": {"client_credentials"}, "client_id": {tt.id}, "client_secret": {tt.secret}})
		if status != http.StatusBadRequest || body["error"] != tt.code || body["error_description"] != tt.desc {
			t.Errorf("%s/%s: %d %v, want %s %q", tt.id, tt.secret, status, body, tt.code, tt.desc)
		}
	}
}

func TestTokenExpiry(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.TokenTTL = time.Hour })
	e.clock.Advance(time.Hour - time.Second)
	if r := e.request(http.MethodGet, "/services/data/v62.0/limits", nil); r.status != http.StatusOK {
		t.Fatalf("before expiry: %d", r.status)
	}
	e.clock.Advance(time.Second)
	r := e.request(http.MethodGet, "/services/data/v62.0/limits", nil)
	if r.status != http.StatusUnauthorized || r.errs(t)[0].Code != codeInvalidSession {
		t.Errorf("after expiry: %d %s, want 401 INVALID_SESSION_ID", r.status, r.body)
	}
}

func TestRegisterApp(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	priv := testKey()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "parley"}, NotBefore: testStart, NotAfter: testStart.AddDate(1, 0, 0)}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER})
	pkcs1PEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&priv.PublicKey)})
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)})
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER})

	for _, pemBytes := range [][]byte{certPEM, pkcs1PEM} {
		// Re-registering replaces the app: the certificate, then the PKCS #1 key.
		if err := e.srv.RegisterApp(ctx, App{ClientID: testClientID, PublicKeyPEM: pemBytes}); err != nil {
			t.Fatal(err)
		}
		if status, body := e.tokenRequest(url.Values{"grant_type": {grantJWTBearer}, "assertion": {e.assertion(e.claims())}}); status != http.StatusOK {
			t.Errorf("token with the re-registered key: %d %v", status, body)
		}
	}
	for name, app := range map[string]App{
		"no client id":   {PublicKeyPEM: certPEM},
		"spaces in id":   {ClientID: "a b", PublicKeyPEM: certPEM},
		"no credentials": {ClientID: "x"},
		"private key":    {ClientID: "x", PublicKeyPEM: privPEM},
		"not PEM":        {ClientID: "x", PublicKeyPEM: []byte("ssh-rsa AAAA")},
		"EC key":         {ClientID: "x", PublicKeyPEM: ecPEM},
		"broken cert":    {ClientID: "x", PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")})},
		"unknown run-as": {ClientID: "x", ClientSecret: "s", RunAsUsername: "nobody@devcrm.example.com"},
	} {
		if err := e.srv.RegisterApp(ctx, app); cc.ErrorCode(err) != cc.EINVALID || cc.ErrorMessage(err) == "internal error" {
			t.Errorf("%s: %v, want EINVALID with a message", name, err)
		}
	}
}

func TestInactiveUser(t *testing.T) {
	e := newEnv(t)
	db, _ := e.srv.database()
	if _, err := db.Exec(`UPDATE "User" SET "IsActive" = 0 WHERE "Username" = ?`, integration); err != nil {
		t.Fatal(err)
	}
	if r := e.request(http.MethodGet, "/services/data/v62.0/limits", nil); r.status != http.StatusUnauthorized {
		t.Errorf("a deactivated user's token: %d, want 401", r.status)
	}
	if status, body := e.tokenRequest(url.Values{"grant_type": {grantJWTBearer}, "assertion": {e.assertion(e.claims())}}); status != 400 || body["error_description"] != "inactive user" {
		t.Errorf("JWT for an inactive user: %d %v", status, body)
	}
	if status, body := e.tokenRequest(url.Values{"grant_type": {"client_credentials"}, "client_id": {secretClient}, "client_secret": {testSecret}}); status != 400 || body["error_description"] != "inactive user" {
		t.Errorf("client credentials for an inactive user: %d %v", status, body)
	}
}
