package salesforce

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// limitsOK answers the limits resource.
func limitsOK(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path != "/services/data/v62.0/limits/" {
		writeJSON(w, http.StatusNotFound, []ErrorItem{{Message: "The requested resource does not exist", ErrorCode: "NOT_FOUND"}})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"DailyApiRequests":{"Max":15000,"Remaining":14982,"Parley":{"Max":0,"Remaining":0}},"DailyBulkApiBatches":{"Max":15000,"Remaining":15000}}`))
}

func TestNewClientValidates(t *testing.T) {
	o := newFakeOrg(t)
	cases := []struct {
		name   string
		change func(*cc.CRMConnection)
		region string
		want   string // substring of the message; "" means valid
	}{
		{"jwt bearer", func(*cc.CRMConnection) {}, "US", ""},
		{"client credentials", func(c *cc.CRMConnection) { c.PrivateKey, c.Username, c.ClientSecret = nil, "", []byte(testSecret) }, "GB", ""},
		{"unnormalised log cap", func(c *cc.CRMConnection) { c.LogCapBytes = 0 }, "US", ""},
		{"lowercase region", func(*cc.CRMConnection) {}, "ch", ""},
		{"no kind", func(c *cc.CRMConnection) { c.Kind = "" }, "US", "needs kind salesforce"},
		{"other kind", func(c *cc.CRMConnection) { c.Kind = "hubspot" }, "US", "CRM kind"},
		{"relative login URL", func(c *cc.CRMConnection) { c.LoginURL = "login.salesforce.com" }, "US", "login URL"},
		{"bad version", func(c *cc.CRMConnection) { c.APIVersion = "v62" }, "US", "API version"},
		{"no client id", func(c *cc.CRMConnection) { c.ClientID = "" }, "US", "client id"},
		{"no credentials", func(c *cc.CRMConnection) { c.PrivateKey = nil }, "US", "credentials missing"},
		{"key without user", func(c *cc.CRMConnection) { c.Username = "" }, "US", "username"},
		{"key not PEM", func(c *cc.CRMConnection) { c.PrivateKey = []byte("not a key") }, "US", "private key"},
		{"no region", func(*cc.CRMConnection) {}, "", "phone region"},
		{"long region", func(*cc.CRMConnection) {}, "USA", "phone region"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := o.conn()
			tc.change(&conn)
			c, err := NewClient(conn, tc.region, Options{})
			if tc.want == "" {
				if err != nil || c == nil {
					t.Fatalf("NewClient = %v, %v; want a client", c, err)
				}
				return
			}
			if cc.ErrorCode(err) != cc.EINVALID || !strings.Contains(cc.ErrorMessage(err), tc.want) {
				t.Fatalf("NewClient error = %v (code %q); want EINVALID mentioning %q", err, cc.ErrorCode(err), tc.want)
			}
		})
	}
}

func TestJWTBearerSignIn(t *testing.T) {
	o := newFakeOrg(t)
	o.rest = limitsOK
	c := o.client()
	limits, err := c.Limits(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := limits["DailyApiRequests"]; got != (Limit{Max: 15000, Remaining: 14982}) {
		t.Errorf("DailyApiRequests = %+v", got)
	}
	if c.APIVersion() != DefaultAPIVersion {
		t.Errorf("APIVersion = %q", c.APIVersion())
	}
	// The token request goes to the login host, the REST call to the
	// instance_url of the answer (the fake serves them on different ports).
	golden(t, "jwt_bearer", strings.Join(o.recorded(), "\n"))
}

func TestClientCredentialsSignIn(t *testing.T) {
	o := newFakeOrg(t)
	o.rest = limitsOK
	c := o.client(func(conn *cc.CRMConnection) {
		conn.PrivateKey, conn.Username, conn.ClientSecret = nil, "", []byte(testSecret)
		conn.APIVersion = "64.0"
	})
	o.rest = func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/services/data/v64.0/limits/" {
			t.Errorf("path %s; want the pinned version 64.0", r.URL.Path)
		}
		writeJSON(w, http.StatusOK, map[string]Limit{"DailyApiRequests": {Max: 5, Remaining: 4}})
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	golden(t, "client_credentials", strings.Join(o.recorded(), "\n"))
}

func TestTokenIsCachedAndRefreshedOnceOn401(t *testing.T) {
	o := newFakeOrg(t)
	o.rest = limitsOK
	c := o.client()
	ctx := context.Background()
	for range 3 {
		if err := c.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := o.tokenCount(); n != 1 {
		t.Fatalf("signed in %d times for 3 calls; want 1", n)
	}
	o.expireSessions()
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping after session expiry: %v", err)
	}
	if n := o.tokenCount(); n != 2 {
		t.Fatalf("signed in %d times; want 2 (once more after the 401)", n)
	}
	if n := o.count("GET /services/data/v62.0/limits/"); n != 5 {
		t.Errorf("%d limits requests; want 5 (3, then the refused one and its retry)", n)
	}
}

func TestSecond401IsAnError(t *testing.T) {
	o := newFakeOrg(t)
	c := o.client()
	o.rest = func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusUnauthorized, []ErrorItem{{Message: "Session expired or invalid", ErrorCode: "INVALID_SESSION_ID"}})
	}
	err := c.Ping(context.Background())
	if cc.ErrorCode(err) != cc.EUNAUTHORIZED {
		t.Fatalf("Ping error = %v; want EUNAUTHORIZED", err)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 401 || ae.Code() != "INVALID_SESSION_ID" {
		t.Fatalf("APIError = %+v; want 401 INVALID_SESSION_ID", ae)
	}
	if n := o.count("GET "); n != 2 {
		t.Errorf("%d REST attempts; want 2 (the call and one retry)", n)
	}
	if n := o.tokenCount(); n != 2 {
		t.Errorf("signed in %d times; want 2", n)
	}
	var ra cc.RetryAfter
	if errors.As(err, &ra) {
		t.Errorf("a refused session carries a retry delay (%v); want none", ra.RetryAfter())
	}
}

func TestConcurrent401SignsInOnce(t *testing.T) {
	o := newFakeOrg(t)
	o.rest = limitsOK
	c := o.client()
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	o.expireSessions()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- c.Ping(ctx) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := o.tokenCount(); n != 2 {
		t.Errorf("signed in %d times; want 2: concurrent 401s on one token share one sign-in", n)
	}
}

func TestSignInErrors(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		body     string
		code     string
		sfCode   string
		retrying bool
	}{
		{"not pre-authorised", 400, `{"error":"invalid_grant","error_description":"user hasn't approved this consumer"}`, cc.EUNAUTHORIZED, "invalid_grant", false},
		{"bad consumer key", 400, `{"error":"invalid_client_id","error_description":"client identifier invalid"}`, cc.EUNAUTHORIZED, "invalid_client_id", false},
		{"inactive user", 400, `{"error":"inactive_user","error_description":"user is inactive"}`, cc.EFORBIDDEN, "inactive_user", false},
		{"flow not allowed", 400, `{"error":"unsupported_grant_type","error_description":"grant type not supported"}`, cc.EFORBIDDEN, "unsupported_grant_type", false},
		{"login down", 503, `<html><body>Service Unavailable</body></html>`, cc.EUNAVAILABLE, "", true},
		{"no instance url", 200, `{"access_token":"x","token_type":"Bearer"}`, cc.EUNAVAILABLE, "", false},
		{"relative instance url", 200, `{"access_token":"x","instance_url":"/na1"}`, cc.EUNAVAILABLE, "", false},
		{"no token", 200, `{"instance_url":"https://x.example"}`, cc.EUNAVAILABLE, "", false},
		{"not json", 200, `<html>`, cc.EUNAVAILABLE, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := newFakeOrg(t)
			o.token = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}
			c := o.client()
			err := c.Ping(context.Background())
			if cc.ErrorCode(err) != tc.code {
				t.Fatalf("error = %v (code %q); want %q", err, cc.ErrorCode(err), tc.code)
			}
			var ae *APIError
			if tc.sfCode != "" && (!errors.As(err, &ae) || ae.Code() != tc.sfCode) {
				t.Errorf("APIError = %+v; want code %s", ae, tc.sfCode)
			}
			var ra cc.RetryAfter
			if errors.As(err, &ra) != tc.retrying {
				t.Errorf("retry delay present = %v; want %v", !tc.retrying, tc.retrying)
			}
			// A failed sign-in is not cached: the next call tries again.
			_ = c.Ping(context.Background())
			if n := o.count("POST /services/oauth2/token"); n != 2 {
				t.Errorf("%d sign-in attempts for 2 calls; want 2", n)
			}
		})
	}
}

func TestErrorTable(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		code    string
		sfCode  string
		minWait time.Duration // 0: no retry delay expected
		maxWait time.Duration
	}{
		{"malformed search", 400, nil, `[{"message":"unexpected token: 'RETURNING'","errorCode":"MALFORMED_SEARCH"}]`, cc.EINVALID, "MALFORMED_SEARCH", 0, 0},
		{"malformed query", 400, nil, `[{"message":"unexpected token: OR","errorCode":"MALFORMED_QUERY"}]`, cc.EINVALID, "MALFORMED_QUERY", 0, 0},
		{"invalid field", 400, nil, `[{"message":"No such column 'Foo'","errorCode":"INVALID_FIELD"}]`, cc.EINVALID, "INVALID_FIELD", 0, 0},
		{"string too long", 400, nil, `[{"message":"Comments: data value too large","errorCode":"STRING_TOO_LONG","fields":["Description"]}]`, cc.EINVALID, "STRING_TOO_LONG", 0, 0},
		{"who id of an account", 400, nil, `[{"message":"Name ID: id value of incorrect type: 001xx000003DGb2AAG","errorCode":"FIELD_INTEGRITY_EXCEPTION","fields":["WhoId"]}]`, cc.EINVALID, "FIELD_INTEGRITY_EXCEPTION", 0, 0},
		{"unknown 400", 400, nil, `[{"message":"something new","errorCode":"BRAND_NEW_CODE"}]`, cc.EINVALID, "BRAND_NEW_CODE", 0, 0},
		{"no access", 403, nil, `[{"message":"insufficient access rights on object id","errorCode":"INSUFFICIENT_ACCESS_OR_READONLY"}]`, cc.EFORBIDDEN, "INSUFFICIENT_ACCESS_OR_READONLY", 0, 0},
		{"daily limit", 403, nil, `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`, cc.ERATELIMIT, "REQUEST_LIMIT_EXCEEDED", 30 * time.Second, time.Minute},
		{"daily limit with retry-after", 403, map[string]string{"Retry-After": "600"}, `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`, cc.ERATELIMIT, "REQUEST_LIMIT_EXCEEDED", 10 * time.Minute, 10 * time.Minute},
		{"not found", 404, nil, `[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]`, cc.ENOTFOUND, "NOT_FOUND", 0, 0},
		{"deleted", 404, nil, `[{"message":"entity is deleted","errorCode":"ENTITY_IS_DELETED"}]`, cc.ENOTFOUND, "ENTITY_IS_DELETED", 0, 0},
		{"duplicates", 400, nil, `[{"message":"Use one of these records?","errorCode":"DUPLICATES_DETECTED"}]`, cc.ECONFLICT, "DUPLICATES_DETECTED", 0, 0},
		{"locked row", 400, nil, `[{"message":"unable to obtain exclusive access to this record","errorCode":"UNABLE_TO_LOCK_ROW"}]`, cc.EUNAVAILABLE, "UNABLE_TO_LOCK_ROW", 500 * time.Millisecond, time.Second},
		{"busy", 503, nil, `[{"message":"Server unavailable","errorCode":"SERVER_UNAVAILABLE"}]`, cc.EUNAVAILABLE, "SERVER_UNAVAILABLE", 500 * time.Millisecond, time.Second},
		{"busy html", 503, nil, `<html><head><title>Service Unavailable</title></head></html>`, cc.EUNAVAILABLE, "", 500 * time.Millisecond, time.Second},
		{"busy retry-after", 503, map[string]string{"Retry-After": "7"}, ``, cc.EUNAVAILABLE, "", 7 * time.Second, 7 * time.Second},
		{"busy retry-after date", 503, map[string]string{"Retry-After": testNow.Add(90 * time.Second).Format(http.TimeFormat)}, ``, cc.EUNAVAILABLE, "", 90 * time.Second, 90 * time.Second},
		{"server error", 500, nil, `[{"message":"An unexpected error occurred. Please include this ErrorId if you contact support: 1234-5678","errorCode":"UNKNOWN_EXCEPTION"}]`, cc.EUNAVAILABLE, "UNKNOWN_EXCEPTION", 500 * time.Millisecond, time.Second},
		{"too many", 429, nil, ``, cc.ERATELIMIT, "", 500 * time.Millisecond, time.Second},
		{"multiple choices", 300, nil, `["/services/data/v62.0/sobjects/Task/00T1","/services/data/v62.0/sobjects/Task/00T2"]`, cc.ECONFLICT, "", 0, 0},
		{"teapot", 418, nil, ``, cc.EINTERNAL, "", 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := newFakeOrg(t)
			o.rest = func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}
			err := o.client().Ping(context.Background())
			if got := cc.ErrorCode(err); got != tc.code {
				t.Fatalf("code %q, error %v; want %q", got, err, tc.code)
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != tc.status || ae.Code() != tc.sfCode {
				t.Fatalf("APIError = %+v; want status %d code %q", ae, tc.status, tc.sfCode)
			}
			msg := cc.ErrorMessage(err)
			if msg == "" || msg == "internal error" {
				t.Errorf("user-safe message %q", msg)
			}
			var ra cc.RetryAfter
			hasDelay := errors.As(err, &ra)
			switch {
			case tc.maxWait == 0 && hasDelay:
				t.Errorf("retry delay %v on a permanent error", ra.RetryAfter())
			case tc.maxWait > 0 && !hasDelay:
				t.Errorf("no retry delay; want %v to %v", tc.minWait, tc.maxWait)
			case tc.maxWait > 0 && (ra.RetryAfter() < tc.minWait || ra.RetryAfter() > tc.maxWait):
				t.Errorf("retry delay %v; want %v to %v", ra.RetryAfter(), tc.minWait, tc.maxWait)
			}
		})
	}
}

func TestErrorMessageNamesCodeAndFields(t *testing.T) {
	o := newFakeOrg(t)
	o.rest = func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 400, []ErrorItem{{Message: "Subject: data value too large: Call about order 12345", ErrorCode: "STRING_TOO_LONG", Fields: []string{"Subject"}}})
	}
	err := o.client().Ping(context.Background())
	msg := cc.ErrorMessage(err)
	if !strings.Contains(msg, "STRING_TOO_LONG on Subject") {
		t.Errorf("message %q does not name the code and the field", msg)
	}
	if strings.Contains(msg, "order 12345") {
		t.Errorf("user-safe message %q repeats Salesforce's text, which may quote record data", msg)
	}
	if !strings.Contains(err.Error(), "data value too large") {
		t.Errorf("error %q lost Salesforce's message for the logs", err)
	}
}

func TestBackoffGrowsAndResets(t *testing.T) {
	o := newFakeOrg(t)
	busy := true
	var mu sync.Mutex
	o.rest = func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if busy {
			writeJSON(w, 503, []ErrorItem{{Message: "Server unavailable", ErrorCode: "SERVER_UNAVAILABLE"}})
			return
		}
		limitsOK(w, r)
	}
	c := o.client()
	ctx := context.Background()
	delay := func() time.Duration {
		t.Helper()
		var ra cc.RetryAfter
		if err := c.Ping(ctx); !errors.As(err, &ra) {
			t.Fatalf("error %v has no retry delay", err)
		}
		return ra.RetryAfter()
	}
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		if d := delay(); d < want/2 || d > want {
			t.Errorf("failure %d: delay %v; want %v to %v", i+1, d, want/2, want)
		}
	}
	mu.Lock()
	busy = false
	mu.Unlock()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	busy = true
	mu.Unlock()
	if d := delay(); d > time.Second {
		t.Errorf("delay after a success %v; want it back at 0.5s to 1s", d)
	}
}

func TestExponentialCaps(t *testing.T) {
	if d := exponential(time.Second, 2*time.Minute, 40); d != 2*time.Minute {
		t.Errorf("exponential after 40 failures = %v; want the 2m cap", d)
	}
	for range 100 {
		if d := jitter(10 * time.Second); d < 5*time.Second || d > 10*time.Second {
			t.Fatalf("jitter(10s) = %v", d)
		}
	}
}

func TestRetryAfterHeader(t *testing.T) {
	cases := map[string]time.Duration{
		"":         0,
		"  ":       0,
		"0":        0,
		"-5":       0,
		"120":      2 * time.Minute,
		"99999999": retryAfterMax,
		"soon":     0,
		testNow.Add(time.Hour).Format(http.TimeFormat):  time.Hour,
		testNow.Add(-time.Hour).Format(http.TimeFormat): 0,
	}
	for in, want := range cases {
		if got := retryAfterHeader(in, testNow); got != want {
			t.Errorf("retryAfterHeader(%q) = %v; want %v", in, got, want)
		}
	}
}

func TestParseAPIErrorShapes(t *testing.T) {
	cases := []struct {
		name string
		body string
		want []ErrorItem
	}{
		{"array", `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`, []ErrorItem{{Message: "Session expired or invalid", ErrorCode: "INVALID_SESSION_ID"}}},
		{"array with fields", `[{"message":"m1","errorCode":"A","fields":["Subject","Description"]},{"message":"m2","errorCode":"B"}]`, []ErrorItem{{Message: "m1", ErrorCode: "A", Fields: []string{"Subject", "Description"}}, {Message: "m2", ErrorCode: "B"}}},
		{"oauth", `{"error":"invalid_grant","error_description":"expired access/refresh token"}`, []ErrorItem{{ErrorCode: "invalid_grant", Message: "expired access/refresh token"}}},
		{"object", `{"message":"busy","errorCode":"SERVER_UNAVAILABLE"}`, []ErrorItem{{Message: "busy", ErrorCode: "SERVER_UNAVAILABLE"}}},
		{"sobject result", `{"id":null,"success":false,"errors":[{"statusCode":"REQUIRED_FIELD_MISSING","message":"Required fields are missing: [Subject]","fields":["Subject"]}]}`, []ErrorItem{{ErrorCode: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [Subject]", Fields: []string{"Subject"}}}},
		{"html", `<html>Down for maintenance</html>`, []ErrorItem{{Message: "<html>Down for maintenance</html>"}}},
		{"empty", ``, nil},
		{"empty array", `[]`, []ErrorItem{{Message: "[]"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := parseAPIError(400, []byte(tc.body))
			if got.Status != 400 || len(got.Errors) != len(tc.want) {
				t.Fatalf("parseAPIError = %+v; want %+v", got, tc.want)
			}
			for i := range tc.want {
				g, w := got.Errors[i], tc.want[i]
				if g.Message != w.Message || g.ErrorCode != w.ErrorCode || strings.Join(g.Fields, ",") != strings.Join(w.Fields, ",") {
					t.Errorf("item %d = %+v; want %+v", i, g, w)
				}
			}
		})
	}
	long := parseAPIError(502, []byte(strings.Repeat("é", 500)))
	if m := long.Errors[0].Message; len(m) > 200 || !strings.HasPrefix(m, "éé") || strings.ContainsRune(m, '\uFFFD') {
		t.Errorf("a long body is kept as %d bytes %q; want at most 200, cut on a rune boundary", len(m), m)
	}
}

func TestParseLimitInfo(t *testing.T) {
	cases := []struct {
		in        string
		used, max int64
		ok        bool
	}{
		{"api-usage=18/15000", 18, 15000, true},
		{"api-usage=18/15000; api-bursts=1/50", 18, 15000, true},
		{"per-app-api-usage=17/250(appName=sample-connected-app); api-usage=25/5000", 25, 5000, true},
		{" api-usage = 1/2", 0, 0, false},
		{"api-usage=18", 0, 0, false},
		{"api-usage=x/15000", 0, 0, false},
		{"api-usage=1/0", 0, 0, false},
		{"api-usage=-1/10", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tc := range cases {
		used, limit, ok := ParseLimitInfo(tc.in)
		if used != tc.used || limit != tc.max || ok != tc.ok {
			t.Errorf("ParseLimitInfo(%q) = %d, %d, %v; want %d, %d, %v", tc.in, used, limit, ok, tc.used, tc.max, tc.ok)
		}
	}
}

func TestUsageAndWarning(t *testing.T) {
	o := newFakeOrg(t)
	o.rest = limitsOK
	var logs logBuffer
	conn := o.conn()
	c, err := NewClient(conn, "US", Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Clock: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Usage(); ok {
		t.Fatal("Usage reported before any answer")
	}
	ctx := context.Background()
	setInfo := func(v string) {
		o.mu.Lock()
		o.limitInfo = v
		o.mu.Unlock()
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if u, ok := c.Usage(); !ok || u.Used != 18 || u.Max != 15000 || !u.At.Equal(testNow) || u.Percent() != 0 {
		t.Errorf("Usage = %+v, %v", u, ok)
	}
	if strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("warned at 0%% usage: %s", logs.String())
	}
	setInfo("api-usage=13600/15000") // 90.6%
	for range 3 {
		if err := c.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Errorf("%d warnings for three answers at 90%%; want 1:\n%s", n, logs.String())
	}
	setInfo("api-usage=14250/15000") // 95%
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 2 {
		t.Errorf("%d warnings after usage rose to 95%%; want 2", n)
	}
	if u, _ := c.Usage(); u.Percent() != 95 {
		t.Errorf("Percent = %d; want 95", u.Percent())
	}
	for _, secret := range []string{"00Dfake!tok", "PRIVATE KEY", "eyJ"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log contains %q:\n%s", secret, logs.String())
		}
	}
}

func TestNetworkErrorIsUnavailable(t *testing.T) {
	o := newFakeOrg(t)
	o.rest = limitsOK
	c := o.client()
	o.Instance.Close()
	err := c.Ping(context.Background())
	if cc.ErrorCode(err) != cc.EUNAVAILABLE {
		t.Fatalf("error %v; want EUNAVAILABLE", err)
	}
	var ra cc.RetryAfter
	if !errors.As(err, &ra) || ra.RetryAfter() <= 0 {
		t.Errorf("network error has no retry delay")
	}
}

func TestRequestTimeout(t *testing.T) {
	o := newFakeOrg(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	o.rest = func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
	conn := o.conn()
	c, err := NewClient(conn, "US", Options{Timeout: 50 * time.Millisecond, Clock: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Ping(context.Background())
	if cc.ErrorCode(err) != cc.EUNAVAILABLE || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v; want EUNAVAILABLE caused by the request timeout", err)
	}
}
