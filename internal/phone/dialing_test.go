package phone

import (
	"strings"
	"testing"
)

func TestDialingPrefixes(t *testing.T) {
	for _, c := range []struct{ region, long, intl string }{
		{"US", "1", "011"}, {"gb", "0", "00"}, {"CH", "0", "00"}, {"JP", "0", "010"}, {"AU", "0", "0011"},
	} {
		long, intl, err := DialingPrefixes(c.region)
		if err != nil || long != c.long || intl != c.intl {
			t.Errorf("DialingPrefixes(%q) = %q, %q, %v; want %q, %q", c.region, long, intl, err, c.long, c.intl)
		}
	}
	for _, bad := range []string{"", "XX"} {
		if _, _, err := DialingPrefixes(bad); err == nil || !strings.Contains(err.Error(), "two-letter country code") {
			t.Errorf("DialingPrefixes(%q) error = %v, want one asking for a country code", bad, err)
		}
	}
}
