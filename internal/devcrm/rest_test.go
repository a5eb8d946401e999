package devcrm

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRESTScenarios(t *testing.T) {
	e := newEnv(t)
	v := "/services/data/v62.0"
	long := strings.Repeat("s", 256)
	tests := []struct {
		name       string
		method     string
		path       string
		body       any
		header     []string // name, value pairs; an empty value removes the header
		wantStatus int
		wantCode   string   // the first error's code
		wantFields []string // the first error's fields
		want       []string // substrings of the body
	}{
		{name: "versions", method: "GET", path: "/services/data/", header: []string{"Authorization", ""}, wantStatus: 200,
			want: []string{`{"label":"Winter '21","url":"/services/data/v50.0","version":"50.0"}`, `"label":"Spring '26"`, `"/services/data/v66.0"`}},
		{name: "resources", method: "GET", path: v + "/", wantStatus: 200, want: []string{`"query":"/services/data/v62.0/query"`, `"sobjects":"/services/data/v62.0/sobjects"`}},
		{name: "resources without slash", method: "GET", path: v, wantStatus: 200, want: []string{`"search":"/services/data/v62.0/search"`}},
		{name: "limits", method: "GET", path: v + "/limits/", wantStatus: 200, want: []string{`"DailyApiRequests":{"Max":15000,"Remaining":`}},
		{name: "version too old", method: "GET", path: "/services/data/v49.0/limits", wantStatus: 404, wantCode: codeNotFound},
		{name: "version too new", method: "GET", path: "/services/data/v67.0/limits", wantStatus: 404, wantCode: codeNotFound},
		{name: "version without v", method: "GET", path: "/services/data/62.0/limits", wantStatus: 404, wantCode: codeNotFound},
		{name: "version not NN.0", method: "GET", path: "/services/data/v62.5/limits", wantStatus: 404, wantCode: codeNotFound},
		{name: "unknown path", method: "GET", path: v + "/tooling/query", wantStatus: 404, wantCode: codeNotFound, want: []string{msgResourceDoesNotExist}},
		{name: "no token", method: "GET", path: v + "/limits", header: []string{"Authorization", ""}, wantStatus: 401, wantCode: codeInvalidSession,
			want: []string{`[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`}},
		{name: "unknown token", method: "GET", path: v + "/limits", header: []string{"Authorization", "Bearer 00D!nope"}, wantStatus: 401, wantCode: codeInvalidSession},
		{name: "basic auth is no session", method: "GET", path: v + "/limits", header: []string{"Authorization", "Basic " + e.token}, wantStatus: 401, wantCode: codeInvalidSession},
		{name: "OAuth scheme", method: "GET", path: v + "/limits", header: []string{"Authorization", "OAuth " + e.token}, wantStatus: 200},
		{name: "method not allowed", method: "PUT", path: v + "/sobjects/Contact/" + janeID, body: map[string]any{}, wantStatus: 405, wantCode: codeMethodNotAllowed,
			want: []string{"HTTP Method 'PUT' not allowed. Allowed are GET,PATCH,DELETE"}},

		// Reads.
		{name: "read by 15-character Id", method: "GET", path: v + "/sobjects/Contact/" + janeID15, wantStatus: 200,
			want: []string{`{"attributes":{"type":"Contact","url":"/services/data/v62.0/sobjects/Contact/` + janeID + `"},"Id":"` + janeID + `"`, `"Name":"Jane Doe"`, `"Phone":"(201) 555-0123"`, `"AccountId":"` + acmeID + `"`}},
		{name: "read by lower-cased 18-character Id", method: "GET", path: v + "/sobjects/contact/" + strings.ToLower(janeID), wantStatus: 200, want: []string{`"Id":"` + janeID + `"`}},
		{name: "read some fields", method: "GET", path: v + "/sobjects/Contact/" + janeID + "?fields=LastName,Email", wantStatus: 200,
			want: []string{`"url":"/services/data/v62.0/sobjects/Contact/` + janeID + `"},"LastName":"Doe","Email":"jane.doe@acme.example.com"}`}},
		{name: "read unknown field", method: "GET", path: v + "/sobjects/Contact/" + janeID + "?fields=Bogus", wantStatus: 400, wantCode: codeInvalidField},
		{name: "read unknown object", method: "GET", path: v + "/sobjects/Opportunity/006000000000000AAA", wantStatus: 404, wantCode: codeNotFound},
		{name: "read missing record", method: "GET", path: v + "/sobjects/Contact/003000000000000AAA", wantStatus: 404, wantCode: codeNotFound, want: []string{msgResourceDoesNotExist}},
		{name: "read malformed Id", method: "GET", path: v + "/sobjects/Contact/nope", wantStatus: 404, wantCode: codeNotFound,
			want: []string{"Provided external ID field does not exist or is not accessible: nope"}},
		{name: "read Id of another object", method: "GET", path: v + "/sobjects/Account/" + janeID, wantStatus: 404, wantCode: codeNotFound},
		{name: "read a user", method: "GET", path: v + "/sobjects/User/" + integrationU, wantStatus: 200, want: []string{`"Username":"integration@devcrm.example.com"`, `"IsActive":true`}},
		{name: "object info", method: "GET", path: v + "/sobjects/Task/", wantStatus: 200, want: []string{`"keyPrefix":"00T"`}},

		// Creates and their errors.
		{name: "create task", method: "POST", path: v + "/sobjects/Task/", body: map[string]any{"Subject": "Call", "WhoId": janeID15}, wantStatus: 201,
			want: []string{`"success":true`, `"errors":[]`, `{"id":"00T`}},
		{name: "create without trailing slash", method: "POST", path: v + "/sobjects/Task", body: map[string]any{"Subject": "Call"}, wantStatus: 201},
		{name: "create with attributes", method: "POST", path: v + "/sobjects/Task/", body: `{"attributes":{"type":"Task"},"subject":"lower-case field name"}`, wantStatus: 201},
		{name: "create unknown object", method: "POST", path: v + "/sobjects/Opportunity/", body: map[string]any{"Name": "x"}, wantStatus: 404, wantCode: codeNotFound},
		{name: "create user", method: "POST", path: v + "/sobjects/User/", body: map[string]any{"LastName": "x"}, wantStatus: 403, wantCode: codeReadOnly},
		{name: "unknown field", method: "POST", path: v + "/sobjects/Task/", body: map[string]any{"Bogus": "x"}, wantStatus: 400, wantCode: codeInvalidField,
			want: []string{`[{"message":"No such column 'Bogus' on sobject of type Task","errorCode":"INVALID_FIELD"}]`}},
		{name: "int from words", method: "POST", path: v + "/sobjects/Task/", body: map[string]any{"CallDurationInSeconds": "ninety"}, wantStatus: 400,
			wantCode: codeInvalidTypeOnField, wantFields: []string{"CallDurationInSeconds"}, want: []string{"Call Duration: value not of required type: ninety"}},
		{name: "int from a numeric string", method: "POST", path: v + "/sobjects/Task/", body: map[string]any{"CallDurationInSeconds": "90"}, wantStatus: 201},
		{name: "int from true", method: "POST", path: v + "/sobjects/Task/", body: `{"Subject":"x",` + "\n" + `"CallDurationInSeconds":true}`, wantStatus: 400, wantCode: codeJSONParser,
			want: []string{"Cannot deserialize instance of int from VALUE_TRUE value true or request may be missing a required field at [line:2, column:29]"}},
		{name: "int from a fraction", method: "POST", path: v + "/sobjects/Task/", body: `{"CallDurationInSeconds":1.5}`, wantStatus: 400, wantCode: codeJSONParser, want: []string{"VALUE_NUMBER_FLOAT"}},
		{name: "bad date", method: "POST", path: v + "/sobjects/Task/", body: map[string]any{"ActivityDate": "12/03/2026"}, wantStatus: 400, wantCode: codeJSONParser,
			want: []string{"Cannot deserialize instance of date from VALUE_STRING value 12/03/2026"}},
		{name: "object for a string", method: "POST", path: v + "/sobjects/Task/", body: `{"Subject":{"a":1}}`, wantStatus: 400, wantCode: codeJSONParser, want: []string{"START_OBJECT"}},
		{name: "number for a string", method: "POST", path: v + "/sobjects/Task/", body: `{"Subject":42}`, wantStatus: 201},
		{name: "broken JSON", method: "POST", path: v + "/sobjects/Task/", body: `{"Subject":`, wantStatus: 400, wantCode: codeJSONParser},
		{name: "array body", method: "POST", path: v + "/sobjects/Task/", body: `[{"Subject":"x"}]`, wantStatus: 400, wantCode: codeJSONParser},
		{name: "empty body", method: "POST", path: v + "/sobjects/Task/", body: ``, wantStatus: 400, wantCode: codeJSONParser},
		{name: "trailing garbage", method: "POST", path: v + "/sobjects/Task/", body: `{"Subject":"x"} {}`, wantStatus: 400, wantCode: codeJSONParser},
		{name: "XML body", method: "POST", path: v + "/sobjects/Task/", body: `<Subject/>`, header: []string{"Content-Type", "text/xml"}, wantStatus: 415, wantCode: codeUnsupportedMedia},
		{name: "JSON with charset", method: "POST", path: v + "/sobjects/Task/", body: `{"Subject":"x"}`, header: []string{"Content-Type", "application/json; charset=UTF-8"}, wantStatus: 201},
		{name: "subject too long", method: "POST", path: v + "/sobjects/Task/", body: map[string]any{"Subject": long}, wantStatus: 400,
			wantCode: codeStringTooLong, wantFields: []string{"Subject"}, want: []string{"(max length=255)"}},
		{name: "subject of 255 multi-byte characters", method: "POST", path: v + "/sobjects/Task/", body: map[string]any{"Subject": strings.Repeat("é", 255)}, wantStatus: 201},
		{name: "two errors at once", method: "POST", path: v + "/sobjects/Task/", body: map[string]any{"Subject": long, "CallDisposition": long}, wantStatus: 400,
			want: []string{`"fields":["Subject"]`, `"fields":["CallDisposition"]`}},
		{name: "WhoId to an account", method: "POST", path: v + "/sobjects/Task/", body: map[string]any{"WhoId": acmeID}, wantStatus: 400,
			wantCode: codeFieldIntegrity, wantFields: []string{"WhoId"}, want: []string{"Name ID: id value of incorrect type: " + acmeID}},
		{name: "WhatId to a contact", method: "POST", path: v + "/sobjects/Task/", body: map[string]any{"WhatId": janeID}, wantStatus: 400, wantCode: codeFieldIntegrity, wantFields: []string{"WhatId"}},
		{name: "malformed WhoId", method: "POST", path: v + "/sobjects/Task/", body: map[string]any{"WhoId": "abc"}, wantStatus: 400, wantCode: codeMalformedID, wantFields: []string{"WhoId"}},
		{name: "WhoId to no record", method: "POST", path: v + "/sobjects/Task/", body: map[string]any{"WhoId": "003000000000000"}, wantStatus: 400,
			wantCode: codeInvalidCrossRef, wantFields: []string{"WhoId"}, want: []string{"invalid cross reference id"}},
		{name: "WhatId to no record", method: "POST", path: v + "/sobjects/Task/", body: map[string]any{"WhatId": "001000000000000AAA"}, wantStatus: 400, wantCode: codeInvalidCrossRef, wantFields: []string{"WhatId"}},
		{name: "bad call type", method: "POST", path: v + "/sobjects/Task/", body: map[string]any{"CallType": "Sideways"}, wantStatus: 400,
			wantCode: codeBadPicklist, wantFields: []string{"CallType"}, want: []string{"Call Type: bad value for restricted picklist field: Sideways"}},
		{name: "read-only field", method: "POST", path: v + "/sobjects/Task/", body: map[string]any{"AccountId": acmeID, "CreatedDate": "2026-01-01T00:00:00.000+0000"}, wantStatus: 400,
			wantCode: codeInvalidFieldInsert, wantFields: []string{"AccountId", "CreatedDate"}, want: []string{"Unable to create/update fields: AccountId, CreatedDate."}},
		{name: "contact without last name", method: "POST", path: v + "/sobjects/Contact/", body: map[string]any{"FirstName": "Ann"}, wantStatus: 400,
			wantCode: codeRequiredMissing, wantFields: []string{"LastName"}, want: []string{"Required fields are missing: [LastName]"}},
		{name: "lead without company", method: "POST", path: v + "/sobjects/Lead/", body: map[string]any{"LastName": "Lee", "Company": ""}, wantStatus: 400,
			wantCode: codeRequiredMissing, wantFields: []string{"Company"}},
		{name: "bad email", method: "POST", path: v + "/sobjects/Contact/", body: map[string]any{"LastName": "X", "Email": "not-an-address"}, wantStatus: 400,
			wantCode: codeInvalidEmail, wantFields: []string{"Email"}},
		{name: "contact's computed name", method: "POST", path: v + "/sobjects/Contact/", body: map[string]any{"LastName": "X", "Name": "Y"}, wantStatus: 400,
			wantCode: codeInvalidFieldInsert, wantFields: []string{"Name"}},

		// Updates.
		{name: "update missing record", method: "PATCH", path: v + "/sobjects/Contact/003000000000000AAA", body: map[string]any{"FirstName": "x"}, wantStatus: 404, wantCode: codeNotFound},
		{name: "update clears a required field", method: "PATCH", path: v + "/sobjects/Contact/" + janeID, body: map[string]any{"LastName": nil}, wantStatus: 400,
			wantCode: codeRequiredMissing, wantFields: []string{"LastName"}},
		{name: "update a user", method: "PATCH", path: v + "/sobjects/User/" + integrationU, body: map[string]any{"FirstName": "x"}, wantStatus: 403, wantCode: codeReadOnly},

		// Queries and searches.
		{name: "query", method: "GET", path: v + "/query/?q=" + url.QueryEscape("SELECT Id, Name FROM Contact WHERE Id = '"+janeID15+"'"), wantStatus: 200,
			want: []string{`{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Contact","url":"/services/data/v62.0/sobjects/Contact/` + janeID + `"},"Id":"` + janeID + `","Name":"Jane Doe"}]}`}},
		{name: "query without slash", method: "GET", path: v + "/query?q=" + url.QueryEscape("SELECT COUNT() FROM User"), wantStatus: 200, want: []string{`{"totalSize":7,"done":true,"records":[]}`}},
		{name: "query without q", method: "GET", path: v + "/query/", wantStatus: 400, wantCode: codeMalformedQuery},
		{name: "malformed query", method: "GET", path: v + "/query/?q=" + url.QueryEscape("SELECT Id FROM Task WHERE"), wantStatus: 400, wantCode: codeMalformedQuery, want: []string{"unexpected token: \u003cEOF\u003e"}},
		{name: "query unknown field", method: "GET", path: v + "/query/?q=" + url.QueryEscape("SELECT Bogus FROM Task"), wantStatus: 400, wantCode: codeInvalidField},
		{name: "query unknown object", method: "GET", path: v + "/query/?q=" + url.QueryEscape("SELECT Id FROM Opportunity"), wantStatus: 400, wantCode: codeInvalidType},
		{name: "query bad Id", method: "GET", path: v + "/query/?q=" + url.QueryEscape("SELECT Id FROM Contact WHERE Id = 'x'"), wantStatus: 400, wantCode: codeInvalidFilter},
		{name: "search without q", method: "GET", path: v + "/search/", wantStatus: 400, wantCode: codeMalformedSearch},
		{name: "malformed search", method: "GET", path: v + "/search/?q=" + url.QueryEscape("FIND {+12015550123}"), wantStatus: 400, wantCode: codeMalformedSearch,
			want: []string{"mismatched character '+' expecting '}'"}},
		{name: "search unknown object", method: "GET", path: v + "/search?q=" + url.QueryEscape("FIND {jane} RETURNING Case(Id)"), wantStatus: 400, wantCode: codeInvalidType},
		{name: "search unknown field", method: "GET", path: v + "/search?q=" + url.QueryEscape("FIND {jane} RETURNING Contact(Bogus)"), wantStatus: 400, wantCode: codeInvalidField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.request(tt.method, tt.path, tt.body, tt.header...)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.wantStatus, r.body)
			}
			if strings.HasPrefix(tt.path, "/services/data/") && !regexp.MustCompile(`^api-usage=\d+/15000$`).MatchString(r.header.Get("Sforce-Limit-Info")) {
				t.Errorf("Sforce-Limit-Info = %q", r.header.Get("Sforce-Limit-Info"))
			}
			if ct := r.header.Get("Content-Type"); len(r.body) > 0 && ct != "application/json;charset=UTF-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if tt.wantCode != "" {
				errs := r.errs(t)
				if len(errs) == 0 || errs[0].Code != tt.wantCode {
					t.Fatalf("errors %s, want code %s", r.body, tt.wantCode)
				}
				if !slices.Equal(errs[0].Fields, tt.wantFields) {
					t.Errorf("fields %v, want %v", errs[0].Fields, tt.wantFields)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(string(r.body), w) {
					t.Errorf("body %s\nlacks %s", r.body, w)
				}
			}
		})
	}
}

