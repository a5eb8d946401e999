package salesforce

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-cc/parley/internal/cc"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testNow is the fixed time of the test clients.
var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testKey is an RSA key made once per test binary; no key is stored.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func testKeyPEM(t testing.TB) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(testKey())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

const (
	testClientID = "3MVG9parleyTestConsumerKey"
	testUsername = "integration@parley.example"
	testSecret   = "s3cret-client-secret"
)

// fakeOrg is a Salesforce org on two httptest servers: the login host (the
// OAuth token endpoint) and the instance (REST), as a real org has. It
// records every request it receives in a readable form for golden files.
type fakeOrg struct {
	t        testing.TB
	Login    *httptest.Server
	Instance *httptest.Server

	mu        sync.Mutex
	requests  []string
	tokens    int             // tokens issued
	valid     map[string]bool // tokens the instance accepts
	limitInfo string          // Sforce-Limit-Info sent on REST answers
	// token, when set, answers the token endpoint instead of the default.
	token http.HandlerFunc
	// rest answers authorised REST requests.
	rest http.HandlerFunc
}

func newFakeOrg(t testing.TB) *fakeOrg {
	t.Helper()
	o := &fakeOrg{t: t, valid: map[string]bool{}, limitInfo: "api-usage=18/15000"}
	o.Login = httptest.NewServer(http.HandlerFunc(o.serveLogin))
	o.Instance = httptest.NewServer(http.HandlerFunc(o.serveInstance))
	t.Cleanup(o.Login.Close)
	t.Cleanup(o.Instance.Close)
	return o
}

// conn returns a JWT bearer connection to the org.
func (o *fakeOrg) conn() cc.CRMConnection {
	return cc.CRMConnection{
		Kind:        "salesforce",
		LoginURL:    o.Login.URL,
		ClientID:    testClientID,
		Username:    testUsername,
		PrivateKey:  testKeyPEM(o.t),
		LogCapBytes: cc.DefaultLogCapBytes,
	}
}

// client returns a JWT bearer client of the org with a fixed clock.
func (o *fakeOrg) client(opts ...func(*cc.CRMConnection)) *Client {
	o.t.Helper()
	conn := o.conn()
	for _, f := range opts {
		f(&conn)
	}
	c, err := NewClient(conn, "US", Options{Clock: func() time.Time { return testNow }, Logger: testLogger(o.t)})
	if err != nil {
		o.t.Fatalf("NewClient: %v", err)
	}
	c.syncBackoff = time.Millisecond
	return c
}

// expireSessions makes the instance refuse every token issued so far.
func (o *fakeOrg) expireSessions() {
	o.mu.Lock()
	o.valid = map[string]bool{}
	o.mu.Unlock()
}

// tokenCount returns how many tokens the org issued.
func (o *fakeOrg) tokenCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.tokens
}

// recorded returns the requests received so far, rendered.
func (o *fakeOrg) recorded() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.requests)
}

// count returns how many recorded requests start with prefix, such as
// "GET /services/data/v62.0/search/".
func (o *fakeOrg) count(prefix string) int {
	n := 0
	for _, r := range o.recorded() {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

func (o *fakeOrg) serveLogin(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	o.record(r, body)
	o.mu.Lock()
	custom := o.token
	o.mu.Unlock()
	if custom != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		custom(w, r)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/services/oauth2/token" {
		http.NotFound(w, r)
		return
	}
	form, _ := url.ParseQuery(string(body))
	switch form.Get("grant_type") {
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		if _, err := verifyAssertion(form.Get("assertion"), o.Login.URL); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "invalid assertion: " + err.Error()})
			return
		}
	case "client_credentials":
		if form.Get("client_id") != testClientID || form.Get("client_secret") != testSecret {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client", "error_description": "invalid client credentials"})
			return
		}
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "grant type not supported"})
		return
	}
	o.mu.Lock()
	o.tokens++
	tok := fmt.Sprintf("00Dfake!tok-%d", o.tokens)
	o.valid[tok] = true
	o.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{
		"access_token": tok,
		"instance_url": o.Instance.URL,
		"id":           o.Login.URL + "/id/00Dxx0000001gPLEA0/005xx000001SwiUAAS",
		"token_type":   "Bearer",
		"issued_at":    "1767323045000",
		"scope":        "api",
	})
}

func (o *fakeOrg) serveInstance(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	o.record(r, body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	o.mu.Lock()
	ok := o.valid[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	rest, info := o.rest, o.limitInfo
	o.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusUnauthorized, []ErrorItem{{Message: "Session expired or invalid", ErrorCode: "INVALID_SESSION_ID"}})
		return
	}
	if info != "" {
		w.Header().Set("Sforce-Limit-Info", info)
	}
	if rest == nil {
		writeJSON(w, http.StatusNotFound, []ErrorItem{{Message: "The requested resource does not exist", ErrorCode: "NOT_FOUND"}})
		return
	}
	rest(w, r)
}

// record renders a request: method, path, the decoded q parameter, the
// headers that matter and the body (JSON indented, forms one field a line,
// JWT assertions decoded).
func (o *fakeOrg) record(r *http.Request, body []byte) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL.Path)
	if r.URL.RawQuery != "" {
		fmt.Fprintf(&b, "raw query: %s\n", r.URL.RawQuery)
		for _, q := range r.URL.Query()["q"] {
			fmt.Fprintf(&b, "q: %s\n", q)
		}
	}
	for _, h := range []string{"Authorization", "Content-Type", "Accept"} {
		if v := r.Header.Get(h); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", h, v)
		}
	}
	switch {
	case strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		form, _ := url.ParseQuery(string(body))
		keys := make([]string, 0, len(form))
		for k := range form {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v := form.Get(k)
			if k == "assertion" {
				claims, err := verifyAssertion(v, o.Login.URL)
				if err != nil {
					v = "INVALID: " + err.Error()
				} else {
					v = "RS256 JWT, signature valid, claims " + claims
				}
			}
			fmt.Fprintf(&b, "%s=%s\n", k, v)
		}
	case len(body) > 0:
		var v any
		if json.Unmarshal(body, &v) == nil {
			ind, _ := json.MarshalIndent(v, "", "  ")
			body = ind
		}
		b.Write(body)
		b.WriteString("\n")
	}
	// The servers' ports change from run to run.
	text := strings.ReplaceAll(b.String(), o.Login.URL, "{login_url}")
	text = strings.ReplaceAll(text, o.Instance.URL, "{instance_url}")
	o.mu.Lock()
	o.requests = append(o.requests, text)
	o.mu.Unlock()
}

// verifyAssertion checks a JWT bearer assertion as Salesforce does and
// returns its claims as JSON.
func verifyAssertion(assertion, audience string) (string, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(assertion, claims, func(tok *jwt.Token) (any, error) {
		return &testKey().PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return testNow }),
		jwt.WithAudience(audience), jwt.WithIssuer(testClientID), jwt.WithSubject(testUsername), jwt.WithExpirationRequired())
	if err != nil {
		return "", err
	}
	b, _ := json.Marshal(claims)
	return string(b), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// golden compares got with testdata/name.golden, rewriting it with -update.
func golden(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if string(want) != got {
		t.Errorf("requests differ from %s (run go test -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// testLogger writes the client's logs to the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// logBuffer collects log output for assertions; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
