package crmlog

import (
	"strings"
	"testing"
	"unicode/utf8"
)

const testMarker = "\n…(truncated)"

func TestCutBytes(t *testing.T) {
	const family = "👨\u200d👩\u200d👧\u200d👦" // 25 bytes, one cluster
	const flag = "🇨🇭"                       // two regional indicators, 8 bytes
	tests := []struct {
		name   string
		s      string
		max    int
		marker string
		want   string // the kept prefix of s, before the marker
		cut    bool
	}{
		{"4000 ASCII fit exactly", strings.Repeat("a", 4000), 4000, testMarker, strings.Repeat("a", 4000), false},
		{"1400 x 日 cut on a character", strings.Repeat("日", 1400), 4000, testMarker,
			strings.Repeat("日", (4000-len(testMarker))/3), true},
		{"3999 ASCII + emoji keeps the emoji whole", strings.Repeat("a", 3999) + "😀", 4000, testMarker,
			strings.Repeat("a", 4000-len(testMarker)), true},
		{"emoji does not fit without marker", strings.Repeat("a", 3999) + "😀", 4000, "", strings.Repeat("a", 3999), true},
		{"flag pair not split", "ab" + flag + "cd", 7, "", "ab", true},
		{"flag kept whole when it fits", "ab" + flag + "cd", 10, "", "ab" + flag, true},
		{"second flag of two not split", "a" + flag + flag + "b", 14, "", "a" + flag, true},
		{"ZWJ family not split", "ab" + family + "cd", 20, "", "ab", true},
		{"ZWJ family kept whole", "ab" + family + "cd", 27, "", "ab" + family, true},
		{"no dangling ZWJ", "ab👨\u200d👩", 9, "", "ab", true},
		{"combining accent stays on its letter", "caf" + "e\u0301" + "s", 5, "", "caf", true},
		{"variation selector stays", "I ❤\ufe0f you", 5, "", "I ", true},
		{"skin tone stays", "ok 👍🏽!", 8, "", "ok ", true},
		{"keycap stays", "press 1\ufe0f\u20e3 now", 9, "", "press ", true},
		{"CR LF stays together", "line\r\nnext", 5, "", "line", true},
		{"Hangul jamo stay together", "a\u1100\u1161\u11a8b", 7, "", "a", true},
		{"England flag tag sequence stays", "x🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F", 20, "", "x", true},
		{"Devanagari conjunct stays", "क्षa", 6, "", "", true},
		{"empty fits", "", 0, testMarker, "", false},
		{"marker longer than max", "abcdef", 4, "[cut]", "", true},
		{"negative max", "abc", -1, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cut := CutBytes(tt.s, tt.max, tt.marker)
			want := tt.want
			if tt.cut {
				want += tt.marker
				if len(tt.marker) > max(tt.max, 0) {
					want = tt.marker[:max(tt.max, 0)]
				}
			}
			if got != want || cut != tt.cut {
				t.Errorf("CutBytes = %q (%d bytes), %v; want %q (%d bytes), %v", short(got), len(got), cut, short(want), len(want), tt.cut)
			}
			if cut && len(got) > max(tt.max, 0) {
				t.Errorf("result is %d bytes, over the cap %d", len(got), tt.max)
			}
			if !utf8.ValidString(got) {
				t.Errorf("result is not valid UTF-8")
			}
		})
	}
}

func TestCutChars(t *testing.T) {
	tests := []struct {
		name string
		s    string
		n    int
		want string
	}{
		{"300 characters to 255", strings.Repeat("x", 300), 255, strings.Repeat("x", 255)},
		{"300 accented characters to 255", strings.Repeat("é", 300), 255, strings.Repeat("é", 255)},
		{"short stays", "Inbound call", 255, "Inbound call"},
		{"exactly n", strings.Repeat("日", 255), 255, strings.Repeat("日", 255)},
		{"flag at the limit", strings.Repeat("x", 254) + "🇨🇭", 255, strings.Repeat("x", 254)},
		{"combining mark at the limit", strings.Repeat("x", 254) + "e\u0301", 255, strings.Repeat("x", 254)},
		{"ZWJ at the limit", strings.Repeat("x", 253) + "👨\u200d👩", 255, strings.Repeat("x", 253)},
		{"zero", "abc", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CutChars(tt.s, tt.n); got != tt.want {
				t.Errorf("CutChars(%q, %d) = %q, want %q", short(tt.s), tt.n, short(got), short(tt.want))
			}
		})
	}
}

// short abbreviates long strings in messages.
func short(s string) string {
	if len(s) <= 60 {
		return s
	}
	return s[:20] + "…" + s[len(s)-20:]
}

func FuzzCutBytes(f *testing.F) {
	f.Add("hello world", 5, testMarker)
	f.Add(strings.Repeat("日", 20), 10, "…")
	f.Add("ab🇨🇭🇩🇪cd", 9, "")
	f.Add("👨\u200d👩\u200d👧\u200d👦 family", 12, "[cut]")
	f.Add("e\u0301\u0301\u0301x", 3, "")
	f.Add("\xff\xfeabc", 2, "")
	f.Fuzz(func(t *testing.T, s string, max int, marker string) {
		got, cut := CutBytes(s, max, marker)
		if !cut {
			if got != s || len(s) > max {
				t.Fatalf("CutBytes(%q, %d) = %q, false; want s only when it fits", s, max, got)
			}
			return
		}
		if len(got) > max && len(got) > 0 {
			t.Fatalf("CutBytes(%q, %d, %q) = %q: %d bytes, over the cap", s, max, marker, got, len(got))
		}
		if utf8.ValidString(s) && utf8.ValidString(marker) && !utf8.ValidString(got) {
			t.Fatalf("CutBytes(%q, %d, %q) = %q: not valid UTF-8", s, max, marker, got)
		}
		if len(marker) <= max {
			kept, ok := strings.CutSuffix(got, marker)
			if !ok || !strings.HasPrefix(s, kept) {
				t.Fatalf("CutBytes(%q, %d, %q) = %q: not a prefix of s followed by the marker", s, max, marker, got)
			}
			if len(kept) > 0 && len(kept) < len(s) && !clusterBoundary(s, len(kept)) {
				t.Fatalf("CutBytes(%q, %d) cut inside a grapheme cluster at %d", s, max, len(kept))
			}
		} else if !strings.HasPrefix(marker, got) {
			t.Fatalf("CutBytes(%q, %d, %q) = %q: want the marker cut to the cap", s, max, marker, got)
		}
	})
}