func TestTaskLifecycle(t *testing.T) {
	e := newEnv(t)
	v := "/services/data/v62.0/sobjects/Task/"
	id := e.create("Task", map[string]any{
		"Subject": "Inbound call", "Description": "Asked about the invoice.", "CallType": "inbound", "CallDurationInSeconds": 95,
		"CallObject": "int_42", "CallDisposition": "Resolved", "TaskSubtype": "Call", "Type": "Call", "Status": "Completed",
		"ActivityDate": "2026-12-03", "WhoId": janeID15,
	})
	var task map[string]any
	e.request(http.MethodGet, v+id, nil).decode(t, &task)
	for k, want := range map[string]any{
		"Id": id, "CallType": "Inbound", "CallDurationInSeconds": float64(95), "WhoId": janeID, "WhatId": nil,
		"AccountId": acmeID, "OwnerId": integrationU, "Priority": "Normal", "TaskSubtype": "Call",
		"CreatedDate": "2026-12-03T17:00:00.000+0000", "LastModifiedDate": "2026-12-03T17:00:00.000+0000",
	} {
		if task[k] != want {
			t.Errorf("Task %s = %#v, want %#v", k, task[k], want)
		}
	}

	// Parley's idempotency lookup.
	if recs := e.query("SELECT Id FROM Task WHERE CallObject = 'int_42'"); len(recs) != 1 || recs[0]["Id"] != id {
		t.Fatalf("CallObject lookup = %v, want %s", recs, id)
	}
	if recs := e.query("SELECT Id FROM Task WHERE CallObject = 'int_43'"); len(recs) != 0 {
		t.Fatalf("CallObject lookup of another interaction = %v", recs)
	}

	e.clock.Advance(time.Minute)
	r := e.request(http.MethodPatch, v+id, map[string]any{"CallDisposition": "Follow-up", "WhoId": nil, "WhatId": acmeID})
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("PATCH: %d %s", r.status, r.body)
	}
	task = nil
	e.request(http.MethodGet, v+id, nil).decode(t, &task)
	for k, want := range map[string]any{
		"CallDisposition": "Follow-up", "WhoId": nil, "WhatId": acmeID, "AccountId": acmeID, "Subject": "Inbound call",
		"CreatedDate": "2026-12-03T17:00:00.000+0000", "LastModifiedDate": "2026-12-03T17:01:00.000+0000",
	} {
		if task[k] != want {
			t.Errorf("after PATCH, Task %s = %#v, want %#v", k, task[k], want)
		}
	}
	if r := e.request(http.MethodPatch, v+id, map[string]any{"TaskSubtype": "Task"}); r.status != 400 || r.errs(t)[0].Code != codeInvalidFieldInsert {
		t.Errorf("PATCH TaskSubtype: %d %s, want INVALID_FIELD_FOR_INSERT_UPDATE (it is set on create only)", r.status, r.body)
	}

	if r := e.request(http.MethodDelete, v+id, nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	if r := e.request(http.MethodGet, v+id, nil); r.status != http.StatusNotFound {
		t.Errorf("GET after DELETE: %d", r.status)
	}
	if r := e.request(http.MethodDelete, v+id, nil); r.status != http.StatusNotFound {
		t.Errorf("second DELETE: %d", r.status)
	}
}

