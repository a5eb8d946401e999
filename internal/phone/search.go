package phone

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// SearchVariants returns the forms a CRM may have stored an E.164 number in,
// for a text search, most specific first and without duplicates:
//
//   - "+12015550123" and its digits "12015550123";
//   - the international format "+1 201-555-0123" and "+1 201 555 0123";
//   - the national format "(201) 555-0123" (with the trunk prefix where the
//     country uses one, "030 5550123" in DE) and its groups joined by '-',
//     '.' and ' ': "201-555-0123", "201.555.0123", "201 555 0123";
//   - the national significant number "2015550123" and, where the country
//     has a trunk prefix, the prefixed digits ("0305550123" in DE).
//
// It returns nil when e164 is not "+" followed by 2 to 15 digits, and only
// the first two forms when the country calling code is unknown.
func SearchVariants(e164 string) []string {
	digits, ok := strings.CutPrefix(e164, "+")
	if !ok || len(digits) < 2 || len(digits) > maxE164Digits || Digits(digits) != digits {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	add := func(vs ...string) {
		for _, v := range vs {
			if v != "" && !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	add(e164, digits)
	pn, err := phonenumbers.Parse(e164, "ZZ")
	if err != nil || phonenumbers.IsPossibleNumberWithReason(pn) == phonenumbers.INVALID_COUNTRY_CODE {
		return out
	}
	intl := phonenumbers.Format(pn, phonenumbers.INTERNATIONAL)
	add(intl, "+"+strings.Join(digitGroups(intl), " "))
	national := phonenumbers.Format(pn, phonenumbers.NATIONAL)
	groups := digitGroups(national)
	add(national, strings.Join(groups, "-"), strings.Join(groups, "."), strings.Join(groups, " "))
	nsn := phonenumbers.GetNationalSignificantNumber(pn)
	add(nsn)
	region := phonenumbers.GetRegionCodeForNumber(pn)
	if region == "" || region == "ZZ" {
		region = phonenumbers.GetRegionCodeForCountryCode(int(pn.GetCountryCode()))
	}
	if ndd := phonenumbers.GetNddPrefixForRegion(region, true); ndd != "" {
		add(Digits(national), ndd+nsn)
	}
	return out
}

// digitGroups returns the runs of ASCII digits in s, in order.
func digitGroups(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r < '0' || r > '9' })
}
