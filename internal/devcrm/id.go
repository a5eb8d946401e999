package devcrm

import (
	"crypto/rand"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
)

// Key prefixes: the first three characters of every Id name its object.
const (
	// PrefixAccount starts every Account Id.
	PrefixAccount = "001"
	// PrefixContact starts every Contact Id.
	PrefixContact = "003"
	// PrefixLead starts every Lead Id.
	PrefixLead = "00Q"
	// PrefixTask starts every Task Id.
	PrefixTask = "00T"
	// PrefixUser starts every User Id.
	PrefixUser = "005"
	// PrefixOrganization starts the org's Id.
	PrefixOrganization = "00D"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// checksumAlphabet maps a 5-bit case mask to its suffix character.
const checksumAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// idChecksum returns the three-character suffix that turns a 15-character
// case-sensitive Id into the 18-character case-insensitive one: for each
// five-character chunk, bit i is set when character i is an uppercase letter.
func idChecksum(id15 string) string {
	var out [3]byte
	for chunk := range 3 {
		mask := 0
		for i := range 5 {
			if c := id15[chunk*5+i]; c >= 'A' && c <= 'Z' {
				mask |= 1 << i
			}
		}
		out[chunk] = checksumAlphabet[mask]
	}
	return string(out[:])
}

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(base62, s[i]) < 0 {
			return false
		}
	}
	return true
}

// To18 returns the 18-character form of a 15-character Id.
func To18(id15 string) (string, error) {
	if len(id15) != 15 || !isBase62(id15) {
		return "", cc.Errorf(cc.EINVALID, "Id %q: give 15 letters and digits", id15)
	}
	return id15 + idChecksum(id15), nil
}

// ParseID accepts a 15- or 18-character Id and returns its canonical
// 18-character form. As in Salesforce, an 18-character Id may have been
// upper- or lower-cased as a whole: its suffix restores the case of the first
// 15 characters. An 18-character Id in mixed case must agree with its suffix.
func ParseID(s string) (string, error) {
	switch len(s) {
	case 15:
		return To18(s)
	case 18:
	default:
		return "", cc.Errorf(cc.EINVALID, "Id %q: give 15 or 18 letters and digits", s)
	}
	if !isBase62(s) {
		return "", cc.Errorf(cc.EINVALID, "Id %q: give 15 or 18 letters and digits", s)
	}
	b := []byte(s[:15])
	for chunk := range 3 {
		mask := strings.IndexByte(checksumAlphabet, upper(s[15+chunk]))
		if mask < 0 {
			return "", cc.Errorf(cc.EINVALID, "Id %q: the last three characters are not a valid checksum", s)
		}
		for i := range 5 {
			c := &b[chunk*5+i]
			isLetter := lower(*c) >= 'a' && lower(*c) <= 'z'
			switch {
			case mask&(1<<i) != 0 && !isLetter:
				return "", cc.Errorf(cc.EINVALID, "Id %q: the checksum does not match the Id", s)
			case mask&(1<<i) != 0:
				*c = upper(*c)
			default:
				*c = lower(*c)
			}
		}
	}
	if hasUpper, hasLower := strings.ContainsAny(s[:15], base62[10:36]), strings.ContainsAny(s[:15], base62[36:]); hasUpper && hasLower && string(b) != s[:15] {
		// Mixed case is meant to be the real case; an Id whose case was
		// folded as a whole is the only kind the suffix repairs.
		return "", cc.Errorf(cc.EINVALID, "Id %q: the checksum does not match the letter case of the Id", s)
	}
	return string(b) + idChecksum(string(b)), nil
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c - 'A' + 'a'
	}
	return c
}

// newID returns a new random 18-character Id with the object's key prefix.
// The 15-character form is the prefix, the instance "Dv", a reserved "0" and
// nine random base62 characters (53 bits).
func newID(prefix string) string {
	var r [9]byte
	if _, err := rand.Read(r[:]); err != nil {
		panic("devcrm: crypto/rand failed: " + err.Error())
	}
	b := []byte(prefix + "Dv0")
	for _, x := range r {
		b = append(b, base62[int(x)%62])
	}
	id15 := string(b)
	return id15 + idChecksum(id15)
}
