package cc

import (
	"context"
	"time"
)

// Session methods: how the user proved who they are.
const (
	SessionPassword = "password" // Parley username and password
	SessionSSO      = "sso"      // single sign-on with the CRM (internal/sso)
)

// Session is a signed-in API client. The bearer token is never stored; only
// its SHA-256 hash is.
//
// A session is short-lived and refreshed: each refresh replaces the token
// (rotation) and moves ExpiresAt on, never past MaxExpiresAt, the absolute
// end set at sign-in. The replaced token keeps working until
// PrevValidUntil (a few seconds), so that requests another tab of the
// panel sent with it while the refresh ran do not fail.
type Session struct {
	ID        string
	TenantID  string
	UserID    string
	TokenHash string
	// Method is SessionPassword or SessionSSO.
	Method       string
	CreatedAt    time.Time
	ExpiresAt    time.Time
	MaxExpiresAt time.Time // zero: ExpiresAt is the absolute end
	// RefreshedAt is the last refresh; zero if never refreshed.
	RefreshedAt time.Time
	// PrevTokenHash is the hash of the token the last refresh replaced,
	// accepted until PrevValidUntil.
	PrevTokenHash  string
	PrevValidUntil time.Time
}

// Rotation is one refresh of a session's token (SessionStore.RotateSession).
type Rotation struct {
	SessionID string
	// OldHash must be the session's current token hash: a refresh with a
	// token already replaced fails with ECONFLICT.
	OldHash, NewHash string
	Now              time.Time
	ExpiresAt        time.Time
	// GraceUntil is how long OldHash keeps working.
	GraceUntil time.Time
}

// SessionStore stores sessions.
type SessionStore interface {
	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s *Session) error
	// SessionByTokenHash returns an unexpired session whose token hash, or
	// whose previous token hash within its grace, is hash. ENOTFOUND if none.
	SessionByTokenHash(ctx context.Context, hash string, now time.Time) (*Session, error)
	// SessionByID returns an unexpired session by id (an open WebSocket
	// checks its session still exists). ENOTFOUND if none.
	SessionByID(ctx context.Context, id string, now time.Time) (*Session, error)
	// RotateSession replaces the session's token as r says and returns the
	// session after it. ECONFLICT if r.OldHash is not the current token
	// hash (another refresh went first); ENOTFOUND if the session ended.
	RotateSession(ctx context.Context, r Rotation) (*Session, error)
	// DeleteSession removes a session (sign-out). Absent is not an error.
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions removes every session of a user.
	DeleteUserSessions(ctx context.Context, tenantID, userID string) error
	// DeleteExpiredSessions removes sessions expired before now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) error
}

// CRMGrants refreshes and revokes the CRM grant (the sealed CRM refresh
// token) an SSO sign-in leaves (internal/sso implements it).
type CRMGrants interface {
	// RefreshGrant uses the user's CRM refresh token and stores the one the
	// CRM rotates to. nil if the user has no grant. EUNAUTHORIZED if the CRM
	// refused the grant (invalid_grant: revoked, or the CRM user
	// deactivated): the grant is deleted and the sessions it backs must
	// end. Any other error (EUNAVAILABLE: the CRM could not be reached)
	// says nothing about the user and must not end a session.
	RefreshGrant(ctx context.Context, t *Tenant, u *User) error
	// RevokeGrant revokes the user's CRM refresh token at the CRM (best
	// effort) and deletes it. nil if the user has no grant.
	RevokeGrant(ctx context.Context, t *Tenant, u *User) error
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
