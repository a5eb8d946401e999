package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// sfRecord builds a search row as Salesforce sends it.
func sfRecord(typ, id string, fields map[string]any) map[string]any {
	r := map[string]any{"attributes": map[string]string{"type": typ, "url": "/services/data/v62.0/sobjects/" + typ + "/" + id}, "Id": id}
	for k, v := range fields {
		r[k] = v
	}
	return r
}

func account(name string) map[string]any {
	return map[string]any{"attributes": map[string]string{"type": "Account", "url": "/services/data/v62.0/sobjects/Account/001xx000003DGb2AAG"}, "Name": name}
}

// searchServing answers /search/ with rows; other paths are 404s.
func searchServing(t *testing.T, rows ...map[string]any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/services/data/v62.0/search/" {
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			writeJSON(w, http.StatusNotFound, []ErrorItem{{Message: "The requested resource does not exist", ErrorCode: "NOT_FOUND"}})
			return
		}
		if rows == nil {
			rows = []map[string]any{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"searchRecords": rows})
	}
}

func TestFindByPhoneRequest(t *testing.T) {
	o := newFakeOrg(t)
	o.rest = searchServing(t)
	recs, err := o.client().FindByPhone(context.Background(), "+12015550123")
	if err != nil || len(recs) != 0 {
		t.Fatalf("FindByPhone = %v, %v; want no records", recs, err)
	}
	got := o.recorded()
	golden(t, "find_by_phone", got[len(got)-1])
}

