package httpapi

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/parley-cc/parley/internal/cc"
)

// Sign-in limits. An office behind one NAT address signs in many agents at
// the start of a shift, so the address limit is looser than the account one.
const (
	signInPerAccount = 10 // attempts per minute for one tenant+username
	signInPerIP      = 30 // attempts per minute from one client address (/64 for IPv6)
	limiterSweepSize = 4096
)

// signInLimiter limits sign-in attempts per client address and per account.
type signInLimiter struct {
	ip      *keyedLimiter
	account *keyedLimiter
}

func newSignInLimiter(clock cc.Clock) *signInLimiter {
	return &signInLimiter{
		ip:      newKeyedLimiter(clock, signInPerIP, time.Minute),
		account: newKeyedLimiter(clock, signInPerAccount, time.Minute),
	}
}

func (l *signInLimiter) allowIP(ip string) error { return l.ip.allow(ip) }

func (l *signInLimiter) allowAccount(tenant, username string) error {
	return l.account.allow(strings.ToLower(tenant) + "\x00" + strings.ToLower(username))
}

// keyedLimiter is a token bucket per key: n attempts per period, refilled
// evenly. Idle keys are forgotten once their bucket is full again.
type keyedLimiter struct {
	clock cc.Clock
	limit rate.Limit
	burst int
	mu    sync.Mutex
	m     map[string]*rate.Limiter
}

func newKeyedLimiter(clock cc.Clock, n int, per time.Duration) *keyedLimiter {
	return &keyedLimiter{clock: clock, limit: rate.Every(per / time.Duration(n)), burst: n, m: map[string]*rate.Limiter{}}
}

// allow takes one attempt for key, or returns ERATELIMIT saying when to retry.
func (k *keyedLimiter) allow(key string) error {
	now := k.clock()
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.m) >= limiterSweepSize {
		k.sweep(now)
	}
	lim := k.m[key]
	if lim == nil {
		lim = rate.NewLimiter(k.limit, k.burst)
		k.m[key] = lim
	}
	res := lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		secs := int(math.Ceil(d.Seconds()))
		return &retryError{
			err:   cc.Errorf(cc.ERATELIMIT, "too many sign-in attempts: try again in %d seconds", secs),
			after: time.Duration(secs) * time.Second,
		}
	}
	return nil
}

// sweep forgets keys whose bucket has refilled: they behave as new ones.
func (k *keyedLimiter) sweep(now time.Time) {
	for key, lim := range k.m {
		if lim.TokensAt(now) >= float64(k.burst) {
			delete(k.m, key)
		}
	}
}

// clientIP returns the key of the request's client address: the address
// itself for IPv4, its /64 network for IPv6. It is the connection's
// address: forwarded headers are not trusted, so behind a reverse proxy the
// per-address limit applies to all the proxy's clients together.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
