package devcrm

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/parley-cc/parley/internal/cc"
)

func TestReadSeedFileErrors(t *testing.T) {
	tests := []struct {
		object, name, csv, want string
	}{
		{objAccount, "empty", "", "Account.csv line 1: the file is empty"},
		{objAccount, "unknown column", "Id,Name,Website\n", "Account.csv line 1, column 3 (Website): unknown column: Account has no field \"Website\""},
		{objContact, "computed column", "Id,LastName,Name\n", "Contact.csv line 1, column 3 (Name): Contact.Name is read-only"},
		{objAccount, "duplicate column", "Id,Name,name\n", "Account.csv line 1, column 3 (name): column Name appears twice (first as column 2)"},
		{objAccount, "no Id column", "Name,Phone\nAcme,1\n", "Account.csv line 1: missing required column Id"},
		{objLead, "missing required column", "Id,LastName\n", "Lead.csv line 1: missing required column Company"},
		{objAccount, "bad Id", "Id,Name\n001gK0Acc000001QCA,Acme\nnot-an-id,Globex\n", "Account.csv line 3, column 1 (Id): Id \"not-an-id\": give 15 or 18 letters and digits"},
		{objAccount, "Id of another object", "Id,Name\n003gK0Con000001QCA,Acme\n", "Account.csv line 2, column 1 (Id): Id 003gK0Con000001QCA is not a Account Id (those start with 001)"},
		{objAccount, "empty Id", "Id,Name\n,Acme\n", "Account.csv line 2, column 1 (Id): Id is required"},
		{objAccount, "duplicate Id", "Id,Name\n001gK0Acc000001QCA,Acme\n001gK0Acc000002QCA,Globex\n001gK0Acc000001,Again\n", "Account.csv line 4, column 1 (Id): duplicate Id 001gK0Acc000001QCA (first on line 2)"},
		{objContact, "empty required value", "Id,LastName\n003gK0Con000001QCA,\n", "Contact.csv line 2, column 2 (LastName): LastName is required"},
		{objContact, "AccountId of the wrong type", "Id,LastName,AccountId\n003gK0Con000001QCA,Doe,003gK0Con000002QCA\n", "Contact.csv line 2, column 3 (AccountId): Account ID: id value of incorrect type"},
		{objContact, "bad email", "Id,LastName,Email\n003gK0Con000001QCA,Doe,nope\n", "Contact.csv line 2, column 3 (Email): Email: invalid email address: nope"},
		{objAccount, "too long", "Id,Name\n001gK0Acc000001QCA," + strings.Repeat("x", 256) + "\n", "Account.csv line 2, column 2 (Name): Account Name: data value too large"},
		{objUser, "bad boolean", "Id,Username,Email,LastName,IsActive\n005gK0Usr000001QCA,a@b.example,a@b.example,A,maybe\n", "User.csv line 2, column 5 (IsActive): Active: value not of required type: maybe"},
		{objUser, "duplicate username", "Id,Username,Email,LastName\n005gK0Usr000001QCA,a@b.example,a@b.example,A\n005gK0Usr000002QCA,A@B.example,a@b.example,B\n", "User.csv line 3, column 2 (Username): duplicate Username A@B.example (first on line 2)"},
		{objTask, "bad picklist", "Id,CallType\n00TgK0Tsk000001UCA,Sideways\n", "Task.csv line 2, column 2 (CallType): Call Type: bad value for restricted picklist field: Sideways"},
		{objTask, "bad date", "Id,ActivityDate\n00TgK0Tsk000001UCA,03/12/2026\n", "Task.csv line 2, column 2 (ActivityDate): Cannot deserialize instance of date"},
		{objAccount, "short row", "Id,Name,Phone\n001gK0Acc000001QCA,Acme\n", "Account.csv line 2: the row has a different number of cells than the header"},
		{objAccount, "bad quoting", "Id,Name\n001gK0Acc000001QCA,\"Ac\"me\"\n", "Account.csv line 2, character"},
		{objAccount, "not UTF-8", "Id,Name\n001gK0Acc000001QCA,Acm\xe9\n", "Account.csv line 2, column 2 (Name): the value is not valid UTF-8"},
	}
	for _, tt := range tests {
		o := objectByName(tt.object)
		_, err := readSeedFile(o, tt.object+".csv", strings.NewReader(tt.csv), DefaultDescriptionCapBytes)
		if cc.ErrorCode(err) != cc.EINVALID || !strings.Contains(cc.ErrorMessage(err), tt.want) {
			t.Errorf("%s: %v, want EINVALID containing %q", tt.name, err, tt.want)
		}
	}
}

