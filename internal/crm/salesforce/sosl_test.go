package salesforce

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parley-cc/parley/internal/cc"
)

func TestEscapeSOSLEveryReservedCharacter(t *testing.T) {
	for _, r := range soslReserved {
		in := "a" + string(r) + "b"
		want := "a\\" + string(r) + "b"
		if got := EscapeSOSL(in); got != want {
			t.Errorf("EscapeSOSL(%q) = %q; want %q", in, got, want)
		}
	}
	if len(soslReserved) != 19 {
		t.Errorf("%d reserved characters; SOSL reserves 19: ? & | ! { } [ ] ( ) ^ ~ * : \\ \" ' + -", len(soslReserved))
	}
}

func TestEscapeSOSL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"12015550123", "12015550123"},
		{"+12015550123", `\+12015550123`},
		{"(201) 555-0123", `\(201\) 555\-0123`},
		{"+1 201-555-0123", `\+1 201\-555\-0123`},
		{"jane@acme.com", "jane@acme.com"},
		{`} RETURNING User(Id)`, `\} RETURNING User\(Id\)`},
		{`"} RETURNING User(Id, Password) //`, `\"\} RETURNING User\(Id, Password\) //`},
		{`\`, `\\`},
		{`\}`, `\\\}`},
		{`a" OR "b`, `a\" OR \"b`},
		{`x'); DROP`, `x\'\); DROP`},
		{"*?", `\*\?`},
		{"line\nbreak\ttab\x00nul", "line break tab nul"},
		{"caf\xe9", "caf\uFFFD"},
		{"Zoë Müller", "Zoë Müller"},
	}
	for _, tc := range cases {
		if got := EscapeSOSL(tc.in); got != tc.want {
			t.Errorf("EscapeSOSL(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestSOSLPhoneStatement(t *testing.T) {
	q := SOSL{
		Terms:     []string{"+12015550123", "12015550123", "(201) 555-0123", "2015550123"},
		In:        "PHONE",
		Returning: phoneSearchReturning,
		Limit:     200,
	}
	got, err := q.Statement()
	if err != nil {
		t.Fatal(err)
	}
	want := `FIND {"\+12015550123" OR "12015550123" OR "\(201\) 555\-0123" OR "2015550123"} IN PHONE FIELDS ` +
		`RETURNING Contact(Id, Name, Phone, MobilePhone, AccountId, Account.Name), Lead(Id, Name, Company, Phone, MobilePhone), Account(Id, Name, Phone) LIMIT 200`
	if got != want {
		t.Errorf("Statement =\n%s\nwant\n%s", got, want)
	}
	// The client URL-encodes the whole statement, spaces as %20.
	r := request{query: url.Values{"q": {got}}}
	raw := r.rawQuery()
	for _, c := range []string{" ", "{", "}", "\"", "+", "\\", "(", ")"} {
		if strings.Contains(strings.TrimPrefix(raw, "q="), c) {
			t.Errorf("raw query %s contains %q unencoded", raw, c)
		}
	}
	back, err := url.ParseQuery(raw)
	if err != nil || back.Get("q") != got {
		t.Errorf("raw query decodes to %q, %v; want the statement", back.Get("q"), err)
	}
}

func TestSOSLStatementInjection(t *testing.T) {
	q := SOSL{Terms: []string{`x"} RETURNING User(Id, Username) LIMIT 1 //`}, Returning: []Returning{{Object: "Contact", Fields: []string{"Id"}}}}
	got, err := q.Statement()
	if err != nil {
		t.Fatal(err)
	}
	want := `FIND {"x\"\} RETURNING User\(Id, Username\) LIMIT 1 //"} IN ALL FIELDS RETURNING Contact(Id)`
	if got != want {
		t.Errorf("Statement =\n%s\nwant\n%s", got, want)
	}
	if strings.Count(got, " RETURNING ") != 2 || !strings.HasSuffix(got, "} IN ALL FIELDS RETURNING Contact(Id)") {
		t.Errorf("the term escaped its braces: %s", got)
	}
}

func TestSOSLStatementErrors(t *testing.T) {
	ok := []Returning{{Object: "Contact", Fields: []string{"Id"}}}
	cases := []struct {
		name string
		q    SOSL
		want string
	}{
		{"no terms", SOSL{Returning: ok}, "no terms"},
		{"blank terms", SOSL{Terms: []string{"", "  "}, Returning: ok}, "no terms"},
		{"bad group", SOSL{Terms: []string{"a"}, In: "PHONE FIELDS RETURNING User", Returning: ok}, "search group"},
		{"lowercase group", SOSL{Terms: []string{"a"}, In: "phone", Returning: ok}, "search group"},
		{"bad object", SOSL{Terms: []string{"a"}, Returning: []Returning{{Object: "User(Id), Contact"}}}, "search object"},
		{"bad field", SOSL{Terms: []string{"a"}, Returning: []Returning{{Object: "Contact", Fields: []string{"Id) , User(Id"}}}}, "search field"},
		{"dangling dot", SOSL{Terms: []string{"a"}, Returning: []Returning{{Object: "Contact", Fields: []string{"Account."}}}}, "search field"},
		{"negative limit", SOSL{Terms: []string{"a"}, Limit: -1}, "search limit"},
		{"limit too high", SOSL{Terms: []string{"a"}, Limit: 2001}, "search limit"},
		{"too long", SOSL{Terms: []string{strings.Repeat("-", 2000)}}, "limit is 4000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.q.Statement()
			if cc.ErrorCode(err) != cc.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Statement error %v; want EINVALID mentioning %q", err, tc.want)
			}
		})
	}
	plain, err := (&SOSL{Terms: []string{"a", "", "b"}, In: "NAME", Returning: []Returning{{Object: "Lead"}, {Object: "Parley_Call__c", Fields: []string{"Id", "Owner.Name"}}}}).Statement()
	if want := `FIND {"a" OR "b"} IN NAME FIELDS RETURNING Lead, Parley_Call__c(Id, Owner.Name)`; err != nil || plain != want {
		t.Errorf("Statement = %q, %v; want %q", plain, err, want)
	}
}

