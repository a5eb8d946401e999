package devcrm

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/callcenter"
	"github.com/parley-cc/parley/internal/cc"
)

const (
	aliceUser   = "alice@devcrm.example.com"
	bobUser     = "bob@devcrm.example.com"
	adminUser   = DefaultAdministrator
	uiPassword  = "devcrm-demo-pw"
	evilName    = `<img src=x onerror=alert(1)>`
	testCCName  = "ParleyAcme"
	testAdapter = "http://127.0.0.1:9/cti/salesforce.html?env=salesforce&tenant=acme"
)

// uiEnv is a started devcrm with alice and bob able to sign in and a call
// center (ParleyAcme) with alice in it.
type uiEnv struct {
	t   testing.TB
	srv *Server
}

func newUIEnv(t testing.TB, adapterURL string) *uiEnv {
	t.Helper()
	srv, err := New(Config{Addr: "127.0.0.1:0", DBPath: filepath.Join(t.TempDir(), "devcrm.db")})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ctx := context.Background()
	for _, u := range []string{aliceUser, bobUser, adminUser} {
		if err := srv.SetUserPassword(ctx, u, uiPassword); err != nil {
			t.Fatal(err)
		}
	}
	xml, err := callcenter.Generate(&cc.Tenant{Slug: "acme", DisplayName: "Acme", Region: "US", Kind: cc.KindLegacy, Cluster: "na1"}, callcenter.Options{PublicURL: "http://127.0.0.1:9"})
	if err != nil {
		t.Fatal(err)
	}
	if adapterURL != "" {
		xml = []byte(strings.Replace(string(xml), "http://127.0.0.1:9/cti/salesforce.html?env=salesforce&amp;", strings.ReplaceAll(adapterURL, "&", "&amp;")+"&amp;", 2))
	}
	if _, err := srv.ImportCallCenter(ctx, strings.NewReader(string(xml))); err != nil {
		t.Fatal(err)
	}
	if err := srv.AssignCallCenterUsers(ctx, testCCName, aliceUser); err != nil {
		t.Fatal(err)
	}
	return &uiEnv{t: t, srv: srv}
}

// client signs in as username and returns a client holding the session.
func (e *uiEnv) client(username string) *http.Client {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(e.srv.URL()+"/login", url.Values{"username": {username}, "password": {uiPassword}, "next": {"/lightning/page/home"}})
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/lightning/page/home" {
		e.t.Fatalf("sign in as %s: %d at %s\n%s", username, resp.StatusCode, resp.Request.URL, body)
	}
	return c
}

func get(t testing.TB, c *http.Client, u string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// postForm posts a form and returns the final status, body and URL.
func postForm(t testing.TB, c *http.Client, u string, form url.Values) (int, string, *url.URL) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Request.URL
}

