package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
)

var _ cc.CRMUserLister = (*Client)(nil)

// UsersStatement is the SOQL query CRMUsers sends.
const UsersStatement = "SELECT Id, Username, Email FROM User ORDER BY Username"

// maxUserPages bounds how many pages of users CRMUsers reads (Salesforce
// sends up to 2,000 rows a page).
const maxUserPages = 50

// CRMUsers returns the org's users (UsersStatement) by username, following
// nextRecordsUrl when Salesforce pages the answer. A 503 is retried up to
// twice within ctx's deadline. EUNAVAILABLE when a row has no Id or
// Username, or the answer does not end within maxUserPages pages.
func (c *Client) CRMUsers(ctx context.Context) (users []cc.CRMUser, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("salesforce list users: %w", err)
		}
	}()
	r := request{method: http.MethodGet, path: "/query/", query: url.Values{"q": {UsersStatement}}}
	for page := 0; ; page++ {
		var ans struct {
			Done           bool   `json:"done"`
			NextRecordsURL string `json:"nextRecordsUrl"`
			Records        []struct {
				ID       string `json:"Id"`
				Username string `json:"Username"`
				Email    string `json:"Email"`
			} `json:"records"`
		}
		if err := c.retrySync(ctx, func() error { return c.do(ctx, r, &ans) }); err != nil {
			return nil, err
		}
		for _, rec := range ans.Records {
			if !validRecordID(rec.ID) || rec.Username == "" {
				return nil, cc.Errorf(cc.EUNAVAILABLE, "Salesforce answered the User query with a row without a record id or Username (Id %q)", rec.ID)
			}
			users = append(users, cc.CRMUser{ID: rec.ID, Username: rec.Username, Email: rec.Email})
		}
		if ans.Done || ans.NextRecordsURL == "" {
			return users, nil
		}
		if page+1 == maxUserPages {
			return nil, cc.Errorf(cc.EUNAVAILABLE, "the org has more users than Parley reads (%d pages)", maxUserPages)
		}
		// nextRecordsUrl is /services/data/vNN.N/query/<locator>.
		rest, ok := strings.CutPrefix(ans.NextRecordsURL, "/services/data/v"+c.version+"/")
		if !ok || !strings.HasPrefix(rest, "query/") || strings.ContainsAny(rest, "?#") || strings.Contains(rest, "..") {
			return nil, cc.Errorf(cc.EUNAVAILABLE, "Salesforce answered the User query with nextRecordsUrl %q, which is not a query locator of API version %s", ans.NextRecordsURL, c.version)
		}
		r = request{method: http.MethodGet, path: "/" + rest}
	}
}
