package devcrm

import (
	"strings"
	"testing"
)

// nodeString renders a search expression: terms in <>, wildcards as * and ?,
// escaped characters as themselves.
func nodeString(n *searchNode) string {
	switch n.op {
	case "term":
		var b strings.Builder
		for _, c := range n.term {
			if c.wild {
				b.WriteString("%" + string(c.r))
			} else {
				b.WriteRune(c.r)
			}
		}
		return "<" + b.String() + ">"
	case "andnot":
		return "(" + nodeString(n.kids[0]) + " ANDNOT " + nodeString(n.kids[1]) + ")"
	}
	parts := make([]string, len(n.kids))
	for i, k := range n.kids {
		parts[i] = nodeString(k)
	}
	return "(" + strings.Join(parts, " "+strings.ToUpper(n.op)+" ") + ")"
}

func TestParseSOSL(t *testing.T) {
	tests := []struct {
		src       string
		search    string
		group     string
		returning string // object(fields) ...
		limit     int
	}{
		{`FIND {4155551212} IN PHONE FIELDS RETURNING Contact(Id, Name, AccountId, Phone), Lead(Id, Name, Company, Phone), Account(Id, Name, Phone) LIMIT 20`,
			"<4155551212>", "PHONE", "Contact(Id,Name,AccountId,Phone) Lead(Id,Name,Company,Phone) Account(Id,Name,Phone)", 20},
		{`FIND {"4155551212" OR "14155551212" OR "\+14155551212"}`,
			"(<4155551212> OR <14155551212> OR <+14155551212>)", "ALL", "", -1},
		{`find {jane@acme.com} in email fields returning contact`, "<jane@acme.com>", "EMAIL", "contact()", -1},
		{`FIND {415\-555\-1212} IN PHONE FIELDS`, "<415-555-1212>", "PHONE", "", -1},
		{`FIND {O\'Brien}`, "<O'Brien>", "ALL", "", -1},
		{`FIND {\{x\}\[\]\(\)\^\~\:\\\"\&\|\!\*\?}`, `<{x}[]()^~:\"&|!*?>`, "ALL", "", -1},
		{`FIND {jan* AND NOT doe}`, "(<jan%*> ANDNOT <doe>)", "ALL", "", -1},
		{`FIND {(jane OR john) smith} IN NAME FIELDS`, "((<jane> OR <john>) AND <smith>)", "NAME", "", -1},
		{`FIND {"jane doe" AND acme}`, "(<jane doe> AND <acme>)", "ALL", "", -1},
		{`FIND {j?ne}`, "<j%?ne>", "ALL", "", -1},
		{"FIND {jane}\nIN SIDEBAR FIELDS\nRETURNING Contact(Id WHERE LastName = 'O\\'Brien' ORDER BY Name DESC LIMIT 5), Account LIMIT 3",
			"<jane>", "SIDEBAR", "Contact(Id) Account()", 3},
	}
	for _, tt := range tests {
		q, err := parseSOSL(tt.src)
		if err != nil {
			t.Errorf("parseSOSL(%q): %v", tt.src, err)
			continue
		}
		if got := nodeString(q.search); got != tt.search {
			t.Errorf("parseSOSL(%q) search = %s, want %s", tt.src, got, tt.search)
		}
		if q.group != tt.group {
			t.Errorf("parseSOSL(%q) group = %s, want %s", tt.src, q.group, tt.group)
		}
		var ret []string
		for _, c := range q.returning {
			var fields []string
			for _, f := range c.fields {
				fields = append(fields, f.text)
			}
			ret = append(ret, c.object.text+"("+strings.Join(fields, ",")+")")
		}
		if got := strings.Join(ret, " "); got != tt.returning {
			t.Errorf("parseSOSL(%q) returning = %s, want %s", tt.src, got, tt.returning)
		}
		if q.limit != tt.limit {
			t.Errorf("parseSOSL(%q) limit = %d, want %d", tt.src, q.limit, tt.limit)
		}
	}
}

func TestParseSOSLReturningTail(t *testing.T) {
	q, err := parseSOSL(`FIND {jane} RETURNING Contact(Id, Name WHERE LastName = 'O\'Brien' AND Email != null ORDER BY Name DESC LIMIT 5)`)
	if err != nil {
		t.Fatal(err)
	}
	c := q.returning[0]
	if len(c.where) != 2 || c.where[0].value.text != "O'Brien" || !c.where[1].negate || !isKeyword(c.where[1].value, "null") {
		t.Errorf("where = %+v", c.where)
	}
	if len(c.orderBy) != 1 || c.orderBy[0].field.text != "Name" || !c.orderBy[0].desc || c.limit != 5 {
		t.Errorf("order by = %+v, limit %d", c.orderBy, c.limit)
	}
}

