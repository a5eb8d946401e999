package crmlog

import (
	"unicode"
	"unicode/utf8"
)

// CutBytes returns s cut so that the result plus marker is at most max
// bytes, on a UTF-8 character boundary and not inside a grapheme cluster (no
// dangling zero-width joiner, variation selector, skin-tone modifier or
// combining mark; no regional-indicator flag pair split), with marker
// appended when cut. If len(s) <= max, it returns s, false. When marker alone
// is longer than max, the result is marker cut to max bytes.
func CutBytes(s string, max int, marker string) (string, bool) {
	if len(s) <= max {
		return s, false
	}
	if max < 0 {
		max = 0
	}
	if len(marker) > max {
		return marker[:cutIndex(marker, max)], true
	}
	return s[:cutIndex(s, max-len(marker))] + marker, true
}

// CutChars cuts s to at most n characters (runes), with the same care for
// grapheme clusters as CutBytes and no marker. It is meant for fields limited
// in characters, such as the 255-character Subject.
func CutChars(s string, n int) string {
	n = max(n, 0)
	count := 0
	for i := range s {
		if count == n {
			return s[:cutIndex(s, i)]
		}
		count++
	}
	return s
}

// cutIndex returns the largest i <= n (n < len(s)) at which s may be cut:
// the start of a character that begins a grapheme cluster, or 0.
func cutIndex(s string, n int) int {
	for i := n; i > 0; i-- {
		if utf8.RuneStart(s[i]) && clusterBoundary(s, i) {
			return i
		}
	}
	return 0
}

const (
	zwj  = '\u200D' // zero-width joiner
	zwnj = '\u200C' // zero-width non-joiner
)

// clusterBoundary reports whether a grapheme cluster may end at byte i of s
// (0 < i < len(s), i the start of a character). It applies the rules of
// Unicode's extended grapheme clusters (UAX #29) that matter when cutting:
// CR LF stays together (GB3); nothing is cut before an extending or spacing
// mark or a joiner (GB9, GB9a), after a prepended mark (GB9b), after a joiner
// (GB11, and GB9c's Indic conjunct linkers); Hangul syllable sequences stay
// together (GB6-GB8); regional indicators pair up into flags (GB12, GB13).
func clusterBoundary(s string, i int) bool {
	prev, _ := utf8.DecodeLastRuneInString(s[:i])
	next, _ := utf8.DecodeRuneInString(s[i:])
	switch {
	case prev == '\r' && next == '\n':
		return false
	case extends(next), prepends(prev), prev == zwj, indicLinker(prev):
		return false
	case !hangulBoundary(prev, next):
		return false
	case regionalIndicator(prev) && regionalIndicator(next):
		// Inside a flag when an odd number of indicators precede i.
		odd := false
		for j := i; j > 0; {
			r, size := utf8.DecodeLastRuneInString(s[:j])
			if !regionalIndicator(r) {
				break
			}
			odd = !odd
			j -= size
		}
		return !odd
	}
	return true
}

// extends reports whether r attaches to the character before it: combining
// and spacing marks (variation selectors among them), joiners, emoji
// modifiers (skin tones), emoji tag characters and the half-width kana
// voicing marks.
func extends(r rune) bool {
	switch {
	case r == zwj, r == zwnj:
		return true
	case r >= 0x1F3FB && r <= 0x1F3FF: // emoji modifiers
		return true
	case r >= 0xE0020 && r <= 0xE007F: // tags (subdivision flags)
		return true
	case r == 0xFF9E || r == 0xFF9F:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc)
}

// prepends reports whether r is a prepended concatenation mark, which
// attaches to the character after it.
func prepends(r rune) bool {
	switch {
	case r >= 0x0600 && r <= 0x0605, r == 0x06DD, r == 0x070F, r == 0x0890, r == 0x0891, r == 0x08E2,
		r == 0x110BD, r == 0x110CD:
		return true
	}
	return false
}

// indicLinker reports whether r is a virama that joins the consonants
// around it into a conjunct.
func indicLinker(r rune) bool {
	switch r {
	case 0x094D, 0x09CD, 0x0ACD, 0x0B4D, 0x0C4D, 0x0D4D:
		return true
	}
	return false
}

func regionalIndicator(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// Hangul syllable types.
const (
	hangulNone = iota
	hangulL
	hangulV
	hangulT
	hangulLV
	hangulLVT
)

func hangulType(r rune) int {
	switch {
	case r >= 0x1100 && r <= 0x115F, r >= 0xA960 && r <= 0xA97C:
		return hangulL
	case r >= 0x1160 && r <= 0x11A7, r >= 0xD7B0 && r <= 0xD7C6:
		return hangulV
	case r >= 0x11A8 && r <= 0x11FF, r >= 0xD7CB && r <= 0xD7FB:
		return hangulT
	case r >= 0xAC00 && r <= 0xD7A3:
		if (r-0xAC00)%28 == 0 {
			return hangulLV
		}
		return hangulLVT
	}
	return hangulNone
}

// hangulBoundary applies GB6-GB8 to two adjacent characters.
func hangulBoundary(prev, next rune) bool {
	p, n := hangulType(prev), hangulType(next)
	switch p {
	case hangulL:
		return n == hangulNone || n == hangulT
	case hangulLV, hangulV:
		return n != hangulV && n != hangulT
	case hangulLVT, hangulT:
		return n != hangulT
	}
	return true
}
