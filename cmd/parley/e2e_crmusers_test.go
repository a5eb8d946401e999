package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-cc/parley/internal/testkit/browser"
)

// demoForTest runs parley demo on loopback ports until the test ends and
// returns its data directory and demo.json.
func demoForTest(t *testing.T) (string, *demoFile) {
	t.Helper()
	t.Setenv("PARLEY_SECRET_KEY", "")
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out strings.Builder
	go func() {
		code, stdout, stderr := cliIn(ctx, "demo", "--data", dir, "--http", "127.0.0.1:0", "--sip", "127.0.0.1:0", "--crm", "127.0.0.1:0")
		out.WriteString(stdout + stderr)
		done <- code
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("the demo did not stop")
		}
	})
	var f *demoFile
	for deadline := time.Now().Add(60 * time.Second); f == nil; time.Sleep(100 * time.Millisecond) {
		if got, err := readDemoFile(filepath.Join(dir, "demo.json")); err == nil {
			f = got
			break
		}
		select {
		case code := <-done:
			t.Fatalf("the demo ended with %d:\n%s", code, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no demo.json")
		}
	}
	return dir, f
}

// TestDemoCallCenterUsers runs the demo and looks at its call center users
// from both sides: parley admin crm users asks the demo's devcrm for its
// users and finds alice and bob mapped to their Parley users, and the API's
// view, signed in as the demo admin, says the same; an agent is refused.
func TestDemoCallCenterUsers(t *testing.T) {
	dir, f := demoForTest(t)

	code, stdout, stderr := cli(t, "admin", "--data", dir, "crm", "users", "--tenant", "acme")
	if code != 0 {
		t.Fatalf("crm users: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		`alice@devcrm\.example\.com\s+alice@devcrm\.example\.com\s+alice\n`,
		`bob@devcrm\.example\.com\s+bob@devcrm\.example\.com\s+bob\n`,
		`sam@devcrm\.example\.com\s+sam@devcrm\.example\.com\s+not mapped\n`,
		`Every Parley agent of acme is mapped to a salesforce user\.`,
	} {
		if !regexp.MustCompile(want).MatchString(stdout) {
			t.Errorf("crm users output does not match %s:\n%s", want, stdout)
		}
	}
	t.Logf("crm users:\n%s", stdout)
	code, stdout, _ = cli(t, "admin", "--data", dir, "user", "list", "--tenant", "acme")
	if code != 0 || !strings.Contains(stdout, "salesforce:alice@devcrm.example.com") {
		t.Errorf("user list:\n%s", stdout)
	}

	token := func(username string) string {
		t.Helper()
		var pw string
		for _, u := range f.Users {
			if u.Username == username {
				pw = u.Password
			}
		}
		body, _ := json.Marshal(map[string]string{"tenant": "acme", "username": username, "password": pw})
		resp, err := http.Post(f.HTTP+"/api/v1/sessions", "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var s struct{ Token string }
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || resp.StatusCode != 201 || s.Token == "" {
			t.Fatalf("sign in as %s: %d %v", username, resp.StatusCode, err)
		}
		return s.Token
	}
	get := func(tok, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", f.HTTP+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := get(token("ada"), "/api/v1/admin/crm-users")
	if status != 200 || !strings.Contains(body, `"username":"alice@devcrm.example.com","email":"alice@devcrm.example.com","parley_user":{"id":"usr_`) ||
		!strings.Contains(body, `"unmatched_agents":[]`) {
		t.Errorf("GET /api/v1/admin/crm-users as ada: %d\n%s", status, body)
	}
	if status, body := get(token("alice"), "/api/v1/admin/crm-users"); status != 403 {
		t.Errorf("GET /api/v1/admin/crm-users as alice: %d\n%s", status, body)
	}
	if status, body := get("", "/admin/call-center-users?tenant=acme"); status != 200 || !strings.Contains(body, `value="acme"`) {
		t.Errorf("the admin page: %d\n%s", status, body)
	}
}

// TestAdminPageInChromium signs in to the call center users page as the
// demo admin, unmaps alice and maps her again, and checks the store after
// each step.
func TestAdminPageInChromium(t *testing.T) {
	dir, f := demoForTest(t)
	var adaPW string
	for _, u := range f.Users {
		if u.Username == "ada" {
			adaPW = u.Password
		}
	}
	ctx := browser.New(t, browser.Options{})
	if err := chromedp.Do(ctx, chromedp.Navigate(f.HTTP+"/admin/call-center-users?tenant=acme")); err != nil {
		t.Fatal(err)
	}
	browser.Until(t, ctx, "the sign-in form", `!document.getElementById('sign-in').hidden`)
	if got := browser.Eval[string](t, ctx, `document.querySelector('#sign-in [name=tenant]').value`); got != "acme" {
		t.Errorf("the tenant field holds %q, want acme from ?tenant=", got)
	}
	pw, _ := json.Marshal(adaPW)
	browser.Eval[bool](t, ctx, `(() => { const f = document.getElementById('sign-in');
		f.elements.username.value = 'ada'; f.elements.password.value = `+string(pw)+`; f.requestSubmit(); return true; })()`)
	const aliceRow = `[...document.querySelectorAll('#crm-users tbody tr')].find((r) => r.cells[0].textContent === 'alice@devcrm.example.com')`
	browser.Until(t, ctx, "alice mapped", aliceRow+`?.cells[2].textContent === 'alice'`)
	if shown := browser.Eval[bool](t, ctx, `getComputedStyle(document.getElementById('sign-in')).display !== 'none'`); shown {
		t.Error("the sign-in form is still shown after signing in")
	}
	if tok := browser.Eval[string](t, ctx, `JSON.parse(localStorage.getItem('parley.admin.session')).token.length > 0 && document.cookie === '' ? 'ok' : 'no'`); tok != "ok" {
		t.Error("the page does not keep its token in localStorage only")
	}
	browser.Screenshot(t, ctx, "", "admin-call-center-users")

	// A session near its end (sessions.ttl is short) is refreshed by the
	// admin's next action: a new token, and the action works.
	old := browser.Eval[string](t, ctx, `(() => { const s = JSON.parse(localStorage.getItem('parley.admin.session'));
		if (!s.expires_at) return ''; s.expires_at = new Date(Date.now() + 60000).toISOString();
		localStorage.setItem('parley.admin.session', JSON.stringify(s)); document.getElementById('reload').click(); return s.token; })()`)
	if old == "" {
		t.Fatal("the page does not keep its session's expiry")
	}
	browser.Until(t, ctx, "the session refreshed", `(() => { const s = JSON.parse(localStorage.getItem('parley.admin.session'));
		return s.token !== `+strconv.Quote(old)+` && Date.parse(s.expires_at) - Date.now() > 30 * 60000; })()`)
	browser.Until(t, ctx, "alice still listed", aliceRow+`?.cells[2].textContent === 'alice'`)

	mapped := func() string {
		t.Helper()
		_, out, _ := cli(t, "admin", "--data", dir, "user", "list", "--tenant", "acme")
		return out
	}
	browser.Eval[bool](t, ctx, `(`+aliceRow+`.querySelector('button').click(), true)`)
	browser.Until(t, ctx, "alice unmapped", aliceRow+`?.cells[2].textContent === 'not mapped' &&
		[...document.querySelectorAll('#unmatched tbody tr')].some((r) => r.cells[0].textContent === 'alice')`)
	if strings.Contains(mapped(), "salesforce:alice@devcrm.example.com") {
		t.Error("alice is still mapped in the store after Unmap")
	}

	browser.Eval[bool](t, ctx, `(() => { const f = `+aliceRow+`.querySelector('form');
		const s = f.querySelector('select'); s.value = [...s.options].find((o) => o.textContent.startsWith('alice')).value;
		f.requestSubmit(); return true; })()`)
	browser.Until(t, ctx, "alice mapped again", aliceRow+`?.cells[2].textContent === 'alice' && !document.getElementById('all-mapped').hidden`)
	if !strings.Contains(mapped(), "salesforce:alice@devcrm.example.com") {
		t.Error("alice is not mapped in the store after Map")
	}
}