func TestFindByPhoneReturnsEveryMatchInOrder(t *testing.T) {
	o := newFakeOrg(t)
	company := "(201) 555-0123"
	rows := []map[string]any{
		sfRecord("Account", "001xx000003DGb2AAG", map[string]any{"Name": "Acme Corp", "Phone": "+12015550123"}),
		sfRecord("Lead", "00Qxx0000016ZQDEA2", map[string]any{"Name": "Zed Lead", "Company": "Globex", "Phone": "201.555.0123", "MobilePhone": nil}),
		sfRecord("Lead", "00Qxx0000016ZQCEA2", map[string]any{"Name": "Ann Lead", "Company": "Initech", "Phone": "2015550123 x45", "MobilePhone": nil}),
		sfRecord("Account", "001xx000003DGb3AAG", map[string]any{"Name": "London Ltd", "Phone": "+44 20 1555 0123"}),
		sfRecord("Case", "500xx000001abcdAAA", map[string]any{"Name": "Case", "Phone": company}),
		sfRecord("Contact", "003xx00000ZZZ09AAA", map[string]any{"Name": "Mobile Only", "Phone": "(201) 555-0124", "MobilePhone": "+1 201 555 0123", "AccountId": nil, "Account": nil}),
		sfRecord("Contact", "003xx00000ZZZ10AAA", map[string]any{"Name": "Home Phone Match", "Phone": "(201) 555-9999", "MobilePhone": nil, "AccountId": nil, "Account": nil}),
	}
	// Eight contacts share the company number; two have the same name.
	names := []string{"hank", "Bea", "Cid", "Abe", "Dee", "Gus", "eve", "Abe"}
	for i, n := range names {
		rows = append(rows, sfRecord("Contact", fmt.Sprintf("003xx00000ZZZ%02dAAA", 8-i), map[string]any{
			"Name": n, "Phone": company, "MobilePhone": nil, "AccountId": "001xx000003DGb2AAG", "Account": account("Acme Corp"),
		}))
	}
	o.rest = searchServing(t, rows...)
	recs, err := o.client().FindByPhone(context.Background(), "+12015550123")
	if err != nil {
		t.Fatal(err)
	}
	want := []cc.CRMRecord{
		{Type: "Contact", ID: "003xx00000ZZZ01AAA", Name: "Abe", Phone: company, Company: "Acme Corp", MatchedBy: "phone"},
		{Type: "Contact", ID: "003xx00000ZZZ05AAA", Name: "Abe", Phone: company, Company: "Acme Corp", MatchedBy: "phone"},
		{Type: "Contact", ID: "003xx00000ZZZ07AAA", Name: "Bea", Phone: company, Company: "Acme Corp", MatchedBy: "phone"},
		{Type: "Contact", ID: "003xx00000ZZZ06AAA", Name: "Cid", Phone: company, Company: "Acme Corp", MatchedBy: "phone"},
		{Type: "Contact", ID: "003xx00000ZZZ04AAA", Name: "Dee", Phone: company, Company: "Acme Corp", MatchedBy: "phone"},
		{Type: "Contact", ID: "003xx00000ZZZ02AAA", Name: "eve", Phone: company, Company: "Acme Corp", MatchedBy: "phone"},
		{Type: "Contact", ID: "003xx00000ZZZ03AAA", Name: "Gus", Phone: company, Company: "Acme Corp", MatchedBy: "phone"},
		{Type: "Contact", ID: "003xx00000ZZZ08AAA", Name: "hank", Phone: company, Company: "Acme Corp", MatchedBy: "phone"},
		{Type: "Contact", ID: "003xx00000ZZZ09AAA", Name: "Mobile Only", Phone: "+1 201 555 0123", MatchedBy: "phone"},
		{Type: "Lead", ID: "00Qxx0000016ZQCEA2", Name: "Ann Lead", Phone: "2015550123 x45", Company: "Initech", MatchedBy: "phone"},
		{Type: "Lead", ID: "00Qxx0000016ZQDEA2", Name: "Zed Lead", Phone: "201.555.0123", Company: "Globex", MatchedBy: "phone"},
		{Type: "Account", ID: "001xx000003DGb2AAG", Name: "Acme Corp", Phone: "+12015550123", MatchedBy: "phone"},
	}
	if !reflect.DeepEqual(recs, want) {
		g, _ := json.MarshalIndent(recs, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("FindByPhone =\n%s\nwant\n%s", g, w)
	}
}

func TestFindByPhoneReadsWithTenantRegion(t *testing.T) {
	o := newFakeOrg(t)
	o.rest = searchServing(t,
		sfRecord("Contact", "003xx00000GB001AAA", map[string]any{"Name": "National form", "Phone": "020 7946 0018"}),
		sfRecord("Contact", "003xx00000GB002AAA", map[string]any{"Name": "Other number", "Phone": "020 7946 0019"}),
	)
	c, err := NewClient(o.conn(), "GB", Options{Clock: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := c.FindByPhone(context.Background(), "+442079460018")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].ID != "003xx00000GB001AAA" {
		t.Errorf("FindByPhone = %+v; want the record stored in GB national form only", recs)
	}
}

func TestFindByPhoneOldResponseShape(t *testing.T) {
	o := newFakeOrg(t)
	o.rest = func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []map[string]any{
			sfRecord("Account", "001xx000003DGb2AAG", map[string]any{"Name": "Acme Corp", "Phone": "201-555-0123"}),
		})
	}
	recs, err := o.client().FindByPhone(context.Background(), "+12015550123")
	if err != nil || len(recs) != 1 || recs[0].Type != "Account" {
		t.Fatalf("FindByPhone = %+v, %v; want the account from a bare-array answer", recs, err)
	}
}

func TestFindByPhoneRejectsNonE164(t *testing.T) {
	o := newFakeOrg(t)
	o.rest = searchServing(t)
	c := o.client()
	for _, in := range []string{"", "2015550123", "(201) 555-0123", "anonymous", "+", "+1", "not a number"} {
		_, err := c.FindByPhone(context.Background(), in)
		if cc.ErrorCode(err) != cc.EINVALID || !strings.Contains(cc.ErrorMessage(err), "E.164") {
			t.Errorf("FindByPhone(%q) error %v; want EINVALID asking for E.164", in, err)
		}
	}
	if n := len(o.recorded()); n != 0 {
		t.Errorf("%d requests sent for invalid numbers; want none", n)
	}
}

