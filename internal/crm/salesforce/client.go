// Package salesforce is Parley's connector to a Salesforce org: it implements
// cc.CRM (caller lookup by phone number, call logging as Tasks) and
// cc.CRMProvider (one cached client per tenant) over the REST API.
//
// The same code talks to a real org and to devcrm, Parley's bundled emulator:
// both serve the OAuth token endpoint and the /services/data REST paths with
// the same JSON shapes. The client signs in as the tenant's integration user,
// with the OAuth 2.0 JWT bearer flow when a private key is configured or the
// client credentials grant when a client secret is, and sends every REST call
// to the instance_url of the token response with a pinned API version.
//
// Errors are *cc.Error values whose cause is an *APIError parsed from
// Salesforce's error array; throttling and outages also carry a retry delay
// (cc.RetryAfter).
package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// DefaultAPIVersion is the REST API version used when the tenant's
// connection does not pin one.
const DefaultAPIVersion = "62.0"

// DefaultTimeout bounds one HTTP request (one attempt) when Options.Timeout
// is zero.
const DefaultTimeout = 20 * time.Second

// maxResponseBytes bounds how much of a response body the client reads.
const maxResponseBytes = 32 << 20

// Options are the knobs of a Client that do not come from the tenant's
// CRM connection.
type Options struct {
	// HTTPClient sends the requests; nil means a new client with default
	// transport settings. Its own Timeout, if any, also applies.
	HTTPClient *http.Client
	// Logger receives request and limit diagnostics; nil discards them.
	// Tokens, keys and secrets are never logged.
	Logger *slog.Logger
	// Timeout bounds each HTTP attempt; zero means DefaultTimeout.
	Timeout time.Duration
	// Clock gives the time for JWT assertions and usage stamps; nil means
	// cc.SystemClock.
	Clock cc.Clock
}

// Client is a REST client for one tenant's Salesforce org. It is safe for
// concurrent use. It implements cc.CRM.
type Client struct {
	loginURL string // without a trailing slash
	version  string // e.g. "62.0"
	region   string // the tenant's phone region, e.g. "US"
	auth     authenticator
	httpc    *http.Client
	log      *slog.Logger
	timeout  time.Duration
	now      cc.Clock

	// authSem is a one-slot semaphore: one goroutine at a time fetches a
	// token, and waiters can give up with their context.
	authSem chan struct{}
	logKeys keyedMutex

	mu        sync.Mutex
	tok       *token
	usage     Usage
	warnedPct int64 // the usage percentage last warned about
	failures  int   // consecutive throttled or failed responses, for backoff

	// syncBackoff is the base delay between the retries of the synchronous
	// search path.
	syncBackoff time.Duration
}

var _ cc.CRM = (*Client)(nil)

