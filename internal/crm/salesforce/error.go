package salesforce

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-cc/parley/internal/cc"
)

// APIError is an error answer from Salesforce: the HTTP status and the items
// of its JSON error array (or of the OAuth {"error","error_description"}
// form, as one item).
type APIError struct {
	Status int
	Errors []ErrorItem
}

// ErrorItem is one entry of Salesforce's error array.
type ErrorItem struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

// Error returns the status and every item's code, message and fields.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "salesforce HTTP %d", e.Status)
	for i, it := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if it.ErrorCode != "" {
			b.WriteString(it.ErrorCode)
			if it.Message != "" {
				b.WriteString(" ")
			}
		}
		b.WriteString(it.Message)
		if len(it.Fields) > 0 {
			b.WriteString(" (fields " + strings.Join(it.Fields, ", ") + ")")
		}
	}
	return b.String()
}

// Code returns the first item's error code, or "".
func (e *APIError) Code() string {
	for _, it := range e.Errors {
		if it.ErrorCode != "" {
			return it.ErrorCode
		}
	}
	return ""
}

// parseAPIError reads an error body in any of the shapes Salesforce uses:
// the REST error array, a single error object, an sObject result with an
// "errors" list, and the OAuth error form. Anything else becomes one item
// carrying the start of the body.
func parseAPIError(status int, body []byte) *APIError {
	e := &APIError{Status: status}
	var items []ErrorItem
	if json.Unmarshal(body, &items) == nil && len(items) > 0 {
		e.Errors = items
		return e
	}
	var obj struct {
		ErrorItem
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Errors      []struct {
			ErrorItem
			StatusCode string `json:"statusCode"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &obj) == nil {
		switch {
		case obj.Error != "":
			e.Errors = []ErrorItem{{ErrorCode: obj.Error, Message: obj.Description}}
		case obj.ErrorCode != "" || obj.Message != "":
			e.Errors = []ErrorItem{obj.ErrorItem}
		case len(obj.Errors) > 0:
			for _, it := range obj.Errors {
				if it.ErrorCode == "" {
					it.ErrorCode = it.StatusCode
				}
				e.Errors = append(e.Errors, it.ErrorItem)
			}
		}
		if len(e.Errors) > 0 {
			return e
		}
	}
	if text := strings.TrimSpace(string(body)); text != "" {
		e.Errors = []ErrorItem{{Message: clip(text, 200)}}
	}
	return e
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// backoffKind says how long to wait before trying again.
type backoffKind int

const (
	noBackoff    backoffKind = iota
	shortBackoff             // a busy or failing server: seconds to minutes
	limitBackoff             // the org's API allocation is spent: minutes to an hour
)

// errorRule maps a Salesforce answer to a Parley error. A rule matches by
// errorCode (any status) when sfCode is set, else by HTTP status.
type errorRule struct {
	sfCode  string
	status  int
	code    string
	backoff backoffKind
	message string
}

// errorRules is the one table from Salesforce errors to Parley errors.
// Rules with an errorCode are tried first, for any item of the answer; the
// status rules then catch the rest.
var errorRules = []errorRule{
	// REST error codes.
	{sfCode: "INVALID_SESSION_ID", code: cc.EUNAUTHORIZED, message: "Salesforce rejected Parley's session for the integration user"},
	{sfCode: "REQUEST_LIMIT_EXCEEDED", code: cc.ERATELIMIT, backoff: limitBackoff, message: "the Salesforce org has used up its API request limit; Parley will try again later"},
	{sfCode: "UNABLE_TO_LOCK_ROW", code: cc.EUNAVAILABLE, backoff: shortBackoff, message: "the Salesforce record is locked by another update; Parley will try again"},
	{sfCode: "SERVER_UNAVAILABLE", code: cc.EUNAVAILABLE, backoff: shortBackoff, message: "Salesforce is busy; Parley will try again"},
	{sfCode: "STRING_TOO_LONG", code: cc.EINVALID, message: "Salesforce refused a value as too long"},
	{sfCode: "MALFORMED_QUERY", code: cc.EINVALID, message: "Salesforce refused Parley's query"},
	{sfCode: "MALFORMED_SEARCH", code: cc.EINVALID, message: "Salesforce refused Parley's search"},
	{sfCode: "INVALID_FIELD", code: cc.EINVALID, message: "Salesforce does not know a field Parley uses; check the org's field access for the integration user"},
	{sfCode: "INVALID_TYPE", code: cc.EINVALID, message: "Salesforce does not know an object Parley uses; check the integration user's object access"},
	{sfCode: "FIELD_INTEGRITY_EXCEPTION", code: cc.EINVALID, message: "Salesforce refused a field value; a Contact or Lead id must go in WhoId, other ids in WhatId"},
	{sfCode: "INVALID_CROSS_REFERENCE_KEY", code: cc.EINVALID, message: "Salesforce does not know the linked record; it may have been deleted"},
	{sfCode: "REQUIRED_FIELD_MISSING", code: cc.EINVALID, message: "Salesforce needs a field Parley did not send; check the org's validation rules for Tasks"},
	{sfCode: "FIELD_CUSTOM_VALIDATION_EXCEPTION", code: cc.EINVALID, message: "a validation rule in the Salesforce org refused the record"},
	{sfCode: "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", code: cc.EINVALID, message: "Salesforce refused a picklist value; check the Task picklists (CallType, Status, Type)"},
	{sfCode: "JSON_PARSER_ERROR", code: cc.EINVALID, message: "Salesforce could not read Parley's request"},
	{sfCode: "MALFORMED_ID", code: cc.EINVALID, message: "Salesforce refused a record id"},
	{sfCode: "DUPLICATES_DETECTED", code: cc.ECONFLICT, message: "a Salesforce duplicate rule refused the record"},
	{sfCode: "ENTITY_IS_DELETED", code: cc.ENOTFOUND, message: "the Salesforce record was deleted"},
	{sfCode: "NOT_FOUND", code: cc.ENOTFOUND, message: "Salesforce has no such record"},
	{sfCode: "INSUFFICIENT_ACCESS_OR_READONLY", code: cc.EFORBIDDEN, message: "the Salesforce integration user may not change this record"},
	{sfCode: "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY", code: cc.EFORBIDDEN, message: "the Salesforce integration user may not see the linked record"},
	{sfCode: "API_DISABLED_FOR_ORG", code: cc.EFORBIDDEN, message: "the Salesforce org's edition or settings do not allow API access"},
	{sfCode: "API_CURRENTLY_DISABLED", code: cc.EFORBIDDEN, message: "API access is turned off for the Salesforce integration user"},
	// OAuth error codes (token endpoint).
	{sfCode: "invalid_grant", code: cc.EUNAUTHORIZED, message: "Salesforce refused the integration user's sign-in; check the user name, the certificate or secret and that the user is pre-authorised for the connected app"},
	{sfCode: "invalid_client_id", code: cc.EUNAUTHORIZED, message: "Salesforce does not know the connected app's consumer key"},
	{sfCode: "invalid_client", code: cc.EUNAUTHORIZED, message: "Salesforce refused the connected app's credentials"},
	{sfCode: "invalid_client_credentials", code: cc.EUNAUTHORIZED, message: "Salesforce refused the connected app's credentials"},
	{sfCode: "unauthorized_client", code: cc.EUNAUTHORIZED, message: "the connected app is not allowed to use this sign-in flow"},
	{sfCode: "unsupported_grant_type", code: cc.EFORBIDDEN, message: "the Salesforce org does not allow this sign-in flow for the connected app"},
	{sfCode: "inactive_user", code: cc.EFORBIDDEN, message: "the Salesforce integration user is inactive"},
	{sfCode: "inactive_org", code: cc.EFORBIDDEN, message: "the Salesforce org is locked, closed or suspended"},
	{sfCode: "rate_limit_exceeded", code: cc.ERATELIMIT, backoff: limitBackoff, message: "Salesforce is limiting sign-ins for the integration user; Parley will try again later"},
	// HTTP statuses.
	{status: http.StatusMultipleChoices, code: cc.ECONFLICT, message: "several Salesforce records matched"},
	{status: http.StatusBadRequest, code: cc.EINVALID, message: "Salesforce refused the request"},
	{status: http.StatusUnauthorized, code: cc.EUNAUTHORIZED, message: "Salesforce refused Parley's credentials"},
	{status: http.StatusForbidden, code: cc.EFORBIDDEN, message: "the Salesforce integration user is not allowed to do this"},
	{status: http.StatusNotFound, code: cc.ENOTFOUND, message: "Salesforce has no such resource; check the login URL and API version"},
	{status: http.StatusMethodNotAllowed, code: cc.EINVALID, message: "Salesforce does not allow this method here"},
	{status: http.StatusConflict, code: cc.ECONFLICT, message: "the Salesforce record changed meanwhile"},
	{status: http.StatusPreconditionFailed, code: cc.ECONFLICT, message: "the Salesforce record changed meanwhile"},
	{status: http.StatusRequestURITooLong, code: cc.EINVALID, message: "the Salesforce request is too long"},
	{status: http.StatusTooManyRequests, code: cc.ERATELIMIT, backoff: shortBackoff, message: "Salesforce is limiting Parley's requests; Parley will try again"},
	{status: http.StatusInternalServerError, code: cc.EUNAVAILABLE, backoff: shortBackoff, message: "Salesforce failed; Parley will try again"},
	{status: http.StatusBadGateway, code: cc.EUNAVAILABLE, backoff: shortBackoff, message: "Salesforce is unavailable; Parley will try again"},
	{status: http.StatusServiceUnavailable, code: cc.EUNAVAILABLE, backoff: shortBackoff, message: "Salesforce is busy or down; Parley will try again"},
	{status: http.StatusGatewayTimeout, code: cc.EUNAVAILABLE, backoff: shortBackoff, message: "Salesforce did not answer in time; Parley will try again"},
}

// unknownServerError and unknownError are the rules for answers the table
// does not name.
var (
	unknownServerError = errorRule{code: cc.EUNAVAILABLE, backoff: shortBackoff, message: "Salesforce failed; Parley will try again"}
	unknownError       = errorRule{code: cc.EINTERNAL, message: "Salesforce sent an unexpected answer"}
)

// ruleFor finds the table's rule for an answer.
func ruleFor(e *APIError) errorRule {
	for _, it := range e.Errors {
		for _, r := range errorRules {
			if r.sfCode != "" && r.sfCode == it.ErrorCode {
				return r
			}
		}
	}
	for _, r := range errorRules {
		if r.sfCode == "" && r.status == e.Status {
			return r
		}
	}
	if e.Status >= 500 {
		return unknownServerError
	}
	return unknownError
}

// fail turns an error answer into a *cc.Error with the APIError as cause,
// adding a retry delay for throttling and outages.
func (c *Client) fail(e *APIError, header http.Header) error {
	r := ruleFor(e)
	var cause error = e
	if r.backoff != noBackoff {
		cause = c.retryLater(e, r.backoff, retryAfterHeader(header.Get("Retry-After"), c.now()))
	}
	msg := r.message
	if code := e.Code(); code != "" {
		msg += " (" + code
		for _, it := range e.Errors {
			if len(it.Fields) > 0 {
				msg += " on " + strings.Join(it.Fields, ", ")
				break
			}
		}
		msg += ")"
	}
	return cc.WrapError(r.code, cause, "%s", msg)
}

// Backoff bounds.
const (
	shortBackoffBase = time.Second
	shortBackoffMax  = 2 * time.Minute
	limitBackoffBase = time.Minute
	limitBackoffMax  = time.Hour
	retryAfterMax    = 24 * time.Hour
)

// retryLater wraps err with its retry delay: header (Retry-After) when the
// server gave one, else exponential in the number of consecutive failures,
// with jitter (half fixed, half random).
func (c *Client) retryLater(err error, kind backoffKind, header time.Duration) error {
	c.mu.Lock()
	c.failures++
	n := c.failures
	c.mu.Unlock()
	if header > 0 {
		return &retryError{err: err, after: min(header, retryAfterMax), fromHeader: true}
	}
	base, ceiling := shortBackoffBase, shortBackoffMax
	if kind == limitBackoff {
		base, ceiling = limitBackoffBase, limitBackoffMax
	}
	return &retryError{err: err, after: jitter(exponential(base, ceiling, n-1))}
}

// succeeded resets the backoff after a good answer.
func (c *Client) succeeded() {
	c.mu.Lock()
	c.failures = 0
	c.mu.Unlock()
}

// exponential returns base*2^n, at most ceiling.
func exponential(base, ceiling time.Duration, n int) time.Duration {
	d := base
	for i := 0; i < n && d < ceiling; i++ {
		d *= 2
	}
	return min(d, ceiling)
}

// jitter returns a delay between d/2 and d.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half)
}

// retryAfterHeader parses Retry-After in seconds or as an HTTP date;
// 0 when absent or unreadable.
func retryAfterHeader(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return min(time.Duration(secs)*time.Second, retryAfterMax)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// retryError carries the delay after which a failed call is worth trying
// again. It implements cc.RetryAfter.
type retryError struct {
	err        error
	after      time.Duration
	fromHeader bool // the server said so in Retry-After
}

// Error returns the cause's text.
func (e *retryError) Error() string { return e.err.Error() }

// Unwrap returns the cause.
func (e *retryError) Unwrap() error { return e.err }

// RetryAfter returns the delay before the next attempt.
func (e *retryError) RetryAfter() time.Duration { return e.after }

var _ cc.RetryAfter = (*retryError)(nil)
