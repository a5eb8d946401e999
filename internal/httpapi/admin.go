package httpapi

import (
	"fmt"
	"net/http"

	"github.com/parley-cc/parley/internal/cc"
)

// userRef names a Parley user in the admin views.
type userRef struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
}

func newUserRef(u *cc.User) *userRef {
	return &userRef{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName}
}

// crmUserView is one CRM user of the call center users view; ParleyUser is
// absent when no Parley user is mapped to it.
type crmUserView struct {
	ID         string   `json:"id"`
	Username   string   `json:"username"`
	Email      string   `json:"email"`
	ParleyUser *userRef `json:"parley_user,omitempty"`
}

// unmatchedAgentView is a Parley agent mapped to no CRM user: CRMUsername
// is the username it has that names no CRM user, "" when it has none.
type unmatchedAgentView struct {
	User        *userRef `json:"user"`
	CRMUsername string   `json:"crm_username"`
}

// callCenterUsersView is the body of GET /api/v1/admin/crm-users.
type callCenterUsersView struct {
	CRM             string               `json:"crm"`
	Users           []crmUserView        `json:"users"`
	UnmatchedAgents []unmatchedAgentView `json:"unmatched_agents"`
}

func newCallCenterUsersView(v *cc.CallCenterUsers) callCenterUsersView {
	out := callCenterUsersView{CRM: v.CRM, Users: []crmUserView{}, UnmatchedAgents: []unmatchedAgentView{}}
	for _, cu := range v.Users {
		row := crmUserView{ID: cu.CRMUser.ID, Username: cu.CRMUser.Username, Email: cu.CRMUser.Email}
		if cu.User != nil {
			row.ParleyUser = newUserRef(cu.User)
		}
		out.Users = append(out.Users, row)
	}
	for _, a := range v.Unmatched {
		out.UnmatchedAgents = append(out.UnmatchedAgents, unmatchedAgentView{User: newUserRef(a.User), CRMUsername: a.Username})
	}
	return out
}

// integrationView is the body of PUT /api/v1/admin/users/{id}/integrations/{crm}.
type integrationView struct {
	User     *userRef `json:"user"`
	CRM      string   `json:"crm"`
	Username string   `json:"username"`
}

// integrationRequest is the body of PUT /api/v1/admin/users/{id}/integrations/{crm}.
type integrationRequest struct {
	Username string `json:"username"`
}

func (q *integrationRequest) validate() error {
	q.Username = cc.NormalizeCRMUsername(q.Username)
	if q.Username == "" {
		return cc.Errorf(cc.EINVALID, "username is required: give the login the user signs in to the CRM with (DELETE removes the mapping)")
	}
	return nil
}

// crmUsers handles GET /api/v1/admin/crm-users (admins).
func (s *Server) crmUsers(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	v, err := s.svc.CallCenterUsers(r.Context(), p)
	if err != nil {
		return fmt.Errorf("list call center users: %w", err)
	}
	s.writeJSON(w, r, http.StatusOK, newCallCenterUsersView(v))
	return nil
}

// integrationTarget reads the user id and the CRM of an integration route.
func integrationTarget(r *http.Request) (userID, crm string, err error) {
	userID = r.PathValue("id")
	if err := checkID("user", userID); err != nil {
		return "", "", err
	}
	crm = r.PathValue("crm")
	if err := cc.ValidateCRMName(crm); err != nil {
		return "", "", err
	}
	return userID, crm, nil
}

// setIntegration handles PUT /api/v1/admin/users/{id}/integrations/{crm} (admins).
func (s *Server) setIntegration(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	userID, crm, err := integrationTarget(r)
	if err != nil {
		return err
	}
	var req integrationRequest
	if err := decodeJSON(w, r, maxBodyBytes, &req); err != nil {
		return err
	}
	u, err := s.svc.SetIntegration(r.Context(), p, userID, crm, req.Username)
	if err != nil {
		return fmt.Errorf("set %s username of user %s: %w", crm, userID, err)
	}
	in, _ := u.Integration(crm)
	s.writeJSON(w, r, http.StatusOK, integrationView{User: newUserRef(u), CRM: crm, Username: in.Username})
	return nil
}

// removeIntegration handles DELETE /api/v1/admin/users/{id}/integrations/{crm} (admins).
func (s *Server) removeIntegration(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	userID, crm, err := integrationTarget(r)
	if err != nil {
		return err
	}
	if _, err := s.svc.SetIntegration(r.Context(), p, userID, crm, ""); err != nil {
		return fmt.Errorf("remove %s username of user %s: %w", crm, userID, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
