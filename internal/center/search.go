package center

import (
	"context"
	"errors"
	"log/slog"

	"github.com/parley-cc/parley/internal/cc"
)

// searchData returns the queries the queue's search fields make of the
// call's data, in the queue's order: one per field whose key the data has.
func searchData(fields []cc.SearchField, data map[string]string) []cc.FieldQuery {
	var qs []cc.FieldQuery
	for _, f := range fields {
		if v, ok := data[f.Key]; ok && cc.ValidDataValue(v) {
			qs = append(qs, cc.FieldQuery{SearchField: f, Value: v})
		}
	}
	return qs
}

// findCustomer searches the CRM for the caller: first by the call's data
// through the queue's search fields, in order, stopping at the first field
// that matches; then, only when the data matched nothing or there was none
// to search, by the caller's number (empty for a withheld or unparseable
// one). Every record says which key found it (MatchedBy). A failed search
// does not stop the next; the errors are returned joined, with whatever the
// other searches found.
func findCustomer(ctx context.Context, crm cc.CRM, qs []cc.FieldQuery, number string, log *slog.Logger) ([]cc.CRMRecord, error) {
	var errs []error
	if len(qs) > 0 {
		fs, ok := crm.(cc.FieldSearcher)
		if !ok {
			log.Warn("the tenant's CRM cannot search by field; searching by the caller's number only", "fields", len(qs))
		}
		for _, q := range qs {
			if !ok {
				break
			}
			recs, err := fs.FindByField(ctx, q)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if len(recs) > 0 {
				for i := range recs {
					recs[i].MatchedBy = q.Key
				}
				return recs, errors.Join(errs...)
			}
		}
	}
	if number == "" {
		return nil, errors.Join(errs...)
	}
	recs, err := crm.FindByPhone(ctx, number)
	if err != nil {
		errs = append(errs, err)
	}
	for i := range recs {
		recs[i].MatchedBy = cc.MatchedByPhone
	}
	return recs, errors.Join(errs...)
}
