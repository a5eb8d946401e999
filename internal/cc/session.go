package cc

import (
	"context"
	"time"
)

// Session is a signed-in API client. The bearer token is never stored; only
// its SHA-256 hash is.
type Session struct {
	ID        string
	TenantID  string
	UserID    string
	TokenHash string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SessionStore stores sessions.
type SessionStore interface {
	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s *Session) error
	// SessionByTokenHash returns an unexpired session. ENOTFOUND if none.
	SessionByTokenHash(ctx context.Context, hash string, now time.Time) (*Session, error)
	// DeleteSession removes a session (sign-out). Absent is not an error.
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions removes every session of a user.
	DeleteUserSessions(ctx context.Context, tenantID, userID string) error
	// DeleteExpiredSessions removes sessions expired before now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) error
}

// Registration is a SIP phone's binding, learned from REGISTER.
type Registration struct {
	TenantID  string
	UserID    string
	Contact   string // the Contact URI to ring
	Source    string // host:port the REGISTER came from (for NAT)
	Transport string // udp, tcp
	CallID    string
	CSeq      uint32
	ExpiresAt time.Time
	UpdatedAt time.Time
}

// RegistrationStore stores SIP registrations.
type RegistrationStore interface {
	// PutRegistration adds or refreshes a binding (keyed by user and contact).
	PutRegistration(ctx context.Context, r *Registration) error
	// DeleteRegistration removes one binding; DeleteRegistration with an
	// empty contact removes all of the user's. Absent is not an error.
	DeleteRegistration(ctx context.Context, tenantID, userID, contact string) error
	// Registrations returns the user's unexpired bindings, newest first.
	Registrations(ctx context.Context, tenantID, userID string, now time.Time) ([]*Registration, error)
	// DeleteExpiredRegistrations removes bindings expired before now and
	// returns them.
	DeleteExpiredRegistrations(ctx context.Context, now time.Time) ([]*Registration, error)
}