func TestSignIn(t *testing.T) {
	e := newUIEnv(t, "")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	// A page sends a signed-out browser to the sign-in page, keeping where it was going.
	resp, err := c.Get(e.srv.URL() + "/lightning/r/Contact/" + janeID + "/view")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/login" || resp.Request.URL.Query().Get("next") != "/lightning/r/Contact/"+janeID+"/view" {
		t.Fatalf("signed out: landed on %s", resp.Request.URL)
	}
	resp, err = c.PostForm(e.srv.URL()+"/login", url.Values{"username": {aliceUser}, "password": {"wrong password"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "check your username and password") {
		t.Fatalf("wrong password: %d %s", resp.StatusCode, body)
	}
	resp, err = c.PostForm(e.srv.URL()+"/login", url.Values{"username": {aliceUser}, "password": {uiPassword}, "next": {"//evil.example.com/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Host != strings.TrimPrefix(e.srv.URL(), "http://") || resp.Request.URL.Path != "/lightning/page/home" {
		t.Fatalf("next to another host: landed on %s", resp.Request.URL)
	}
	var cookie *http.Cookie
	for _, ck := range resp.Request.Response.Cookies() {
		if ck.Name == sessionCookie {
			cookie = ck
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure over http", cookie)
	}
	// The test clock is a fixed day: an absolute Expires from it would have
	// the browser drop the cookie on any later day.
	if cookie.MaxAge != int(sessionTTL/time.Second) || !cookie.Expires.IsZero() {
		t.Fatalf("session cookie Max-Age %d, Expires %v: want Max-Age %d and no Expires", cookie.MaxAge, cookie.Expires, int(sessionTTL/time.Second))
	}
	if err := e.srv.SetUserPassword(context.Background(), "nobody@x.example", uiPassword); !cc.IsCode(err, cc.ENOTFOUND) {
		t.Errorf("SetUserPassword of an unknown user: %v", err)
	}
	if err := e.srv.SetUserPassword(context.Background(), aliceUser, "short"); !cc.IsCode(err, cc.EINVALID) {
		t.Errorf("SetUserPassword with a short password: %v", err)
	}
}

func TestRecordPagesEscapeAndMarkPhones(t *testing.T) {
	e := newUIEnv(t, "")
	c := e.client(aliceUser)
	ctx := context.Background()
	db, _ := e.srv.database()
	id, err := e.srv.createRecord(ctx, db, objectByName(objContact), record{"FirstName": nil, "LastName": evilName, "Phone": "(201) 555-0177", "AccountId": acmeID}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.createRecord(ctx, db, objectByName(objTask), record{"Subject": "Call " + evilName, "WhoId": id, "Description": "<script>alert(2)</script>"}, ""); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"/lightning/r/Contact/" + id + "/view",
		"/lightning/r/Account/" + acmeID + "/view",
		"/lightning/search?q=" + url.QueryEscape("(201) 555-0177"),
		"/lightning/o/Contact/home",
		"/" + id,
		"/console",
	} {
		status, body := get(t, c, e.srv.URL()+path)
		if status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, status, body)
		}
		if strings.Contains(body, evilName) || strings.Contains(body, "<script>alert") {
			t.Errorf("%s shows the name unescaped:\n%s", path, body)
		}
		if path != "/console" && !strings.Contains(body, "&lt;img src=x onerror=alert(1)&gt;") {
			t.Errorf("%s does not show the contact's name", path)
		}
	}
	// The record page: phone fields carry what click-to-dial sends, the
	// Tasks show newest first.
	status, body := get(t, c, e.srv.URL()+"/lightning/r/Contact/"+janeID+"/view")
	if status != http.StatusOK {
		t.Fatal(status)
	}
	want := `<span class="phone" data-number="(201) 555-0123" data-record-id="` + janeID + `" data-record-name="Jane Doe" data-object-type="Contact">(201) 555-0123</span>`
	if !strings.Contains(body, want) {
		t.Errorf("Jane's page lacks the click-to-dial phone %s\n%s", want, body)
	}
	if !strings.Contains(body, `id="devcrm-cti"`) || !strings.Contains(body, `"adapterUrl":"http://127.0.0.1:9/cti/salesforce.html?env=salesforce\u0026companel=vcc`) {
		t.Errorf("alice's page lacks the softphone configuration:\n%s", body)
	}
	// A partial request gets the record area only.
	_, part := get(t, c, e.srv.URL()+"/lightning/r/Contact/"+janeID+"/view", partialHeader, "1")
	if strings.Contains(part, "<html") || !strings.HasPrefix(part, `<section id="view"`) {
		t.Errorf("partial page:\n%s", part)
	}
	// The Account shows its Contacts.
	_, acct := get(t, c, e.srv.URL()+"/lightning/r/Account/"+acmeID+"/view")
	if !strings.Contains(acct, "Contacts (") || !strings.Contains(acct, "Jane Doe") {
		t.Errorf("the Account page lacks its Contacts")
	}
	// bob is in no call center: no softphone, a notice instead.
	_, bobs := get(t, e.client(bobUser), e.srv.URL()+"/lightning/r/Contact/"+janeID+"/view")
	if strings.Contains(bobs, `id="devcrm-cti"`) || !strings.Contains(bobs, "You are not a call center user") {
		t.Errorf("bob's page:\n%s", bobs)
	}
}

func TestTasksNewestFirst(t *testing.T) {
	e := newUIEnv(t, "")
	db, _ := e.srv.database()
	for _, subject := range []string{"first call", "second call"} {
		if _, err := e.srv.createRecord(context.Background(), db, objectByName(objTask), record{"Subject": subject, "WhoId": janeID}, ""); err != nil {
			t.Fatal(err)
		}
	}
	_, body := get(t, e.client(aliceUser), e.srv.URL()+"/lightning/r/Contact/"+janeID+"/view")
	if i, j := strings.Index(body, "second call"), strings.Index(body, "first call"); i < 0 || j < 0 || i > j {
		t.Errorf("tasks not newest first:\n%s", body)
	}
}

func TestNewRecordForm(t *testing.T) {
	e := newUIEnv(t, "")
	c := e.client(aliceUser)
	_, form := get(t, c, e.srv.URL()+"/lightning/o/Contact/new?defaultFieldValues="+url.QueryEscape("LastName=Caller,Phone="+url.QueryEscape("+1 201 555 0188")))
	if !strings.Contains(form, `name="Phone" value="&#43;1 201 555 0188"`) && !strings.Contains(form, `name="Phone" value="+1 201 555 0188"`) {
		t.Fatalf("defaultFieldValues not in the form:\n%s", form)
	}
	status, body, at := postForm(t, c, e.srv.URL()+"/lightning/o/Contact/new", url.Values{"LastName": {"Caller"}, "Phone": {"+1 201 555 0188"}})
	if status != http.StatusOK || !strings.HasPrefix(at.Path, "/lightning/r/Contact/003") || !strings.Contains(body, "&#43;1 201 555 0188") {
		t.Fatalf("create: %d at %s", status, at)
	}
	// Fields are checked as REST checks them.
	for _, c2 := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"LastName": {"No"}, "Email": {"not an address"}}, "Email"},
		{url.Values{"FirstName": {"No"}}, "Required fields are missing: [LastName]"},
	} {
		if status, body, _ := postForm(t, c, e.srv.URL()+"/lightning/o/Contact/new", c2.form); status != http.StatusBadRequest || !strings.Contains(body, c2.want) {
			t.Errorf("form %v: %d, want 400 saying %q\n%s", c2.form, status, c2.want, body)
		}
	}
}

