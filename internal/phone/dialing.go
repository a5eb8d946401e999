package phone

import (
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/parley-cc/parley/internal/cc"
)

// DialingPrefixes returns what a caller in region dials before a national
// long-distance number (the national trunk prefix: "1" in the US, "0" in GB;
// empty where there is none) and before an international one (the
// international access code: "011" in the US, "00" in most of Europe). It
// returns EINVALID for an unknown region.
func DialingPrefixes(region string) (longDistance, international string, err error) {
	r, err := checkRegion(region)
	if err != nil {
		return "", "", err
	}
	if r == "ZZ" {
		return "", "", cc.Errorf(cc.EINVALID, "phone region is empty: use a two-letter country code such as US, GB or CH")
	}
	longDistance = phonenumbers.GetNddPrefixForRegion(r, true)
	// The library keeps the international prefix in unexported metadata; it
	// shows in a number of another country formatted for dialling from r:
	// "011 41 31 ..." from the US.
	other := "CH"
	if r == other {
		other = "DE"
	}
	ex := phonenumbers.GetExampleNumber(other)
	if ex == nil {
		return longDistance, "", nil
	}
	out := phonenumbers.FormatOutOfCountryCallingNumber(ex, r)
	code := strconv.Itoa(int(ex.GetCountryCode()))
	if prefix, _, ok := strings.Cut(out, " "+code+" "); ok && prefix != "" && Digits(prefix) == prefix {
		international = prefix
	}
	return longDistance, international, nil
}
