package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// multiQuery are the parameters that may be repeated.
var multiQuery = []string{"state"}

// checkQuery rejects query parameters the route does not take, and repeats
// of those that may be given once.
func checkQuery(r *http.Request, allowed []string) error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return cc.WrapError(cc.EINVALID, err, "the query string is malformed: encode it as name=value pairs joined by &")
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		switch {
		case name == "access_token" || name == "token" || name == "bearer":
			return cc.Errorf(cc.EINVALID, "query parameter %q: never put the bearer token in a URL; send it as Authorization: Bearer <token> (WebSockets use a ticket)", name)
		case !slices.Contains(allowed, name):
			if len(allowed) == 0 {
				return cc.Errorf(cc.EINVALID, "unknown query parameter %q: this route takes none", name)
			}
			return cc.Errorf(cc.EINVALID, "unknown query parameter %q: use %s", name, strings.Join(allowed, ", "))
		case len(q[name]) > 1 && !slices.Contains(multiQuery, name):
			return cc.Errorf(cc.EINVALID, "query parameter %q is given %d times: give it once", name, len(q[name]))
		}
	}
	return nil
}

// parseLimit parses a page size of 1 to max; empty gives def.
func parseLimit(s string, def, max int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, cc.Errorf(cc.EINVALID, "limit must be 1-%d, not %q", max, s)
	}
	return n, nil
}

// parseTime parses an RFC 3339 time parameter; empty gives the zero time.
func parseTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, cc.Errorf(cc.EINVALID, "%s %q: use an RFC 3339 time such as 2025-01-31T14:05:00Z", name, s)
	}
	return t.UTC(), nil
}

// parseSeq parses an event sequence number; ok is false when s is empty.
func parseSeq(name, s string) (seq int64, ok bool, err error) {
	if s == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, false, cc.Errorf(cc.EINVALID, "%s %q: give the seq of the last event you received, a whole number of 0 or more", name, s)
	}
	return n, true, nil
}

// checkID checks the shape of a Parley id such as int_9d2k4m7q1x8c3v5b6n0p2r4t:
// a lowercase prefix, an underscore and lowercase letters and digits.
func checkID(what, id string) error {
	prefix, rest, ok := strings.Cut(id, "_")
	if ok && len(id) <= 64 && prefix != "" && rest != "" &&
		!strings.ContainsFunc(prefix, func(r rune) bool { return r < 'a' || r > 'z' }) &&
		!strings.ContainsFunc(rest, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) {
		return nil
	}
	return cc.Errorf(cc.EINVALID, "%s id %q is malformed: use an id as the API gave it, such as int_9d2k4m7q1x8c3v5b6n0p2r4t", what, id)
}

// checkRecordID checks the shape of a CRM record id: 1 to 64 letters,
// digits, '-' or '_' (Salesforce ids are 15 or 18 letters and digits).
func checkRecordID(id string) error {
	if id != "" && len(id) <= 64 && !strings.ContainsFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) {
		return nil
	}
	return cc.Errorf(cc.EINVALID, "record_id %q is malformed: give the id of one of the interaction's matches, such as 003Hs00000AbCdEIAV", id)
}
