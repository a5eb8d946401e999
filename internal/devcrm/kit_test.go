package devcrm

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Seed records the tests refer to.
const (
	janeID15     = "003gK0Con000001"
	janeID       = "003gK0Con000001QCA"
	acmeID       = "001gK0Acc000001QCA"
	samLeadID    = "00QgK0Led000001UCA"
	integration  = "integration@devcrm.example.com"
	integrationU = "005gK0Usr000002QCA"
	testClientID = "3MVG9devcrmTestJWT"
	secretClient = "3MVG9devcrmTestSecret"
	testSecret   = "devcrm-test-secret"
)

// testStart is the fake clock's start.
var testStart = time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)

var (
	testKey  = sync.OnceValue(func() *rsa.PrivateKey { return mustKey() })
	otherKey = sync.OnceValue(func() *rsa.PrivateKey { return mustKey() })
)

func mustKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

func publicKeyPEM(t testing.TB, k *rsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// fakeClock is a clock the tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is a started server with the default seed, a JWT app and a client
// credentials app registered, and an access token for the integration user.
type env struct {
	t     testing.TB
	cfg   Config
	srv   *Server
	clock *fakeClock
	token string
}

func newEnv(t testing.TB, mutate ...func(*Config)) *env {
	t.Helper()
	return newEnvAs(t, integration, mutate...)
}

// newEnvAs is newEnv with the token for another user.
func newEnvAs(t testing.TB, username string, mutate ...func(*Config)) *env {
	t.Helper()
	clock := &fakeClock{now: testStart}
	cfg := Config{Addr: "127.0.0.1:0", DBPath: filepath.Join(t.TempDir(), "devcrm.db"), Clock: clock.Now}
	for _, m := range mutate {
		m(&cfg)
	}
	e := &env{t: t, cfg: cfg, clock: clock}
	e.start()
	t.Cleanup(func() {
		if err := e.srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	ctx := context.Background()
	if err := e.srv.RegisterApp(ctx, App{ClientID: testClientID, PublicKeyPEM: publicKeyPEM(t, testKey())}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.RegisterApp(ctx, App{ClientID: secretClient, ClientSecret: testSecret, RunAsUsername: username}); err != nil {
		t.Fatal(err)
	}
	claims := e.claims()
	claims["sub"] = username
	status, body := e.tokenRequest(url.Values{"grant_type": {grantJWTBearer}, "assertion": {e.assertion(claims)}})
	if status != http.StatusOK {
		t.Fatalf("token request: %d %v", status, body)
	}
	e.token = body["access_token"].(string)
	return e
}

func (e *env) start() {
	e.t.Helper()
	srv, err := New(e.cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.srv = srv
}

// restart closes the server and starts a new one on the same database.
func (e *env) restart() {
	e.t.Helper()
	if err := e.srv.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.start()
}

// claims returns valid JWT bearer claims for the integration user.
func (e *env) claims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss": testClientID,
		"sub": integration,
		"aud": e.srv.URL(),
		"exp": e.clock.Now().Add(3 * time.Minute).Unix(),
	}
}

// assertion signs claims RS256 with the registered key.
func (e *env) assertion(claims jwt.MapClaims) string {
	return signJWT(e.t, jwt.SigningMethodRS256, claims, testKey())
}

func signJWT(t testing.TB, method jwt.SigningMethod, claims jwt.MapClaims, key any) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tokenRequest posts a form to the token endpoint.
func (e *env) tokenRequest(form url.Values) (int, map[string]any) {
	e.t.Helper()
	resp, err := http.PostForm(e.srv.URL()+"/services/oauth2/token", form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		e.t.Fatalf("token response: %v", err)
	}
	return resp.StatusCode, body
}

// response is a REST response.
type response struct {
	status int
	header http.Header
	body   []byte
}

// decode unmarshals the body.
func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response %d %s: %v", r.status, r.body, err)
	}
}

// errs returns the body as a Salesforce error array.
func (r response) errs(t testing.TB) []apiError {
	t.Helper()
	var out []apiError
	r.decode(t, &out)
	return out
}

// request sends a request with the env's token. A string body is sent as
// is; anything else as JSON.
func (e *env) request(method, path string, body any, header ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.srv.URL()+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// getQ GETs /query or /search with q and decodes the 200 answer into out.
func (e *env) getQ(resource, q string, out any) {
	e.t.Helper()
	r := e.request(http.MethodGet, "/services/data/v62.0/"+resource+"/?q="+url.QueryEscape(q), nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("%s %q: %d %s", resource, q, r.status, r.body)
	}
	r.decode(e.t, out)
}

// query runs SOQL and returns the records.
func (e *env) query(soql string) []map[string]any {
	e.t.Helper()
	var out struct {
		TotalSize int              `json:"totalSize"`
		Done      bool             `json:"done"`
		Records   []map[string]any `json:"records"`
	}
	e.getQ("query", soql, &out)
	if !out.Done || out.TotalSize != len(out.Records) {
		e.t.Fatalf("query %q: totalSize %d, done %v, %d records", soql, out.TotalSize, out.Done, len(out.Records))
	}
	return out.Records
}

// search runs SOSL and returns the records.
func (e *env) search(sosl string) []map[string]any {
	e.t.Helper()
	var out struct {
		SearchRecords []map[string]any `json:"searchRecords"`
	}
	e.getQ("search", sosl, &out)
	return out.SearchRecords
}

// create creates a record and returns its Id.
func (e *env) create(object string, fields map[string]any) string {
	e.t.Helper()
	r := e.request(http.MethodPost, "/services/data/v62.0/sobjects/"+object+"/", fields)
	if r.status != http.StatusCreated {
		e.t.Fatalf("create %s: %d %s", object, r.status, r.body)
	}
	var out struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
	}
	r.decode(e.t, &out)
	if !out.Success || len(out.ID) != 18 {
		e.t.Fatalf("create %s: %s", object, r.body)
	}
	return out.ID
}

func writeFile(t testing.TB, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