func upload(t testing.TB, c *http.Client, u, filename, content string) (int, string) {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, _ := mw.CreateFormFile("file", filename)
		io.WriteString(fw, content)
		mw.Close()
		pw.Close()
	}()
	resp, err := c.Post(u, mw.FormDataContentType(), pr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestImportCallCenterPage(t *testing.T) {
	e := newUIEnv(t, "")
	c := e.client(adminUser)
	bad := "<?xml version=\"1.0\"?>\n<callCenter>\n  <section sortOrder=\"0\" name=\"reqGeneralInfo\" label=\"G\">\n    <item sortOrder=\"0\" name=\"reqInternalName\">X1</item>\n    <item sortOrder=\"2\" name=\"bad-name\">v</item>\n  </section>\n</callCenter>\n"
	status, body := upload(t, c, e.srv.URL()+"/setup/callcenters", "bad.xml", bad)
	if status != http.StatusBadRequest || !strings.Contains(body, "bad.xml line 5: item name &#34;bad-name&#34;") && !strings.Contains(body, "bad.xml line 5: item name &quot;bad-name&quot;") {
		t.Fatalf("bad file: %d\n%s", status, body)
	}
	if !strings.Contains(body, "bad.xml line 3: section reqGeneralInfo lacks the required item reqAdapterUrl") {
		t.Errorf("missing required item not reported with its line:\n%s", body)
	}
	good, err := callcenter.Generate(&cc.Tenant{Slug: "beta", DisplayName: "Beta <Inc>", Region: "GB", Cluster: "na1"}, callcenter.Options{PublicURL: "https://parley.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	status, body = upload(t, c, e.srv.URL()+"/setup/callcenters", "beta.xml", string(good))
	if status != http.StatusOK || !strings.Contains(body, "Call center ParleyBeta imported") || !strings.Contains(body, "Beta &lt;Inc&gt;") {
		t.Fatalf("good file: %d\n%s", status, body)
	}
	list, err := e.srv.CallCenters(context.Background())
	if err != nil || len(list) != 2 || list[0].InternalName != "ParleyAcme" || list[0].Users != 1 || list[1].Users != 0 {
		t.Fatalf("CallCenters = %+v, %v", list, err)
	}
	if _, err := e.srv.ImportCallCenter(context.Background(), strings.NewReader("junk")); !cc.IsCode(err, cc.EINVALID) {
		t.Errorf("ImportCallCenter(junk) = %v", err)
	} else {
		var ps callcenter.Problems
		if !errors.As(err, &ps) || ps[0].Line != 1 {
			t.Errorf("ImportCallCenter(junk) problems %v", ps)
		}
	}
}

func TestManageCallCenterUsers(t *testing.T) {
	e := newUIEnv(t, "")
	c := e.client(adminUser)
	base := e.srv.URL() + "/setup/callcenters/" + testCCName + "/users"
	_, page := get(t, c, base)
	if !strings.Contains(page, "Users in this call center (1)") || !strings.Contains(page, aliceUser) {
		t.Fatalf("members:\n%s", page)
	}
	_, found := get(t, c, base+"?q=bob")
	if !strings.Contains(found, bobUser) || strings.Contains(found, "integration@devcrm.example.com") {
		t.Fatalf("filter bob:\n%s", found)
	}
	_, none := get(t, c, base+"?q=zzz")
	if !strings.Contains(none, "No other user matches") {
		t.Errorf("filter zzz:\n%s", none)
	}
	status, body, _ := postForm(t, c, base, url.Values{"action": {"add"}, "user": {"005gK0Usr000004QCA"}})
	if status != http.StatusOK || !strings.Contains(body, "1 user(s) added to the call center") || !strings.Contains(body, "Users in this call center (2)") {
		t.Fatalf("add bob: %d\n%s", status, body)
	}
	// bob now has the softphone.
	_, bobs := get(t, e.client(bobUser), e.srv.URL()+"/lightning/page/home")
	if !strings.Contains(bobs, `id="devcrm-cti"`) {
		t.Errorf("bob has no softphone after being added")
	}
	if _, body, _ := postForm(t, c, base, url.Values{"action": {"remove"}, "user": {"005gK0Usr000003QCA", "005gK0Usr000004QCA"}}); !strings.Contains(body, "Users in this call center (0)") {
		t.Fatalf("remove both:\n%s", body)
	}
	if status, body, _ := postForm(t, c, base, url.Values{"action": {"add"}}); status != http.StatusBadRequest || !strings.Contains(body, "Select at least one user") {
		t.Errorf("nothing selected: %d %s", status, body)
	}
	if err := e.srv.AssignCallCenterUsers(context.Background(), "NoSuchCenter", aliceUser); !cc.IsCode(err, cc.ENOTFOUND) {
		t.Errorf("unknown call center: %v", err)
	}
	if err := e.srv.AssignCallCenterUsers(context.Background(), testCCName, "nobody@x.example"); !cc.IsCode(err, cc.ENOTFOUND) {
		t.Errorf("unknown user: %v", err)
	}
	// A cross-site form is refused.
	req, _ := http.NewRequest(http.MethodPost, base, strings.NewReader("action=add&user=005gK0Usr000004QCA"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example.com")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST: %d", resp.StatusCode)
	}
}

func TestHostAPI(t *testing.T) {
	e := newUIEnv(t, "")
	c := e.client(aliceUser)
	status, body := get(t, c, e.srv.URL()+"/devcrm/api/search?q=2015550123")
	if status != http.StatusForbidden {
		t.Errorf("without %s: %d %s", apiHeader, status, body)
	}
	status, body = get(t, c, e.srv.URL()+"/devcrm/api/search?q=2015550123", apiHeader, "1")
	if status != http.StatusOK || !strings.Contains(body, `"Id":"`+janeID+`","Name":"Jane Doe","RecordType":"Contact"`) {
		t.Errorf("search: %d %s", status, body)
	}
	status, body = get(t, c, e.srv.URL()+"/devcrm/api/search?q=20", apiHeader, "1")
	if status != http.StatusBadRequest || !strings.Contains(body, "at least 3 characters") {
		t.Errorf("short search: %d %s", status, body)
	}
	status, _ = get(t, http.DefaultClient, e.srv.URL()+"/devcrm/api/search?q=2015550123", apiHeader, "1")
	if status != http.StatusUnauthorized {
		t.Errorf("signed out: %d", status)
	}
	postTo := func(c *http.Client, path, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL()+path, strings.NewReader(body))
		req.Header.Set(apiHeader, "1")
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	post := func(body string) (int, string) { return postTo(c, "/devcrm/api/savelog", body) }

	// runApex: Parley's class, as the session's user; any other method is
	// an error that names it.
	const userName = `{"apexClass":"ParleyUser","methodName":"userName"}`
	if status, body := postTo(c, "/devcrm/api/apex", userName); status != http.StatusOK || body != `{"result":"`+aliceUser+`"}`+"\n" {
		t.Errorf("runApex ParleyUser.userName as alice: %d %q", status, body)
	}
	if status, body := postTo(e.client(bobUser), "/devcrm/api/apex", userName); status != http.StatusOK || !strings.Contains(body, bobUser) {
		t.Errorf("runApex ParleyUser.userName as bob: %d %s", status, body)
	}
	if status, body := postTo(c, "/devcrm/api/apex", `{"apexClass":"Foo","methodName":"bar"}`); status != http.StatusBadRequest || !strings.Contains(body, "no Apex method Foo.bar") {
		t.Errorf("runApex Foo.bar: %d %s", status, body)
	}
	if status, _ := postTo(http.DefaultClient, "/devcrm/api/apex", userName); status != http.StatusUnauthorized {
		t.Errorf("runApex signed out: %d, want 401", status)
	}
	status, body = post(`{"value":{"entityApiName":"Task","Subject":"Call","WhoId":"` + janeID15 + `","CallType":"Inbound","Status":"Completed"}}`)
	if status != http.StatusOK || !strings.Contains(body, `"id":"00T`) {
		t.Fatalf("saveLog create: %d %s", status, body)
	}
	id := body[strings.Index(body, `"id":"`)+6 : strings.Index(body, `"id":"`)+24]
	status, body = post(`{"value":{"Id":"` + id + `","Subject":"Call, updated"}}`)
	if status != http.StatusOK {
		t.Fatalf("saveLog update: %d %s", status, body)
	}
	_, page := get(t, c, e.srv.URL()+"/lightning/r/Contact/"+janeID+"/view")
	if !strings.Contains(page, "Call, updated") {
		t.Errorf("the updated Task is not on Jane's page")
	}
	for _, c := range []struct{ body, want string }{
		{`{"value":{"entityApiName":"Nope"}}`, "INVALID_TYPE"},
		{`{"value":{"entityApiName":"Task","Bogus":"x"}}`, "INVALID_FIELD"},
		{`{"value":{"entityApiName":"Task","CallType":"Sideways"}}`, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"},
		{`{"value":{"Id":"bad"}}`, "MALFORMED_ID"},
		{`{}`, "INVALID_PARAMETER"},
	} {
		if status, body := post(c.body); status != http.StatusBadRequest || !strings.Contains(body, c.want) {
			t.Errorf("saveLog %s: %d %s, want %s", c.body, status, body, c.want)
		}
	}
}

func TestCTIScripts(t *testing.T) {
	e := newUIEnv(t, "")
	for _, path := range []string{"/support/api/66.0/lightning/opencti_min.js", "/support/api/45.0/lightning/opencti.js", "/support/api/52.0/interaction.js"} {
		status, body := get(t, http.DefaultClient, e.srv.URL()+path)
		if status != http.StatusOK || !strings.Contains(body, "devcrm build of Open CTI") || !strings.Contains(body, "__devcrmApiVersion = "+strings.Split(strings.TrimPrefix(path, "/support/api/"), ".")[0]) {
			t.Errorf("%s: %d %.200s", path, status, body)
		}
	}
	for _, path := range []string{"/support/api/20.0/interaction.js", "/support/api/37.0/lightning/opencti_min.js", "/support/api/99.0/interaction.js", "/support/api/x.0/interaction.js"} {
		if status, _ := get(t, http.DefaultClient, e.srv.URL()+path); status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, status)
		}
	}
	if status, _ := get(t, http.DefaultClient, e.srv.URL()+"/support/api/25.0/interaction.js"); status != http.StatusOK {
		t.Errorf("interaction.js 25.0: %d", status)
	}
}

func TestParseDefaultFieldValues(t *testing.T) {
	got, err := ParseDefaultFieldValues("LastName=Doe,Phone=%28201%29%20555-0123,Empty=")
	if err != nil || got["LastName"] != "Doe" || got["Phone"] != "(201) 555-0123" || got["Empty"] != "" || len(got) != 3 {
		t.Errorf("ParseDefaultFieldValues = %v, %v", got, err)
	}
	for _, bad := range []string{"LastName", "=x", "Phone=%zz"} {
		if _, err := ParseDefaultFieldValues(bad); !cc.IsCode(err, cc.EINVALID) {
			t.Errorf("ParseDefaultFieldValues(%q) = %v, want EINVALID", bad, err)
		}
	}
}

func FuzzParseDefaultFieldValues(f *testing.F) {
	f.Add("LastName=Doe,Phone=%28201%29%20555-0123")
	f.Add(",,=")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseDefaultFieldValues(s)
		if err != nil && !cc.IsCode(err, cc.EINVALID) {
			t.Fatalf("error code %s", cc.ErrorCode(err))
		}
		for k := range got {
			if k == "" {
				t.Fatalf("an empty field name from %q", s)
			}
		}
	})
}

