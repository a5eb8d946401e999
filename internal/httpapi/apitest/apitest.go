// Package apitest is a kit for testing HTTP APIs with tables of scenarios:
// each sends one request to a handler and states the status, the substrings
// the response must and must not contain, and the headers it must carry.
// When a Kit has a Spec (an OpenAPI document), every response is also checked
// against the schema documented for its route and status, and the body of
// every successful request against the documented request schema.
//
// The shape follows pocketbase's tests/api.go: a scenario is data, and the
// kit runs a table of them as subtests, in order, so that scenarios may build
// on the state the earlier ones left.
package apitest

import (
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// Scenario is one request and what its response must look like.
type Scenario struct {
	Name   string
	Method string
	URL    string // path and query, such as /api/v1/me?x=1
	// Token is sent as "Authorization: Bearer <Token>" when not empty.
	Token string
	// Header is sent as given; it may override Content-Type.
	Header map[string]string
	// Body is sent as application/json unless Header sets Content-Type.
	Body string
	// RemoteAddr is the client address, host:port; empty keeps httptest's.
	RemoteAddr string

	WantStatus int
	// WantContains must all occur in the body.
	WantContains []string
	// WantNotContains must not occur in the body or the header values.
	WantNotContains []string
	// WantHeader are headers that must have exactly these values; an empty
	// value means the header must be absent.
	WantHeader map[string]string

	// Before runs before the request (e.g. to advance a clock).
	Before func(t testing.TB)
	// After runs on the response for checks the fields cannot express.
	After func(t testing.TB, res *Response)
}

// Response is a recorded response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Kit runs scenarios against a handler.
type Kit struct {
	Handler http.Handler
	// Spec, when set, checks each response (and each successful request's
	// body) against the OpenAPI document.
	Spec *Spec
	// ErrorSchema names the component schema that error responses of
	// undocumented routes (404, 405) must match; empty skips them.
	ErrorSchema string
}

// Run runs the scenarios in order, each as a subtest named by its Name.
func (k *Kit) Run(t *testing.T, scenarios ...Scenario) {
	t.Helper()
	for _, sc := range scenarios {
		name := sc.Name
		if name == "" {
			name = sc.Method + " " + sc.URL
		}
		t.Run(name, func(t *testing.T) { k.Do(t, sc) })
	}
}

// Do runs one scenario and returns its response.
func (k *Kit) Do(t testing.TB, sc Scenario) *Response {
	t.Helper()
	if sc.Before != nil {
		sc.Before(t)
	}
	var body io.Reader
	if sc.Body != "" {
		body = strings.NewReader(sc.Body)
	}
	req := httptest.NewRequest(sc.Method, sc.URL, body)
	if sc.Body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if sc.Token != "" {
		req.Header.Set("Authorization", "Bearer "+sc.Token)
	}
	for name, v := range sc.Header {
		req.Header.Set(name, v)
	}
	if sc.RemoteAddr != "" {
		req.RemoteAddr = sc.RemoteAddr
	}
	rec := httptest.NewRecorder()
	k.Handler.ServeHTTP(rec, req)
	res := &Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	text := string(res.Body)

	if sc.WantStatus != 0 && res.Status != sc.WantStatus {
		t.Errorf("%s %s: status %d, want %d; body: %s", sc.Method, sc.URL, res.Status, sc.WantStatus, text)
	}
	for _, s := range sc.WantContains {
		if !strings.Contains(text, s) {
			t.Errorf("%s %s: body does not contain %q; body: %s", sc.Method, sc.URL, s, text)
		}
	}
	for _, s := range sc.WantNotContains {
		if strings.Contains(text, s) {
			t.Errorf("%s %s: body contains %q; body: %s", sc.Method, sc.URL, s, text)
		}
		for name, vs := range res.Header {
			for _, v := range vs {
				if strings.Contains(v, s) {
					t.Errorf("%s %s: header %s contains %q", sc.Method, sc.URL, name, s)
				}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(sc.WantHeader)) {
		if got, want := res.Header.Get(name), sc.WantHeader[name]; got != want {
			t.Errorf("%s %s: header %s = %q, want %q", sc.Method, sc.URL, name, got, want)
		}
	}
	if k.Spec != nil {
		k.checkSpec(t, sc, req, res)
	}
	if sc.After != nil {
		sc.After(t, res)
	}
	return res
}

// checkSpec checks the exchange against the OpenAPI document.
func (k *Kit) checkSpec(t testing.TB, sc Scenario, req *http.Request, res *Response) {
	t.Helper()
	err := k.Spec.CheckResponse(sc.Method, req.URL.Path, res.Status, res.Header, res.Body)
	if errors.Is(err, ErrUndocumented) {
		if k.ErrorSchema == "" || res.Status < 400 {
			return
		}
		err = k.Spec.CheckSchema(k.ErrorSchema, res.Body)
	}
	if err != nil {
		t.Errorf("%s %s: response does not match the API document: %v", sc.Method, sc.URL, err)
	}
	if sc.Body != "" && res.Status >= 200 && res.Status < 300 {
		if err := k.Spec.CheckRequest(sc.Method, req.URL.Path, req.Header.Get("Content-Type"), []byte(sc.Body)); err != nil {
			t.Errorf("%s %s: request does not match the API document: %v", sc.Method, sc.URL, err)
		}
	}
}
