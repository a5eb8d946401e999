package salesforce

import (
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/parley-cc/parley/internal/cc"
)

// soslReserved are the characters SOSL reserves inside FIND {...}; each is
// escaped with a backslash.
const soslReserved = `?&|!{}[]()^~*:\"'+-`

// maxSearchTerms bounds the bytes between the braces: past 4,000 characters
// Salesforce drops the logical operators, which would change the search.
const maxSearchTerms = 4000

// maxSearchLimit is Salesforce's cap on the rows of one search.
const maxSearchLimit = 2000

// EscapeSOSL escapes every SOSL reserved character of s with a backslash,
// turns control characters into spaces and invalid UTF-8 into U+FFFD, so
// that s can stand inside a quoted phrase of FIND {...}.
func EscapeSOSL(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch {
		case strings.ContainsRune(soslReserved, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case unicode.IsControl(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// SOSL is a search statement whose terms come from outside (caller numbers,
// e-mail addresses). Only Terms may be untrusted; the other fields are
// Parley's own and are checked to be plain identifiers.
type SOSL struct {
	// Terms are searched as quoted phrases joined by OR. Empty terms are
	// skipped.
	Terms []string
	// In is the search group: ALL, NAME, EMAIL, PHONE or SIDEBAR; "" is ALL.
	In        string
	Returning []Returning
	// Limit caps the rows returned overall; 0 leaves Salesforce's default.
	Limit int
}

// Returning is one object of the RETURNING clause and the fields to return.
type Returning struct {
	Object string   // e.g. "Contact"
	Fields []string // e.g. "Id", "Name", "Account.Name"
}

// searchGroups are the SOSL search groups.
var searchGroups = []string{"ALL", "NAME", "EMAIL", "PHONE", "SIDEBAR"}

// Statement returns the SOSL statement, such as
//
//	FIND {"\+12015550123" OR "2015550123"} IN PHONE FIELDS RETURNING Contact(Id, Name) LIMIT 200
//
// It returns EINVALID when there is no term, the terms are too long, or a
// group, object or field name is not a plain identifier.
func (s *SOSL) Statement() (string, error) {
	var b strings.Builder
	b.WriteString("FIND {")
	n := 0
	for _, t := range s.Terms {
		if strings.TrimSpace(t) == "" {
			continue
		}
		if n > 0 {
			b.WriteString(" OR ")
		}
		b.WriteByte('"')
		b.WriteString(EscapeSOSL(t))
		b.WriteByte('"')
		n++
	}
	if n == 0 {
		return "", cc.Errorf(cc.EINVALID, "search has no terms: give at least one non-blank term")
	}
	if b.Len()-len("FIND {") > maxSearchTerms {
		return "", cc.Errorf(cc.EINVALID, "search terms are %d bytes once escaped; the limit is %d", b.Len()-len("FIND {"), maxSearchTerms)
	}
	b.WriteString("}")
	group := s.In
	if group == "" {
		group = "ALL"
	}
	if !slices.Contains(searchGroups, group) {
		return "", cc.Errorf(cc.EINVALID, "search group %q: use ALL, NAME, EMAIL, PHONE or SIDEBAR", s.In)
	}
	b.WriteString(" IN " + group + " FIELDS")
	for i, r := range s.Returning {
		if !validIdentifier(r.Object) {
			return "", cc.Errorf(cc.EINVALID, "search object %q: use an object API name such as Contact", r.Object)
		}
		if i == 0 {
			b.WriteString(" RETURNING ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(r.Object)
		if len(r.Fields) == 0 {
			continue
		}
		for _, f := range r.Fields {
			if !validIdentifier(f) {
				return "", cc.Errorf(cc.EINVALID, "search field %q of %s: use a field API name such as Name or Account.Name", f, r.Object)
			}
		}
		b.WriteString("(" + strings.Join(r.Fields, ", ") + ")")
	}
	if s.Limit < 0 || s.Limit > maxSearchLimit {
		return "", cc.Errorf(cc.EINVALID, "search limit %d: use 1 to %d, or 0 for the default", s.Limit, maxSearchLimit)
	}
	if s.Limit > 0 {
		b.WriteString(" LIMIT " + strconv.Itoa(s.Limit))
	}
	return b.String(), nil
}

// validIdentifier reports whether s is an API name or a dotted relationship
// path of API names, such as Account.Name or Parley_Id__c.
func validIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" || !(part[0] >= 'A' && part[0] <= 'Z' || part[0] >= 'a' && part[0] <= 'z') {
			return false
		}
		for i := 1; i < len(part); i++ {
			c := part[i]
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
				return false
			}
		}
	}
	return true
}
