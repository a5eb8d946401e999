package phone

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parley-cc/parley/internal/cc"
)

var fuzzSeeds = []string{
	"0315550123", "0041315550123", "+41 31 555 01 23", "030/5550123", "49305550123",
	"(201) 555-0123", "201.555.0123", "2015550123 x12", "+1 201 555 0123;ext=136",
	"+44 0161 496 0123", "44 0161 496 0123", "(44) 0161 496 0123", "+39 06 5555 0123",
	"07700 900123", "anonymous", "<unknown>", "", "hello", "12", "+", strings.Repeat("9", 40),
	"tel:+1-555-0100", "%2B15550100", "sip:+15550100@192.0.2.1;user=phone", "0015550100",
	"+800 1234 5678", "+882 1234 5678", "011 44 20 7946 0000", "1-800-FLOWERS", "００４４２０７９４６００００",
}

var fuzzRegions = []string{"US", "GB", "DE", "CH", "IT", "FR", "AR", "BR", "JP", "IN", "RU", "AU", ""}

func checkE164(t *testing.T, what, e164 string) {
	t.Helper()
	if len(e164) < 2 || e164[0] != '+' || Digits(e164[1:]) != e164[1:] {
		t.Fatalf("%s: E164 %q is not + and digits", what, e164)
	}
}

func FuzzParse(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, uint8(i))
	}
	f.Fuzz(func(t *testing.T, raw string, r uint8) {
		region := fuzzRegions[int(r)%len(fuzzRegions)]
		n, err := Parse(raw, region)
		if err != nil {
			if !cc.IsCode(err, cc.EINVALID) || !strings.Contains(cc.ErrorMessage(err), "phone") {
				t.Fatalf("Parse(%q, %q) error %v: want EINVALID naming the phone number", raw, region, err)
			}
			return
		}
		if n.Raw != raw {
			t.Fatalf("Raw = %q, want the input %q", n.Raw, raw)
		}
		if n.Withheld {
			if n.E164 != "" || n.Extension != "" {
				t.Fatalf("withheld %q has a number: %+v", raw, n)
			}
			return
		}
		checkE164(t, "Parse("+raw+")", n.E164)
		if Digits(n.Extension) != n.Extension {
			t.Fatalf("extension %q is not digits", n.Extension)
		}
		for _, rg := range []string{region, "US", ""} {
			again, err := Parse(n.E164, rg)
			if err != nil || again.E164 != n.E164 {
				t.Fatalf("Parse(%q, %q) = %+v, %v; want E164 %q again (from %q in %q)", n.E164, rg, again, err, n.E164, raw, region)
			}
		}
		if !Equal(raw, n.E164, region) {
			t.Fatalf("Equal(%q, %q, %q) = false", raw, n.E164, region)
		}
		if f := Format(n, region); f == "" || !utf8.ValidString(f) {
			t.Fatalf("Format(%+v) = %q", n, f)
		}
	})
}

func FuzzNormalizeDialed(f *testing.F) {
	for i, s := range append(fuzzSeeds, "+15550100", "15550100", "5550100", "0301", "+4930") {
		f.Add(s, uint8(i))
	}
	f.Fuzz(func(t *testing.T, user string, r uint8) {
		region := fuzzRegions[int(r)%len(fuzzRegions)]
		e164, err := NormalizeDialed(user, region)
		if err != nil {
			if !cc.IsCode(err, cc.EINVALID) {
				t.Fatalf("NormalizeDialed(%q, %q) error %v: want EINVALID", user, region, err)
			}
			return
		}
		checkE164(t, "NormalizeDialed("+user+")", e164)
		if len(e164)-1 > maxE164Digits {
			t.Fatalf("NormalizeDialed(%q, %q) = %q: longer than E.164 allows", user, region, e164)
		}
		for _, rg := range []string{region, "US", ""} {
			again, err := NormalizeDialed(e164, rg)
			if err != nil || again != e164 {
				t.Fatalf("NormalizeDialed(%q, %q) = %q, %v; want %q again (from %q in %q)", e164, rg, again, err, e164, user, region)
			}
		}
	})
}

func FuzzSearchVariants(f *testing.F) {
	for _, s := range []string{"+12015550123", "+49305550123", "+390655550123", "+441614960123", "+15550100", "+999123", "+", "", "12015550123", "+5491123456789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, e164 string) {
		vs := SearchVariants(e164)
		if len(vs) == 0 {
			return
		}
		if vs[0] != e164 || vs[1] != e164[1:] {
			t.Fatalf("SearchVariants(%q) starts %q; want the number and its digits", e164, vs[:2])
		}
		canonical := false
		if n, err := Parse(e164, ""); err == nil && n.E164 == e164 {
			canonical = true
		}
		seen := map[string]bool{}
		for _, v := range vs {
			if v == "" || seen[v] {
				t.Fatalf("SearchVariants(%q) = %q: empty or duplicate %q", e164, vs, v)
			}
			seen[v] = true
			if strings.Trim(v, "0123456789 +-.()/") != "" {
				t.Fatalf("SearchVariants(%q): variant %q has characters other than digits and separators", e164, v)
			}
			if canonical && strings.HasPrefix(v, "+") {
				if n, err := Parse(v, ""); err == nil && n.E164 != "" && n.E164 != e164 && Digits(v) == e164[1:] {
					t.Fatalf("SearchVariants(%q): variant %q parses as %q", e164, v, n.E164)
				}
			}
		}
	})
}
