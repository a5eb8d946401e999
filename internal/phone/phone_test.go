package phone

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

// TestNormalize is the one table of inputs and what they normalise to.
// Rows with dialed set go through NormalizeDialed, the others through Parse;
// rows with equal set must also match that value with Equal.
func TestNormalize(t *testing.T) {
	tests := []struct {
		region   string
		in       string
		e164     string
		ext      string
		withheld bool
		invalid  string // a substring of the EINVALID message
		equal    string // the caller ID this stored value must match
		dialed   bool
	}{
		// Switzerland: national, 00 and + forms.
		{region: "CH", in: "0315550123", e164: "+41315550123"},
		{region: "CH", in: "0041315550123", e164: "+41315550123"},
		{region: "CH", in: "+41 31 555 01 23", e164: "+41315550123"},
		// Germany: a stored national value and a caller ID without +.
		{region: "DE", in: "030/5550123", e164: "+49305550123", equal: "49305550123"},
		{region: "DE", in: "49305550123", e164: "+49305550123", equal: "030/5550123"},
		// US: stored forms that match the caller ID.
		{region: "US", in: "(201) 555-0123", e164: "+12015550123", equal: "+12015550123"},
		{region: "US", in: "201.555.0123", e164: "+12015550123", equal: "+12015550123"},
		{region: "US", in: "+1 201 555 0123", e164: "+12015550123", equal: "+12015550123"},
		{region: "US", in: "2015550123 x12", e164: "+12015550123", ext: "12", equal: "+12015550123"},
		// GB: country code with the trunk prefix after it; Italy keeps its zero.
		{region: "GB", in: "+44 0161 496 0123", e164: "+441614960123"},
		{region: "GB", in: "44 0161 496 0123", e164: "+441614960123"},
		{region: "GB", in: "(44) 0161 496 0123", e164: "+441614960123"},
		{region: "US", in: "44 0161 496 0123", e164: "+441614960123"},
		{region: "US", in: "(44) 0161 496 0123", e164: "+441614960123"},
		{region: "GB", in: "+39 06 5555 0123", e164: "+390655550123"},
		{region: "US", in: "39 06 5555 0123", e164: "+390655550123"},
		{region: "IT", in: "06 5555 0123", e164: "+390655550123", equal: "+39 06 5555 0123"},
		{region: "IT", in: "06 5555 0123", equal: "+39 6 5555 0123", invalid: "-"}, // not the same number
		// Extensions.
		{region: "US", in: "+1 201 555 0123;ext=136", e164: "+12015550123", ext: "136"},
		{region: "US", in: "+1 201 555 0123 x136", e164: "+12015550123", ext: "136"},
		{region: "US", in: "+12015550123x136", e164: "+12015550123", ext: "136"},
		{region: "US", in: "+1 201 555 0123 ext. 136", e164: "+12015550123", ext: "136"},
		{region: "US", in: "201.555.0123 x 9", e164: "+12015550123", ext: "9"},
		{region: "US", in: "201.555.0123 ext 9", e164: "+12015550123", ext: "9"},
		{region: "GB", in: "44 0161 496 0123 ext 55", e164: "+441614960123", ext: "55"},
		{region: "US", in: "tel:+1-201-555-0123;ext=12", e164: "+12015550123", ext: "12"},
		// Withheld.
		{region: "US", in: "", withheld: true},
		{region: "US", in: "anonymous", withheld: true},
		{region: "US", in: "Anonymous", withheld: true},
		{region: "US", in: "unknown", withheld: true},
		{region: "US", in: "<unknown>", withheld: true},
		{region: "US", in: "restricted", withheld: true},
		{region: "US", in: "PRIVATE", withheld: true},
		{region: "US", in: "Unavailable", withheld: true},
		{region: "US", in: "sip:anonymous@anonymous.invalid", withheld: true},
		{region: "US", in: "  ", withheld: true},
		// More.
		{region: "GB", in: "07700 900123", e164: "+447700900123"},
		{region: "US", in: "011 41 31 555 01 23", e164: "+41315550123"},
		{region: "US", in: "0041315550123", e164: "+41315550123"},
		{region: "US", in: "sip:+12015550123@carrier.example.net;user=phone", e164: "+12015550123"},
		{region: "US", in: "%2B12015550123", e164: "+12015550123"},
		{region: "us", in: "2015550123", e164: "+12015550123"},
		{region: "", in: "+41 31 555 01 23", e164: "+41315550123"},
		{region: "", in: "41315550123", e164: "+41315550123"},
		// Dialled numbers for entry points, including test numbers.
		{region: "US", in: "+15550100", e164: "+15550100", dialed: true},
		{region: "US", in: "15550100", e164: "+15550100", dialed: true},
		{region: "US", in: "5550100", e164: "+15550100", dialed: true},
		{region: "US", in: "tel:+1-555-0100", e164: "+15550100", dialed: true},
		{region: "US", in: "0015550100", e164: "+15550100", dialed: true},
		{region: "US", in: "%2B15550100", e164: "+15550100", dialed: true},
		{region: "US", in: "sip:+15550100@192.0.2.10:5060;user=phone", e164: "+15550100", dialed: true},
		{region: "US", in: "+1 (201) 555-0123", e164: "+12015550123", dialed: true},
		{region: "US", in: "01141315550123", e164: "+41315550123", dialed: true},
		{region: "DE", in: "030 123", e164: "+4930123", dialed: true},
		{region: "DE", in: "0301", e164: "+49301", dialed: true},
		{region: "CH", in: "+41315550123", e164: "+41315550123", dialed: true},
		{region: "US", in: "queue", invalid: "give digits", dialed: true},
		{region: "US", in: "+", invalid: "give 1 to 15 digits", dialed: true},
		{region: "US", in: "+999123", invalid: "known country calling code", dialed: true},
		{region: "US", in: "+1234567890123456", invalid: "at most 15 digits", dialed: true},
		{region: "", in: "5550100", invalid: "no default region", dialed: true},
		{region: "US", in: "12", invalid: "is too short for a number of US", dialed: true},
		{region: "US", in: "+1", invalid: "is too short", dialed: true},
		{region: "XX", in: "+15550100", invalid: "two-letter country code", dialed: true},
		// Garbage.
		{region: "US", in: "hello", invalid: `"hello" is not a phone number: give it in international form`},
		{region: "US", in: "12", invalid: `"12" is too short`},
		{region: "US", in: "+", invalid: `"+" is not a phone number`},
		{region: "US", in: strings.Repeat("1234567890", 4), invalid: "is too long"},
		{region: "US", in: "+999 1234567", invalid: "known country calling code"},
		{region: "CH", in: "12", invalid: "or as a national number of CH such as 021 234 56 78"},
		{region: "", in: "5550123", invalid: "international form"},
		{region: "XX", in: "2015550123", invalid: `phone region "XX"`},
	}
	for _, tt := range tests {
		name := tt.region + "/" + tt.in
		t.Run(name, func(t *testing.T) {
			if tt.invalid == "-" { // a negative Equal row
				if Equal(tt.in, tt.equal, tt.region) {
					t.Errorf("Equal(%q, %q, %q) = true, want false", tt.in, tt.equal, tt.region)
				}
				return
			}
			var got Number
			var err error
			if tt.dialed {
				got.E164, err = NormalizeDialed(tt.in, tt.region)
			} else {
				got, err = Parse(tt.in, tt.region)
			}
			if tt.invalid != "" {
				if !cc.IsCode(err, cc.EINVALID) {
					t.Fatalf("got %+v, %v; want an EINVALID error", got, err)
				}
				if msg := cc.ErrorMessage(err); !strings.Contains(msg, tt.invalid) {
					t.Errorf("message %q does not contain %q", msg, tt.invalid)
				}
				return
			}
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if got.E164 != tt.e164 || got.Extension != tt.ext || got.Withheld != tt.withheld {
				t.Errorf("got E164 %q ext %q withheld %v; want %q, %q, %v", got.E164, got.Extension, got.Withheld, tt.e164, tt.ext, tt.withheld)
			}
			if !tt.dialed && got.Raw != tt.in {
				t.Errorf("Raw = %q, want the input", got.Raw)
			}
			if tt.equal != "" && !Equal(tt.in, tt.equal, tt.region) {
				t.Errorf("Equal(%q, %q, %q) = false, want true", tt.in, tt.equal, tt.region)
			}
		})
	}
}

