package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/ratelimit"
)

// Sign-in limits. An office behind one NAT address signs in many agents at
// the start of a shift, so the address limit is looser than the account one.
const (
	signInPerAccount = 10 // attempts per minute for one tenant+username
	signInPerIP      = 30 // attempts per minute from one client address (/64 for IPv6)
)

// signInLimiter limits sign-in attempts per client address and per account.
type signInLimiter struct {
	ip      *ratelimit.Keyed
	account *ratelimit.Keyed
}

func newSignInLimiter(clock cc.Clock) *signInLimiter {
	return &signInLimiter{
		ip:      ratelimit.New(clock, "sign-in attempts", signInPerIP, time.Minute),
		account: ratelimit.New(clock, "sign-in attempts", signInPerAccount, time.Minute),
	}
}

func (l *signInLimiter) allowIP(ip string) error { return l.ip.Allow(ip) }

func (l *signInLimiter) allowAccount(tenant, username string) error {
	return l.account.Allow(strings.ToLower(tenant) + "\x00" + strings.ToLower(username))
}

// clientIP is the rate-limit key of the request's client address
// (ratelimit.ClientKey: forwarded headers are not trusted).
func clientIP(r *http.Request) string { return ratelimit.ClientKey(r) }
