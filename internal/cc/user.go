package cc

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Role is what a user may do.
type Role string

// Roles.
const (
	RoleAgent      Role = "agent"
	RoleSupervisor Role = "supervisor"
	RoleAdmin      Role = "admin"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAgent || r == RoleSupervisor || r == RoleAdmin }

// ParseRoles parses a comma-separated role list such as "agent,supervisor".
func ParseRoles(s string) ([]Role, error) {
	var roles []Role
	for _, p := range strings.Split(s, ",") {
		r := Role(normalizeName(p))
		if r == "" {
			continue
		}
		if !r.Valid() {
			return nil, Errorf(EINVALID, "role %q: use agent, supervisor or admin", strings.TrimSpace(p))
		}
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	if len(roles) == 0 {
		return nil, Errorf(EINVALID, "no role given: use agent, supervisor or admin")
	}
	return roles, nil
}

// User is a person who signs in to Parley: an agent, a supervisor or an admin.
type User struct {
	ID           string
	TenantID     string
	Username     string // unique per tenant, lowercase
	DisplayName  string
	Email        string
	Roles        []Role
	PasswordHash string // argon2id PHC string; never the password
	// Skills decide which queues the user serves as an agent.
	Skills []string
	// SIPUsername is the digest username of the agent's SIP phone; unique
	// across all tenants. Empty if the agent has no registering phone.
	SIPUsername string
	// SIPHA1 is MD5(username:realm:password) in hex; never the password.
	SIPHA1 string
	// StaticContact is a SIP URI to ring instead of a registered phone
	// (a desk phone or a gateway).
	StaticContact string
	// Endpoint is where the user takes calls; "" reads as EndpointBrowser
	// (use EndpointKind).
	Endpoint Endpoint
	// ExternalNumber is the E.164 number Parley calls for EndpointExternal.
	ExternalNumber string
	// Integrations are the user's CRM accounts, at most one per CRM, by
	// CRM name: single sign-on from a CRM finds the user by them.
	Integrations []Integration
	Disabled     bool
	CreatedAt    time.Time
}

// HasRole reports whether u has role r. Admins also act as supervisors.
func (u *User) HasRole(r Role) bool {
	if slices.Contains(u.Roles, r) {
		return true
	}
	return r == RoleSupervisor && slices.Contains(u.Roles, RoleAdmin)
}

// IsAgent reports whether u takes interactions.
func (u *User) IsAgent() bool { return slices.Contains(u.Roles, RoleAgent) }

// Name returns the display name, or the username.
func (u *User) Name() string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}

// Normalize canonicalises case and order.
func (u *User) Normalize() {
	u.Username = normalizeName(u.Username)
	u.SIPUsername = strings.TrimSpace(u.SIPUsername)
	u.Email = strings.TrimSpace(u.Email)
	u.StaticContact = strings.TrimSpace(u.StaticContact)
	u.Endpoint = Endpoint(strings.ToLower(strings.TrimSpace(string(u.Endpoint))))
	u.ExternalNumber = strings.TrimSpace(u.ExternalNumber)
	for i, s := range u.Skills {
		u.Skills[i] = normalizeName(s)
	}
	slices.Sort(u.Skills)
	u.Skills = slices.Compact(u.Skills)
	for i := range u.Integrations {
		u.Integrations[i].Normalize()
	}
	sortIntegrations(u.Integrations)
}

// Validate returns EINVALID naming the first field that is wrong.
func (u *User) Validate() error {
	if u.TenantID == "" {
		return Errorf(EINVALID, "user has no tenant")
	}
	if !validSlug(u.Username, 64) && !validEmailUsername(u.Username) {
		return Errorf(EINVALID, "username %q: use 1-64 lowercase letters, digits, '-', '_' or '.' (or an e-mail address)", u.Username)
	}
	if len(u.Roles) == 0 {
		return Errorf(EINVALID, "user %s has no role: give agent, supervisor or admin", u.Username)
	}
	for _, r := range u.Roles {
		if !r.Valid() {
			return Errorf(EINVALID, "role %q: use agent, supervisor or admin", r)
		}
	}
	for _, s := range u.Skills {
		if !validSlug(s, 64) {
			return Errorf(EINVALID, "skill %q: use 1-64 lowercase letters, digits, '-', '_' or '.'", s)
		}
	}
	if u.SIPUsername != "" && !validSIPUser(u.SIPUsername) {
		return Errorf(EINVALID, "SIP username %q: use 1-64 letters, digits, '-', '_' or '.'", u.SIPUsername)
	}
	if u.SIPUsername != "" && len(u.SIPHA1) != 32 {
		return Errorf(EINVALID, "SIP username %q has no password set", u.SIPUsername)
	}
	if u.StaticContact != "" {
		if err := ValidateSIPURI(u.StaticContact); err != nil {
			return err
		}
	}
	if err := u.validateEndpoint(); err != nil {
		return err
	}
	if err := u.validateIntegrations(); err != nil {
		return err
	}
	if len(u.DisplayName) > 120 {
		return Errorf(EINVALID, "display name is longer than 120 bytes")
	}
	return nil
}

