package cc_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

// validUser returns a user that passes Validate.
func validUser() *cc.User {
	return &cc.User{TenantID: "ten_1", Username: "alice", Roles: []cc.Role{cc.RoleAgent}}
}

func TestUserValidate(t *testing.T) {
	ha1 := strings.Repeat("0f", 16)
	for _, tc := range []struct {
		name string
		edit func(*cc.User)
		msg  string // "" when valid
	}{
		{"agent", func(*cc.User) {}, ""},
		{"e-mail username", func(u *cc.User) { u.Username = "alice@acme.example" }, ""},
		{"all roles, skills and a phone", func(u *cc.User) {
			u.Roles = []cc.Role{cc.RoleAgent, cc.RoleSupervisor, cc.RoleAdmin}
			u.Skills = []string{"en", "sales"}
			u.SIPUsername, u.SIPHA1 = "Alice.Desk+1", ha1
			u.StaticContact = "sip:desk12@10.0.0.5:5060"
		}, ""},
		{"no tenant", func(u *cc.User) { u.TenantID = "" }, "user has no tenant"},
		{"empty username", func(u *cc.User) { u.Username = "" }, `username ""`},
		{"upper-case username", func(u *cc.User) { u.Username = "Alice" }, `username "Alice"`},
		{"username with a space", func(u *cc.User) { u.Username = "alice smith" }, `username "alice smith"`},
		{"e-mail username without a domain dot", func(u *cc.User) { u.Username = "alice@localhost" }, `username "alice@localhost"`},
		{"e-mail username with a quote", func(u *cc.User) { u.Username = "o'neil@acme.example" }, `username "o'neil@acme.example"`},
		{"no role", func(u *cc.User) { u.Roles = nil }, "user alice has no role"},
		{"unknown role", func(u *cc.User) { u.Roles = []cc.Role{cc.RoleAgent, "boss"} }, `role "boss"`},
		{"upper-case skill", func(u *cc.User) { u.Skills = []string{"Sales"} }, `skill "Sales"`},
		{"empty skill", func(u *cc.User) { u.Skills = []string{""} }, `skill ""`},
		{"SIP username with a space", func(u *cc.User) { u.SIPUsername, u.SIPHA1 = "alice desk", ha1 }, `SIP username "alice desk"`},
		{"SIP username of 65 bytes", func(u *cc.User) { u.SIPUsername, u.SIPHA1 = strings.Repeat("a", 65), ha1 }, "use 1-64 letters"},
		{"SIP username without a password", func(u *cc.User) { u.SIPUsername = "alice" }, `SIP username "alice" has no password set`},
		{"static contact without a scheme", func(u *cc.User) { u.StaticContact = "desk12@10.0.0.5" }, `SIP URI "desk12@10.0.0.5"`},
		{"120-byte display name", func(u *cc.User) { u.DisplayName = strings.Repeat("é", 60) }, ""},
		{"121-byte display name", func(u *cc.User) { u.DisplayName = strings.Repeat("a", 121) }, "display name is longer than 120 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := validUser()
			tc.edit(u)
			checkErr(t, u.Validate(), cc.EINVALID, tc.msg)
		})
	}
}

func TestUserNormalize(t *testing.T) {
	u := &cc.User{Username: " Alice ", SIPUsername: " desk1 ", Email: " alice@acme.example ", StaticContact: " sip:desk@pbx ",
		Skills: []string{"Sales", " en", "sales", "EN"}}
	u.Normalize()
	if u.Username != "alice" || u.SIPUsername != "desk1" || u.Email != "alice@acme.example" || u.StaticContact != "sip:desk@pbx" {
		t.Errorf("normalised user: %+v", u)
	}
	if want := []string{"en", "sales"}; !slices.Equal(u.Skills, want) {
		t.Errorf("skills %v, want %v", u.Skills, want)
	}
}

func TestUserRoles(t *testing.T) {
	for _, tc := range []struct {
		roles                            []cc.Role
		agent, supervisor, admin, canSee bool
	}{
		{[]cc.Role{cc.RoleAgent}, true, false, false, false},
		{[]cc.Role{cc.RoleSupervisor}, false, true, false, true},
		{[]cc.Role{cc.RoleAdmin}, false, true, true, true}, // admins act as supervisors
		{[]cc.Role{cc.RoleAgent, cc.RoleAdmin}, true, true, true, true},
	} {
		u := &cc.User{Username: "alice", Roles: tc.roles}
		p := &cc.Principal{User: u}
		if u.IsAgent() != tc.agent || u.HasRole(cc.RoleAgent) != tc.agent || u.HasRole(cc.RoleSupervisor) != tc.supervisor ||
			u.HasRole(cc.RoleAdmin) != tc.admin || p.CanSeeTenant() != tc.canSee {
			t.Errorf("roles %v: agent %v, supervisor %v, admin %v, sees the tenant %v", tc.roles,
				u.HasRole(cc.RoleAgent), u.HasRole(cc.RoleSupervisor), u.HasRole(cc.RoleAdmin), p.CanSeeTenant())
		}
	}
	if got := (&cc.User{Username: "alice"}).Name(); got != "alice" {
		t.Errorf("Name without a display name = %q", got)
	}
	if got := (&cc.User{Username: "alice", DisplayName: "Alice Smith"}).Name(); got != "Alice Smith" {
		t.Errorf("Name = %q", got)
	}
}

