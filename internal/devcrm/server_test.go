package devcrm

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

func TestNewValidates(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	for name, cfg := range map[string]Config{
		"no address":        {DBPath: db},
		"bad address":       {Addr: "localhost", DBPath: db},
		"no database":       {Addr: "127.0.0.1:0"},
		"database with ?":   {Addr: "127.0.0.1:0", DBPath: "x.db?mode=memory"},
		"old API version":   {Addr: "127.0.0.1:0", DBPath: db, APIVersion: "49.0"},
		"minor API version": {Addr: "127.0.0.1:0", DBPath: db, APIVersion: "62.1"},
		"API version text":  {Addr: "127.0.0.1:0", DBPath: db, APIVersion: "v62"},
		"negative cap":      {Addr: "127.0.0.1:0", DBPath: db, DescriptionCapBytes: -1},
		"huge cap":          {Addr: "127.0.0.1:0", DBPath: db, DescriptionCapBytes: 1 << 20},
		"public URL path":   {Addr: "127.0.0.1:0", DBPath: db, PublicURL: "https://crm.example.com/app"},
		"public URL scheme": {Addr: "127.0.0.1:0", DBPath: db, PublicURL: "ftp://crm.example.com"},
		"short token life":  {Addr: "127.0.0.1:0", DBPath: db, TokenTTL: time.Second},
		"negative limit":    {Addr: "127.0.0.1:0", DBPath: db, DailyAPILimit: -1},
	} {
		if _, err := New(cfg); cc.ErrorCode(err) != cc.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	s, err := New(Config{Addr: "127.0.0.1:0", DBPath: db, PublicURL: "https://crm.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	// New does no I/O: nothing is served and nothing was created.
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/services/data/v62.0/limits", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("before Start: %d, want 503", rec.Code)
	}
	if s.URL() != "" {
		t.Errorf("URL before Start = %q", s.URL())
	}
	if _, err := s.ImportCSV(context.Background(), DefaultSeed()); cc.ErrorCode(err) != cc.EUNAVAILABLE {
		t.Errorf("ImportCSV before Start: %v, want EUNAVAILABLE", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close before Start: %v", err)
	}
	if matches, _ := filepath.Glob(db + "*"); len(matches) != 0 {
		t.Errorf("New created %v", matches)
	}
}

func TestStartTwice(t *testing.T) {
	e := newEnv(t)
	if err := e.srv.Start(context.Background()); cc.ErrorCode(err) != cc.ECONFLICT {
		t.Errorf("second Start: %v, want ECONFLICT", err)
	}
}

func TestPublicURL(t *testing.T) {
	s, err := New(Config{Addr: "127.0.0.1:0", DBPath: filepath.Join(t.TempDir(), "x.db"), PublicURL: "https://crm.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.URL() != "https://crm.example.com" {
		t.Errorf("URL = %q", s.URL())
	}
}

func TestRestartKeepsData(t *testing.T) {
	e := newEnv(t)
	org := e.srv.OrgID()
	contacts := len(e.query("SELECT Id FROM Contact"))
	task := e.create("Task", map[string]any{"Subject": "kept", "CallObject": "int_restart"})
	if r := e.request(http.MethodPatch, "/services/data/v62.0/sobjects/Contact/"+janeID, map[string]any{"MobilePhone": "+1 201 555 0777"}); r.status != http.StatusNoContent {
		t.Fatalf("PATCH: %d %s", r.status, r.body)
	}

	e.restart()
	if e.srv.OrgID() != org {
		t.Errorf("org Id changed from %s to %s", org, e.srv.OrgID())
	}
	// The token is still valid: sessions outlive a restart, as in Salesforce.
	if recs := e.query("SELECT Id, Subject FROM Task WHERE CallObject = 'int_restart'"); len(recs) != 1 || recs[0]["Id"] != task {
		t.Errorf("task after restart = %v", recs)
	}
	if n := len(e.query("SELECT Id FROM Contact")); n != contacts {
		t.Errorf("%d contacts after restart, want %d: the seed ran again", n, contacts)
	}
	if recs := e.query("SELECT MobilePhone FROM Contact WHERE Id = '" + janeID + "'"); recs[0]["MobilePhone"] != "+1 201 555 0777" {
		t.Errorf("update lost: %v", recs)
	}
}

func TestDefaultSeed(t *testing.T) {
	e := newEnv(t)
	counts := map[string]int{}
	total := 0
	for _, o := range objects {
		recs := e.query("SELECT Id FROM " + o.name)
		counts[o.name] = len(recs)
		total += len(recs)
		for _, r := range recs {
			if id := r["Id"].(string); !strings.HasPrefix(id, o.prefix) || len(id) != 18 {
				t.Errorf("%s Id %s", o.name, id)
			}
		}
	}
	if total < 45 || total > 60 || counts["User"] == 0 || counts["Account"] == 0 || counts["Lead"] == 0 || counts["Task"] != 0 {
		t.Errorf("seed counts %v, want about 50 users, accounts, contacts and leads", counts)
	}
	if n := len(e.query("SELECT Id FROM Contact WHERE Phone = '(201) 555-0199' AND AccountId = '" + acmeID + "'")); n != 8 {
		t.Errorf("%d contacts carry Acme's number, want 8", n)
	}
	// The users Parley reads.
	users := e.query("SELECT Id, Username, Email FROM User ORDER BY Username")
	var usernames []string
	for _, u := range users {
		usernames = append(usernames, u["Username"].(string))
	}
	if !slices.Contains(usernames, integration) || !slices.IsSorted(usernames) {
		t.Errorf("users %v", usernames)
	}
}

func TestSchemaMatchesMigrations(t *testing.T) {
	e := newEnv(t)
	db, _ := e.srv.database()
	for _, o := range objects {
		rows, err := db.Query(`SELECT name FROM pragma_table_xinfo(?)`, o.name)
		if err != nil {
			t.Fatal(err)
		}
		var cols []string
		for rows.Next() {
			var c string
			rows.Scan(&c)
			cols = append(cols, c)
		}
		rows.Close()
		var fields []string
		for _, f := range o.fields {
			fields = append(fields, f.name)
		}
		if !slices.Equal(cols, fields) {
			t.Errorf("%s: table columns %v, schema fields %v", o.name, cols, fields)
		}
	}
}

func TestFaults(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.EnableTestHooks = true })
	limits := "/services/data/v62.0/limits"
	get := func(path string) response { return e.request(http.MethodGet, path, nil) }
	code := func(r response) string {
		if r.status < 400 {
			return ""
		}
		return r.errs(t)[0].Code
	}

	tests := []struct {
		fault  Fault
		status int
		code   string
	}{
		{Fault{Kind: FaultUnavailable}, 503, codeServerUnavailable},
		{Fault{Kind: FaultInvalidSession}, 401, codeInvalidSession},
		{Fault{Kind: FaultRequestLimit}, 403, codeRequestLimit},
	}
	for _, tt := range tests {
		if err := e.srv.InjectFault(tt.fault); err != nil {
			t.Fatal(err)
		}
		r := get(limits)
		if r.status != tt.status || code(r) != tt.code || r.header.Get("Sforce-Limit-Info") == "" {
			t.Errorf("%s: %d %s, want %d %s with Sforce-Limit-Info", tt.fault.Kind, r.status, r.body, tt.status, tt.code)
		}
		if r := get(limits); r.status != 200 {
			t.Errorf("%s: the call after the fault got %d", tt.fault.Kind, r.status)
		}
	}

	// A prefix and a count: only matching calls use the fault up.
	e.srv.InjectFault(Fault{Kind: FaultUnavailable, PathPrefix: "/services/data/v62.0/search", Count: 2})
	if r := get(limits); r.status != 200 {
		t.Errorf("a call outside the prefix got %d", r.status)
	}
	for i := range 2 {
		if r := get("/services/data/v62.0/search/?q=FIND+%7Bjane%7D"); r.status != 503 {
			t.Errorf("search %d: %d, want 503", i, r.status)
		}
	}
	if r := get("/services/data/v62.0/search/?q=FIND+%7Bjane%7D"); r.status != 200 {
		t.Errorf("third search: %d, want 200", r.status)
	}

	// The token endpoint may be faulted too.
	e.srv.InjectFault(Fault{Kind: FaultUnavailable, PathPrefix: "/services/oauth2/token"})
	if status, body := e.tokenRequest(nil); status != 503 || body["error"] != "temporarily_unavailable" {
		t.Errorf("faulted token endpoint: %d %v, want 503 temporarily_unavailable", status, body)
	}

	// A negative count lasts until cleared.
	e.srv.InjectFault(Fault{Kind: FaultRequestLimit, Count: -1})
	for range 3 {
		if r := get(limits); r.status != 403 {
			t.Fatalf("lasting fault: %d", r.status)
		}
	}
	e.srv.ClearFaults()
	if r := get(limits); r.status != 200 {
		t.Errorf("after ClearFaults: %d", r.status)
	}

	// A delay holds the call, then serves it.
	e.srv.InjectFault(Fault{Kind: FaultDelay, Delay: 20 * time.Millisecond})
	if r := get(limits); r.status != 200 {
		t.Errorf("delayed call: %d", r.status)
	}

	// The HTTP hook.
	if r := e.request(http.MethodPost, "/__devcrm/faults", `{"kind":"invalid_session","count":1}`); r.status != http.StatusNoContent {
		t.Fatalf("POST fault: %d %s", r.status, r.body)
	}
	if r := get(limits); r.status != 401 {
		t.Errorf("hooked fault: %d, want 401", r.status)
	}
	e.request(http.MethodPost, "/__devcrm/faults", `{"kind":"unavailable","count":-1}`)
	if r := e.request(http.MethodDelete, "/__devcrm/faults", nil); r.status != http.StatusNoContent {
		t.Errorf("DELETE faults: %d", r.status)
	}
	if r := get(limits); r.status != 200 {
		t.Errorf("after DELETE faults: %d", r.status)
	}
	for _, body := range []string{`{"kind":"meltdown"}`, `{"kind":"delay"}`, `{"kind":"unavailable","path_prefix":"services"}`, `{"kind":"unavailable","bogus":1}`, `nope`} {
		if r := e.request(http.MethodPost, "/__devcrm/faults", body); r.status != 400 {
			t.Errorf("POST fault %s: %d, want 400", body, r.status)
		}
	}
	for _, f := range []Fault{{Kind: "meltdown"}, {Kind: FaultDelay}, {Kind: FaultDelay, Delay: time.Hour}, {Kind: FaultUnavailable, PathPrefix: "x"}} {
		if err := e.srv.InjectFault(f); cc.ErrorCode(err) != cc.EINVALID {
			t.Errorf("InjectFault(%+v) = %v, want EINVALID", f, err)
		}
	}
}

func TestTestHooksOffByDefault(t *testing.T) {
	e := newEnv(t)
	if r := e.request(http.MethodPost, "/__devcrm/faults", `{"kind":"unavailable"}`); r.status != http.StatusNotFound {
		t.Errorf("POST /__devcrm/faults without EnableTestHooks: %d, want 404", r.status)
	}
}

func TestDailyLimit(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.DailyAPILimit = 3; c.TokenTTL = 8 * time.Hour })
	limits := "/services/data/v62.0/limits"
	for i := 1; i <= 3; i++ {
		r := e.request(http.MethodGet, limits, nil)
		if want := "api-usage=" + strings.Repeat("", 0) + string(rune('0'+i)) + "/3"; r.status != 200 || r.header.Get("Sforce-Limit-Info") != want {
			t.Fatalf("call %d: %d %q, want 200 %q", i, r.status, r.header.Get("Sforce-Limit-Info"), want)
		}
	}
	r := e.request(http.MethodGet, limits, nil)
	if r.status != http.StatusForbidden || r.errs(t)[0].Code != codeRequestLimit || r.header.Get("Sforce-Limit-Info") != "api-usage=3/3" {
		t.Fatalf("over the limit: %d %s %q", r.status, r.body, r.header.Get("Sforce-Limit-Info"))
	}
	// The version list is free.
	if r := e.request(http.MethodGet, "/services/data/", nil); r.status != 200 {
		t.Errorf("version list over the limit: %d", r.status)
	}
	// A new UTC day starts a new count.
	e.clock.Advance(7 * time.Hour)
	if r := e.request(http.MethodGet, limits, nil); r.status != 200 || r.header.Get("Sforce-Limit-Info") != "api-usage=1/3" {
		t.Errorf("next day: %d %q", r.status, r.header.Get("Sforce-Limit-Info"))
	}
}

func TestConcurrentWrites(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				r := e.request(http.MethodPost, "/services/data/v62.0/sobjects/Task/", map[string]any{"Subject": "c", "CallObject": "int_c", "WhoId": janeID})
				if r.status != http.StatusCreated {
					t.Errorf("writer %d, task %d: %d %s", i, j, r.status, r.body)
				}
			}
		}()
	}
	wg.Wait()
	if n := len(e.query("SELECT Id FROM Task WHERE CallObject = 'int_c'")); n != 40 {
		t.Errorf("%d tasks, want 40", n)
	}
}
