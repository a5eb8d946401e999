package devcrm

import (
	"strconv"
	"strings"
	"testing"
)

func TestParseSOQL(t *testing.T) {
	tests := []struct {
		src   string
		want  string // object|fields|where|order|limit
		count bool
	}{
		{`SELECT Id FROM Task WHERE CallObject = 'int_123'`, `Task|Id|CallObject='int_123'||-1`, false},
		{`select id, username, email from user`, `user|id,username,email|||-1`, false},
		{`SELECT COUNT() FROM Contact WHERE AccountId = '001gK0Acc000001QCA'`, `Contact||AccountId='001gK0Acc000001QCA'||-1`, true},
		{`SELECT Id, Name FROM Contact WHERE LastName = 'O\'Brien' AND Email != null ORDER BY Name DESC, Id LIMIT 10`,
			`Contact|Id,Name|LastName='O'Brien' Email!=null|Name DESC,Id|10`, false},
		{`SELECT Id FROM Task WHERE Subject <> 'a\\b\"c\n'`, "Task|Id|Subject!='a\\b\"c\n'||-1", false},
		{`SELECT Id FROM Task WHERE CallDurationInSeconds = 30 AND ActivityDate = 2026-12-03 AND CreatedDate = 2026-12-03T17:00:00Z`,
			`Task|Id|CallDurationInSeconds=30 ActivityDate=2026-12-03 CreatedDate=2026-12-03T17:00:00Z||-1`, false},
		{`SELECT Id, Account.Name FROM Contact ORDER BY Name ASC LIMIT 0`, `Contact|Id,Account.Name||Name|0`, false},
		{"SELECT Id\nFROM Task\nWHERE CallObject = '42'", `Task|Id|CallObject='42'||-1`, false},
	}
	for _, tt := range tests {
		q, err := parseSOQL(tt.src)
		if err != nil {
			t.Errorf("parseSOQL(%q): %v", tt.src, err)
			continue
		}
		var fields, where, order []string
		for _, f := range q.fields {
			fields = append(fields, f.text)
		}
		for _, c := range q.where {
			op, v := "=", c.value.text
			if c.negate {
				op = "!="
			}
			if c.value.kind == tokString {
				v = "'" + v + "'"
			}
			where = append(where, c.field.text+op+v)
		}
		for _, o := range q.orderBy {
			s := o.field.text
			if o.desc {
				s += " DESC"
			}
			order = append(order, s)
		}
		got := strings.Join([]string{q.object.text, strings.Join(fields, ","), strings.Join(where, " "), strings.Join(order, ","), strconv.Itoa(q.limit)}, "|")
		if got != tt.want || q.count != tt.count {
			t.Errorf("parseSOQL(%q) = %s count=%v, want %s count=%v", tt.src, got, q.count, tt.want, tt.count)
		}
	}
}

