package httpapi

import (
	"context"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/view"
)

// Service is the contact center as the API sees it. The contact-center
// service (internal/center) implements it; every method that takes a
// principal applies that principal's tenant and role, so the handlers never
// decide visibility themselves.
type Service interface {
	// SignIn checks a password and creates a session; EUNAUTHORIZED (generic
	// message) on bad credentials. The principal carries the new session.
	SignIn(ctx context.Context, tenant, username, password string) (token string, p *cc.Principal, err error)
	// Authenticate resolves a bearer token; EUNAUTHORIZED if unknown or expired.
	Authenticate(ctx context.Context, token string) (*cc.Principal, error)
	// SignOut ends the principal's session.
	SignOut(ctx context.Context, p *cc.Principal) error
	// RefreshSession replaces the session's token (the one p authenticated
	// with) by a new one with a later expiry; the old one keeps working for
	// a short grace. ECONFLICT if token was already replaced (another tab
	// refreshed first), EFORBIDDEN at the session's longest life,
	// EUNAUTHORIZED if the session ended (for SSO: the CRM refused the
	// grant).
	RefreshSession(ctx context.Context, p *cc.Principal, token string) (string, *cc.Principal, error)
	// SignOutEverywhere ends every session of the principal's user and
	// revokes their CRM grant.
	SignOutEverywhere(ctx context.Context, p *cc.Principal) error
	// SessionState returns the principal's session as stored now (its
	// expiry moves with refreshes); EUNAUTHORIZED once it ended.
	SessionState(ctx context.Context, p *cc.Principal) (*cc.Session, error)
	// Presence returns the principal's own agent presence.
	Presence(ctx context.Context, p *cc.Principal) (*cc.Presence, error)
	// SetState changes the principal's agent state (available, not_ready
	// with a reason, logged_out); EINVALID names what is wrong.
	SetState(ctx context.Context, p *cc.Principal, state cc.AgentState, reason string) (*cc.Presence, error)
	// QueueStatus returns the live status of the queues visible to p.
	QueueStatus(ctx context.Context, p *cc.Principal) ([]*cc.QueueStatus, error)
	// Interactions: agents see their own, supervisors and admins the tenant's.
	Interactions(ctx context.Context, p *cc.Principal, f cc.InteractionFilter) ([]*cc.Interaction, error)
	// Interaction returns one with its event history; ENOTFOUND when not visible to p.
	Interaction(ctx context.Context, p *cc.Principal, id string) (*cc.Interaction, []*cc.Event, error)
	// WrapUp submits the wrap-up (notes, disposition, record link) of an
	// interaction; ENOTFOUND when not visible to p, EINVALID for a bad
	// disposition or notes, ECONFLICT when it cannot be wrapped up now.
	WrapUp(ctx context.Context, p *cc.Principal, id string, w cc.WrapUp) (*cc.Interaction, error)
	// Link links an interaction to one of its CRM matches; ENOTFOUND when
	// not visible to p, EINVALID when recordID is not one of its matches.
	Link(ctx context.Context, p *cc.Principal, id, recordID string) (*cc.Interaction, error)
	// PlaceCall starts a click-to-dial call for the principal (an agent):
	// EINVALID for a bad number or record, ECONFLICT when the agent cannot
	// call now or the tenant has no outbound trunk.
	PlaceCall(ctx context.Context, p *cc.Principal, req cc.DialRequest) (*cc.Interaction, error)
	// Accept answers the offer ringing the principal; Reject declines it.
	// ECONFLICT when the interaction is not ringing for p.
	Accept(ctx context.Context, p *cc.Principal, id string) (*cc.Interaction, error)
	Reject(ctx context.Context, p *cc.Principal, id string) (*cc.Interaction, error)
	// Hold, Mute, SendDTMF, HangupCall and Transfer control a connected
	// call; ENOTFOUND when p may not control it, ECONFLICT when it is not
	// connected (or the control is impossible on it).
	Hold(ctx context.Context, p *cc.Principal, id string, on bool) (*cc.Interaction, error)
	Mute(ctx context.Context, p *cc.Principal, id string, on bool) (*cc.Interaction, error)
	SendDTMF(ctx context.Context, p *cc.Principal, id, digits string) (*cc.Interaction, error)
	HangupCall(ctx context.Context, p *cc.Principal, id string) (*cc.Interaction, error)
	Transfer(ctx context.Context, p *cc.Principal, id string, to cc.TransferTarget) (*cc.Interaction, error)
	// Agents lists the tenant's agents with their state.
	Agents(ctx context.Context, p *cc.Principal) ([]cc.AgentInfo, error)
	// Events replays stored events visible to p after a sequence number.
	Events(ctx context.Context, p *cc.Principal, afterSeq int64, limit int) ([]*cc.Event, error)
	// Subscribe streams live events visible to p (agent state, queue status,
	// interaction events). The channel is closed when cancelled or when the
	// subscriber falls behind; the cancel function may be called more than once.
	Subscribe(p *cc.Principal) (<-chan *cc.Event, func())
	// Names resolves the tenant's queue and agent ids to display names for
	// views (queue_name, agent_name). It may return nil for a tenant it
	// does not know, and must be safe to call without other locks held.
	Names(tenantID string) view.Names
	// CallCenterUsers returns the call center users view of p's tenant's
	// CRM (admins only: EFORBIDDEN for others; ECONFLICT without a CRM).
	CallCenterUsers(ctx context.Context, p *cc.Principal) (*cc.CallCenterUsers, error)
	// SetIntegration sets (or with an empty username removes) the CRM
	// username of a user of p's tenant and returns the user (admins only:
	// EFORBIDDEN for others; ENOTFOUND for another tenant's user; EINVALID;
	// ECONFLICT naming the user who has the username).
	SetIntegration(ctx context.Context, p *cc.Principal, userID, crm, username string) (*cc.User, error)
	// Ready reports whether the store, bus and SIP side are ready.
	Ready(ctx context.Context) error
}
