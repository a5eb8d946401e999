package cc_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

func TestParseSearchField(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    cc.SearchField
		wantErr string // a substring of the message; "" for success
	}{
		{"account_number=Account.AccountNumber", cc.SearchField{Key: "account_number", Object: "Account", Field: "AccountNumber"}, ""},
		{" email = contact.Email ", cc.SearchField{Key: "email", Object: "Contact", Field: "Email"}, ""},
		{"cust=Lead.Customer_Number__c", cc.SearchField{Key: "cust", Object: "Lead", Field: "Customer_Number__c"}, ""},
		{"account_number", cc.SearchField{}, "use key=Object.Field"},
		{"account_number=AccountNumber", cc.SearchField{}, "use key=Object.Field"},
		{"Account_Number=Account.AccountNumber", cc.SearchField{}, `key "Account_Number"`},
		{"1acct=Account.AccountNumber", cc.SearchField{}, `key "1acct"`},
		{"acct=Case.CaseNumber", cc.SearchField{}, "use Contact, Lead or Account"},
		{"acct=Account.Account Number", cc.SearchField{}, "field API name"},
		{"acct=Account.Number'--", cc.SearchField{}, "field API name"},
		{"acct=Account.a__b", cc.SearchField{}, "field API name"},
		{"acct=Account.", cc.SearchField{}, "field API name"},
		{"acct=Account.9x", cc.SearchField{}, "field API name"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := cc.ParseSearchField(tc.in)
			if tc.wantErr != "" {
				if !cc.IsCode(err, cc.EINVALID) || !strings.Contains(cc.ErrorMessage(err), tc.wantErr) {
					t.Fatalf("ParseSearchField(%q) = %v, %v; want EINVALID with %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseSearchField(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
			if back, err := cc.ParseSearchField(got.String()); err != nil || back != got {
				t.Errorf("String %q does not read back: %+v, %v", got.String(), back, err)
			}
		})
	}
}

func TestParseDigitCollection(t *testing.T) {
	for _, tc := range []struct {
		in      string
		key     string
		max     int
		wantErr string
	}{
		{"account_number:8", "account_number", 8, ""},
		{" pin : 32 ", "pin", 32, ""},
		{"pin:1", "pin", 1, ""},
		{"pin:0", "", 0, "use 1 to 32"},
		{"pin:33", "", 0, "use 1 to 32"},
		{"pin:8x", "", 0, "key:max-digits"},
		{"pin:+8", "", 0, "key:max-digits"},
		{"pin", "", 0, "key:max-digits"},
		{"PIN:4", "", 0, "lowercase letters"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			d, err := cc.ParseDigitCollection(tc.in)
			if tc.wantErr != "" {
				if !cc.IsCode(err, cc.EINVALID) || !strings.Contains(cc.ErrorMessage(err), tc.wantErr) {
					t.Fatalf("ParseDigitCollection(%q) = %+v, %v; want EINVALID with %q", tc.in, d, err, tc.wantErr)
				}
				return
			}
			if err != nil || d.Key != tc.key || d.MaxDigits != tc.max || d.DigitTimeout() != cc.DefaultDigitTimeout {
				t.Fatalf("ParseDigitCollection(%q) = %+v, %v", tc.in, d, err)
			}
		})
	}
}

func TestDigitCollectionValidate(t *testing.T) {
	ok := cc.DigitCollection{Key: "pin", MaxDigits: 4}
	for _, tc := range []struct {
		name    string
		mod     func(*cc.DigitCollection)
		wantErr string
	}{
		{"valid", func(*cc.DigitCollection) {}, ""},
		{"timeout", func(d *cc.DigitCollection) { d.Timeout = 3 * time.Second }, ""},
		{"short timeout", func(d *cc.DigitCollection) { d.Timeout = 500 * time.Millisecond }, "use 1s to 1m"},
		{"long timeout", func(d *cc.DigitCollection) { d.Timeout = 2 * time.Minute }, "use 1s to 1m"},
		{"prompt", func(d *cc.DigitCollection) { d.Prompt = "enter-pin.wav" }, ""},
		{"prompt with a path", func(d *cc.DigitCollection) { d.Prompt = "../x.wav" }, "without a path"},
		{"prompt not wav", func(d *cc.DigitCollection) { d.Prompt = "x.mp3" }, "without a path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := ok
			tc.mod(&d)
			err := d.Validate()
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && !strings.Contains(cc.ErrorMessage(err), tc.wantErr) {
				t.Errorf("Validate() = %v, want %q", err, tc.wantErr)
			}
		})
	}
	ep := cc.EntryPoint{TenantID: "ten_1", QueueID: "que_1", Number: "+15550101", Collect: &cc.DigitCollection{Key: "pin"}}
	if err := ep.Validate(); !cc.IsCode(err, cc.EINVALID) || !strings.Contains(err.Error(), "+15550101") {
		t.Errorf("entry point with a bad collection: %v", err)
	}
}

