// Package ratelimit limits attempts per key (a client address, an account)
// with a token bucket each: the API's password sign-in (internal/httpapi)
// and the start of single sign-on (internal/sso) use it.
package ratelimit

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/parley-cc/parley/internal/cc"
)

// SweepSize is how many keys a Keyed holds before it forgets the idle ones.
const SweepSize = 4096

// Keyed is a token bucket per key: n attempts per period, refilled evenly.
// Idle keys are forgotten once their bucket is full again. It is safe for
// concurrent use.
type Keyed struct {
	clock cc.Clock
	what  string
	limit rate.Limit
	burst int
	mu    sync.Mutex
	m     map[string]*rate.Limiter
}

// New returns a Keyed allowing n attempts per period for each key. what
// names the attempts in the error ("sign-in attempts"). A nil clock is the
// system clock.
func New(clock cc.Clock, what string, n int, per time.Duration) *Keyed {
	if clock == nil {
		clock = cc.SystemClock
	}
	if n <= 0 || per <= 0 {
		panic("ratelimit: n and per must be positive")
	}
	return &Keyed{clock: clock, what: what, limit: rate.Every(per / time.Duration(n)), burst: n, m: map[string]*rate.Limiter{}}
}

// Allow takes one attempt for key, or returns an ERATELIMIT error whose
// message says when to try again; the error implements cc.RetryAfter.
func (k *Keyed) Allow(key string) error {
	now := k.clock()
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.m) >= SweepSize {
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
		return &Error{
			err:   cc.Errorf(cc.ERATELIMIT, "too many %s: try again in %d seconds", k.what, secs),
			after: time.Duration(secs) * time.Second,
		}
	}
	return nil
}

// Len is how many keys are remembered.
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}

// sweep forgets keys whose bucket has refilled: they behave as new ones.
func (k *Keyed) sweep(now time.Time) {
	for key, lim := range k.m {
		if lim.TokensAt(now) >= float64(k.burst) {
			delete(k.m, key)
		}
	}
}

// Error is the ERATELIMIT error of Allow: it says when to try again.
type Error struct {
	err   *cc.Error
	after time.Duration
}

// NewError is a Parley error that says when to try again (Retry-After),
// for limits kept elsewhere than a Keyed limiter.
func NewError(err *cc.Error, after time.Duration) *Error { return &Error{err: err, after: after} }

func (e *Error) Error() string { return e.err.Error() }

// Unwrap gives the Parley error (code ERATELIMIT).
func (e *Error) Unwrap() error { return e.err }

// RetryAfter is how long to wait, in whole seconds.
func (e *Error) RetryAfter() time.Duration { return e.after }

// RetryAfterSeconds is the Retry-After header value of err when it says
// when to try again (cc.RetryAfter), else "".
func RetryAfterSeconds(ra cc.RetryAfter) string {
	if ra == nil || ra.RetryAfter() <= 0 {
		return ""
	}
	return fmt.Sprint(int(math.Ceil(ra.RetryAfter().Seconds())))
}

// ClientKey returns the key of the request's client address: the address
// itself for IPv4, its /64 network for IPv6. It is the connection's
// address: forwarded headers are not trusted, so behind a reverse proxy the
// per-address limit applies to all the proxy's clients together.
func ClientKey(r *http.Request) string {
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
