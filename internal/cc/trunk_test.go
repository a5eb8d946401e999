package cc_test

import (
	"net/netip"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

func TestParseCIDRs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		msg  string // "" when valid
	}{
		{"203.0.113.0/24", []string{"203.0.113.0/24"}, ""},
		{"203.0.113.77/24", []string{"203.0.113.0/24"}, ""}, // host bits are dropped
		{"198.51.100.7", []string{"198.51.100.7/32"}, ""},
		{"0.0.0.0/0", []string{"0.0.0.0/0"}, ""},
		{"2001:db8::/32", []string{"2001:db8::/32"}, ""},
		{"2001:db8::1", []string{"2001:db8::1/128"}, ""},
		{"::1/128", []string{"::1/128"}, ""},
		{"::/0", []string{"::/0"}, ""},
		{"::ffff:198.51.100.7", []string{"198.51.100.7/32"}, ""},
		{"::ffff:198.51.100.0/120", []string{"198.51.100.0/24"}, ""},
		{" 10.0.0.0/8 , 192.168.1.1 ,, 2001:db8::/48 ", []string{"10.0.0.0/8", "192.168.1.1/32", "2001:db8::/48"}, ""},
		{"", nil, ""},
		{" , ", nil, ""},
		{"garbage", nil, `trunk source "garbage"`},
		{"10.0.0.0/8, nope", nil, `trunk source "nope"`},
		{"10.0.0.0/33", nil, `trunk source "10.0.0.0/33"`},
		{"2001:db8::/129", nil, `trunk source "2001:db8::/129"`},
		{"300.1.1.1", nil, `trunk source "300.1.1.1"`},
		{"10.0.0", nil, `trunk source "10.0.0"`},
		{"pbx.example.net", nil, `trunk source "pbx.example.net"`},
		{"10.0.0.0/8;192.168.0.0/16", nil, `trunk source "10.0.0.0/8;192.168.0.0/16"`},
		{"::ffff:0:0/80", nil, `trunk source "::ffff:0:0/80"`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := cc.ParseCIDRs(tc.in)
			checkErr(t, err, cc.EINVALID, tc.msg)
			var strs []string
			for _, p := range got {
				strs = append(strs, p.String())
			}
			if len(strs) != len(tc.want) {
				t.Fatalf("ParseCIDRs(%q) = %v, want %v", tc.in, strs, tc.want)
			}
			for i := range strs {
				if strs[i] != tc.want[i] {
					t.Errorf("ParseCIDRs(%q) = %v, want %v", tc.in, strs, tc.want)
				}
			}
		})
	}
}

func TestTrunkAllows(t *testing.T) {
	cidrs, err := cc.ParseCIDRs("203.0.113.0/24, 2001:db8::/32, ::ffff:198.51.100.0/120")
	if err != nil {
		t.Fatal(err)
	}
	tr := &cc.Trunk{CIDRs: cidrs}
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"203.0.113.1", true},
		{"203.0.113.255", true},
		{"203.0.114.1", false},
		{"::ffff:203.0.113.9", true}, // a v4-mapped source from a dual-stack socket
		{"198.51.100.20", true},
		{"::ffff:198.51.100.20", true},
		{"2001:db8:1::5", true},
		{"2001:db9::5", false},
		{"::1", false},
	} {
		if got := tr.Allows(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("Allows(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
	if (&cc.Trunk{}).Allows(netip.MustParseAddr("203.0.113.1")) {
		t.Error("a trunk without networks allows a source")
	}
}

func TestTrunkValidate(t *testing.T) {
	nets := []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
	for _, tc := range []struct {
		name  string
		trunk cc.Trunk
		msg   string // "" when valid
	}{
		{"carrier", cc.Trunk{TenantID: "ten_1", Name: "carrier", CIDRs: nets}, ""},
		{"mixed-case name with an outbound gateway", cc.Trunk{TenantID: "ten_1", Name: "Carrier-EU", CIDRs: nets, OutboundURI: "sip:gateway.example.net:5060"}, ""},
		{"no tenant", cc.Trunk{Name: "carrier", CIDRs: nets}, "trunk has no tenant"},
		{"no name", cc.Trunk{TenantID: "ten_1", CIDRs: nets}, `trunk name ""`},
		{"name with a space", cc.Trunk{TenantID: "ten_1", Name: "my carrier", CIDRs: nets}, `trunk name "my carrier"`},
		{"no networks", cc.Trunk{TenantID: "ten_1", Name: "carrier"}, "trunk carrier has no allowed source networks"},
		{"outbound URI without a scheme", cc.Trunk{TenantID: "ten_1", Name: "carrier", CIDRs: nets, OutboundURI: "gateway.example.net"},
			`SIP URI "gateway.example.net": start it with sip:`},
		{"outbound URI with a bad port", cc.Trunk{TenantID: "ten_1", Name: "carrier", CIDRs: nets, OutboundURI: "sip:gateway.example.net:0"},
			`port "0"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, tc.trunk.Validate(), cc.EINVALID, tc.msg)
		})
	}
}
