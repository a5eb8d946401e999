package phone

import "testing"

func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct{ name, in, region string }{
		{"e164", "+12015550123", "US"},
		{"national", "(201) 555-0123", "US"},
		{"country-code-without-plus", "(44) 0161 496 0123", "US"},
		{"garbage", "hello", "US"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				Parse(bc.in, bc.region)
			}
		})
	}
}
