package cc_test

import (
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

func TestParseEndpoint(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want cc.Endpoint
		msg  string
	}{
		{"browser", cc.EndpointBrowser, ""},
		{" SIP ", cc.EndpointSIP, ""},
		{"External", cc.EndpointExternal, ""},
		{"", "", `endpoint "": use browser (the panel's softphone), sip (a SIP phone or static contact) or external`},
		{"phone", "", `endpoint "phone": use browser`},
	} {
		got, err := cc.ParseEndpoint(tc.in)
		checkErr(t, err, cc.EINVALID, tc.msg)
		if got != tc.want {
			t.Errorf("ParseEndpoint(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestUserEndpoint(t *testing.T) {
	ha1 := strings.Repeat("0f", 16)
	for _, tc := range []struct {
		name string
		edit func(*cc.User)
		kind cc.Endpoint
		msg  string // "" when valid
	}{
		{"none given is the browser", func(*cc.User) {}, cc.EndpointBrowser, ""},
		{"browser keeps a SIP phone for later", func(u *cc.User) {
			u.Endpoint, u.SIPUsername, u.SIPHA1 = cc.EndpointBrowser, "alice", ha1
		}, cc.EndpointBrowser, ""},
		{"sip with a SIP username", func(u *cc.User) { u.Endpoint, u.SIPUsername, u.SIPHA1 = cc.EndpointSIP, "alice", ha1 }, cc.EndpointSIP, ""},
		{"sip with a static contact", func(u *cc.User) { u.Endpoint, u.StaticContact = cc.EndpointSIP, "sip:desk@10.0.0.5" }, cc.EndpointSIP, ""},
		{"sip with neither", func(u *cc.User) { u.Endpoint = cc.EndpointSIP }, cc.EndpointSIP,
			"user alice takes calls on a SIP phone but has no SIP username and no static contact: set --sip-username or --static-contact"},
		{"external with a number", func(u *cc.User) { u.Endpoint, u.ExternalNumber = cc.EndpointExternal, "+12015550123" }, cc.EndpointExternal, ""},
		{"external without a number", func(u *cc.User) { u.Endpoint = cc.EndpointExternal }, cc.EndpointExternal,
			"user alice takes calls on an external number but has none: set --external-number"},
		{"external number not in E.164", func(u *cc.User) { u.Endpoint, u.ExternalNumber = cc.EndpointExternal, "201 555 0123" }, cc.EndpointExternal,
			`external number "201 555 0123": give the number in E.164 form, such as +12015550123`},
		{"a kept external number must be E.164 too", func(u *cc.User) { u.ExternalNumber = "12015550123" }, cc.EndpointBrowser,
			`external number "12015550123"`},
		{"unknown endpoint", func(u *cc.User) { u.Endpoint = "desk" }, "desk", `endpoint "desk": use browser`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := validUser()
			tc.edit(u)
			if got := u.EndpointKind(); got != tc.kind {
				t.Errorf("EndpointKind() = %q, want %q", got, tc.kind)
			}
			checkErr(t, u.Validate(), cc.EINVALID, tc.msg)
		})
	}
}

func TestUserNormalizeEndpoint(t *testing.T) {
	u := &cc.User{Endpoint: " SIP ", ExternalNumber: " +12015550123 "}
	u.Normalize()
	if u.Endpoint != cc.EndpointSIP || u.ExternalNumber != "+12015550123" {
		t.Errorf("normalised endpoint %q, number %q", u.Endpoint, u.ExternalNumber)
	}
}

func TestTrunkDialURI(t *testing.T) {
	for _, tc := range []struct{ uri, want string }{
		{"sip:gateway.example.net:5060", "sip:+12015550123@gateway.example.net:5060"},
		{"sip:127.0.0.1:5098;transport=tcp", "sip:+12015550123@127.0.0.1:5098;transport=tcp"},
		{"sip:trunk@[2001:db8::1]:5060", "sip:+12015550123@[2001:db8::1]:5060"},
		{"sips:pbx.example.net", "sips:+12015550123@pbx.example.net"},
	} {
		tr := &cc.Trunk{OutboundURI: tc.uri}
		got := tr.DialURI("+12015550123")
		if got != tc.want {
			t.Errorf("DialURI via %q = %q, want %q", tc.uri, got, tc.want)
		}
		if err := cc.ValidateSIPURI(got); err != nil {
			t.Errorf("DialURI via %q: %v", tc.uri, err)
		}
	}
}
