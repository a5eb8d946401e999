package cc_test

import (
	"regexp"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

func TestNewID(t *testing.T) {
	// 15 random bytes are 24 characters of Crockford-style base32 (no i, l, o, u).
	format := regexp.MustCompile(`^int_[0-9a-hjkmnp-tv-z]{24}$`)
	seen := make(map[string]bool)
	for range 10000 {
		id := cc.NewID("int")
		if !format.MatchString(id) {
			t.Fatalf("NewID(\"int\") = %q, want the form %s", id, format)
		}
		if seen[id] {
			t.Fatalf("NewID returned %q twice", id)
		}
		seen[id] = true
	}
}

func TestRandomToken(t *testing.T) {
	for _, tc := range []struct{ n, length int }{{1, 2}, {5, 8}, {16, 26}, {32, 52}} {
		format := regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]+$`)
		a, b := cc.RandomToken(tc.n), cc.RandomToken(tc.n)
		if len(a) != tc.length || !format.MatchString(a) {
			t.Errorf("RandomToken(%d) = %q, want %d characters of the ID alphabet", tc.n, a, tc.length)
		}
		if tc.n >= 16 && a == b {
			t.Errorf("RandomToken(%d) returned %q twice", tc.n, a)
		}
	}
}