func TestParseSOSLMalformed(t *testing.T) {
	tests := []struct{ src, want string }{
		{`FIND {+14155551212} IN PHONE FIELDS`, "line 1:6 mismatched character '+' expecting '}'"},
		{`FIND {415-555-1212}`, "mismatched character '-' expecting '}'"},
		{`FIND {"\+1415" OR "+1415"}`, "mismatched character '+'"},
		{`FIND {O'Brien}`, "mismatched character '''"},
		{`FIND {a&b}`, "mismatched character '&'"},
		{`FIND 4155551212`, "No search term found. The search term must be enclosed in braces."},
		{`FIND {4155551212`, "mismatched character '<EOF>' expecting '}'"},
		{`FIND {a}`, "search term must be longer than one character"},
		{`FIND {}`, "search term must be longer than one character"},
		{`FIND {"a*"}`, "search term must be longer than one character"},
		{`FIND {foo\q}`, "invalid escape sequence"},
		{`FIND {foo\`, "invalid escape sequence"},
		{`FIND {"unterminated}`, `mismatched character '}' expecting '"'`},
		{`FIND {jane OR}`, "expecting a search term after OR"},
		{`FIND {jane AND}`, "expecting a search term after AND"},
		{`FIND {jane AND NOT}`, "expecting a search term after AND NOT"},
		{`FIND {(jane}`, "expecting ')'"},
		{`FIND {()}`, "expecting ')'"},
		{`FIND {jane)}`, "mismatched character ')' expecting '}'"},
		{`FIND {jane} IN BOGUS FIELDS`, "unexpected token: 'BOGUS'"},
		{`FIND {jane} IN PHONE`, "unexpected token: <EOF>"},
		{`FIND {jane} RETURNING Contact(Id Name)`, "unexpected token: 'Name'"},
		{`FIND {jane} RETURNING Contact(Id`, "unexpected token: <EOF>"},
		{`FIND {jane} RETURNING`, "unexpected token: <EOF>"},
		{`FIND {jane} RETURNING Contact()`, "unexpected token: ')'"},
		{`FIND {jane} LIMIT x`, "LIMIT takes a whole number"},
		{`FIND {jane} LIMIT -3`, "LIMIT takes a whole number"},
		{`FIND {jane} extra`, "unexpected token: 'extra'"},
		{`FIND {jane} RETURNING Contact LIMIT 2 IN ALL FIELDS`, "unexpected token: 'IN'"},
		{`SELECT Id FROM Contact`, "a search starts with FIND"},
		{``, "a search starts with FIND"},
		{`FIND {jane} RETURNING Contact(Id WHERE Name = 'x' OR Name = 'y')`, "devcrm supports AND only"},
		{`FIND {jane} RETURNING Contact(Id WHERE Name LIKE 'x')`, "devcrm supports = and != only"},
		{`FIND {jane} RETURNING Contact(Id WHERE Name = )`, "unexpected token: ')'"},
		{`FIND {jane} RETURNING Contact(Id WHERE Name = 'x\-y')`, `Illegal character sequence '\-'`},
		{`FIND {jane} RETURNING Contact(Id); DROP`, "no viable alternative at character ';'"},
	}
	for _, tt := range tests {
		q, err := parseSOSL(tt.src)
		if err == nil {
			t.Errorf("parseSOSL(%q) = %+v, want an error containing %q", tt.src, q, tt.want)
			continue
		}
		ae := err.apiError(tt.src, codeMalformedSearch)
		if ae.Code != codeMalformedSearch || ae.status != 400 || !strings.Contains(ae.Message, tt.want) {
			t.Errorf("parseSOSL(%q) error = %d %s %q, want 400 MALFORMED_SEARCH containing %q", tt.src, ae.status, ae.Code, ae.Message, tt.want)
		}
	}
}

func TestSOSLErrorFormat(t *testing.T) {
	// The shape of an error Salesforce returned for this search.
	src := "FIND {John|jane_gray@uoa.edu} RETURNING Contact"
	_, err := parseSOSL(src)
	if err == nil {
		t.Fatal("no error")
	}
	want := "\nFIND {John|jane_gray@uoa.edu} RETURNING Contact\n          ^\nERROR at Row:1:Column:10\nline 1:10 mismatched character '|' expecting '}'"
	if got := err.apiError(src, codeMalformedSearch).Message; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

func TestGlobMatch(t *testing.T) {
	pat := func(s string) []tchar {
		var out []tchar
		for _, r := range s {
			out = append(out, tchar{r: r, wild: r == '*' || r == '?'})
		}
		return out
	}
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"jane", "jane", true},
		{"jane", "janet", false},
		{"jan*", "janet", true},
		{"jan*", "jan", true},
		{"*net", "janet", true},
		{"j?ne", "jane", true},
		{"j?ne", "jne", false},
		{"*a*e*", "janet", true},
		{"*x*", "janet", false},
		{"**", "", true},
	}
	for _, tt := range tests {
		if got := globMatch(pat(tt.pat), []rune(tt.s)); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
	}
	// An escaped * is a character, not a wildcard.
	if globMatch([]tchar{{r: 'a'}, {r: '*'}}, []rune("ab")) {
		t.Error("literal * matched another character")
	}
}

func TestSearchMatches(t *testing.T) {
	contact := objectByName(objContact)
	lead := objectByName(objLead)
	jane := record{"Name": "Jane Doe", "Phone": "(201) 555-0123", "MobilePhone": "+1 201 555 0177", "Email": "Jane.Doe@Acme.example.com"}
	sam := record{"Name": "Sam Lead", "Company": "Lead & Partners", "Phone": "201-555-0126 x12", "Email": nil}
	tests := []struct {
		src   string
		o     *object
		rec   record
		match bool
	}{
		{`FIND {2015550123} IN PHONE FIELDS`, contact, jane, true},
		{`FIND {12015550123} IN PHONE FIELDS`, contact, jane, true},
		{`FIND {"\+1 \(201\) 555\-0177"} IN PHONE FIELDS`, contact, jane, true}, // the mobile
		{`FIND {5550123} IN PHONE FIELDS`, contact, jane, false},
		{`FIND {201555*} IN PHONE FIELDS`, contact, jane, true},
		{`FIND {jane} IN PHONE FIELDS`, contact, jane, false},
		{`FIND {ja*} IN PHONE FIELDS`, contact, jane, false}, // a wildcard alone is no phone number
		{`FIND {jane.doe@acme.example.com} IN EMAIL FIELDS`, contact, jane, true},
		{`FIND {JANE.DOE@ACME.EXAMPLE.COM} IN EMAIL FIELDS`, contact, jane, true},
		{`FIND {jane.doe@acme} IN EMAIL FIELDS`, contact, jane, false},
		{`FIND {jane*@acme.example.com} IN EMAIL FIELDS`, contact, jane, true},
		{`FIND {jane} IN NAME FIELDS`, contact, jane, true},
		{`FIND {doe} IN NAME FIELDS`, contact, jane, true},
		{`FIND {"jane doe"} IN NAME FIELDS`, contact, jane, true},
		{`FIND {"doe jane"} IN NAME FIELDS`, contact, jane, false},
		{`FIND {ja*} IN NAME FIELDS`, contact, jane, true},
		{`FIND {jan} IN NAME FIELDS`, contact, jane, false},
		{`FIND {jane} IN EMAIL FIELDS`, contact, jane, false},
		{`FIND {jane}`, contact, jane, true},
		{`FIND {2015550123}`, contact, jane, true},
		{`FIND {jane AND NOT doe}`, contact, jane, false},
		{`FIND {jane AND NOT smith}`, contact, jane, true},
		{`FIND {smith OR doe}`, contact, jane, true},
		{`FIND {smith doe}`, contact, jane, false},
		{`FIND {2015550126} IN PHONE FIELDS`, lead, sam, true}, // extension left out
		{`FIND {partners} IN NAME FIELDS`, lead, sam, true},    // Company is a name field of Lead
		{`FIND {sam@example.com} IN EMAIL FIELDS`, lead, sam, false},
	}
	for _, tt := range tests {
		q, err := parseSOSL(tt.src)
		if err != nil {
			t.Fatalf("parseSOSL(%q): %v", tt.src, err)
		}
		if got := q.search.matches(tt.o, tt.rec, q.group); got != tt.match {
			t.Errorf("%s on %v: match = %v, want %v", tt.src, tt.rec["Name"], got, tt.match)
		}
	}
}

var soslSeeds = []string{
	`FIND {4155551212} IN PHONE FIELDS RETURNING Contact(Id, Name, Account.Name, Phone), Lead(Id, Name, Company, Phone), Account(Id, Name, Phone) LIMIT 20`,
	`FIND {"4155551212" OR "14155551212" OR "\+14155551212" OR "415\-555\-1212"} IN PHONE FIELDS`,
	`FIND {jane@acme.com} IN EMAIL FIELDS RETURNING Contact(Id WHERE Email != null ORDER BY Name DESC LIMIT 2)`,
	`FIND {(jan* OR j?hn) AND NOT "doe smith"}`,
	`FIND {+1415}`, `FIND {`, `FIND {"}`, `FIND {\`, `FIND {a} RETURNING X(`, "FIND {ab}\nRETURNING Contact(Id WHERE Name = '\\",
}

// FuzzSOSL checks that the parser never panics, that its errors render as
// MALFORMED_SEARCH, and that binding a parsed statement gives only the
// errors a search can give.
func FuzzSOSL(f *testing.F) {
	for _, s := range soslSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		q, err := parseSOSL(src)
		if err != nil {
			if ae := err.apiError(src, codeMalformedSearch); ae.Code != codeMalformedSearch || ae.status != 400 {
				t.Fatalf("parseSOSL(%q) error %s %d, want MALFORMED_SEARCH 400", src, ae.Code, ae.status)
			}
			return
		}
		for i := range q.returning {
			if _, err := bindClause(&q.returning[i], false); err != nil {
				switch code := err.apiError(src, codeMalformedSearch).Code; code {
				case codeMalformedSearch, codeInvalidField, codeInvalidType, codeInvalidFilter:
				default:
					t.Fatalf("bind %q: unexpected code %s", src, code)
				}
			}
		}
		q.search.matches(objectByName(objContact), record{"Name": "Jane Doe", "Phone": "(201) 555-0123", "Email": "j@x.io"}, q.group)
	})
}
