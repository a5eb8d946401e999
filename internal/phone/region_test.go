package phone

import "testing"

func TestValidRegion(t *testing.T) {
	for _, tt := range []struct {
		region string
		want   bool
	}{
		{"US", true},
		{"gb", true},
		{" CH ", true},
		{"XX", false}, // not assigned
		{"ZZ", false}, // the library's "unknown region"
		{"", false},
		{"USA", false},
		{"U", false},
	} {
		if got := ValidRegion(tt.region); got != tt.want {
			t.Errorf("ValidRegion(%q) = %v, want %v", tt.region, got, tt.want)
		}
	}
	// Parse refuses what ValidRegion refuses.
	if _, err := Parse("2015550123", "XX"); err == nil {
		t.Error(`Parse with region "XX" succeeded`)
	}
}