func TestReadSeedFile(t *testing.T) {
	csv := "\ufeffId,Username,Email,FirstName,LastName,IsActive,CreatedDate\n" +
		"005gk0usr000001qca,a@b.example,a@b.example,Ann,\"Lee, Jr.\",false,2026-01-02T03:04:05.000Z\n" +
		"005gK0Usr000002,c@d.example,c@d.example,,\"Multi\nLine\",,\n"
	sf, err := readSeedFile(objectByName(objUser), "User.csv", strings.NewReader(csv), 4000)
	if err != nil {
		t.Fatal(err)
	}
	if len(sf.rows) != 2 {
		t.Fatalf("%d rows", len(sf.rows))
	}
	first, second := sf.rows[0].rec, sf.rows[1].rec
	if first["Id"] != "005gK0Usr000001QCA" || first["LastName"] != "Lee, Jr." || first["IsActive"] != false || first["CreatedDate"] != "2026-01-02T03:04:05.000+0000" {
		t.Errorf("first row %v", first)
	}
	if second["Id"] != "005gK0Usr000002QCA" || second["FirstName"] != nil || second["LastName"] != "Multi\nLine" || second["IsActive"] != nil || sf.rows[1].line != 3 {
		t.Errorf("second row %v (line %d)", second, sf.rows[1].line)
	}
}

func TestImportCSV(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	files := fstest.MapFS{
		"Account.csv": {Data: []byte("Id,Name,Phone\n001gK0Acc000099QCA,Newco,555 0100\n")},
		// One contact of the new account, one of a seeded account.
		"Contact.csv": {Data: []byte("Id,LastName,AccountId\n003gK0Con000099QCA,New,001gK0Acc000099QCA\n003gK0Con000098QCA,Old," + acmeID + "\n")},
		"Task.csv":    {Data: []byte("Id,Subject,WhoId,OwnerId\n00TgK0Tsk000001UCA,Imported,003gK0Con000099QCA," + integrationU + "\n")},
		"README.md":   {Data: []byte("not a seed file")},
	}
	counts, err := e.srv.ImportCSV(ctx, files)
	if err != nil {
		t.Fatal(err)
	}
	if counts["Account"] != 1 || counts["Contact"] != 2 || counts["Task"] != 1 {
		t.Errorf("counts %v", counts)
	}
	recs := e.query("SELECT Subject, Status, AccountId FROM Task WHERE Id = '00TgK0Tsk000001UCA'")
	if len(recs) != 1 || recs[0]["Status"] != "Not Started" || recs[0]["AccountId"] != "001gK0Acc000099QCA" {
		t.Errorf("imported task %v: want the default status and the contact's account", recs)
	}

	// Importing again replaces the records in place; the children stay.
	files["Account.csv"] = &fstest.MapFile{Data: []byte("Id,Name\n001gK0Acc000099QCA,Newco Renamed\n")}
	delete(files, "Contact.csv")
	delete(files, "Task.csv")
	if _, err := e.srv.ImportCSV(ctx, files); err != nil {
		t.Fatal(err)
	}
	if recs := e.query("SELECT Name, Phone FROM Account WHERE Id = '001gK0Acc000099QCA'"); recs[0]["Name"] != "Newco Renamed" || recs[0]["Phone"] != nil {
		t.Errorf("re-imported account %v", recs)
	}
	if recs := e.query("SELECT Id FROM Contact WHERE AccountId = '001gK0Acc000099QCA'"); len(recs) != 1 {
		t.Errorf("the account's contact went with the re-import: %v", recs)
	}

	for name, tt := range map[string]struct {
		files fstest.MapFS
		want  string
	}{
		"dangling AccountId": {fstest.MapFS{"Contact.csv": {Data: []byte("Id,LastName,AccountId\n003gK0Con000097QCA,X,001000000000000AAA\n")}},
			"Contact.csv line 2, column 3 (AccountId): AccountId 001000000000000AAA points to no Account"},
		"dangling WhoId": {fstest.MapFS{"Task.csv": {Data: []byte("Id,Subject,WhoId\n00TgK0Tsk000002UCA,x,00Q000000000000EAA\n")}},
			"Task.csv line 2, column 3 (WhoId): WhoId 00Q000000000000EAA points to no Lead"},
		"username taken": {fstest.MapFS{"User.csv": {Data: []byte("Id,Username,Email,LastName\n005gK0Usr000099QCA," + integration + ",x@y.example,X\n")}},
			"User.csv line 2, column 2 (Username): Username " + integration + " already belongs to user " + integrationU},
		"unknown object": {fstest.MapFS{"Case.csv": {Data: []byte("Id\n")}}, "Case.csv: no such object"},
		"two files":      {fstest.MapFS{"Lead.csv": {Data: []byte("Id,LastName,Company\n")}, "lead.CSV": {Data: []byte("Id,LastName,Company\n")}}, "already has a seed file"},
		"no files":       {fstest.MapFS{"notes.txt": {Data: []byte("x")}}, "no seed files found"},
	} {
		before := len(e.query("SELECT Id FROM Contact"))
		if _, err := e.srv.ImportCSV(ctx, tt.files); cc.ErrorCode(err) != cc.EINVALID || !strings.Contains(cc.ErrorMessage(err), tt.want) {
			t.Errorf("%s: %v, want EINVALID containing %q", name, err, tt.want)
		}
		if after := len(e.query("SELECT Id FROM Contact")); after != before {
			t.Errorf("%s: a failed import changed the data", name)
		}
	}
}

