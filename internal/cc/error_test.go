package cc_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

// checkErr fails t unless err is nil when msg is "", or else an error with
// the given code whose user-safe message contains msg.
func checkErr(t testing.TB, err error, code, msg string) {
	t.Helper()
	if msg == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %s error containing %q", code, msg)
	}
	if got := cc.ErrorCode(err); got != code {
		t.Errorf("error code %q, want %q (%v)", got, code, err)
	}
	if got := cc.ErrorMessage(err); !strings.Contains(got, msg) {
		t.Errorf("error message %q does not contain %q", got, msg)
	}
}

func TestErrorString(t *testing.T) {
	cause := errors.New("disk full")
	for _, tc := range []struct {
		err  *cc.Error
		want string
	}{
		{&cc.Error{Code: cc.EINVALID}, "invalid"},
		{&cc.Error{Code: cc.EINVALID, Message: "queue name is empty"}, "queue name is empty"},
		{&cc.Error{Code: cc.EINTERNAL, Err: cause}, "internal: disk full"},
		{&cc.Error{Code: cc.EUNAVAILABLE, Message: "store is down", Err: cause}, "store is down: disk full"},
		{cc.Errorf(cc.ECONFLICT, "queue %q exists", "Sales"), `queue "Sales" exists`},
		{cc.WrapError(cc.EUNAVAILABLE, cause, "CRM %s is down", "acme"), "CRM acme is down: disk full"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%#v.Error() = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestErrorCodeAndMessage(t *testing.T) {
	plain := errors.New("connection reset")
	notFound := cc.Errorf(cc.ENOTFOUND, "no queue %q", "Sales")
	for _, tc := range []struct {
		name    string
		err     error
		code    string
		message string
		isCause bool // errors.Is(err, plain)
	}{
		{"nil", nil, "", "", false},
		{"plain error is internal", plain, cc.EINTERNAL, "internal error", true},
		{"plain error wrapped is internal", fmt.Errorf("save queue: %w", plain), cc.EINTERNAL, "internal error", true},
		{"domain error", notFound, cc.ENOTFOUND, `no queue "Sales"`, false},
		{"domain error wrapped twice", fmt.Errorf("admin: %w", fmt.Errorf("load queue: %w", notFound)), cc.ENOTFOUND, `no queue "Sales"`, false},
		{"the outermost domain error wins", cc.WrapError(cc.EUNAVAILABLE, notFound, "directory unavailable"), cc.EUNAVAILABLE, "directory unavailable", false},
		{"domain error wrapping a plain cause", fmt.Errorf("crm: %w", cc.WrapError(cc.EUNAVAILABLE, plain, "CRM is down")), cc.EUNAVAILABLE, "CRM is down", true},
		{"joined with a plain error", errors.Join(plain, notFound), cc.ENOTFOUND, `no queue "Sales"`, true},
		{"a domain error without a message", &cc.Error{Code: cc.EFORBIDDEN}, cc.EFORBIDDEN, "internal error", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cc.ErrorCode(tc.err); got != tc.code {
				t.Errorf("ErrorCode = %q, want %q", got, tc.code)
			}
			if got := cc.ErrorMessage(tc.err); got != tc.message {
				t.Errorf("ErrorMessage = %q, want %q", got, tc.message)
			}
			if tc.code != "" && !cc.IsCode(tc.err, tc.code) {
				t.Errorf("IsCode(%q) = false", tc.code)
			}
			if cc.IsCode(tc.err, "teapot") {
				t.Error(`IsCode("teapot") = true`)
			}
			if got := errors.Is(tc.err, plain); got != tc.isCause {
				t.Errorf("errors.Is(err, cause) = %v, want %v", got, tc.isCause)
			}
		})
	}
}
