package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// signInRequest is the body of POST /api/v1/sessions.
type signInRequest struct {
	Tenant   string `json:"tenant"`
	Username string `json:"username"`
	Password string `json:"password"`
}

func (q *signInRequest) validate() error {
	q.Tenant = strings.TrimSpace(q.Tenant)
	q.Username = strings.TrimSpace(q.Username)
	switch {
	case q.Tenant == "":
		return cc.Errorf(cc.EINVALID, "tenant is required: give your contact center's name, such as acme")
	case len(q.Tenant) > 63:
		return cc.Errorf(cc.EINVALID, "tenant is longer than 63 bytes")
	case q.Username == "":
		return cc.Errorf(cc.EINVALID, "username is required")
	case len(q.Username) > 254:
		return cc.Errorf(cc.EINVALID, "username is longer than 254 bytes")
	case q.Password == "":
		return cc.Errorf(cc.EINVALID, "password is required")
	case len(q.Password) > 1024:
		return cc.Errorf(cc.EINVALID, "password is longer than 1024 bytes")
	}
	return nil
}

// sessionView is the body of a successful sign-in or refresh.
type sessionView struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	// MaxExpiresAt is the absolute end: no refresh moves ExpiresAt past it.
	MaxExpiresAt *time.Time `json:"max_expires_at,omitempty"`
	// Method is how the user signed in: password or sso.
	Method string   `json:"method,omitempty"`
	User   userView `json:"user"`
}

func newSessionView(token string, p *cc.Principal) sessionView {
	v := sessionView{Token: token, ExpiresAt: p.Session.ExpiresAt.UTC(), Method: p.Session.Method, User: newUserView(p.User)}
	if !p.Session.MaxExpiresAt.IsZero() {
		m := p.Session.MaxExpiresAt.UTC()
		v.MaxExpiresAt = &m
	}
	return v
}

// userView is a user as the API shows it: never its password hash, SIP
// digest or contact details it does not need.
type userView struct {
	ID          string    `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Roles       []cc.Role `json:"roles"`
	Skills      []string  `json:"skills"`
	SIPUsername string    `json:"sip_username,omitempty"`
	// Endpoint is where the user takes calls; ExternalNumber is the number
	// rung for the external endpoint.
	Endpoint       cc.Endpoint `json:"endpoint"`
	ExternalNumber string      `json:"external_number,omitempty"`
}

func newUserView(u *cc.User) userView {
	return userView{
		ID:             u.ID,
		Username:       u.Username,
		DisplayName:    u.Name(),
		Roles:          nonNil(u.Roles),
		Skills:         nonNil(u.Skills),
		SIPUsername:    u.SIPUsername,
		Endpoint:       u.EndpointKind(),
		ExternalNumber: u.ExternalNumber,
	}
}

// signIn handles POST /api/v1/sessions.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) error {
	if err := s.signIns.allowIP(clientIP(r)); err != nil {
		return err
	}
	var req signInRequest
	if err := decodeJSON(w, r, maxBodyBytes, &req); err != nil {
		return err
	}
	if err := s.signIns.allowAccount(req.Tenant, req.Username); err != nil {
		return err
	}
	token, p, err := s.svc.SignIn(r.Context(), req.Tenant, req.Username, req.Password)
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	if token == "" || p == nil || p.User == nil || p.Session == nil {
		return cc.Errorf(cc.EINTERNAL, "sign in returned no session")
	}
	s.writeJSON(w, r, http.StatusCreated, newSessionView(token, p))
	return nil
}

// refreshSession handles POST /api/v1/sessions/current/refresh: a new token
// for the session, with a later expiry. The old token keeps working for a
// short grace, so that the requests other tabs sent with it meanwhile
// succeed. A session the refresh ends (the CRM refused the grant) has its
// WebSockets closed.
func (s *Server) refreshSession(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	token, err := bearerToken(r)
	if err != nil {
		return err
	}
	nt, np, err := s.svc.RefreshSession(r.Context(), p, token)
	if cc.IsCode(err, cc.EUNAUTHORIZED) {
		s.tickets.dropSession(sessionKey(p))
		s.sockets.closeSession(sessionKey(p), closeSessionEnded)
	}
	if err != nil {
		return fmt.Errorf("refresh session: %w", err)
	}
	if nt == "" || np == nil || np.Session == nil || np.User == nil {
		return cc.Errorf(cc.EINTERNAL, "refresh returned no session")
	}
	s.writeJSON(w, r, http.StatusOK, newSessionView(nt, np))
	return nil
}

// signOutEverywhere handles DELETE /api/v1/me/sessions: it ends every
// session of the caller (every tab, every browser), their tickets and their
// open WebSockets (closed with "signed out everywhere"), and revokes the
// CRM grant.
func (s *Server) signOutEverywhere(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	if err := s.svc.SignOutEverywhere(r.Context(), p); err != nil {
		return fmt.Errorf("sign out everywhere: %w", err)
	}
	s.tickets.dropUser(p.Tenant.ID, p.User.ID)
	s.sockets.closeUser(p.Tenant.ID, p.User.ID, closeSignedOutEverywhere)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// signOut handles DELETE /api/v1/sessions/current: it ends the session, its
// unused WebSocket tickets and its open WebSockets.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	if err := s.svc.SignOut(r.Context(), p); err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	s.tickets.dropSession(sessionKey(p))
	s.sockets.closeSession(sessionKey(p), closeSignedOut)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// nonNil returns s, or an empty slice for nil, so that JSON shows [].
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
