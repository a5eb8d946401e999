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

// sessionView is the body of a successful sign-in.
type sessionView struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      userView  `json:"user"`
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
	s.writeJSON(w, r, http.StatusCreated, sessionView{
		Token:     token,
		ExpiresAt: p.Session.ExpiresAt.UTC(),
		User:      newUserView(p.User),
	})
	return nil
}

// signOut handles DELETE /api/v1/sessions/current: it ends the session, its
// unused WebSocket tickets and its open WebSockets.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	if err := s.svc.SignOut(r.Context(), p); err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	s.tickets.dropSession(sessionKey(p))
	s.sockets.closeSession(sessionKey(p))
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
