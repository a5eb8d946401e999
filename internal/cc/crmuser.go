package cc

import (
	"context"
	"slices"
	"strings"
)

// CRMUser is a user of a CRM as the call center users view lists it.
type CRMUser struct {
	ID       string // the CRM's record id, e.g. 005...
	Username string // the login, as the CRM spells it
	Email    string
}

// CRMUserLister is implemented by CRMs that can list their users (the
// Salesforce connector does, with SELECT Id, Username, Email FROM User).
type CRMUserLister interface {
	// CRMUsers returns the CRM's users by username.
	CRMUsers(ctx context.Context) ([]CRMUser, error)
}

// CallCenterUser is one CRM user of the call center users view and the
// Parley user mapped to it (nil when none is).
type CallCenterUser struct {
	CRMUser CRMUser
	User    *User
}

// UnmatchedAgent is a Parley agent whose CRM username (Username, "" when it
// has none) belongs to no CRM user.
type UnmatchedAgent struct {
	User     *User
	Username string
}

// CallCenterUsers is the call center users view of one CRM: the CRM's users,
// each with the Parley user mapped to it or none, and the Parley agents that
// map to no CRM user.
type CallCenterUsers struct {
	CRM       string
	Users     []CallCenterUser
	Unmatched []UnmatchedAgent
}

// MatchCRMUsers builds the call center users view of the CRM from its users
// and the tenant's Parley users: a CRM user is mapped to the Parley user
// whose entry for the CRM has its username (compared as
// NormalizeCRMUsername returns them). Unmatched lists the agents (users with
// the agent role) with no entry for the CRM or one that names no CRM user.
// The CRM users keep their order; the agents are by username.
func MatchCRMUsers(crm string, crmUsers []CRMUser, users []*User) *CallCenterUsers {
	byName := map[string]*User{}
	for _, u := range users {
		if in, ok := u.Integration(crm); ok {
			byName[NormalizeCRMUsername(in.Username)] = u
		}
	}
	v := &CallCenterUsers{CRM: crm, Users: make([]CallCenterUser, 0, len(crmUsers)), Unmatched: []UnmatchedAgent{}}
	known := map[string]bool{}
	for _, cu := range crmUsers {
		key := NormalizeCRMUsername(cu.Username)
		known[key] = true
		v.Users = append(v.Users, CallCenterUser{CRMUser: cu, User: byName[key]})
	}
	for _, u := range users {
		if !u.IsAgent() {
			continue
		}
		in, ok := u.Integration(crm)
		if ok && known[NormalizeCRMUsername(in.Username)] {
			continue
		}
		v.Unmatched = append(v.Unmatched, UnmatchedAgent{User: u, Username: in.Username})
	}
	slices.SortStableFunc(v.Unmatched, func(a, b UnmatchedAgent) int { return strings.Compare(a.User.Username, b.User.Username) })
	return v
}
