package telephony

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/parley-cc/parley/internal/cc"
)

// The registrar authenticates agents' SIP phones with HTTP digest (RFC 2617
// / RFC 3261 section 22) against the stored HA1, and keeps their contacts.
// diago's DigestAuthServer needs the plain password, which Parley never
// stores; so the response is checked here from HA1 (icholy/digest parses the
// header). Nonces are stateless: a timestamp signed with a per-process key,
// valid for five minutes; an old nonce gets a fresh challenge with
// stale=true.

const nonceLifetime = 5 * time.Minute

func (s *Server) newNonce(now time.Time) string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.Unix()))
	mac := hmac.New(sha256.New, s.nonceKey)
	mac.Write(b[:8])
	copy(b[8:], mac.Sum(nil)[:16])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// checkNonce reports whether the nonce is ours and whether it is too old.
func (s *Server) checkNonce(nonce string, now time.Time) (valid, stale bool) {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != 24 {
		return false, false
	}
	mac := hmac.New(sha256.New, s.nonceKey)
	mac.Write(b[:8])
	if !hmac.Equal(mac.Sum(nil)[:16], b[8:]) {
		return false, false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0)
	return true, now.Sub(issued) > nonceLifetime || issued.After(now.Add(time.Minute))
}

func (s *Server) challenge(req *sip.Request, tx sip.ServerTransaction, stale bool) {
	chal := digest.Challenge{Realm: s.cfg.Realm, Nonce: s.newNonce(time.Now()), Algorithm: "MD5", QOP: []string{"auth"}, Stale: stale}
	res := sip.NewResponseFromRequest(req, sip.StatusUnauthorized, "Unauthorized", nil)
	res.AppendHeader(sip.NewHeader("WWW-Authenticate", chal.String()))
	_ = tx.Respond(res)
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// digestResponse computes the expected response from HA1.
func digestResponse(ha1, method string, c *digest.Credentials) string {
	ha2 := md5hex(method + ":" + c.URI)
	if c.QOP == "" {
		return md5hex(ha1 + ":" + c.Nonce + ":" + ha2)
	}
	return md5hex(ha1 + ":" + c.Nonce + ":" + fmt.Sprintf("%08x", c.Nc) + ":" + c.Cnonce + ":" + c.QOP + ":" + ha2)
}

func (s *Server) handleRegister(req *sip.Request, tx sip.ServerTransaction) {
	log := s.log.With("source", req.Source(), "to", req.To().Address.String())
	h := req.GetHeader("Authorization")
	if h == nil {
		s.challenge(req, tx, false)
		return
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil || cred.Username == "" || cred.Nonce == "" {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Authorization header", nil))
		return
	}
	now := time.Now()
	source := req.Source()
	if !s.failures.allow(source+"|"+cred.Username, now) {
		s.metrics.registers.WithLabelValues("locked").Inc()
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden (too many failures, try later)", nil))
		return
	}
	valid, stale := s.checkNonce(cred.Nonce, now)
	if !valid || cred.Realm != s.cfg.Realm || (cred.Algorithm != "" && !strings.EqualFold(cred.Algorithm, "MD5")) || (cred.QOP != "" && cred.QOP != "auth") {
		s.challenge(req, tx, false)
		return
	}
	if stale {
		s.challenge(req, tx, true)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u, err := s.deps.Store.UserBySIPUsername(ctx, cred.Username)
	ok := err == nil && !u.Disabled && u.SIPHA1 != "" && req.To().Address.User == cred.Username
	if ok {
		want := digestResponse(u.SIPHA1, string(req.Method), cred)
		ok = subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(cred.Response))) == 1
	}
	if !ok {
		s.failures.fail(source+"|"+cred.Username, now)
		s.metrics.registers.WithLabelValues("forbidden").Inc()
		log.Warn("SIP registration refused: wrong credentials", "username", cred.Username)
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
		return
	}
	s.failures.reset(source + "|" + cred.Username)
	res, err := s.bind(ctx, req, u)
	if err != nil {
		log.Error("store registration", "error", err)
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusInternalServerError, "Server Internal Error", nil))
		return
	}
	_ = tx.Respond(res)
	if s.deps.OnRegistration != nil {
		s.deps.OnRegistration(ctx, u.TenantID, u.ID)
	}
}

