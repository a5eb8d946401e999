package phone

import "strings"

// withheldWords are caller-ID values that mean the number is not presented,
// after lower-casing and turning '-', '_' and '.' into spaces.
var withheldWords = map[string]bool{
	"":                 true,
	"anonymous":        true,
	"anonymous caller": true,
	"withheld":         true,
	"number withheld":  true,
	"withheld number":  true,
	"unknown":          true,
	"unknown caller":   true,
	"unknown number":   true,
	"restricted":       true,
	"private":          true,
	"private number":   true,
	"unavailable":      true,
	"not available":    true,
	"blocked":          true,
	"no caller id":     true,
	"out of area":      true,
}

// IsWithheld reports whether a caller-ID value means "withheld": empty,
// anonymous (any case), unknown, <unknown>, restricted, private, unavailable,
// withheld, blocked, "no caller id", "out of area", and SIP URIs of such
// users or of the host anonymous.invalid (RFC 3261 section 8.1.1.3), such as
// "sip:anonymous@anonymous.invalid".
func IsWithheld(raw string) bool {
	s := strings.ToLower(strings.TrimSpace(raw))
	s = strings.Trim(s, `"' `)
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	if rest, ok := cutSIPScheme(s); ok {
		s = rest
	} else {
		s = strings.TrimPrefix(s, "tel:")
	}
	if user, host, ok := strings.Cut(s, "@"); ok {
		if host, _, _ = strings.Cut(host, ";"); host == "anonymous.invalid" {
			return true
		}
		s = user
	}
	s = strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' {
			return ' '
		}
		return r
	}, s)
	return withheldWords[strings.Join(strings.Fields(s), " ")]
}

// SIPWithheld applies the SIP rules for a withheld caller: the From user part
// is a withheld value (see IsWithheld; an empty user part counts), the From
// display name is one (an empty display name does not count), or a Privacy
// header asks to hide the identity with the token "id" (RFC 3325, any letter
// case, e.g. "id", "ID", "user;id", "header; id"). privacy holds the raw
// Privacy header values, each of which may list several tokens separated by
// ';' or ','.
func SIPWithheld(fromUser, fromDisplay string, privacy []string) bool {
	if IsWithheld(fromUser) {
		return true
	}
	if strings.TrimSpace(fromDisplay) != "" && IsWithheld(fromDisplay) {
		return true
	}
	for _, v := range privacy {
		for _, tok := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' }) {
			if strings.EqualFold(strings.TrimSpace(tok), "id") {
				return true
			}
		}
	}
	return false
}
