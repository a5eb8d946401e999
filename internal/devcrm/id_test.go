package devcrm

import (
	"strings"
	"testing"
)

func TestTo18KnownPairs(t *testing.T) {
	// The first two pairs are the org and user Ids of Salesforce's own JWT
	// bearer flow example; the others exercise each bit of the mask.
	tests := []struct{ id15, id18 string }{
		{"00Dxx0000001gPL", "00Dxx0000001gPLEAY"},
		{"005xx000001SwiU", "005xx000001SwiUAAS"},
		{"001000000000000", "001000000000000AAA"},
		{"AAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAA555"},
		{"A0000a0000a0000", "A0000a0000a0000BAA"},
		{"0000A0000A0000A", "0000A0000A0000AQQQ"},
		{"001A0000006Vm9r", "001A0000006Vm9rIAC"},
	}
	for _, tt := range tests {
		got, err := To18(tt.id15)
		if err != nil || got != tt.id18 {
			t.Errorf("To18(%q) = %q, %v; want %q", tt.id15, got, err, tt.id18)
		}
		for _, in := range []string{tt.id15, tt.id18, strings.ToLower(tt.id18), strings.ToUpper(tt.id18)} {
			got, err := ParseID(in)
			if err != nil || got != tt.id18 {
				t.Errorf("ParseID(%q) = %q, %v; want %q", in, got, err, tt.id18)
			}
		}
	}
}

func TestParseIDRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"001",
		"00100000000000",      // 14
		"0010000000000000",    // 16
		"001000000000000AAAA", // 19
		"001-00000000000",     // not base62
		"001000000000000AA!",  // bad suffix character
		"001000000000000AA9",  // 9 is not in the checksum alphabet
		"001000000000000BAA",  // suffix says a digit is uppercase
		"00Dxx0000001gPLAAA",  // mixed case that the suffix contradicts
		"00Dxx0000001gPLÉAY",  // non-ASCII
	} {
		if got, err := ParseID(in); err == nil {
			t.Errorf("ParseID(%q) = %q, want an error", in, got)
		}
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newID(PrefixTask)
		if len(id) != 18 || !strings.HasPrefix(id, PrefixTask) {
			t.Fatalf("newID = %q, want 18 characters starting with %s", id, PrefixTask)
		}
		canon, err := ParseID(id)
		if err != nil || canon != id {
			t.Fatalf("ParseID(newID) = %q, %v; want %q", canon, err, id)
		}
		if seen[id] {
			t.Fatalf("newID repeated %q", id)
		}
		seen[id] = true
	}
	if o := objectByPrefix(newID(PrefixContact)); o == nil || o.name != objContact {
		t.Errorf("objectByPrefix(new Contact Id) = %v, want Contact", o)
	}
}
