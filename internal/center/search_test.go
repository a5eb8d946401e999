package center

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

// phoneCRM finds records by number only.
type phoneCRM struct {
	byPhone  map[string][]cc.CRMRecord
	phoneErr error
	searched []string // what was searched, in order
}

func (c *phoneCRM) FindByPhone(_ context.Context, e164 string) ([]cc.CRMRecord, error) {
	c.searched = append(c.searched, "phone "+e164)
	return c.byPhone[e164], c.phoneErr
}

func (c *phoneCRM) WriteLog(context.Context, *cc.CallLog) (string, error) { return "", nil }

// fieldCRM also finds records by field value.
type fieldCRM struct {
	phoneCRM
	byField map[string][]cc.CRMRecord // "Object.Field=value"
	failing map[string]bool           // "Object.Field" that fail
}

func (c *fieldCRM) FindByField(_ context.Context, q cc.FieldQuery) ([]cc.CRMRecord, error) {
	k := q.Object + "." + q.Field
	c.searched = append(c.searched, k+"="+q.Value)
	if c.failing[k] {
		return nil, cc.Errorf(cc.EINVALID, "no field %s", k)
	}
	return append([]cc.CRMRecord(nil), c.byField[k+"="+q.Value]...), nil
}

func TestFindCustomer(t *testing.T) {
	acme := cc.CRMRecord{Type: "Account", ID: "001A", Name: "Acme"}
	jane := cc.CRMRecord{Type: "Contact", ID: "003J", Name: "Jane"}
	lead := cc.CRMRecord{Type: "Lead", ID: "00QL", Name: "Lee"}
	fields := []cc.SearchField{
		{Key: "account_number", Object: "Account", Field: "AccountNumber"},
		{Key: "email", Object: "Contact", Field: "Email"},
		{Key: "email", Object: "Lead", Field: "Email"},
	}
	newCRM := func() *fieldCRM {
		return &fieldCRM{
			phoneCRM: phoneCRM{byPhone: map[string][]cc.CRMRecord{"+12015550123": {jane}}},
			byField: map[string][]cc.CRMRecord{
				"Account.AccountNumber=12345678": {acme},
				"Lead.Email=lee@x.example":       {lead},
			},
		}
	}
	for _, tc := range []struct {
		name     string
		data     map[string]string
		number   string
		failing  string
		want     string // type:id:matched_by, space-separated
		searched string
		wantErr  string
	}{
		{"data matches: no phone search", map[string]string{"account_number": "12345678"}, "+12015550123", "",
			"Account:001A:account_number", "Account.AccountNumber=12345678", ""},
		{"data matches nothing: phone", map[string]string{"account_number": "999"}, "+12015550123", "",
			"Contact:003J:phone", "Account.AccountNumber=999 phone +12015550123", ""},
		{"no data: phone only", nil, "+12015550123", "", "Contact:003J:phone", "phone +12015550123", ""},
		{"unmapped data: phone only", map[string]string{"pin": "1"}, "+12015550123", "", "Contact:003J:phone", "phone +12015550123", ""},
		{"fields in order until one matches", map[string]string{"account_number": "1", "email": "lee@x.example"}, "", "",
			"Lead:00QL:email", "Account.AccountNumber=1 Contact.Email=lee@x.example Lead.Email=lee@x.example", ""},
		{"withheld caller, data matches", map[string]string{"account_number": "12345678"}, "", "",
			"Account:001A:account_number", "Account.AccountNumber=12345678", ""},
		{"withheld caller, nothing", map[string]string{"account_number": "1"}, "", "", "", "Account.AccountNumber=1", ""},
		{"failing field: next field and phone still searched", map[string]string{"account_number": "12345678", "email": "x@x.example"}, "+12015550123",
			"Account.AccountNumber", "Contact:003J:phone",
			"Account.AccountNumber=12345678 Contact.Email=x@x.example Lead.Email=x@x.example phone +12015550123", "no field Account.AccountNumber"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			crm := newCRM()
			if tc.failing != "" {
				crm.failing = map[string]bool{tc.failing: true}
			}
			recs, err := findCustomer(context.Background(), crm, searchData(fields, tc.data), tc.number, slog.New(slog.NewTextHandler(io.Discard, nil)))
			var got []string
			for _, r := range recs {
				got = append(got, r.Type+":"+r.ID+":"+r.MatchedBy)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("records %v, want %s", got, tc.want)
			}
			if s := strings.Join(crm.searched, " "); s != tc.searched {
				t.Errorf("searched %q, want %q", s, tc.searched)
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
	t.Run("CRM without field search", func(t *testing.T) {
		crm := &phoneCRM{byPhone: map[string][]cc.CRMRecord{"+12015550123": {jane}}}
		recs, err := findCustomer(context.Background(), crm, searchData(fields, map[string]string{"account_number": "12345678"}), "+12015550123",
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil || len(recs) != 1 || recs[0].MatchedBy != cc.MatchedByPhone {
			t.Errorf("records %+v, %v", recs, err)
		}
	})
	t.Run("invalid values are not searched", func(t *testing.T) {
		if qs := searchData(fields, map[string]string{"account_number": " ", "email": "a\nb"}); len(qs) != 0 {
			t.Errorf("searchData = %+v", qs)
		}
	})
}
