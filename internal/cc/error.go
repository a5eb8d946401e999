package cc

import (
	"errors"
	"fmt"
)

// Error codes. The set is small and closed: adapters map each code to an HTTP
// status, a SIP response and a WebSocket error frame through one table each.
const (
	EINVALID      = "invalid"      // the input is wrong; the message says what to fix
	ENOTFOUND     = "not_found"    // no such object (or not visible to the caller)
	ECONFLICT     = "conflict"     // the object exists, or its state forbids the change
	EUNAUTHORIZED = "unauthorized" // no or bad credentials
	EFORBIDDEN    = "forbidden"    // authenticated, but not allowed
	EUNAVAILABLE  = "unavailable"  // a dependency is down or busy; retry later
	ERATELIMIT    = "rate_limited" // too many requests; retry later
	EINTERNAL     = "internal"     // a bug or an unexpected failure
)

// Error is Parley's error. Code is one of the E* constants; Message is safe to
// show to agents and API clients; Err is the cause, for logs only.
type Error struct {
	Code    string
	Message string
	Err     error
}

// Error returns the message and, when present, the cause.
func (e *Error) Error() string {
	if e.Err != nil {
		if e.Message == "" {
			return e.Code + ": " + e.Err.Error()
		}
		return e.Message + ": " + e.Err.Error()
	}
	if e.Message == "" {
		return e.Code
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with the given code and a formatted user-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an Error with the given code and message that wraps cause.
func WrapError(code string, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: cause}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for nil and
// EINTERNAL for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of the first *Error in err's
// chain, or a generic message for any other error.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "internal error"
}

// IsCode reports whether err carries the given code.
func IsCode(err error, code string) bool { return ErrorCode(err) == code }