func TestGlobalSearch(t *testing.T) {
	e := newUIEnv(t, "")
	c := e.client(aliceUser)
	for _, c2 := range []struct{ q, want, not string }{
		{"jane.doe@acme.example.com", "Jane Doe", "Aaron Abbott"},
		{"JANE.DOE@ACME.EXAMPLE.COM", "Jane Doe", "Aaron Abbott"},
		{"Patel", "Priya Patel", "Jane Doe"},
		{"+1 201 555 0123", "Jane Doe", "Sam Lead"},
		{"Acme Corporation", "Acme Corporation", "Globex"},
	} {
		_, body := get(t, c, e.srv.URL()+"/lightning/search?q="+url.QueryEscape(c2.q))
		if !strings.Contains(body, c2.want) || strings.Contains(body, c2.not) {
			t.Errorf("search %q: want %q and not %q\n%s", c2.q, c2.want, c2.not, body)
		}
	}
	_, body := get(t, c, e.srv.URL()+"/lightning/search?q=zzzqqq")
	if !strings.Contains(body, "No results for") {
		t.Errorf("no match:\n%s", body)
	}
	_, body = get(t, c, e.srv.URL()+"/lightning/search?q=a")
	if !strings.Contains(body, "at least 2 characters") {
		t.Errorf("one character:\n%s", body)
	}
}

