package ratelimit

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func TestAllowAndRetryAfter(t *testing.T) {
	c := &clock{now: time.Unix(1e9, 0)}
	k := New(c.Now, "sign-in attempts", 10, time.Minute)
	for i := range 10 {
		if err := k.Allow("a"); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	err := k.Allow("a")
	var ra cc.RetryAfter
	if !cc.IsCode(err, cc.ERATELIMIT) || cc.ErrorMessage(err) != "too many sign-in attempts: try again in 6 seconds" {
		t.Fatalf("over the limit: %v", err)
	}
	if e, ok := err.(*Error); !ok || e.RetryAfter() != 6*time.Second {
		t.Fatalf("RetryAfter of %T %v", err, err)
	}
	ra = err.(*Error)
	if got := RetryAfterSeconds(ra); got != "6" {
		t.Errorf("RetryAfterSeconds = %q, want 6", got)
	}
	if err := k.Allow("b"); err != nil {
		t.Errorf("another key is not limited: %v", err)
	}
	c.now = c.now.Add(6 * time.Second)
	if err := k.Allow("a"); err != nil {
		t.Errorf("one attempt per 6 s refills: %v", err)
	}
	if err := k.Allow("a"); err == nil {
		t.Error("and is used up again")
	}
}

func TestClientKey(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.1:1234":           "192.0.2.1",
		"[2001:db8::7]:1":          "2001:db8::/64",
		"[::ffff:192.0.2.1]:80":    "192.0.2.1",
		"not an address":           "not an address",
		"[fe80::1%eth0]:80":        "fe80::/64",
		"unix-socket-peer-no-port": "unix-socket-peer-no-port",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = addr
		r.Header.Set("X-Forwarded-For", "198.51.100.1")
		if got := ClientKey(r); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", addr, got, want)
		}
	}
}

func TestForgetsIdleKeys(t *testing.T) {
	c := &clock{now: time.Unix(1e9, 0)}
	k := New(c.Now, "attempts", 10, time.Minute)
	for i := range SweepSize {
		if err := k.Allow(fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	if k.Len() != SweepSize {
		t.Fatalf("%d keys, want %d", k.Len(), SweepSize)
	}
	// A minute later every bucket is full again: the next call forgets them.
	c.now = c.now.Add(time.Minute)
	if err := k.Allow("new"); err != nil {
		t.Fatal(err)
	}
	if k.Len() != 1 {
		t.Errorf("%d keys after the sweep, want 1", k.Len())
	}
	// A key still limited survives a sweep.
	for range 11 {
		k.Allow("busy")
	}
	for i := range SweepSize {
		k.Allow(fmt.Sprint("x", i))
	}
	if err := k.Allow("busy"); !cc.IsCode(err, cc.ERATELIMIT) {
		t.Errorf("busy key after a sweep: err = %v, want rate_limited", err)
	}
}