func TestDeleteCascades(t *testing.T) {
	e := newEnv(t)
	onJane := e.create("Task", map[string]any{"Subject": "on Jane", "WhoId": janeID})
	onAcme := e.create("Task", map[string]any{"Subject": "on Acme", "WhatId": acmeID})
	onLead := e.create("Task", map[string]any{"Subject": "on Sam", "WhoId": samLeadID})
	if r := e.request(http.MethodDelete, "/services/data/v62.0/sobjects/Lead/"+samLeadID, nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE lead: %d %s", r.status, r.body)
	}
	if recs := e.query("SELECT Id FROM Task WHERE Id = '" + onLead + "'"); len(recs) != 0 {
		t.Errorf("the lead's task survived")
	}
	if r := e.request(http.MethodDelete, "/services/data/v62.0/sobjects/Account/"+acmeID, nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE account: %d %s", r.status, r.body)
	}
	if recs := e.query("SELECT Id FROM Contact WHERE AccountId = '" + acmeID + "'"); len(recs) != 0 {
		t.Errorf("%d contacts of the deleted account survived", len(recs))
	}
	for _, id := range []string{onJane, onAcme} {
		if recs := e.query("SELECT Id FROM Task WHERE Id = '" + id + "'"); len(recs) != 0 {
			t.Errorf("task %s of the deleted account survived", id)
		}
	}
}

