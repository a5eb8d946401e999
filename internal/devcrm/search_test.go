package devcrm

import (
	"slices"
	"strings"
	"testing"
)

// phoneReturning is what Parley's caller lookup asks for.
const phoneReturning = ` IN PHONE FIELDS RETURNING Contact(Id, Name, Phone, MobilePhone, AccountId, Account.Name), Lead(Id, Name, Company, Phone, MobilePhone), Account(Id, Name, Phone)`

// names lists "Type Name" for each search record.
func names(recs []map[string]any) []string {
	var out []string
	for _, r := range recs {
		attrs := r["attributes"].(map[string]any)
		out = append(out, attrs["type"].(string)+" "+r["Name"].(string))
	}
	return out
}

func TestSearchCallerNumber(t *testing.T) {
	e := newEnv(t)
	// Every way Parley may spell the caller 2015550123 finds Jane Doe and
	// no one else.
	for _, term := range []string{
		`2015550123`, `12015550123`, `"\+12015550123"`, `"\+1 \(201\) 555\-0123"`,
		`"2015550123" OR "12015550123" OR "\+12015550123"`,
	} {
		recs := e.search("FIND {" + term + "}" + phoneReturning)
		if got := names(recs); !slices.Equal(got, []string{"Contact Jane Doe"}) {
			t.Errorf("FIND {%s} = %v, want only Contact Jane Doe", term, got)
			continue
		}
		jane := recs[0]
		if jane["Id"] != janeID || jane["Phone"] != "(201) 555-0123" {
			t.Errorf("Jane = %v", jane)
		}
		account, _ := jane["Account"].(map[string]any)
		if account["Name"] != "Acme Corporation" || account["attributes"].(map[string]any)["url"] != "/services/data/v62.0/sobjects/Account/"+acmeID {
			t.Errorf("Jane's Account = %v, want Acme Corporation", jane["Account"])
		}
	}
	if recs := e.search("FIND {5550123}" + phoneReturning); len(recs) != 0 {
		t.Errorf("seven digits matched %v: the shorter number needs ten digits", names(recs))
	}
}

func TestSearchSharedNumber(t *testing.T) {
	e := newEnv(t)
	recs := e.search(`FIND {"2015550199" OR "\+12015550199"}` + phoneReturning)
	got := names(recs)
	want := []string{
		"Contact Aaron Abbott", "Contact Beatrice Baker", "Contact Carlos Castillo", "Contact Dana Dunn",
		"Contact Elif Erdogan", "Contact Finn Fischer", "Contact Gita Gupta", "Contact Hugo Hall",
		"Account Acme Corporation",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("shared number =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, r := range recs[:8] {
		if r["Phone"] != "(201) 555-0199" || r["Account"].(map[string]any)["Name"] != "Acme Corporation" {
			t.Errorf("contact %v", r)
		}
	}

	// Limits: per object, then overall.
	if got := names(e.search(`FIND {2015550199} IN PHONE FIELDS RETURNING Contact(Name ORDER BY Name DESC LIMIT 2), Account(Name)`)); !slices.Equal(got, []string{"Contact Hugo Hall", "Contact Gita Gupta", "Account Acme Corporation"}) {
		t.Errorf("per-object limit = %v", got)
	}
	if got := names(e.search(`FIND {2015550199} IN PHONE FIELDS RETURNING Contact(Name), Account(Name) LIMIT 3`)); len(got) != 3 || got[2] != "Contact Carlos Castillo" {
		t.Errorf("overall limit = %v", got)
	}
	// WHERE inside RETURNING.
	if got := names(e.search(`FIND {2015550199} IN PHONE FIELDS RETURNING Contact(Name WHERE FirstName = 'dana')`)); !slices.Equal(got, []string{"Contact Dana Dunn"}) {
		t.Errorf("WHERE in RETURNING = %v", got)
	}
}

func TestSearchFormats(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ term, want string }{
		{`2015550124`, "Contact John Smith"},        // stored "+1 201 555 0124"
		{`"\+12015550125"`, "Contact Maria Garcia"}, // stored "2015550125"
		{`2015550126`, "Contact Wei Chen"},          // stored "201-555-0126 x12"
		{`"\+441614960123"`, "Contact Olivia Brown"},
		{`01614960124`, "Contact Harry Wilson"}, // stored "+44 (0)161 496 0124"
		{`"\+41315550123"`, "Contact Lukas Meier"},
		{`0305550123`, "Contact Anna Müller"}, // stored "030/5550123"
		{`2125550102`, "Contact Lucius Fox"},  // a mobile
		{`4155551212`, "Lead Sam Lead"},
		{`6285550154`, "Lead Grace Lee"}, // stored "(628) 555-0154 ext. 7"
		{`2125550100`, "Account Stark Industries"},
	}
	for _, tt := range tests {
		if got := names(e.search("FIND {" + tt.term + "}" + phoneReturning)); !slices.Equal(got, []string{tt.want}) {
			t.Errorf("FIND {%s} = %v, want %s", tt.term, got, tt.want)
		}
	}
}

func TestSearchEmailAndNames(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ sosl, want string }{
		{`FIND {ava.thomas@example.com} IN EMAIL FIELDS RETURNING Contact(Name), Lead(Name)`, "Contact Ava Thomas"},
		{`FIND {SAM@LEADCO.EXAMPLE.COM} IN EMAIL FIELDS RETURNING Contact(Name), Lead(Name)`, "Lead Sam Lead"},
		{`FIND {integration@devcrm.example.com} IN EMAIL FIELDS RETURNING User(Name)`, "User Parley Integration"},
		{`FIND {"O\'Brien"} IN NAME FIELDS RETURNING Contact(Name)`, "Contact Liam O'Brien"},
		{`FIND {müller} IN NAME FIELDS RETURNING Contact(Name)`, "Contact Anna Müller"},
		{`FIND {Kowal*} RETURNING Contact(Name)`, "Contact Zoë Kowalski"},
		{`FIND {"lee \& partners"} IN NAME FIELDS RETURNING Lead(Name)`, "Lead Grace Lee"},
		{`FIND {globex} RETURNING Account(Name)`, "Account Globex Ltd"},
	}
	for _, tt := range tests {
		if got := names(e.search(tt.sosl)); !slices.Equal(got, []string{tt.want}) {
			t.Errorf("%s = %v, want %s", tt.sosl, got, tt.want)
		}
	}
	// Without RETURNING, a search returns Ids of accounts, contacts and leads.
	recs := e.search(`FIND {acme}`)
	if len(recs) == 0 || recs[0]["Id"] != acmeID || len(recs[0]) != 2 {
		t.Errorf("FIND {acme} = %v, want Acme's Id first and only Ids", recs)
	}
}