func TestParseScreenPop(t *testing.T) {
	for in, want := range map[string]cc.ScreenPop{"": cc.ScreenPopAnswer, "offer": cc.ScreenPopOffer, " Answer ": cc.ScreenPopAnswer} {
		if got, err := cc.ParseScreenPop(in); err != nil || got != want {
			t.Errorf("ParseScreenPop(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := cc.ParseScreenPop("ring"); !cc.IsCode(err, cc.EINVALID) || !strings.Contains(err.Error(), "use offer") {
		t.Errorf("ParseScreenPop(ring) = %v", err)
	}
}

func TestQueueScreenPopAndSearchFields(t *testing.T) {
	q := validQueue()
	if q.ScreenPop != cc.ScreenPopAnswer {
		t.Errorf("default screen pop %q", q.ScreenPop)
	}
	f, _ := cc.ParseSearchField("account_number=Account.AccountNumber")
	q.SearchFields = []cc.SearchField{f, {Key: "email", Object: "Contact", Field: "Email"}, {Key: "email", Object: "Lead", Field: "Email"}}
	if err := q.Validate(); err != nil {
		t.Fatalf("valid search fields: %v", err)
	}
	q.SearchFields = append(q.SearchFields, cc.SearchField{Key: "account_number", Object: "Account", Field: "accountnumber"})
	if err := q.Validate(); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("duplicate search field: %v", err)
	}
	q.SearchFields = []cc.SearchField{{Key: "x", Object: "Case", Field: "CaseNumber"}}
	if err := q.Validate(); !cc.IsCode(err, cc.EINVALID) {
		t.Errorf("bad object: %v", err)
	}
	q.SearchFields = nil
	q.ScreenPop = "ring"
	if err := q.Validate(); err == nil || !strings.Contains(err.Error(), "screen pop") {
		t.Errorf("bad screen pop: %v", err)
	}
}

func TestDataKeysAndValues(t *testing.T) {
	for k, want := range map[string]bool{"account_number": true, "a": true, "a1_b": true, "": false, "1a": false, "_a": false,
		"Account": false, "a-b": false, strings.Repeat("a", 40): true, strings.Repeat("a", 41): false} {
		if got := cc.ValidDataKey(k); got != want {
			t.Errorf("ValidDataKey(%q) = %v", k, got)
		}
	}
	for v, want := range map[string]bool{"12345678": true, "O'Brien \\ 100%_x": true, "": false, "  ": false, "a\nb": false,
		"a\x00": false, "\xff": false, strings.Repeat("x", 256): true, strings.Repeat("x", 257): false} {
		if got := cc.ValidDataValue(v); got != want {
			t.Errorf("ValidDataValue(%q) = %v", v, got)
		}
	}
}

func FuzzParseSearchField(f *testing.F) {
	for _, s := range []string{"account_number=Account.AccountNumber", "email=contact.Email", "x=Lead.A__c", "a=b.c.d", "=.", "k=Account.Name'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sf, err := cc.ParseSearchField(s)
		if err != nil {
			if !cc.IsCode(err, cc.EINVALID) {
				t.Fatalf("ParseSearchField(%q) error %v is not EINVALID", s, err)
			}
			return
		}
		if err := sf.Validate(); err != nil {
			t.Fatalf("ParseSearchField(%q) = %+v, which does not validate: %v", s, sf, err)
		}
		if back, err := cc.ParseSearchField(sf.String()); err != nil || back != sf {
			t.Fatalf("%+v does not read back from %q: %+v, %v", sf, sf.String(), back, err)
		}
		if strings.ContainsAny(sf.Field, "'\\ ") {
			t.Fatalf("field %q can break a query", sf.Field)
		}
	})
}
