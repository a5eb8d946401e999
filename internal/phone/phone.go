// Package phone normalises telephone numbers for Parley: caller IDs, the
// numbers stored in the CRM and dialled entry-point numbers are compared in
// E.164 using the tenant's default region. Extensions are split off and kept
// for display and for dialling as DTMF; withheld caller IDs are recognised.
//
// The package wraps github.com/nyaruka/phonenumbers (a port of Google's
// libphonenumber); no other Parley package imports that library.
package phone

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"github.com/parley-cc/parley/internal/cc"
)

// Number is a parsed telephone number.
type Number struct {
	E164      string // "+12015550123"; empty when Withheld or when Raw has no digits
	Extension string // "12"
	Raw       string // the input
	Withheld  bool
}

// Parse normalises raw with region (ISO 3166 alpha-2, e.g. "US") as the
// default country. It accepts national and international forms with any
// punctuation, "00" and the region's international prefix, extensions
// (";ext=12", "x12", "ext. 12"), tel: URIs and the user part of SIP URIs.
// A country calling code written without "+" (e.g. "44 0161 496 0123" or
// "(44) 0161 496 0123") is recognised when the national reading is not a
// valid number but the international one is. Numbers libphonenumber does not
// know as assigned are accepted when their length is possible for the
// country (test and drama ranges such as 07700 900123 in GB).
//
// It returns a *cc.Error with code cc.EINVALID and a message naming the input
// and saying what form is expected when raw is not a phone number, or when
// region is not a known region. Withheld inputs (see IsWithheld) return
// Number{Withheld: true, Raw: raw}, nil.
func Parse(raw, region string) (Number, error) {
	if IsWithheld(raw) {
		return Number{Withheld: true, Raw: raw}, nil
	}
	region, err := checkRegion(region)
	if err != nil {
		return Number{}, err
	}
	pn, err := parseNumber(clean(raw), region)
	if err != nil {
		return Number{}, invalidNumber(raw, region, err)
	}
	return Number{
		E164:      phonenumbers.Format(pn, phonenumbers.E164),
		Extension: phonenumbers.NormalizeDigitsOnly(pn.GetExtension()),
		Raw:       raw,
	}, nil
}

// Reasons parseNumber gives for rejecting an input; invalidNumber turns them
// into a message for people.
var (
	errTooShort = errors.New("too short")
	errTooLong  = errors.New("too long")
)

// parseNumber returns the number s stands for in region ("ZZ" for none).
func parseNumber(s, region string) (*phonenumbers.PhoneNumber, error) {
	national, nerr := phonenumbers.Parse(s, region)
	if nerr == nil && phonenumbers.IsValidNumber(national) {
		return canonical(national)
	}
	// A country calling code without "+", or "00" where it is not the
	// region's international prefix: take the international reading when it
	// is a valid number and the national one is not.
	if main, ext := phonenumbers.MaybeSeparateExtensionFromPhone(s); !startsWithPlus(main) {
		d := Digits(main)
		candidates := []string{"+" + d}
		if rest, ok := strings.CutPrefix(d, "00"); ok {
			candidates = append(candidates, "+"+rest)
		}
		for _, c := range candidates {
			intl, err := phonenumbers.Parse(c, "ZZ")
			if err == nil && phonenumbers.IsValidNumber(intl) {
				if ext != "" {
					intl.Extension = &ext
				}
				return canonical(intl)
			}
		}
	}
	if nerr != nil {
		switch {
		case errors.Is(nerr, phonenumbers.ErrTooShortNSN):
			return nil, errTooShort
		case errors.Is(nerr, phonenumbers.ErrNumTooLong):
			return nil, errTooLong
		}
		return nil, nerr
	}
	switch phonenumbers.IsPossibleNumberWithReason(national) {
	case phonenumbers.IS_POSSIBLE, phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		return canonical(national)
	case phonenumbers.TOO_SHORT:
		return nil, errTooShort
	case phonenumbers.TOO_LONG:
		return nil, errTooLong
	}
	return nil, errors.New("not a possible number")
}

// canonical returns pn as its own E.164 form parses, so that parsing an E.164
// result again gives the same number. Digit strings with leading zeros can
// read differently once written in E.164 (a national prefix is stripped
// again); canonical follows them to the form that reads as itself, and fails
// when there is none or it is no longer a possible number.
func canonical(pn *phonenumbers.PhoneNumber) (*phonenumbers.PhoneNumber, error) {
	ext := pn.GetExtension()
	e164 := phonenumbers.Format(pn, phonenumbers.E164)
	for range 4 {
		again, err := phonenumbers.Parse(e164, "ZZ")
		if err != nil {
			return nil, err
		}
		if !phonenumbers.IsValidNumber(again) && !possible(again) {
			return nil, errors.New("no possible number in E.164 form")
		}
		next := phonenumbers.Format(again, phonenumbers.E164)
		if next == e164 {
			again.Extension = nil
			if ext != "" {
				again.Extension = &ext
			}
			return again, nil
		}
		e164 = next
	}
	return nil, errors.New("no stable E.164 form")
}

// possible reports whether pn has a possible length for its country.
func possible(pn *phonenumbers.PhoneNumber) bool {
	switch phonenumbers.IsPossibleNumberWithReason(pn) {
	case phonenumbers.IS_POSSIBLE, phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		return true
	}
	return false
}

