package telephony

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/phone"
)

// callerFromRequest reads who is calling: From (or P-Asserted-Identity from
// a trusted trunk), the display name, and Privacy. Withheld callers keep no
// number, so they are never searched in the CRM.
func callerFromRequest(req *sip.Request, region string) cc.Customer {
	var user, display string
	if from := req.From(); from != nil {
		user = from.Address.User
		display = from.DisplayName
	}
	if pai := req.GetHeader("P-Asserted-Identity"); pai != nil {
		if u, d, ok := parseNameAddr(pai.Value()); ok && u != "" {
			user = u
			if d != "" {
				display = d
			}
		}
	}
	var privacy []string
	for _, h := range req.GetHeaders("Privacy") {
		privacy = append(privacy, h.Value())
	}
	display = cleanDisplay(display)
	if phone.SIPWithheld(user, display, privacy) {
		return cc.Customer{Withheld: true, Raw: "withheld"}
	}
	cu := cc.Customer{Raw: cleanDisplay(user), Name: display}
	if n, err := phone.Parse(user, region); err == nil && !n.Withheld {
		cu.Number, cu.Extension = n.E164, n.Extension
	} else if err == nil && n.Withheld {
		return cc.Customer{Withheld: true, Raw: "withheld"}
	}
	if cu.Name == cu.Raw || cu.Name == cu.Number {
		cu.Name = ""
	}
	return cu
}

// parseNameAddr reads `"Name" <sip:user@host>` or `<tel:+1...>`.
func parseNameAddr(v string) (user, display string, ok bool) {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i] // first identity only
	}
	lt, gt := strings.IndexByte(v, '<'), strings.LastIndexByte(v, '>')
	uri := v
	if lt >= 0 && gt > lt {
		display = strings.Trim(strings.TrimSpace(v[:lt]), `"`)
		uri = v[lt+1 : gt]
	}
	switch {
	case strings.HasPrefix(uri, "sip:"), strings.HasPrefix(uri, "sips:"):
		var u sip.Uri
		if err := sip.ParseUri(uri, &u); err != nil {
			return "", "", false
		}
		return u.User, display, true
	case strings.HasPrefix(uri, "tel:"):
		num := strings.TrimPrefix(uri, "tel:")
		if i := strings.IndexByte(num, ';'); i >= 0 {
			num = num[:i]
		}
		return num, display, true
	}
	return "", "", false
}

// cleanDisplay keeps a display name printable and short.
func cleanDisplay(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > 80 {
		s = string([]rune(s)[:80])
	}
	return s
}

// parseData reads X-Parley-Data headers: "key=value; key2=value2". Keys
// are cc.ValidDataKey (lowercase letters, digits and '_', at most 40 bytes,
// starting with a letter) and values cc.ValidDataValue (at most 256 bytes of
// printable text), at most cc.MaxDataKeys pairs. Pairs that break the rules
// are dropped and named in the second result.
func parseData(req *sip.Request) (map[string]string, []string) {
	var out map[string]string
	var bad []string
	for _, h := range req.GetHeaders("X-Parley-Data") {
		for _, pair := range strings.Split(h.Value(), ";") {
			pair = strings.TrimSpace(pair)
			if pair == "" {
				continue
			}
			k, v, ok := strings.Cut(pair, "=")
			k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
			if !ok || !cc.ValidDataKey(k) || !cc.ValidDataValue(v) {
				bad = append(bad, cleanDisplay(pair))
				continue
			}
			if out == nil {
				out = map[string]string{}
			}
			if _, dup := out[k]; !dup && len(out) >= cc.MaxDataKeys {
				bad = append(bad, cleanDisplay(pair))
				continue
			}
			out[k] = v
		}
	}
	return out, bad
}