func TestSeedDir(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"User.csv":    "Id,Username,Email,LastName\n005gK0Usr000001QCA,solo@x.example,solo@x.example,Solo\n",
		"Account.csv": "Id,Name\n001gK0Acc000001QCA,Only Account\n",
	}
	for name, body := range files {
		writeFile(t, dir+"/"+name, body)
	}
	e := newEnvAs(t, "solo@x.example", func(c *Config) { c.SeedDir = dir })
	if recs := e.query("SELECT Name FROM Account"); len(recs) != 1 || recs[0]["Name"] != "Only Account" {
		t.Errorf("accounts %v, want only the seed directory's", recs)
	}
	if r := e.request(http.MethodGet, "/services/data/v62.0/sobjects/Contact/"+janeID, nil); r.status != http.StatusNotFound {
		t.Errorf("the default seed was imported too")
	}

	bad := t.TempDir()
	writeFile(t, bad+"/Contact.csv", "Id,LastName,AccountId\n003gK0Con000001QCA,X,001000000000000AAA\n")
	s, err := New(Config{Addr: "127.0.0.1:0", DBPath: bad + "/db", SeedDir: bad})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); cc.ErrorCode(err) != cc.EINVALID || !strings.Contains(err.Error(), "Contact.csv line 2, column 3 (AccountId)") {
		t.Errorf("Start with a bad seed: %v", err)
	}
	s.Close()
}

// FuzzImportCSV checks that reading seed files never panics, that every
// error is EINVALID with a message, and that what is read is canonical.
func FuzzImportCSV(f *testing.F) {
	for _, name := range []string{"Account.csv", "Contact.csv", "Lead.csv", "User.csv"} {
		data, err := DefaultSeed().(interface{ ReadFile(string) ([]byte, error) }).ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(name, string(data))
	}
	f.Add("Task.csv", "Id,Subject,CallDurationInSeconds,ActivityDate,WhoId\n00TgK0Tsk000001UCA,x,12,2026-12-03,003gK0Con000001\n")
	f.Add("Contact.csv", "Id,LastName\n\"003gK0Con000001QCA\",\"a\"\"b\"\n")
	f.Add("Account.csv", "\ufeffId,Name\r\n001gK0Acc000001QCA,Acme\r\n")
	f.Fuzz(func(t *testing.T, name, data string) {
		o := objectByName(strings.TrimSuffix(name, ".csv"))
		if o == nil {
			o = objectByName(objContact)
		}
		sf, err := readSeedFile(o, name, strings.NewReader(data), DefaultDescriptionCapBytes)
		if err != nil {
			if cc.ErrorCode(err) != cc.EINVALID || cc.ErrorMessage(err) == "internal error" {
				t.Fatalf("error %v, want EINVALID with a message", err)
			}
			return
		}
		for _, row := range sf.rows {
			id := row.rec["Id"].(string)
			if canon, err := ParseID(id); err != nil || canon != id || !strings.HasPrefix(id, o.prefix) {
				t.Fatalf("row Id %q is not a canonical %s Id", id, o.name)
			}
		}
		checkSeedReferences([]*seedFile{sf}, func(string) (bool, error) { return false, nil })
	})
}