func TestParseSOQLMalformed(t *testing.T) {
	tests := []struct{ src, want string }{
		{``, "unexpected token: <EOF>"},
		{`UPDATE Task`, "unexpected token: 'UPDATE'"},
		{`SELECT FROM Task`, "unexpected token: 'FROM'"},
		{`SELECT Id, FROM Task`, "unexpected token: 'FROM'"},
		{`SELECT Id Task`, "unexpected token: 'Task'"},
		{`SELECT Id FROM`, "unexpected token: <EOF>"},
		{`SELECT Id FROM Contact.Account`, "unexpected token: 'Contact.Account'"},
		{`SELECT Id FROM Task WHERE`, "unexpected token: <EOF>"},
		{`SELECT Id FROM Task WHERE CallObject =`, "unexpected token: <EOF>"},
		{`SELECT Id FROM Task WHERE CallObject = 'abc`, "unterminated string literal"},
		{`SELECT Id FROM Task WHERE CallObject = 'abc\`, "unterminated string literal"},
		{`SELECT Id FROM Contact WHERE FirstName = 'Anne\-Marie'`, `Invalid string literal 'Anne\-Marie'. Illegal character sequence '\-' in string literal.`},
		{`SELECT Id FROM Task WHERE CallObject = "abc"`, `no viable alternative at character '"'`},
		{`SELECT Id FROM Task WHERE CallObject LIKE 'x%'`, "devcrm supports = and != only"},
		{`SELECT Id FROM Task WHERE CallDurationInSeconds > 3`, "devcrm supports = and != only"},
		{`SELECT Id FROM Task WHERE CallObject = 'a' OR CallObject = 'b'`, "devcrm supports AND only"},
		{`SELECT Id FROM Task WHERE CallObject = Subject`, "unexpected token: 'Subject'"},
		{`SELECT Id FROM Task LIMIT -1`, "LIMIT takes a whole number"},
		{`SELECT Id FROM Task LIMIT ten`, "LIMIT takes a whole number"},
		{`SELECT Id FROM Task LIMIT 1.5`, "LIMIT takes a whole number"},
		{`SELECT Id FROM Task; DELETE FROM Task`, "no viable alternative at character ';'"},
		{`SELECT Id FROM Task ORDER Name`, "unexpected token: 'Name'"},
		{`SELECT Id FROM Task ORDER BY`, "unexpected token: <EOF>"},
		{`SELECT COUNT( FROM Task`, "unexpected token: 'FROM'"},
		{`SELECT Id FROM Task LIMIT 1 LIMIT 2`, "unexpected token: 'LIMIT'"},
		{`SELECT Id FROM Task WHERE Subject = 'x' WHERE`, "unexpected token: 'WHERE'"},
	}
	for _, tt := range tests {
		q, err := parseSOQL(tt.src)
		if err == nil {
			t.Errorf("parseSOQL(%q) = %+v, want an error containing %q", tt.src, q, tt.want)
			continue
		}
		ae := err.apiError(tt.src, codeMalformedQuery)
		if ae.Code != codeMalformedQuery || ae.status != 400 || !strings.Contains(ae.Message, tt.want) {
			t.Errorf("parseSOQL(%q) error = %d %s %q, want 400 MALFORMED_QUERY containing %q", tt.src, ae.status, ae.Code, ae.Message, tt.want)
		}
	}
}

func TestSOQLErrorFormat(t *testing.T) {
	src := "SELECT Id\nFROM Task WHERE Bogus = 'x'"
	q, err := parseSOQL(src)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bindClause(&q.clause, false)
	if err == nil {
		t.Fatal("no error for an unknown field")
	}
	ae := err.apiError(src, codeMalformedQuery)
	want := "\nFROM Task WHERE Bogus = 'x'\n                ^\nERROR at Row:2:Column:17\nNo such column 'Bogus' on entity 'Task'."
	if ae.Code != codeInvalidField || !strings.HasPrefix(ae.Message, want) {
		t.Errorf("error = %s %q, want INVALID_FIELD starting %q", ae.Code, ae.Message, want)
	}
}

func TestBindClause(t *testing.T) {
	tests := []struct {
		src, code, want string // code "" means no error
	}{
		{`SELECT Id, Username, Email FROM User`, "", ""},
		{`SELECT id FROM task WHERE callobject = 'x'`, "", ""},
		{`SELECT Id, Account.Name, Account.Phone, Owner.Username FROM Contact`, "", ""},
		{`SELECT Id FROM Task WHERE WhoId = '003gK0Con000001'`, "", ""},
		{`SELECT Id FROM Task WHERE CallDurationInSeconds = 30 AND ActivityDate = 2026-12-03 AND CreatedDate = 2026-12-03T17:00:00.000+0000`, "", ""},
		{`SELECT Id FROM User WHERE IsActive = true`, "", ""},
		{`SELECT Id FROM Lead WHERE Email = null`, "", ""},
		{`SELECT Id FROM Foo`, codeInvalidType, "sObject type 'Foo' is not supported."},
		{`SELECT Bogus FROM Task`, codeInvalidField, "No such column 'Bogus' on entity 'Task'."},
		{`SELECT Id FROM Task ORDER BY Bogus`, codeInvalidField, "No such column 'Bogus'"},
		{`SELECT Foo.Name FROM Contact`, codeInvalidField, "Didn't understand relationship 'Foo' in field path."},
		{`SELECT Account.Bogus FROM Contact`, codeInvalidField, "No such column 'Bogus' on entity 'Account'."},
		{`SELECT Account.Owner.Name FROM Contact`, codeInvalidField, "Didn't understand relationship 'Account'"},
		{`SELECT Id FROM Contact WHERE Account.Name = 'x'`, codeInvalidField, "cannot use relationship fields"},
		{`SELECT Id FROM Task WHERE Description = 'x'`, codeInvalidField, "field 'Description' can not be filtered in a query call"},
		{`SELECT Id FROM Task ORDER BY Description`, codeInvalidField, "can not be sorted"},
		{`SELECT Id, id FROM Task`, codeMalformedQuery, "duplicate field selected: Id"},
		{`SELECT Account.Name, account.name FROM Contact`, codeMalformedQuery, "duplicate field selected: Account.Name"},
		{`SELECT Id FROM Task WHERE Id = 'nope'`, codeInvalidFilter, "invalid ID field: nope"},
		{`SELECT Id FROM Task WHERE WhoId = 42`, codeInvalidFilter, "must be of type id and should be enclosed in quotes"},
		{`SELECT Id FROM Task WHERE CallDurationInSeconds = '30'`, codeInvalidFilter, "field 'CallDurationInSeconds' must be of type integer and should not be enclosed in quotes"},
		{`SELECT Id FROM Task WHERE CallDurationInSeconds = 1.5`, codeInvalidFilter, "must be of type integer"},
		{`SELECT Id FROM Task WHERE Subject = 42`, codeInvalidFilter, "must be of type string and should be enclosed in quotes"},
		{`SELECT Id FROM Task WHERE ActivityDate = '2026-12-03'`, codeInvalidFilter, "must be of type date"},
		{`SELECT Id FROM Task WHERE ActivityDate = 2026-13-45`, codeInvalidFilter, "must be of type date"},
		{`SELECT Id FROM Task WHERE CreatedDate = 2026-12-03`, codeInvalidFilter, "must be of type datetime"},
		{`SELECT Id FROM User WHERE IsActive = 'true'`, codeInvalidFilter, "must be of type boolean"},
	}
	for _, tt := range tests {
		q, err := parseSOQL(tt.src)
		if err != nil {
			t.Fatalf("parseSOQL(%q): %v", tt.src, err)
		}
		_, err = bindClause(&q.clause, q.count)
		switch {
		case tt.code == "" && err != nil:
			t.Errorf("bind %q: %v", tt.src, err)
		case tt.code != "" && err == nil:
			t.Errorf("bind %q: no error, want %s", tt.src, tt.code)
		case tt.code != "":
			ae := err.apiError(tt.src, codeMalformedQuery)
			if ae.Code != tt.code || !strings.Contains(ae.Message, tt.want) {
				t.Errorf("bind %q = %s %q, want %s containing %q", tt.src, ae.Code, ae.Message, tt.code, tt.want)
			}
		}
	}
}

var soqlSeeds = []string{
	`SELECT Id FROM Task WHERE CallObject = 'int_123'`,
	`SELECT Id, Username, Email FROM User`,
	`SELECT COUNT() FROM Contact WHERE AccountId = '001gK0Acc000001QCA' AND Email != null`,
	`SELECT Id, Account.Name FROM Contact WHERE LastName = 'O\'Brien' ORDER BY Name DESC, Id LIMIT 10`,
	`SELECT Id FROM Task WHERE CallDurationInSeconds = -30 AND ActivityDate = 2026-12-03 AND CreatedDate = 2026-12-03T17:00:00Z`,
	`SELECT Id FROM Task WHERE CallObject = 'abc`, `SELECT`, `SELECT Id FROM Task WHERE x = 'a\q'`, "SELECT Id\r\nFROM Task",
}

// FuzzSOQL checks that the parser never panics, that its errors render as
// MALFORMED_QUERY, and that binding gives only the errors a query can give.
func FuzzSOQL(f *testing.F) {
	for _, s := range soqlSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		q, err := parseSOQL(src)
		if err != nil {
			if ae := err.apiError(src, codeMalformedQuery); ae.Code != codeMalformedQuery || ae.status != 400 {
				t.Fatalf("parseSOQL(%q) error %s %d, want MALFORMED_QUERY 400", src, ae.Code, ae.status)
			}
			return
		}
		if _, err := bindClause(&q.clause, q.count); err != nil {
			switch code := err.apiError(src, codeMalformedQuery).Code; code {
			case codeMalformedQuery, codeInvalidField, codeInvalidType, codeInvalidFilter:
			default:
				t.Fatalf("bind %q: unexpected code %s", src, code)
			}
		}
	})
}
