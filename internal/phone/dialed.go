package phone

import (
	"errors"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"github.com/parley-cc/parley/internal/cc"
)

// maxE164Digits is the longest E.164 number, country code included.
const maxE164Digits = 15

// NormalizeDialed normalises a dialled SIP user part or tel: value
// ("+15550100", "15550100", "5550100", "tel:+1-555-0100", "0015550100",
// "%2B15550100") to E.164 for matching entry points. Valid numbers are
// normalised as Parse does. Short or test numbers that libphonenumber calls
// invalid (+15550100 in US) are accepted too: "+" and the digits when the
// value had a "+" or "00" (or the region's international prefix) and a known
// country calling code, else "+", the region's country code and the national
// digits, without the national (trunk) prefix when what remains has a
// possible length for the country.
//
// URI parameters (";user=phone", ";phone-context=...") are ignored. It
// returns EINVALID when the value holds anything but digits, a leading plus
// and the usual separators, has no digits, or is longer than E.164 allows.
func NormalizeDialed(user, region string) (string, error) {
	region, err := checkRegion(region)
	if err != nil {
		return "", err
	}
	s := clean(user)
	if rest, ok := cutTelScheme(s); ok {
		s = rest
	}
	num, _, _ := strings.Cut(s, ";")
	num = strings.TrimSpace(num)
	if !dialable(num) {
		return "", cc.Errorf(cc.EINVALID, "dialled number %s: give digits, optionally with a leading + or 00 and the country code, such as +15550100", quote(user))
	}
	digits := Digits(num)
	if digits == "" || len(digits) > maxE164Digits+3 {
		return "", cc.Errorf(cc.EINVALID, "dialled number %s: give 1 to %d digits, optionally with a leading + or 00 and the country code, such as +15550100", quote(user), maxE164Digits)
	}
	if pn, err := phonenumbers.Parse(num, region); err == nil && phonenumbers.IsValidNumber(pn) {
		if e164, ok := shortE164(pn); ok {
			return e164, nil
		}
	}
	if intl, ok := internationalDigits(num, region); ok {
		if intl == "" || len(intl) > maxE164Digits {
			return "", cc.Errorf(cc.EINVALID, "dialled number %s: after the international prefix give the country code and number, at most %d digits", quote(user), maxE164Digits)
		}
		pn, err := phonenumbers.Parse("+"+intl, "ZZ")
		switch {
		case errors.Is(err, phonenumbers.ErrInvalidCountryCode), err == nil && phonenumbers.IsPossibleNumberWithReason(pn) == phonenumbers.INVALID_COUNTRY_CODE:
			return "", cc.Errorf(cc.EINVALID, "dialled number %s does not start with a known country calling code: give it as + and the country code, such as +15550100", quote(user))
		case err != nil:
			return "", cc.Errorf(cc.EINVALID, "dialled number %s is too short: give + and the country code and number, such as +15550100", quote(user))
		}
		if e164, ok := shortE164(pn); ok && possible(pn) {
			return e164, nil
		}
		return "+" + intl, nil
	}
	if region == "ZZ" {
		return "", cc.Errorf(cc.EINVALID, "dialled number %s: with no default region give + and the country code, such as +15550100", quote(user))
	}
	cc0 := strconv.Itoa(phonenumbers.GetCountryCodeForRegion(region))
	tries := []string{digits}
	if ndd := phonenumbers.GetNddPrefixForRegion(region, true); ndd != "" && strings.HasPrefix(digits, ndd) {
		tries = []string{digits[len(ndd):], digits}
	}
	reason := "too short"
	for _, national := range tries {
		pn, err := phonenumbers.Parse("+"+cc0+national, "ZZ")
		if err != nil {
			continue
		}
		switch phonenumbers.IsPossibleNumberWithReason(pn) {
		case phonenumbers.IS_POSSIBLE, phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
			if e164, ok := shortE164(pn); ok {
				return e164, nil
			}
			reason = "too long"
		case phonenumbers.TOO_LONG:
			reason = "too long"
		}
	}
	return "", cc.Errorf(cc.EINVALID, "dialled number %s is %s for a number of %s: give + and the country code and number, such as +15550100", quote(user), reason, region)
}

// internationalDigits returns the country code and number of num when it is
// written in international form: with a leading "+", "00", or the region's
// international prefix (011 in US).
func internationalDigits(num, region string) (string, bool) {
	if startsWithPlus(num) {
		return Digits(num), true
	}
	d := Digits(num)
	if rest, ok := strings.CutPrefix(d, "00"); ok {
		return rest, true
	}
	pn, err := phonenumbers.ParseAndKeepRawInput(num, region)
	if err == nil && pn.GetCountryCodeSource() == phonenumbers.PhoneNumber_FROM_NUMBER_WITH_IDD {
		return strconv.Itoa(int(pn.GetCountryCode())) + phonenumbers.GetNationalSignificantNumber(pn), true
	}
	return "", false
}

// cutTelScheme removes a leading "tel:" in any letter case.
func cutTelScheme(s string) (string, bool) {
	if len(s) >= 4 && strings.EqualFold(s[:4], "tel:") {
		return s[4:], true
	}
	return s, false
}

// dialable reports whether s holds only digits, the separators people and
// RFC 3966 use (space, '-', '.', '(', ')', '/') and at most one leading '+'.
func dialable(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == ' ', c == '-', c == '.', c == '(', c == ')', c == '/':
		case c == '+' && strings.TrimLeft(s[:i], " (") == "":
		default:
			return false
		}
	}
	return true
}

// shortE164 returns the canonical E.164 form of pn when it has one within
// the E.164 length.
func shortE164(pn *phonenumbers.PhoneNumber) (string, bool) {
	pn, err := canonical(pn)
	if err != nil {
		return "", false
	}
	e164 := phonenumbers.Format(pn, phonenumbers.E164)
	return e164, len(e164)-1 <= maxE164Digits
}
