package devcrm

import "testing"

func TestPhoneDigits(t *testing.T) {
	tests := map[string]string{
		"(201) 555-0123":        "2015550123",
		"201.555.0123":          "2015550123",
		"+1 201 555 0124":       "12015550124",
		"201-555-0126 x12":      "2015550126",
		"(628) 555-0154 ext. 7": "6285550154",
		"+44 (0)161 496 0124":   "4401614960124",
		"+41 31 555 01 23":      "41315550123",
		"030/5550123":           "0305550123",
		"555-0100;ext=4":        "5550100",
		"555-0100#4":            "5550100",
		"":                      "",
		"call me":               "",
	}
	for in, want := range tests {
		if got := phoneDigits(in); got != want {
			t.Errorf("phoneDigits(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPhoneDigitsMatch(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"2015550123", "2015550123", true},
		{"12015550123", "2015550123", true},   // country code on one side
		{"2015550123", "12015550123", true},   // either side
		{"0012015550123", "2015550123", true}, // international prefix
		{"5550123", "2015550123", false},      // shorter than ten digits
		{"5550123", "5550123", true},          // but equal is equal
		{"2015550124", "2015550123", false},
		{"12015550123", "22015550123", false}, // same ten, different country
		{"", "", false},
		{"", "2015550123", false},
		{"01614960124", "4401614960124", true}, // UK national form vs +44 (0)...
		{"441614960124", "4401614960124", false},
	}
	for _, tt := range tests {
		if got := phoneDigitsMatch(tt.a, tt.b); got != tt.want {
			t.Errorf("phoneDigitsMatch(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