// busySearch answers the first n searches with 503, then with no rows.
func busySearch(n int32, header string) (http.HandlerFunc, *atomic.Int32) {
	var calls atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= n {
			if header != "" {
				w.Header().Set("Retry-After", header)
			}
			writeJSON(w, http.StatusServiceUnavailable, []ErrorItem{{Message: "Server unavailable", ErrorCode: "SERVER_UNAVAILABLE"}})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"searchRecords": []any{}})
	}, &calls
}

func TestFindByPhoneRetries503(t *testing.T) {
	t.Run("two 503s then success", func(t *testing.T) {
		o := newFakeOrg(t)
		h, calls := busySearch(2, "")
		o.rest = h
		if _, err := o.client().FindByPhone(context.Background(), "+12015550123"); err != nil {
			t.Fatalf("FindByPhone: %v", err)
		}
		if calls.Load() != 3 {
			t.Errorf("%d searches; want 3", calls.Load())
		}
	})
	t.Run("three 503s fail", func(t *testing.T) {
		o := newFakeOrg(t)
		h, calls := busySearch(10, "")
		o.rest = h
		_, err := o.client().FindByPhone(context.Background(), "+12015550123")
		if cc.ErrorCode(err) != cc.EUNAVAILABLE {
			t.Fatalf("error %v; want EUNAVAILABLE", err)
		}
		if calls.Load() != 3 {
			t.Errorf("%d searches; want 3 (two retries)", calls.Load())
		}
		if !strings.HasPrefix(err.Error(), "salesforce find by phone: ") {
			t.Errorf("error %q does not name the operation", err)
		}
	})
	t.Run("backoff beyond the deadline", func(t *testing.T) {
		o := newFakeOrg(t)
		h, calls := busySearch(10, "")
		o.rest = h
		c := o.client()
		c.syncBackoff = time.Hour
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := c.FindByPhone(ctx, "+12015550123")
		if cc.ErrorCode(err) != cc.EUNAVAILABLE || calls.Load() != 1 {
			t.Errorf("error %v after %d searches; want EUNAVAILABLE after 1, not a wait past the deadline", err, calls.Load())
		}
	})
	t.Run("retry-after beyond the deadline", func(t *testing.T) {
		o := newFakeOrg(t)
		h, calls := busySearch(10, "120")
		o.rest = h
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := o.client().FindByPhone(ctx, "+12015550123")
		var ra cc.RetryAfter
		if calls.Load() != 1 || !errors.As(err, &ra) || ra.RetryAfter() != 2*time.Minute {
			t.Errorf("error %v after %d searches; want one search and Retry-After 2m passed on", err, calls.Load())
		}
	})
	t.Run("other errors are not retried", func(t *testing.T) {
		o := newFakeOrg(t)
		var calls atomic.Int32
		o.rest = func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			writeJSON(w, http.StatusBadRequest, []ErrorItem{{Message: "unexpected token", ErrorCode: "MALFORMED_SEARCH"}})
		}
		_, err := o.client().FindByPhone(context.Background(), "+12015550123")
		if cc.ErrorCode(err) != cc.EINVALID || calls.Load() != 1 {
			t.Errorf("error %v after %d searches; want EINVALID after 1", err, calls.Load())
		}
	})
}

func TestSortRecordsIsStable(t *testing.T) {
	recs := []cc.CRMRecord{
		{Type: "Account", ID: "1", Name: "a"},
		{Type: "Lead", ID: "2", Name: "b"},
		{Type: "Contact", ID: "4", Name: "B"},
		{Type: "Contact", ID: "3", Name: "b"},
		{Type: "Contact", ID: "5", Name: "b"},
		{Type: "Contact", ID: "6", Name: "a"},
	}
	sortRecords(recs)
	var got []string
	for _, r := range recs {
		got = append(got, r.Type[:1]+r.Name+r.ID)
	}
	if want := "Ca6 CB4 Cb3 Cb5 Lb2 Aa1"; strings.Join(got, " ") != want {
		t.Errorf("order %s; want %s", strings.Join(got, " "), want)
	}
}
