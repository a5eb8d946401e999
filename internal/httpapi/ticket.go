package httpapi

import (
	"strings"
	"sync"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/ratelimit"
)

// maxTicketsPerSession bounds the unused tickets one session may hold.
const maxTicketsPerSession = 16

// ticketStore holds WebSocket tickets in memory: random, short-lived,
// single-use, each bound to the principal that asked for it. Tickets do not
// survive a restart, which costs a client one more request.
type ticketStore struct {
	clock cc.Clock
	ttl   time.Duration
	mu    sync.Mutex
	m     map[string]ticket
}

type ticket struct {
	p       *cc.Principal
	session string
	expires time.Time
}

func newTicketStore(clock cc.Clock, ttl time.Duration) *ticketStore {
	return &ticketStore{clock: clock, ttl: ttl, m: map[string]ticket{}}
}

// issue returns a new ticket for p and when it expires.
func (ts *ticketStore) issue(p *cc.Principal) (string, time.Time, error) {
	now := ts.clock()
	session := sessionKey(p)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	held := 0
	for k, t := range ts.m {
		switch {
		case !now.Before(t.expires):
			delete(ts.m, k)
		case t.session == session:
			held++
		}
	}
	if held >= maxTicketsPerSession {
		return "", time.Time{}, ratelimit.NewError(
			cc.Errorf(cc.ERATELIMIT, "%d WebSocket tickets are unused: connect with one of them, or wait %s for them to expire", held, ts.ttl), ts.ttl)
	}
	tok := cc.RandomToken(32)
	exp := now.Add(ts.ttl)
	ts.m[tok] = ticket{p: p, session: session, expires: exp}
	return tok, exp, nil
}

// redeem returns the ticket's principal and forgets the ticket, or
// EUNAUTHORIZED when the ticket is unknown, expired or already used.
func (ts *ticketStore) redeem(tok string) (*cc.Principal, error) {
	now := ts.clock()
	ts.mu.Lock()
	t, ok := ts.m[tok]
	delete(ts.m, tok)
	ts.mu.Unlock()
	if !ok || !now.Before(t.expires) {
		return nil, cc.Errorf(cc.EUNAUTHORIZED, "the ticket is unknown, expired or already used: get a new one from POST /api/v1/events/ticket and connect within %s", ts.ttl)
	}
	return t.p, nil
}

// dropSession forgets the session's tickets (on sign-out).
func (ts *ticketStore) dropSession(session string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for k, t := range ts.m {
		if t.session == session {
			delete(ts.m, k)
		}
	}
}

// dropUser forgets the tickets of every session of a user (on sign-out
// everywhere).
func (ts *ticketStore) dropUser(tenantID, userID string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for k, t := range ts.m {
		if t.p.Tenant.ID == tenantID && t.p.User.ID == userID {
			delete(ts.m, k)
		}
	}
}

// sessionKey identifies the principal's session for tickets and sockets.
func sessionKey(p *cc.Principal) string {
	if p.Session != nil && p.Session.ID != "" {
		return p.Session.ID
	}
	return "user:" + p.Tenant.ID + "/" + p.User.ID
}

// checkTicket checks the shape of a ticket from the URL.
func checkTicket(tok string) error {
	if tok == "" {
		return cc.Errorf(cc.EUNAUTHORIZED, "a ticket is required: get one from POST /api/v1/events/ticket and connect to /api/v1/events?ticket=<ticket>")
	}
	if len(tok) > 128 || strings.ContainsFunc(tok, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) {
		return cc.Errorf(cc.EUNAUTHORIZED, "the ticket is malformed: pass it as POST /api/v1/events/ticket returned it")
	}
	return nil
}
