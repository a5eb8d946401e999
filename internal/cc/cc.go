// Package cc is Parley's domain: the contact-center vocabulary (tenants, users,
// agent presence, queues, entry points, trunks, interactions, the event log and
// the CRM log outbox) and the contracts of the stores, the event bus and the CRM
// connectors that adapters implement.
//
// The package imports only the standard library. Adapters (SQLite, SIP, HTTP,
// Salesforce) depend on it; it depends on none of them.
package cc

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"
)

// Clock returns the current time. Components take a Clock so that tests can
// control time.
type Clock func() time.Time

// SystemClock is the wall clock, in UTC.
func SystemClock() time.Time { return time.Now().UTC() }

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a new random identifier with the given prefix, such as
// "int_9d2k4m7q1x8c3v5b6n0p2r4t". The random part carries 120 bits.
func NewID(prefix string) string {
	var b [15]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("cc: crypto/rand failed: " + err.Error())
	}
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

// RandomToken returns a random URL-safe secret of n random bytes.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("cc: crypto/rand failed: " + err.Error())
	}
	return idEncoding.EncodeToString(b)
}

// normalizeName lowercases and trims a user-facing name used as a key.
func normalizeName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// validSlug reports whether s is a lowercase identifier of letters, digits,
// '-', '_' and '.', starting with a letter or digit, at most max bytes long.
func validSlug(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case (r == '-' || r == '_' || r == '.') && i > 0:
		default:
			return false
		}
	}
	return true
}
