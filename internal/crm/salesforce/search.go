package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/phone"
)

// phoneSearchLimit caps the rows of a caller lookup.
const phoneSearchLimit = 200

// syncRetries is how many times the synchronous search path retries a 503.
const syncRetries = 2

// phoneSearchReturning is what a caller lookup asks for. Contacts bring
// their account's name through the Account relationship in the same search
// (devcrm serves one-level parent fields too), so no second query is needed.
var phoneSearchReturning = []Returning{
	{Object: "Contact", Fields: []string{"Id", "Name", "Phone", "MobilePhone", "AccountId", "Account.Name"}},
	{Object: "Lead", Fields: []string{"Id", "Name", "Company", "Phone", "MobilePhone"}},
	{Object: "Account", Fields: []string{"Id", "Name", "Phone"}},
}

// typeOrder is the order of record types in FindByPhone's answer.
var typeOrder = []string{"Contact", "Lead", "Account"}

// searchRecord is one row of a SOSL answer, for the objects Parley asks for.
type searchRecord struct {
	Attributes struct {
		Type string `json:"type"`
	} `json:"attributes"`
	ID          string `json:"Id"`
	Name        string `json:"Name"`
	Phone       string `json:"Phone"`
	MobilePhone string `json:"MobilePhone"`
	Company     string `json:"Company"`
	Account     *struct {
		Name string `json:"Name"`
	} `json:"Account"`
}

// phones returns the record's phone fields that Parley confirms matches on.
func (r *searchRecord) phones() []string {
	if r.Attributes.Type == "Account" {
		return []string{r.Phone}
	}
	return []string{r.Phone, r.MobilePhone}
}

// searchAnswer is the SOSL answer of API v37.0 and later; older versions
// send the bare array, which decode also reads.
type searchAnswer struct {
	SearchRecords []searchRecord `json:"searchRecords"`
}

// UnmarshalJSON reads both the object and the bare-array shapes.
func (a *searchAnswer) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '[' {
		return json.Unmarshal(b, &a.SearchRecords)
	}
	type plain searchAnswer
	return json.Unmarshal(b, (*plain)(a))
}

// FindByPhone returns every Contact, Lead and Account with a phone field
// equal to the E.164 number, Contacts first, then Leads, then Accounts,
// each by name and then id. It searches with SOSL for the usual written
// forms of the number and keeps only the records whose Phone or MobilePhone
// (Phone for Accounts), read with the tenant's region, is the same number.
// A 503 is retried up to twice within ctx's deadline. It returns EINVALID
// for a number that is not E.164.
func (c *Client) FindByPhone(ctx context.Context, e164 string) (recs []cc.CRMRecord, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("salesforce find by phone: %w", err)
		}
	}()
	num, perr := phone.Parse(e164, c.region)
	if perr != nil || num.Withheld || num.E164 == "" || !strings.HasPrefix(strings.TrimSpace(e164), "+") {
		return nil, cc.Errorf(cc.EINVALID, "phone number %q: give an E.164 number such as +12015550123", e164)
	}
	q := SOSL{Terms: phone.SearchVariants(num.E164), In: "PHONE", Returning: phoneSearchReturning, Limit: phoneSearchLimit}
	stmt, err := q.Statement()
	if err != nil {
		return nil, err
	}
	var ans searchAnswer
	err = c.retrySync(ctx, func() error {
		return c.do(ctx, request{method: http.MethodGet, path: "/search/", query: url.Values{"q": {stmt}}}, &ans)
	})
	if err != nil {
		return nil, err
	}
	if len(ans.SearchRecords) >= phoneSearchLimit {
		c.log.Warn("salesforce phone search hit its row limit; some matches may be missing", "limit", phoneSearchLimit)
	}
	for i := range ans.SearchRecords {
		if rec, ok := c.confirm(&ans.SearchRecords[i], num.E164); ok {
			recs = append(recs, rec)
		}
	}
	sortRecords(recs)
	return recs, nil
}

// confirm returns the record as a cc.CRMRecord when one of its phone fields
// is the searched number.
func (c *Client) confirm(r *searchRecord, e164 string) (cc.CRMRecord, bool) {
	if !slices.Contains(typeOrder, r.Attributes.Type) || r.ID == "" {
		return cc.CRMRecord{}, false
	}
	for _, p := range r.phones() {
		if strings.TrimSpace(p) == "" || !phone.Equal(p, e164, c.region) {
			continue
		}
		rec := cc.CRMRecord{Type: r.Attributes.Type, ID: r.ID, Name: r.Name, Phone: p, MatchedBy: cc.MatchedByPhone}
		switch r.Attributes.Type {
		case "Contact":
			if r.Account != nil {
				rec.Company = r.Account.Name
			}
		case "Lead":
			rec.Company = r.Company
		}
		return rec, true
	}
	return cc.CRMRecord{}, false
}

// sortRecords orders records by type (Contact, Lead, Account), then by
// name ignoring case, then by name and id.
func sortRecords(recs []cc.CRMRecord) {
	slices.SortStableFunc(recs, func(a, b cc.CRMRecord) int {
		if d := slices.Index(typeOrder, a.Type) - slices.Index(typeOrder, b.Type); d != 0 {
			return d
		}
		if d := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); d != 0 {
			return d
		}
		if d := strings.Compare(a.Name, b.Name); d != 0 {
			return d
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// retrySync runs op and retries it up to syncRetries times while it fails
// with HTTP 503, after a short jittered delay (or the server's Retry-After),
// as long as the delay fits in ctx's deadline.
func (c *Client) retrySync(ctx context.Context, op func() error) error {
	for attempt := 0; ; attempt++ {
		err := op()
		var ae *APIError
		if err == nil || attempt == syncRetries || !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
			return err
		}
		wait := jitter(c.syncBackoff << attempt)
		var re *retryError
		if errors.As(err, &re) && re.fromHeader {
			wait = max(wait, re.after)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
		c.log.Debug("retrying salesforce search after 503", "attempt", attempt+1)
	}
}
