package httpapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/view"
)

// meView is the body of GET /api/v1/me: who is signed in and what they may
// choose.
type meView struct {
	User            userView       `json:"user"`
	Tenant          tenantView     `json:"tenant"`
	Presence        *view.Presence `json:"presence"`
	NotReadyReasons []string       `json:"not_ready_reasons"`
	Dispositions    []string       `json:"dispositions"`
	// LogCapBytes is the byte cap of the CRM log's Comments field, for the
	// panel's live counter of the wrap-up notes.
	LogCapBytes int `json:"log_cap_bytes"`
	// CRMAccounts are the user's own CRM usernames, for the panel to see
	// that the CRM it is framed in is signed in as the same user.
	CRMAccounts []cc.Integration `json:"crm_accounts"`
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

// presenceView renders the principal's presence; nil is logged out.
func presenceView(p *cc.Principal, pr *cc.Presence) *view.Presence {
	if pr == nil {
		pr = &cc.Presence{TenantID: p.Tenant.ID, UserID: p.User.ID, State: cc.StateLoggedOut}
	}
	return view.NewPresence(pr, p.User.Username)
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
		Presence:        presenceView(p, pr),
		NotReadyReasons: nonNil(p.Tenant.NotReadyReasons),
		Dispositions:    nonNil(p.Tenant.Dispositions),
		LogCapBytes:     logCap(p.Tenant),
		CRMAccounts:     nonNil(p.User.Integrations),
	})
	return nil
}

// logCap is the tenant's CRM log cap, or the default when none is set.
func logCap(t *cc.Tenant) int {
	if t.CRM.LogCapBytes > 0 {
		return t.CRM.LogCapBytes
	}
	return cc.DefaultLogCapBytes
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
	s.writeJSON(w, r, http.StatusOK, presenceView(p, pr))
	return nil
}