func TestSetupIsForAdministrators(t *testing.T) {
	e := newUIEnv(t, "")
	alice := e.client(aliceUser)
	for _, path := range []string{"/setup/callcenters", "/setup/callcenters/" + testCCName + "/users"} {
		if status, body := get(t, alice, e.srv.URL()+path); status != http.StatusForbidden || !strings.Contains(body, "Setup is for devcrm administrators") {
			t.Errorf("alice GET %s: %d", path, status)
		}
	}
	if status, _, _ := postForm(t, alice, e.srv.URL()+"/setup/callcenters/"+testCCName+"/users", url.Values{"action": {"add"}, "user": {"005gK0Usr000004QCA"}}); status != http.StatusForbidden {
		t.Errorf("alice adds bob: %d", status)
	}
	ctx := context.Background()
	if err := e.srv.SetAdministrator(ctx, aliceUser, true); err != nil {
		t.Fatal(err)
	}
	if status, _ := get(t, alice, e.srv.URL()+"/setup/callcenters"); status != http.StatusOK {
		t.Errorf("alice as administrator: %d", status)
	}
	if err := e.srv.SetAdministrator(ctx, aliceUser, false); err != nil {
		t.Fatal(err)
	}
	if status, _ := get(t, alice, e.srv.URL()+"/setup/callcenters"); status != http.StatusForbidden {
		t.Errorf("alice no longer administrator: %d", status)
	}
	if err := e.srv.SetAdministrator(ctx, "nobody@x.example", true); !cc.IsCode(err, cc.ENOTFOUND) {
		t.Errorf("SetAdministrator of an unknown user: %v", err)
	}
}