// bind applies the REGISTER's contacts and builds the 200 response with
// the user's current bindings.
func (s *Server) bind(ctx context.Context, req *sip.Request, u *cc.User) (*sip.Response, error) {
	now := time.Now()
	defExpires := 3600
	if e := req.GetHeader("Expires"); e != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(e.Value())); err == nil && n >= 0 {
			defExpires = n
		}
	}
	contacts := req.GetHeaders("Contact")
	for _, h := range contacts {
		if strings.TrimSpace(h.Value()) == "*" {
			if defExpires != 0 {
				return sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Wildcard contact needs Expires: 0", nil), nil
			}
			if err := s.deps.Store.DeleteRegistration(ctx, u.TenantID, u.ID, ""); err != nil {
				return nil, err
			}
			s.metrics.registers.WithLabelValues("unregistered").Inc()
			return sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil), nil
		}
	}
	var cseq uint32
	if c := req.CSeq(); c != nil {
		cseq = c.SeqNo
	}
	for _, h := range contacts {
		ch, ok := h.(*sip.ContactHeader)
		if !ok {
			continue
		}
		expires := defExpires
		if v, ok := ch.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				expires = n
			}
		}
		uri := ch.Address.Clone()
		contact := uri.String()
		if expires == 0 {
			if err := s.deps.Store.DeleteRegistration(ctx, u.TenantID, u.ID, contact); err != nil {
				return nil, err
			}
			s.metrics.registers.WithLabelValues("unregistered").Inc()
			continue
		}
		if time.Duration(expires)*time.Second < s.cfg.MinExpires {
			res := sip.NewResponseFromRequest(req, 423, "Interval Too Brief", nil)
			res.AppendHeader(sip.NewHeader("Min-Expires", strconv.Itoa(int(s.cfg.MinExpires/time.Second))))
			return res, nil
		}
		if max := int(s.cfg.MaxExpires / time.Second); expires > max {
			expires = max
		}
		if s.cfg.RewriteContact {
			if host, port, err := sip.ParseAddr(req.Source()); err == nil {
				uri.Host, uri.Port = host, port
				contact = uri.String()
			}
		}
		r := &cc.Registration{
			TenantID: u.TenantID, UserID: u.ID, Contact: contact, Source: req.Source(),
			Transport: strings.ToLower(req.Transport()), CallID: callID(req), CSeq: cseq,
			ExpiresAt: now.Add(time.Duration(expires) * time.Second), UpdatedAt: now,
		}
		if err := s.deps.Store.PutRegistration(ctx, r); err != nil {
			return nil, err
		}
		s.metrics.registers.WithLabelValues("registered").Inc()
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	regs, err := s.deps.Store.Registrations(ctx, u.TenantID, u.ID, now)
	if err != nil {
		return nil, err
	}
	for _, r := range regs {
		var uri sip.Uri
		if err := sip.ParseUri(r.Contact, &uri); err != nil {
			continue
		}
		ch := &sip.ContactHeader{Address: uri, Params: sip.NewParams()}
		ch.Params.Add("expires", strconv.Itoa(int(time.Until(r.ExpiresAt).Round(time.Second)/time.Second)))
		res.AppendHeader(ch)
	}
	res.AppendHeader(sip.NewHeader("Date", now.UTC().Format(time.RFC1123)))
	return res, nil
}

// failureLimiter locks out a source and username after too many failures.
type failureLimiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	seen   map[string][]time.Time
}

func newFailureLimiter(max int, window time.Duration) *failureLimiter {
	return &failureLimiter{max: max, window: window, seen: map[string][]time.Time{}}
}

func (l *failureLimiter) prune(key string, now time.Time) []time.Time {
	ts := l.seen[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) > l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.seen, key)
	} else {
		l.seen[key] = ts
	}
	return ts
}

func (l *failureLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.prune(key, now)) < l.max
}

func (l *failureLimiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen[key] = append(l.prune(key, now), now)
	if len(l.seen) > 100000 { // bound memory under a flood of distinct keys
		for k := range l.seen {
			delete(l.seen, k)
			if len(l.seen) < 50000 {
				break
			}
		}
	}
}

func (l *failureLimiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.seen, key)
}
