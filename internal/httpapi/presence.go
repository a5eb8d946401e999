package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// meView is the body of GET /api/v1/me: who is signed in and what they may
// choose.
type meView struct {
	User            userView     `json:"user"`
	Tenant          tenantView   `json:"tenant"`
	Presence        presenceView `json:"presence"`
	NotReadyReasons []string     `json:"not_ready_reasons"`
	Dispositions    []string     `json:"dispositions"`
}

// tenantView is a tenant as its users see it: never its CRM connection.
type tenantView struct {
	ID          string        `json:"id"`
	Slug        string        `json:"slug"`
	DisplayName string        `json:"display_name"`
	Kind        cc.TenantKind `json:"kind"`
	Region      string        `json:"region"`
	TimeZone    string        `json:"time_zone"`
}

func newTenantView(t *cc.Tenant) tenantView {
	name := t.DisplayName
	if name == "" {
		name = t.Slug
	}
	return tenantView{ID: t.ID, Slug: t.Slug, DisplayName: name, Kind: t.Kind, Region: t.Region, TimeZone: t.TimeZone}
}

// presenceView is an agent's presence.
type presenceView struct {
	State          cc.AgentState `json:"state"`
	Reason         string        `json:"reason,omitempty"`
	Since          time.Time     `json:"since,omitzero"`
	InteractionID  string        `json:"interaction_id,omitempty"`
	PendingState   cc.AgentState `json:"pending_state,omitempty"`
	PendingReason  string        `json:"pending_reason,omitempty"`
	WrapUpDeadline time.Time     `json:"wrap_up_deadline,omitzero"`
}

func newPresenceView(p *cc.Presence) presenceView {
	if p == nil {
		return presenceView{State: cc.StateLoggedOut}
	}
	v := presenceView{
		State:         p.State,
		Reason:        p.Reason,
		Since:         utc(p.Since),
		InteractionID: p.InteractionID,
		PendingState:  p.PendingState,
		PendingReason: p.PendingReason,
	}
	if v.State == "" {
		v.State = cc.StateLoggedOut
	}
	if p.State == cc.StateWrapUp {
		v.WrapUpDeadline = utc(p.WrapUpDeadline)
	}
	return v
}

// me handles GET /api/v1/me.
func (s *Server) me(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	pr, err := s.svc.Presence(r.Context(), p)
	if err != nil {
		return fmt.Errorf("presence: %w", err)
	}
	s.writeJSON(w, r, http.StatusOK, meView{
		User:            newUserView(p.User),
		Tenant:          newTenantView(p.Tenant),
		Presence:        newPresenceView(pr),
		NotReadyReasons: nonNil(p.Tenant.NotReadyReasons),
		Dispositions:    nonNil(p.Tenant.Dispositions),
	})
	return nil
}

// stateRequest is the body of PUT /api/v1/me/state.
type stateRequest struct {
	State  cc.AgentState `json:"state"`
	Reason string        `json:"reason"`
}

func (q *stateRequest) validate() error {
	q.State = cc.AgentState(strings.TrimSpace(string(q.State)))
	q.Reason = strings.TrimSpace(q.Reason)
	switch q.State {
	case "":
		return cc.Errorf(cc.EINVALID, "state is required: use available, not_ready (with a reason) or logged_out")
	case cc.StateAvailable, cc.StateNotReady, cc.StateLoggedOut:
	default:
		return cc.Errorf(cc.EINVALID, "state %q cannot be chosen: use available, not_ready (with a reason) or logged_out", q.State)
	}
	if len(q.Reason) > 40 {
		return cc.Errorf(cc.EINVALID, "reason is longer than 40 bytes: use one of the tenant's not-ready reasons")
	}
	return nil
}

// setState handles PUT /api/v1/me/state.
func (s *Server) setState(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	var req stateRequest
	if err := decodeJSON(w, r, maxBodyBytes, &req); err != nil {
		return err
	}
	pr, err := s.svc.SetState(r.Context(), p, req.State, req.Reason)
	if err != nil {
		return fmt.Errorf("set state: %w", err)
	}
	s.writeJSON(w, r, http.StatusOK, newPresenceView(pr))
	return nil
}

// utc returns t in UTC, leaving the zero time zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// seconds returns d in whole seconds, rounded.
func seconds(d time.Duration) int64 { return int64(d.Round(time.Second) / time.Second) }