func TestParseErrorCause(t *testing.T) {
	_, err := Parse("hello", "US")
	var e *cc.Error
	if !errors.As(err, &e) || e.Err == nil {
		t.Fatalf("Parse(hello) = %v; want a *cc.Error with the parser's cause", err)
	}
}

func TestEqualRejects(t *testing.T) {
	for _, tt := range []struct{ a, b, region string }{
		{"anonymous", "anonymous", "US"},
		{"", "", "US"},
		{"hello", "hello", "US"},
		{"+12015550123", "+12015550124", "US"},
		{"0315550123", "+41315550123", "DE"},
	} {
		if Equal(tt.a, tt.b, tt.region) {
			t.Errorf("Equal(%q, %q, %q) = true, want false", tt.a, tt.b, tt.region)
		}
	}
	if !Equal("+12015550123 x1", "201-555-0123 x2", "US") {
		t.Error("Equal ignores extensions: want true for the same number with different extensions")
	}
}

func TestIsWithheld(t *testing.T) {
	for _, s := range []string{"", " ", "anonymous", "ANONYMOUS", "Anonymous", "unknown", "<unknown>", "Unknown",
		"restricted", "private", "Private Number", "unavailable", "withheld", "Withheld-Number", "no_caller_id",
		"\"Anonymous\"", "anonymous@anonymous.invalid", "sip:anonymous@anonymous.invalid", "<sip:anonymous@anonymous.invalid>",
		"sips:someone@anonymous.invalid;transport=tls", "OUT OF AREA", "Blocked"} {
		if !IsWithheld(s) {
			t.Errorf("IsWithheld(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"+12015550123", "2015550123", "hello", "+", "anonymous1", "unknownx", "sip:alice@example.com", "0"} {
		if IsWithheld(s) {
			t.Errorf("IsWithheld(%q) = true, want false", s)
		}
	}
}

func TestSIPWithheld(t *testing.T) {
	for _, tt := range []struct {
		user, display string
		privacy       []string
		want          bool
	}{
		{"+12015550123", "Jane", nil, false},
		{"+12015550123", "", nil, false},
		{"+12015550123", "", []string{"none"}, false},
		{"+12015550123", "", []string{"header"}, false},
		{"+12015550123", "", []string{"idx"}, false},
		{"anonymous", "", nil, true},
		{"", "", nil, true},
		{"+12015550123", "Anonymous", nil, true},
		{"+12015550123", "Withheld", nil, true},
		{"+12015550123", "", []string{"id"}, true},
		{"+12015550123", "", []string{"ID"}, true},
		{"+12015550123", "", []string{"user;id"}, true},
		{"+12015550123", "", []string{"header; id"}, true},
		{"+12015550123", "", []string{"none", "session, Id"}, true},
	} {
		if got := SIPWithheld(tt.user, tt.display, tt.privacy); got != tt.want {
			t.Errorf("SIPWithheld(%q, %q, %q) = %v, want %v", tt.user, tt.display, tt.privacy, got, tt.want)
		}
	}
}

func TestDigits(t *testing.T) {
	for in, want := range map[string]string{"": "", "+1 (201) 555-0123": "12015550123", "x٣4": "4", "abc": ""} {
		if got := Digits(in); got != want {
			t.Errorf("Digits(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSearchVariants(t *testing.T) {
	for _, tt := range []struct {
		e164 string
		want []string
	}{
		{"+12015550123", []string{
			"+12015550123", "12015550123", "+1 201-555-0123", "+1 201 555 0123",
			"(201) 555-0123", "201-555-0123", "201.555.0123", "201 555 0123", "2015550123",
		}},
		{"+49305550123", []string{
			"+49305550123", "49305550123", "+49 30 5550123", "+49 30 5550123",
			"030 5550123", "030-5550123", "030.5550123", "305550123", "0305550123",
		}},
		{"+390655550123", []string{
			"+390655550123", "390655550123", "+39 06 5555 0123",
			"06 5555 0123", "06-5555-0123", "06.5555.0123", "0655550123",
		}},
		{"+999123", []string{"+999123", "999123"}},
		{"12015550123", nil},
		{"+1201555012x", nil},
		{"+", nil},
		{"", nil},
	} {
		want := slices.Compact(tt.want) // the DE international format already uses spaces
		if got := SearchVariants(tt.e164); !slices.Equal(got, want) {
			t.Errorf("SearchVariants(%q) =\n %q\nwant\n %q", tt.e164, got, want)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tt := range []struct {
		n      Number
		region string
		want   string
	}{
		{Number{E164: "+12015550123"}, "US", "(201) 555-0123"},
		{Number{E164: "+12015550123", Extension: "12"}, "US", "(201) 555-0123 ext. 12"},
		{Number{E164: "+12015550123"}, "GB", "+1 201-555-0123"},
		{Number{E164: "+12015550123", Extension: "12"}, "CH", "+1 201-555-0123 ext. 12"},
		{Number{E164: "+41315550123"}, "ch", "031 555 01 23"},
		{Number{E164: "+390655550123"}, "US", "+39 06 5555 0123"},
		{Number{E164: "+15550100"}, "US", "555-0100"},
		{Number{E164: "+12015550123"}, "", "+1 201-555-0123"},
		{Number{Withheld: true, Raw: "anonymous"}, "US", "Withheld number"},
		{Number{Raw: " something "}, "US", "something"},
	} {
		if got := Format(tt.n, tt.region); got != tt.want {
			t.Errorf("Format(%+v, %q) = %q, want %q", tt.n, tt.region, got, tt.want)
		}
	}
}

func TestDialString(t *testing.T) {
	n, err := Parse("+1 201 555 0123 ext. 136", "US")
	if err != nil {
		t.Fatal(err)
	}
	if e, d := DialString(n); e != "+12015550123" || d != "136" {
		t.Errorf("DialString = %q, %q; want +12015550123, 136", e, d)
	}
	if e, d := DialString(Number{E164: "+12015550123"}); e != "+12015550123" || d != "" {
		t.Errorf("DialString without extension = %q, %q", e, d)
	}
	if e, d := DialString(Number{Withheld: true}); e != "" || d != "" {
		t.Errorf("DialString(withheld) = %q, %q; want empty", e, d)
	}
}
