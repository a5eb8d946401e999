package cc

import "time"

// Principal is who is calling: a signed-in user of a tenant.
type Principal struct {
	Tenant  *Tenant
	User    *User
	Session *Session
}

// CanSeeTenant reports whether the principal sees every interaction of the
// tenant (supervisors and admins) rather than only its own.
func (p *Principal) CanSeeTenant() bool {
	return p.User.HasRole(RoleSupervisor) || p.User.HasRole(RoleAdmin)
}

// QueueStatus is a queue's live state.
type QueueStatus struct {
	QueueID     string
	Name        string
	Priority    int
	Waiting     int
	LongestWait time.Duration
	// Agents counts the queue's agents (those with its skills) by state.
	Agents map[AgentState]int
	// Today's counters, in the tenant's time zone.
	Offered      int
	Answered     int
	Abandoned    int
	AnsweredInSL int
	ServiceLevel time.Duration
}