func TestQuoteSOQL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", `''`},
		{"int_9d2k4m7q1x8c3v5b6n0p2r4t", `'int_9d2k4m7q1x8c3v5b6n0p2r4t'`},
		{"Bob's BBQ", `'Bob\'s BBQ'`},
		{`' OR CallObject != '`, `'\' OR CallObject != \''`},
		{`\' OR Id != null OR Id = \'`, `'\\\' OR Id != null OR Id = \\\''`},
		{`say "hi"`, `'say \"hi\"'`},
		{"a\nb\rc\td\fe", `'a\nb\rc\td\fe'`},
		{"bell\x07nul\x00del\x7f", `'bell\u0007nul\u0000del\u007f'`},
		{"50% _off_", `'50% _off_'`},
		{"Zoë", `'Zoë'`},
		{"bad\xffutf8", "'bad\uFFFDutf8'"},
	}
	for _, tc := range cases {
		if got := QuoteSOQL(tc.in); got != tc.want {
			t.Errorf("QuoteSOQL(%q) = %s; want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzSOSLEscape checks that no term can leave its quoted phrase: the
// statement has exactly one FIND {...}, the braces close where Parley closed
// them, and every reserved character inside is escaped.
func FuzzSOSLEscape(f *testing.F) {
	for _, s := range []string{
		"+12015550123", "(201) 555-0123", `} RETURNING User(Id)`, `"} RETURNING User(Id) //`,
		`\`, `\\}`, `a" OR "b`, "x\x00y\nz", "caf\xe9", "{{{", `*?~^`, "",
	} {
		f.Add(s, "2015550123")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		q := SOSL{Terms: []string{a, b}, In: "PHONE", Returning: []Returning{{Object: "Contact", Fields: []string{"Id"}}}, Limit: 5}
		stmt, err := q.Statement()
		if err != nil {
			if cc.ErrorCode(err) != cc.EINVALID {
				t.Fatalf("Statement error %v; want EINVALID", err)
			}
			return
		}
		if !utf8.ValidString(stmt) {
			t.Fatalf("statement is not valid UTF-8: %q", stmt)
		}
		rest, ok := strings.CutPrefix(stmt, "FIND {")
		if !ok {
			t.Fatalf("statement does not start with FIND {: %q", stmt)
		}
		const suffix = "} IN PHONE FIELDS RETURNING Contact(Id) LIMIT 5"
		inner, ok := strings.CutSuffix(rest, suffix)
		if !ok {
			t.Fatalf("statement does not end with %q: %q", suffix, stmt)
		}
		// Walk the braces: phrases in quotes joined by " OR ", every reserved
		// character inside a phrase preceded by a backslash, no control
		// characters.
		phrases := 0
		i := 0
		for i < len(inner) {
			if phrases > 0 {
				if !strings.HasPrefix(inner[i:], ` OR `) {
					t.Fatalf("phrases not joined by OR at %d: %q", i, inner)
				}
				i += len(` OR `)
			}
			if i >= len(inner) || inner[i] != '"' {
				t.Fatalf("phrase does not open with a quote at %d: %q", i, inner)
			}
			i++
			closed := false
			for i < len(inner) {
				c := inner[i]
				if c == '\\' {
					if i+1 >= len(inner) || !strings.ContainsRune(soslReserved, rune(inner[i+1])) {
						t.Fatalf("backslash not escaping a reserved character at %d: %q", i, inner)
					}
					i += 2
					continue
				}
				if c == '"' {
					closed = true
					i++
					break
				}
				if strings.ContainsRune(soslReserved, rune(c)) {
					t.Fatalf("unescaped %q at %d: %q", c, i, inner)
				}
				if c < 0x20 || c == 0x7f {
					t.Fatalf("control character %#x at %d: %q", c, i, inner)
				}
				i++
			}
			if !closed {
				t.Fatalf("phrase not closed: %q", inner)
			}
			phrases++
		}
		if phrases == 0 || phrases > 2 || strings.Count(stmt, "FIND {") != 1 {
			t.Fatalf("want one FIND { and one or two phrases: %q", stmt)
		}
	})
}
