package httpapi

import (
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

func testPrincipal(session string) *cc.Principal {
	return &cc.Principal{
		Tenant:  &cc.Tenant{ID: "ten_a"},
		User:    &cc.User{ID: "usr_a"},
		Session: &cc.Session{ID: session},
	}
}

func TestTicketSingleUseAndExpiry(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	ts := newTicketStore(clock.Now, ticketTTL)
	p := testPrincipal("ses_1")

	tok, exp, err := ts.issue(p)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(clock.Now().Add(30 * time.Second)) {
		t.Errorf("expires %s, want 30 s from now", exp)
	}
	if err := checkTicket(tok); err != nil {
		t.Errorf("an issued ticket fails its own shape check: %v", err)
	}
	got, err := ts.redeem(tok)
	if err != nil || got != p {
		t.Fatalf("redeem = %v, %v; want the principal", got, err)
	}
	if _, err := ts.redeem(tok); !cc.IsCode(err, cc.EUNAUTHORIZED) {
		t.Errorf("second redeem: err = %v, want unauthorized", err)
	}

	tok, _, _ = ts.issue(p)
	clock.Advance(ticketTTL - time.Nanosecond)
	if _, err := ts.redeem(tok); err != nil {
		t.Errorf("redeem just before expiry: %v", err)
	}
	tok, _, _ = ts.issue(p)
	clock.Advance(ticketTTL)
	if _, err := ts.redeem(tok); !cc.IsCode(err, cc.EUNAUTHORIZED) {
		t.Errorf("redeem at expiry: err = %v, want unauthorized", err)
	}
}

func TestTicketsPerSessionAndSweep(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	ts := newTicketStore(clock.Now, ticketTTL)
	p, q := testPrincipal("ses_1"), testPrincipal("ses_2")
	seen := map[string]bool{}
	for range maxTicketsPerSession {
		tok, _, err := ts.issue(p)
		if err != nil {
			t.Fatal(err)
		}
		if seen[tok] {
			t.Fatalf("ticket %s issued twice", tok)
		}
		seen[tok] = true
	}
	_, _, err := ts.issue(p)
	if !cc.IsCode(err, cc.ERATELIMIT) {
		t.Fatalf("ticket %d: err = %v, want rate_limited", maxTicketsPerSession+1, err)
	}
	if _, _, err := ts.issue(q); err != nil {
		t.Errorf("another session is not limited: %v", err)
	}
	// Expired tickets are forgotten when the next is issued.
	clock.Advance(ticketTTL)
	if _, _, err := ts.issue(p); err != nil {
		t.Fatal(err)
	}
	if n := len(ts.m); n != 1 {
		t.Errorf("%d tickets held after expiry, want 1", n)
	}
	// Sign-out drops a session's tickets only.
	tq, _, _ := ts.issue(q)
	ts.dropSession("ses_1")
	if n := len(ts.m); n != 1 {
		t.Errorf("%d tickets after dropping ses_1, want 1", n)
	}
	if _, err := ts.redeem(tq); err != nil {
		t.Errorf("the other session's ticket: %v", err)
	}
}
