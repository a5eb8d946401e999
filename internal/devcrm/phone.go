package devcrm

import (
	"strings"
	"unicode"
)

// phoneDigits returns the digits of a stored phone number, leaving out an
// extension: everything from the first letter ("x12", "ext. 12"), '#', ';'
// or ',' on. "(201) 555-0126 x12" gives "2015550126".
func phoneDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case unicode.IsLetter(r) || r == '#' || r == ';' || r == ',':
			return b.String()
		}
	}
	return b.String()
}

// minSuffixDigits is how many digits the shorter number needs for a suffix
// match: a full national number in North America, where 12015550123 matches
// (201) 555-0123.
const minSuffixDigits = 10

// phoneDigitsMatch reports whether two digit strings are the same phone
// number: equal, or one ends with the other and the shorter has at least
// minSuffixDigits digits.
func phoneDigitsMatch(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	short, long := a, b
	if len(short) > len(long) {
		short, long = long, short
	}
	return len(short) >= minSuffixDigits && strings.HasSuffix(long, short)
}