// invalidNumber is the EINVALID error for an input that is not a number.
func invalidNumber(raw, region string, cause error) error {
	what := "is not a phone number"
	switch {
	case errors.Is(cause, errTooShort):
		what = "is too short to be a phone number"
	case errors.Is(cause, errTooLong):
		what = "is too long to be a phone number"
	case errors.Is(cause, phonenumbers.ErrInvalidCountryCode) && startsWithPlus(clean(raw)):
		what = "does not start with a known country calling code"
	}
	return &cc.Error{Code: cc.EINVALID, Message: "phone number " + quote(raw) + " " + what + ": " + expected(region), Err: cause}
}

// expected says which forms Parse takes, with examples for region.
func expected(region string) string {
	const intl = "give it in international form with + and the country code, such as +41 31 555 01 23"
	ex := phonenumbers.GetExampleNumber(region)
	if region == "ZZ" || ex == nil {
		return intl
	}
	return intl + ", or as a national number of " + region + " such as " + phonenumbers.Format(ex, phonenumbers.NATIONAL)
}

// checkRegion returns region in upper case, "ZZ" (no default country) when
// it is empty, or EINVALID when it is not a known region.
func checkRegion(region string) (string, error) {
	region = strings.ToUpper(strings.TrimSpace(region))
	if region == "" {
		return "ZZ", nil
	}
	if !ValidRegion(region) {
		return "", cc.Errorf(cc.EINVALID, "phone region %s: use a two-letter country code such as US, GB or CH", quote(region))
	}
	return region, nil
}

// ValidRegion reports whether r, an ISO 3166-1 alpha-2 code in any case
// (e.g. "US" or "gb"), is a region the phone number library has numbering
// data for. "ZZ" (unknown region) and codes that are not assigned, such as
// "XX", are not valid.
func ValidRegion(r string) bool {
	return phonenumbers.GetSupportedRegions()[strings.ToUpper(strings.TrimSpace(r))]
}

// clean prepares raw for the parser: it trims spaces and angle brackets,
// decodes percent escapes (%2B) and keeps only the user part of a sip: or
// sips: URI. tel: URIs are left to the parser, which reads their parameters.
func clean(raw string) string {
	s := strings.TrimSpace(raw)
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	if strings.Contains(s, "%") {
		if u, err := url.PathUnescape(s); err == nil {
			s = u
		}
	}
	if rest, ok := cutSIPScheme(s); ok {
		s = rest
		if at := strings.LastIndexByte(s, '@'); at >= 0 {
			s = s[:at]
		}
	}
	return strings.TrimSpace(s)
}

// cutSIPScheme removes a leading "sip:" or "sips:" in any letter case.
func cutSIPScheme(s string) (string, bool) {
	for _, scheme := range []string{"sip:", "sips:"} {
		if len(s) >= len(scheme) && strings.EqualFold(s[:len(scheme)], scheme) {
			return s[len(scheme):], true
		}
	}
	return s, false
}

// startsWithPlus reports whether s, after leading spaces and brackets, starts
// with a plus sign (ASCII or full-width).
func startsWithPlus(s string) bool {
	s = strings.TrimLeft(s, " \t([")
	return strings.HasPrefix(s, "+") || strings.HasPrefix(s, "＋")
}

// quote returns s quoted for a message, shortened when it is long.
func quote(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return strconv.Quote(s)
}

// Equal reports whether a and b are the same number in region (both parsed;
// extensions ignored). Withheld or unparseable values equal nothing.
func Equal(a, b, region string) bool {
	na, err := Parse(a, region)
	if err != nil || na.E164 == "" {
		return false
	}
	nb, err := Parse(b, region)
	return err == nil && nb.E164 == na.E164
}

// Digits returns only the ASCII digits of s.
func Digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Format returns a human display form: the national format when the number
// has region's country calling code ("(201) 555-0123" in US), else the
// international format ("+1 201-555-0123"), with " ext. 12" when there is an
// extension; "Withheld number" when withheld. A Number without E.164 shows
// its Raw input.
func Format(n Number, region string) string {
	if n.Withheld {
		return "Withheld number"
	}
	if n.E164 == "" {
		return strings.TrimSpace(n.Raw)
	}
	s := n.E164
	if pn, err := phonenumbers.Parse(n.E164, "ZZ"); err == nil {
		style := phonenumbers.INTERNATIONAL
		if r, err := checkRegion(region); err == nil && int(pn.GetCountryCode()) == phonenumbers.GetCountryCodeForRegion(r) {
			style = phonenumbers.NATIONAL
		}
		pn.Extension = nil
		s = phonenumbers.Format(pn, style)
	}
	if n.Extension != "" {
		s += " ext. " + n.Extension
	}
	return s
}

// DialString returns what to dial for n: the E.164 number and the extension
// to send as DTMF after the call is answered (empty when there is none).
// Both are empty for a withheld number.
func DialString(n Number) (e164, dtmf string) {
	if n.Withheld || n.E164 == "" {
		return "", ""
	}
	var b strings.Builder
	for _, r := range n.Extension {
		if r >= '0' && r <= '9' || r == '*' || r == '#' {
			b.WriteRune(r)
		}
	}
	return n.E164, b.String()
}
