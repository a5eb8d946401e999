package cc_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

// FuzzParseCIDRs checks that ParseCIDRs never panics, refuses with EINVALID
// naming the bad source, and that what it accepts is canonical: masked, no
// v4-mapped or zoned prefixes, each allowing its own address, and the same
// list again when its printed form is parsed.
func FuzzParseCIDRs(f *testing.F) {
	for _, s := range []string{
		"203.0.113.0/24", "203.0.113.77/24", "198.51.100.7", "2001:db8::/32", "2001:db8::1", "::1/128",
		"::ffff:198.51.100.7", "::ffff:198.51.100.0/120", "::ffff:0:0/80", "fe80::1%eth0", "fe80::1%eth0/64",
		" 10.0.0.0/8 , 192.168.1.1 ,, 2001:db8::/48 ", "", ",", "garbage", "10.0.0.0/33", "300.1.1.1", "0.0.0.0/0", "::/0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := cc.ParseCIDRs(s)
		if err != nil {
			if cc.ErrorCode(err) != cc.EINVALID || !strings.Contains(cc.ErrorMessage(err), "trunk source") {
				t.Fatalf("ParseCIDRs(%q): %v, want an invalid error naming the trunk source", s, err)
			}
			if got != nil {
				t.Fatalf("ParseCIDRs(%q) returned %v with its error", s, got)
			}
			return
		}
		if n := strings.Count(s, ",") + 1; len(got) > n {
			t.Fatalf("ParseCIDRs(%q) returned %d networks from %d parts", s, len(got), n)
		}
		var printed []string
		for _, p := range got {
			if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
				t.Fatalf("ParseCIDRs(%q) returned %v: not a valid, masked, unmapped, unzoned network", s, p)
			}
			if !(&cc.Trunk{CIDRs: []netip.Prefix{p}}).Allows(p.Addr()) {
				t.Fatalf("network %v does not allow its own address", p)
			}
			printed = append(printed, p.String())
		}
		again, err := cc.ParseCIDRs(strings.Join(printed, ", "))
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("ParseCIDRs(%q) = %v, but its printed form parses to %v (%v)", s, got, again, err)
		}
	})
}

// FuzzValidateSIPURI checks that ValidateSIPURI never panics, refuses with
// EINVALID about the SIP URI, and that what it accepts is a sip: or sips: URI
// of printable ASCII without quotes or angle brackets (safe to put in a SIP
// header between < and >), accepted under either scheme and with a
// parameter added.
func FuzzValidateSIPURI(f *testing.F) {
	for _, s := range []string{
		"sip:desk12@10.0.0.5:5060", "sips:desk@pbx.acme.example", "sip:gateway.example.net:5060", "sip:[2001:db8::1]:5061",
		"sip:alice;day=tuesday@atlanta.example", "sip:+15550100@gw.example.net;user=phone", "sip:desk@pbx?subject=hi",
		"sip:", "sip:desk@", "sip:::1", "sip:[::1", "sip:[::1]x", "sip:pbx:0", "sip:pbx:99999", "sip:de\x00sk@pbx",
		"sip:désk@pbx", "sip:desk@pbx\r\nVia: x", "tel:+15550100", "sip:pbx..example", "sip:10.0.0.256", "sip:[fe80::1%25eth0]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := cc.ValidateSIPURI(s)
		if err != nil {
			if cc.ErrorCode(err) != cc.EINVALID || !strings.Contains(cc.ErrorMessage(err), "SIP URI") {
				t.Fatalf("ValidateSIPURI(%q): %v, want an invalid error about the SIP URI", s, err)
			}
			return
		}
		rest, ok := strings.CutPrefix(s, "sip:")
		other := "sips:" + rest
		if !ok {
			rest, ok = strings.CutPrefix(s, "sips:")
			other = "sip:" + rest
		}
		if !ok {
			t.Fatalf("accepted %q, which is neither sip: nor sips:", s)
		}
		for i := range len(s) {
			if b := s[i]; b <= ' ' || b >= 0x7f || b == '<' || b == '>' || b == '"' {
				t.Fatalf("accepted %q with byte %#x at %d", s, b, i)
			}
		}
		if err := cc.ValidateSIPURI(other); err != nil {
			t.Fatalf("accepted %q but not %q: %v", s, other, err)
		}
		if err := cc.ValidateSIPURI(s + ";transport=tcp"); err != nil {
			t.Fatalf("accepted %q but not with ;transport=tcp: %v", s, err)
		}
	})
}
