package salesforce

import (
	"context"
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

func accountNumber(v string) cc.FieldQuery {
	return cc.FieldQuery{SearchField: cc.SearchField{Key: "account_number", Object: "Account", Field: "AccountNumber"}, Value: v}
}

func TestFieldStatement(t *testing.T) {
	const pre = "SELECT Id, Name, Phone, AccountNumber FROM Account WHERE AccountNumber = "
	const post = " ORDER BY Name, Id LIMIT 50"
	for _, tc := range []struct {
		value, want string
	}{
		{"12345678", `'12345678'`},
		{" 42 ", `'42'`},
		{"O'Brien", `'O\'Brien'`},
		{`a\b`, `'a\\b'`},
		{`x' OR Name != '`, `'x\' OR Name != \''`},
		{`"quoted"`, `'\"quoted\"'`},
		{"100%", `'100%'`}, // = has no wildcards
		{"1_0", `'1_0'`},
		{"a*b?", `'a*b?'`},
	} {
		got, err := FieldStatement(accountNumber(tc.value))
		if err != nil || got != pre+tc.want+post {
			t.Errorf("FieldStatement(%q) = %s, %v\nwant %s", tc.value, got, err, pre+tc.want+post)
		}
	}
	got, err := FieldStatement(cc.FieldQuery{SearchField: cc.SearchField{Key: "email", Object: "Contact", Field: "Email"}, Value: "a@b.example"})
	if want := "SELECT Id, Name, Phone, MobilePhone, Account.Name, Email FROM Contact WHERE Email = 'a@b.example'" + post; err != nil || got != want {
		t.Errorf("contact statement = %s, %v\nwant %s", got, err, want)
	}
	got, err = FieldStatement(cc.FieldQuery{SearchField: cc.SearchField{Key: "phone", Object: "Account", Field: "phone"}, Value: "1"})
	if want := "SELECT Id, Name, Phone FROM Account WHERE phone = '1'" + post; err != nil || got != want {
		t.Errorf("statement on a selected field = %s, %v\nwant %s", got, err, want)
	}
	for _, q := range []cc.FieldQuery{
		accountNumber(""),
		accountNumber("a\nb"),
		accountNumber(strings.Repeat("1", 257)),
		{SearchField: cc.SearchField{Key: "x", Object: "Account", Field: "Name FROM User --"}, Value: "1"},
		{SearchField: cc.SearchField{Key: "x", Object: "User", Field: "Username"}, Value: "1"},
	} {
		if s, err := FieldStatement(q); !cc.IsCode(err, cc.EINVALID) {
			t.Errorf("FieldStatement(%+v) = %q, %v; want EINVALID", q, s, err)
		}
	}
}

func TestDevCRMFindByField(t *testing.T) {
	srv := startDevCRM(t)
	c := devcrmClient(t, srv)
	ctx := context.Background()
	for _, tc := range []struct {
		q    cc.FieldQuery
		want []string
	}{
		{accountNumber("12345678"), []string{"Account Acme Corporation 001gK0Acc000001QCA account_number"}},
		{accountNumber(`O'Brien\1`), []string{"Account Quote Ltd 001gK0Acc000003QCA account_number"}},
		{accountNumber("100%"), []string{"Account Percent Co 001gK0Acc000004QCA account_number"}},
		{accountNumber("10%"), nil},
		{accountNumber("1_00"), nil},
		{accountNumber("1234567"), nil},
		{accountNumber(`x' OR Name != '`), nil},
		// SOQL's = ignores case: both twins match, in name order
		{accountNumber("ab-7"), []string{"Account Twin A 001gK0Acc000005QCA account_number", "Account Twin B 001gK0Acc000006QCA account_number"}},
		{cc.FieldQuery{SearchField: cc.SearchField{Key: "email", Object: "Contact", Field: "Email"}, Value: "HUGO@acme.test"},
			[]string{"Contact Hugo Hall 003gK0Con000001QCA email"}},
		{cc.FieldQuery{SearchField: cc.SearchField{Key: "email", Object: "Lead", Field: "Email"}, Value: "sam@leadco.test"},
			[]string{"Lead Sam Lead 00QgK0Led000001UCA email"}},
	} {
		t.Run(tc.q.Value, func(t *testing.T) {
			recs, err := c.FindByField(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, r.Type+" "+r.Name+" "+r.ID+" "+r.MatchedBy)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("FindByField(%s = %q) =\n%s\nwant\n%s", tc.q.SearchField, tc.q.Value, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
	t.Run("company of a contact", func(t *testing.T) {
		recs, err := c.FindByField(ctx, cc.FieldQuery{SearchField: cc.SearchField{Key: "email", Object: "Contact", Field: "Email"}, Value: "nina@example.test"})
		if err != nil || len(recs) != 1 || recs[0].Company != "Other Inc" || recs[0].Phone != "(201) 555-0198" {
			t.Errorf("FindByField = %+v, %v", recs, err)
		}
	})
	t.Run("unknown field", func(t *testing.T) {
		_, err := c.FindByField(ctx, cc.FieldQuery{SearchField: cc.SearchField{Key: "x", Object: "Account", Field: "Customer_Number__c"}, Value: "1"})
		if err == nil || !strings.Contains(err.Error(), "Customer_Number__c") {
			t.Errorf("FindByField on a missing field = %v; want an error naming it", err)
		}
		t.Logf("error: %v (code %s)", err, cc.ErrorCode(err))
	})
}