func TestParseRoles(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []cc.Role
		msg  string
	}{
		{"agent", []cc.Role{cc.RoleAgent}, ""},
		{" Agent , SUPERVISOR ", []cc.Role{cc.RoleAgent, cc.RoleSupervisor}, ""},
		{"admin,agent,admin", []cc.Role{cc.RoleAdmin, cc.RoleAgent}, ""},
		{"agent,,supervisor,", []cc.Role{cc.RoleAgent, cc.RoleSupervisor}, ""},
		{"", nil, "no role given"},
		{" , ", nil, "no role given"},
		{"agent, boss", nil, `role "boss": use agent, supervisor or admin`},
		{"agents", nil, `role "agents"`},
	} {
		got, err := cc.ParseRoles(tc.in)
		checkErr(t, err, cc.EINVALID, tc.msg)
		if !slices.Equal(got, tc.want) {
			t.Errorf("ParseRoles(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestValidateSIPURI(t *testing.T) {
	for _, tc := range []struct {
		uri, msg string // msg "" when valid
	}{
		{"sip:desk12@10.0.0.5:5060", ""},
		{"sips:desk12@pbx.acme.example", ""},
		{"sip:gateway.example.net:5060", ""},
		{"sip:10.0.0.5", ""},
		{"sip:pbx.acme.example.", ""},
		{"sip:[2001:db8::1]:5061", ""},
		{"sip:desk@[::1]", ""},
		{"sip:alice;day=tuesday@atlanta.example", ""},
		{"sip:+15550100@gw.example.net;user=phone", ""},
		{"sip:desk@pbx.acme.example;transport=tcp", ""},
		{"sip:desk@pbx.acme.example?subject=hello", ""},
		{"sip:desk@pbx:65535", ""},

		{"desk12@10.0.0.5", "start it with sip:"},
		{"tel:+15550100", "start it with sip:"},
		{"<sip:desk@pbx>", "start it with sip:"},
		{"sip:", "give a host"},
		{"sip:desk@", "give a host"},
		{"sip:desk@;transport=tcp", "give a host"},
		{"sip:desk 12@pbx", "remove spaces"},
		{"sip:desk@pbx>", "remove spaces"},
		{"sip:\"desk\"@pbx", "remove spaces"},
		{"sip:desk@pbx\r\nVia: evil", "remove spaces"},
		{"sip:de\x00sk@pbx", "control characters"},
		{"sip:de\x7fsk@pbx", "control characters"},
		{"sip:désk@pbx", "percent-encode"},
		{"sip:desk@\xff", "percent-encode"},
		{"sip:::1", `the host part "::1"`},
		{"sip:[::1", `the host part "[::1"`},
		{"sip:[10.0.0.5]", `the host part "[10.0.0.5]"`},
		{"sip:[fe80::1%25eth0]", `the host part "[fe80::1%25eth0]"`},
		{"sip:pbx/path", `the host part "pbx/path"`},
		{"sip:10.0.0.256", `the host part "10.0.0.256"`},
		{"sip:-pbx.example", `the host part "-pbx.example"`},
		{"sip:pbx..example", `the host part "pbx..example"`},
		{"sip:pbx_1.lab", ""},
		{"sip:pbx.1example", `the host part "pbx.1example"`},
		{"sip:[::1]x", `the host part "[::1]x"`},
		{"sip:desk@:5060", `the host part ":5060"`},
		{"sip:desk@pbx:99999", `port "99999"`},
		{"sip:desk@pbx:0", `port "0"`},
		{"sip:desk@pbx:", `port ""`},
		{"sip:desk@pbx:50a", `port "50a"`},
		{"sip:desk@pbx:+5060", `port "+5060"`},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			err := cc.ValidateSIPURI(tc.uri)
			checkErr(t, err, cc.EINVALID, tc.msg)
			if err != nil && !strings.Contains(cc.ErrorMessage(err), "SIP URI") {
				t.Errorf("message %q does not say it is about the SIP URI", cc.ErrorMessage(err))
			}
		})
	}
}