// ValidateSIPURI checks that s looks like sip:user@host[:port][;params]
// (or sips:): printable ASCII without spaces, quotes or angle brackets; a host
// name, an IPv4 address or an IPv6 address in brackets; a port from 1 to 65535.
func ValidateSIPURI(s string) error {
	rest, ok := strings.CutPrefix(s, "sip:")
	if !ok {
		rest, ok = strings.CutPrefix(s, "sips:")
	}
	if !ok {
		return Errorf(EINVALID, "SIP URI %q: start it with sip: as in sip:desk12@10.0.0.5:5060", s)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == '<' || r == '>' || r == '"' }) {
		return Errorf(EINVALID, "SIP URI %q: remove spaces, quotes, angle brackets and control characters, and percent-encode anything outside ASCII", s)
	}
	hostport := rest
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		hostport = rest[at+1:]
	}
	if i := strings.IndexAny(hostport, ";?"); i >= 0 {
		hostport = hostport[:i]
	}
	if hostport == "" {
		return Errorf(EINVALID, "SIP URI %q: give a host, as in sip:desk12@10.0.0.5:5060", s)
	}
	host, port, hasPort := hostport, "", false
	if strings.HasPrefix(hostport, "[") {
		if end := strings.IndexByte(hostport, ']'); end > 0 {
			host, port = hostport[:end+1], hostport[end+1:]
			port, hasPort = strings.CutPrefix(port, ":")
			if !hasPort && port != "" {
				host = hostport // text after the bracket that is not a port
			}
		}
	} else if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
		host, port, hasPort = hostport[:i], hostport[i+1:], true
	}
	if !validSIPHost(host) {
		return Errorf(EINVALID, "SIP URI %q: the host part %q is not a host name or IP address (IPv6 in brackets) with an optional port", s, hostport)
	}
	if hasPort && !validPort(port) {
		return Errorf(EINVALID, "SIP URI %q: port %q: use 1 to 65535", s, port)
	}
	return nil
}

// validSIPHost reports whether h is a host name, an IPv4 address or an IPv6
// address in brackets (without a zone).
func validSIPHost(h string) bool {
	if inner, ok := strings.CutPrefix(h, "["); ok {
		inner, ok = strings.CutSuffix(inner, "]")
		a, err := netip.ParseAddr(inner)
		return ok && err == nil && a.Is6() && a.Zone() == ""
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Is4()
	}
	// RFC 3261 hostname, with '_' allowed as container and lab names use it:
	// labels of letters, digits, '-' and '_' not starting or ending with '-',
	// an optional final dot, the last label starting with a letter.
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	top := labels[len(labels)-1][0]
	return top >= 'a' && top <= 'z' || top >= 'A' && top <= 'Z'
}

// validPort reports whether p is a decimal port from 1 to 65535.
func validPort(p string) bool {
	if p == "" || len(p) > 5 {
		return false
	}
	n := 0
	for _, r := range p {
		if r < '0' || r > '9' {
			return false
		}
		n = n*10 + int(r-'0')
	}
	return n >= 1 && n <= 65535
}

func validSIPUser(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == '+') {
			return false
		}
	}
	return true
}

func validEmailUsername(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && strings.Contains(domain, ".") && len(s) <= 254 && !strings.ContainsAny(s, " \t\r\n<>\"'")
}

// UserStore stores users.
type UserStore interface {
	// CreateUser stores a new user. ECONFLICT if the username is taken in the
	// tenant, the SIP username anywhere, or a CRM username of its
	// Integrations by another user of the tenant.
	CreateUser(ctx context.Context, u *User) error
	// UpdateUser replaces a user's fields. ENOTFOUND if absent; ECONFLICT as CreateUser.
	UpdateUser(ctx context.Context, u *User) error
	// User returns a user of the tenant by id. ENOTFOUND if none (also when it
	// belongs to another tenant).
	User(ctx context.Context, tenantID, id string) (*User, error)
	// UserByUsername returns a user of the tenant by username (case-insensitive).
	UserByUsername(ctx context.Context, tenantID, username string) (*User, error)
	// UserBySIPUsername returns the user whose phone registers with this SIP
	// username, in any tenant. ENOTFOUND if none.
	UserBySIPUsername(ctx context.Context, sipUsername string) (*User, error)
	// Users returns the tenant's users ordered by username.
	Users(ctx context.Context, tenantID string) ([]*User, error)
	// UserByIntegration returns the tenant's user whose entry for the CRM
	// (User.Integrations) has this username, compared as
	// NormalizeCRMUsername returns it. ENOTFOUND naming the username when no
	// user of the tenant has it; users of other tenants are never found.
	// (CreateUser and UpdateUser store the entries, and return ECONFLICT
	// naming the user who has a CRM username when another user of the
	// tenant has it.)
	UserByIntegration(ctx context.Context, tenantID, crm, username string) (*User, error)
}
