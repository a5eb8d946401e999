package salesforce

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

func TestDevCRMUsers(t *testing.T) {
	srv := startDevCRM(t)
	c := devcrmClient(t, srv)
	users, err := c.CRMUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []cc.CRMUser{
		{ID: "005gK0Usr000001QCA", Username: "integration@parley.test", Email: "integration@parley.test"},
		{ID: "005gK0Usr000002QCA", Username: "runas@parley.test", Email: "runas@parley.test"},
	}
	if !slices.Equal(users, want) {
		t.Errorf("CRMUsers = %+v, want %+v", users, want)
	}
}

// TestCRMUsersPages follows nextRecordsUrl and refuses a locator outside
// the query resource.
func TestCRMUsersPages(t *testing.T) {
	o := newFakeOrg(t)
	next := "/services/data/v62.0/query/01gD0000002HU6KIAW-2000"
	o.rest = func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/query/") && r.URL.Query().Get("q") == UsersStatement:
			writeJSON(w, http.StatusOK, map[string]any{"done": false, "nextRecordsUrl": next, "totalSize": 3, "records": []map[string]any{
				{"attributes": map[string]string{"type": "User"}, "Id": "005000000000001AAA", "Username": "a@acme.example", "Email": "a@acme.example"},
				{"attributes": map[string]string{"type": "User"}, "Id": "005000000000002AAA", "Username": "b@acme.example", "Email": nil},
			}})
		case strings.HasSuffix(r.URL.Path, "/query/01gD0000002HU6KIAW-2000"):
			writeJSON(w, http.StatusOK, map[string]any{"done": true, "totalSize": 3, "records": []map[string]any{
				{"Id": "005000000000003AAA", "Username": "c@acme.example", "Email": "c@acme.example"},
			}})
		default:
			writeJSON(w, http.StatusNotFound, []ErrorItem{{Message: "unexpected " + r.URL.String(), ErrorCode: "NOT_FOUND"}})
		}
	}
	c := o.client()
	users, err := c.CRMUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range users {
		got = append(got, u.ID+" "+u.Username+" "+u.Email)
	}
	want := "005000000000001AAA a@acme.example a@acme.example\n005000000000002AAA b@acme.example \n005000000000003AAA c@acme.example c@acme.example"
	if strings.Join(got, "\n") != want {
		t.Errorf("CRMUsers =\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}

	next = "https://evil.example/services/data/v62.0/query/x"
	_, err = c.CRMUsers(context.Background())
	if cc.ErrorCode(err) != cc.EUNAVAILABLE || !strings.Contains(err.Error(), "not a query locator") {
		t.Errorf("a foreign nextRecordsUrl: %v, want EUNAVAILABLE naming it", err)
	}
}
