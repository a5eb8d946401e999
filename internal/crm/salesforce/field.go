package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
)

var _ cc.FieldSearcher = (*Client)(nil)

// fieldSearchLimit caps the rows of a search by a field value.
const fieldSearchLimit = 50

// fieldSearchSelect is what a search by field asks for, per object: the
// fields of a cc.CRMRecord (the searched field is added).
var fieldSearchSelect = map[string][]string{
	"Contact": {"Id", "Name", "Phone", "MobilePhone", "Account.Name"},
	"Lead":    {"Id", "Name", "Company", "Phone", "MobilePhone"},
	"Account": {"Id", "Name", "Phone"},
}

// FieldStatement returns the SOQL query FindByField sends: the record's
// fields and the searched one, WHERE the field equals the value quoted by
// QuoteSOQL. SOQL's = compares the whole value, so LIKE wildcards ('%',
// '_') in it are plain characters and need no escaping.
func FieldStatement(q cc.FieldQuery) (string, error) {
	if err := q.SearchField.Validate(); err != nil {
		return "", err
	}
	if !cc.ValidDataValue(q.Value) {
		return "", cc.Errorf(cc.EINVALID, "search %s for %q: give 1-%d bytes of printable text", q.SearchField, q.Value, cc.MaxDataValueLen)
	}
	fields := fieldSearchSelect[q.Object]
	if !slices.ContainsFunc(fields, func(f string) bool { return strings.EqualFold(f, q.Field) }) {
		fields = append(slices.Clip(fields), q.Field)
	}
	return fmt.Sprintf("SELECT %s FROM %s WHERE %s = %s ORDER BY Name, Id LIMIT %d",
		strings.Join(fields, ", "), q.Object, q.Field, QuoteSOQL(strings.TrimSpace(q.Value)), fieldSearchLimit), nil
}

// FindByField returns the records of q.Object whose q.Field equals q.Value,
// by name and id, each with MatchedBy set to q.Key. It queries with SOQL
// (FieldStatement) and keeps only the records whose field, as returned,
// is the value (ignoring case and surrounding spaces, as Salesforce's =
// does), so that a CRM with looser matching never links the wrong record.
// A 503 is retried up to twice within ctx's deadline. EINVALID for a query
// that does not validate; Salesforce's INVALID_FIELD (no such field on the
// object) comes back as its mapped error.
func (c *Client) FindByField(ctx context.Context, q cc.FieldQuery) (recs []cc.CRMRecord, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("salesforce find by %s: %w", q.SearchField, err)
		}
	}()
	stmt, err := FieldStatement(q)
	if err != nil {
		return nil, err
	}
	var ans struct {
		Records []json.RawMessage `json:"records"`
	}
	err = c.retrySync(ctx, func() error {
		return c.do(ctx, request{method: http.MethodGet, path: "/query/", query: url.Values{"q": {stmt}}}, &ans)
	})
	if err != nil {
		return nil, err
	}
	if len(ans.Records) >= fieldSearchLimit {
		c.log.Warn("salesforce field search hit its row limit; some matches may be missing", "field", q.SearchField.String(), "limit", fieldSearchLimit)
	}
	want := strings.TrimSpace(q.Value)
	for _, raw := range ans.Records {
		rec, value, err := decodeFieldRecord(raw, q.Object, q.Field)
		if err != nil {
			return nil, cc.WrapError(cc.EUNAVAILABLE, err, "Salesforce answered the %s query with a record Parley cannot read", q.Object)
		}
		if rec.ID == "" || !strings.EqualFold(strings.TrimSpace(value), want) {
			continue
		}
		rec.MatchedBy = q.Key
		recs = append(recs, rec)
	}
	sortRecords(recs)
	return recs, nil
}

// decodeFieldRecord reads one query row as a record of object, and the
// value of its field (found without regard to case, as Salesforce names it
// in its own case).
func decodeFieldRecord(raw json.RawMessage, object, field string) (cc.CRMRecord, string, error) {
	var r searchRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return cc.CRMRecord{}, "", err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		return cc.CRMRecord{}, "", err
	}
	var value string
	for k, v := range all {
		if strings.EqualFold(k, field) {
			var s *string
			if err := json.Unmarshal(v, &s); err != nil {
				// a number or boolean field: compare its JSON text
				value = string(v)
			} else if s != nil {
				value = *s
			}
		}
	}
	rec := cc.CRMRecord{Type: object, ID: r.ID, Name: r.Name, Phone: r.Phone}
	if rec.Phone == "" {
		rec.Phone = r.MobilePhone
	}
	switch object {
	case "Contact":
		if r.Account != nil {
			rec.Company = r.Account.Name
		}
	case "Lead":
		rec.Company = r.Company
	}
	return rec, value, nil
}