func TestDescriptionCap(t *testing.T) {
	tests := []struct {
		name string
		cap  int
		text string
		ok   bool
	}{
		{"4000 ASCII bytes fit", 0, strings.Repeat("a", 4000), true},
		{"4001 ASCII bytes", 0, strings.Repeat("a", 4001), false},
		{"1333 euro signs are 3999 bytes", 0, strings.Repeat("€", 1333), true},
		{"1334 euro signs are 4002 bytes", 0, strings.Repeat("€", 1334), false},
		{"a configured cap", 256, strings.Repeat("a", 256), true},
		{"over a configured cap", 256, strings.Repeat("a", 255) + "é", false},
	}
	envs := map[int]*env{
		0:   newEnv(t),
		256: newEnv(t, func(c *Config) { c.DescriptionCapBytes = 256 }),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := envs[tt.cap]
			r := e.request(http.MethodPost, "/services/data/v62.0/sobjects/Task/", map[string]any{"Description": tt.text})
			if tt.ok {
				if r.status != http.StatusCreated {
					t.Fatalf("%d %s, want 201", r.status, r.body)
				}
				return
			}
			capBytes := tt.cap
			if capBytes == 0 {
				capBytes = DefaultDescriptionCapBytes
			}
			errs := r.errs(t)
			if r.status != 400 || errs[0].Code != codeStringTooLong || !slices.Equal(errs[0].Fields, []string{"Description"}) ||
				!strings.Contains(errs[0].Message, "(max length="+strconv.Itoa(capBytes)+")") {
				t.Fatalf("%d %s, want 400 STRING_TOO_LONG on Description with the cap", r.status, r.body)
			}
		})
	}
}