// NewClient returns a client for the connection; region is the tenant's
// phone region (ISO 3166-1 alpha-2), used to confirm phone matches. It does
// no I/O: the first call signs in. It returns EINVALID when the connection
// is not a usable Salesforce connection.
func NewClient(conn cc.CRMConnection, region string, opts Options) (*Client, error) {
	if conn.Kind != "salesforce" {
		return nil, cc.Errorf(cc.EINVALID, "CRM kind %q: the Salesforce connector needs kind salesforce", conn.Kind)
	}
	check := conn
	if check.LogCapBytes == 0 {
		// The connector does not use the cap (the caller cuts the text);
		// an unnormalised connection should not fail for it.
		check.LogCapBytes = cc.DefaultLogCapBytes
	}
	if err := check.Validate(); err != nil {
		return nil, err
	}
	region = strings.ToUpper(strings.TrimSpace(region))
	if len(region) != 2 || region[0] < 'A' || region[0] > 'Z' || region[1] < 'A' || region[1] > 'Z' {
		return nil, cc.Errorf(cc.EINVALID, "phone region %q: use a two-letter country code such as US, GB or CH", region)
	}
	c := &Client{
		loginURL:    strings.TrimRight(conn.LoginURL, "/"),
		version:     conn.APIVersion,
		region:      region,
		httpc:       opts.HTTPClient,
		log:         opts.Logger,
		timeout:     opts.Timeout,
		now:         opts.Clock,
		authSem:     make(chan struct{}, 1),
		syncBackoff: 150 * time.Millisecond,
	}
	if c.version == "" {
		c.version = DefaultAPIVersion
	}
	if c.httpc == nil {
		c.httpc = &http.Client{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.now == nil {
		c.now = cc.SystemClock
	}
	a, err := newAuthenticator(conn, c.loginURL, c.now)
	if err != nil {
		return nil, err
	}
	c.auth = a
	return c, nil
}

// APIVersion returns the pinned REST API version, e.g. "62.0".
func (c *Client) APIVersion() string { return c.version }

// request is one REST call below /services/data/vNN.N.
type request struct {
	method string
	path   string     // e.g. "/query/" or "/sobjects/Task/00T..."
	query  url.Values // nil for none
	body   any        // marshalled to JSON; nil for none
}

// rawQuery encodes the query with %20 for spaces, which every server reads
// the same way (a '+' is ambiguous to some).
func (r *request) rawQuery() string {
	if r.query == nil {
		return ""
	}
	return strings.ReplaceAll(r.query.Encode(), "+", "%20")
}

// do sends the request with the cached token, signs in again once on 401 and
// retries once, and decodes a successful JSON answer into out (when not nil).
func (c *Client) do(ctx context.Context, r request, out any) error {
	var body []byte
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("encode %s %s body: %w", r.method, r.path, err)
		}
		body = b
	}
	tok, err := c.token(ctx, nil)
	if err != nil {
		return err
	}
	resp, err := c.send(ctx, tok, r, body)
	if err != nil {
		return err
	}
	if resp.status == http.StatusUnauthorized {
		c.log.Info("salesforce session rejected; signing in again", "method", r.method, "path", r.path)
		if tok, err = c.token(ctx, tok); err != nil {
			return err
		}
		if resp, err = c.send(ctx, tok, r, body); err != nil {
			return err
		}
	}
	if resp.status < 200 || resp.status > 299 {
		return c.fail(parseAPIError(resp.status, resp.body), resp.header)
	}
	c.succeeded()
	if out == nil || len(resp.body) == 0 {
		return nil
	}
	if err := json.Unmarshal(resp.body, out); err != nil {
		return cc.WrapError(cc.EUNAVAILABLE, err, "Salesforce sent an answer Parley cannot read")
	}
	return nil
}

// response is what send read from the server.
type response struct {
	status int
	header http.Header
	body   []byte
}

// send makes one HTTP attempt against the instance and reads the answer.
func (c *Client) send(ctx context.Context, tok *token, r request, body []byte) (*response, error) {
	u := tok.instanceURL + "/services/data/v" + c.version + r.path
	if q := r.rawQuery(); q != "" {
		u += "?" + q
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	header := http.Header{"Authorization": {"Bearer " + tok.accessToken}}
	if body != nil {
		header.Set("Content-Type", "application/json")
	}
	resp, err := c.roundTrip(ctx, r.method, u, header, rd)
	if err != nil {
		return nil, err
	}
	c.recordUsage(resp.header.Get("Sforce-Limit-Info"))
	c.log.Debug("salesforce request", "method", r.method, "path", r.path, "status", resp.status)
	return resp, nil
}

// roundTrip performs one HTTP exchange within the per-attempt timeout. A
// transport failure becomes EUNAVAILABLE with a retry delay.
func (c *Client) roundTrip(ctx context.Context, method, u string, header http.Header, body io.Reader) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("build %s request: %w", method, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "parley")
	resp, err := c.httpc.Do(req)
	if err != nil {
		return nil, c.unreachable(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, c.unreachable(err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// unreachable classifies a transport error. The URL in *url.Error carries
// no secret (tokens travel in headers and bodies only).
func (c *Client) unreachable(err error) error {
	if errors.Is(err, context.Canceled) {
		return cc.WrapError(cc.EUNAVAILABLE, err, "the Salesforce request was cancelled")
	}
	return cc.WrapError(cc.EUNAVAILABLE, c.retryLater(err, shortBackoff, 0), "Salesforce is unreachable")
}
