package devcrm

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// TestSetupUsersSetPassword: an administrator lists the users and sets a
// user's password; that user then signs in with it. Bad passwords and
// unknown users are refused with what to fix; other users cannot do it.
func TestSetupUsersSetPassword(t *testing.T) {
	e := newUIEnv(t, "")
	admin := e.client(adminUser)
	_, page := get(t, admin, e.srv.URL()+"/setup/users")
	for _, want := range []string{aliceUser, bobUser, "integration@devcrm.example.com", "not set: cannot sign in", "Acme"} {
		if !strings.Contains(page, want) {
			t.Errorf("users page lacks %q", want)
		}
	}
	const bobID = "005gK0Usr000004QCA"
	status, body, _ := postForm(t, admin, e.srv.URL()+"/setup/users/"+bobID+"/password", url.Values{"password": {"short"}})
	if status != http.StatusBadRequest || !strings.Contains(body, "The password of "+bobUser+" was not set: password is too short") {
		t.Errorf("short password: %d\n%s", status, body)
	}
	if status, body, _ := postForm(t, admin, e.srv.URL()+"/setup/users/005NOSUCHUSER/password", url.Values{"password": {"a-long-new-password"}}); status != http.StatusNotFound || !strings.Contains(body, "There is no user 005NOSUCHUSER") {
		t.Errorf("unknown user: %d\n%s", status, body)
	}
	status, body, final := postForm(t, admin, e.srv.URL()+"/setup/users/"+bobID+"/password", url.Values{"password": {"a-long-new-password"}})
	if status != http.StatusOK || final.Path != "/setup/users" || !strings.Contains(body, "The password of "+bobUser+" is set") {
		t.Fatalf("set bob's password: %d at %s\n%s", status, final, body)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(e.srv.URL()+"/login", url.Values{"username": {bobUser}, "password": {"a-long-new-password"}, "next": {"/lightning/page/home"}})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path != "/lightning/page/home" {
		t.Errorf("bob signs in with the new password: at %s", resp.Request.URL)
	}
	// Not an administrator: refused.
	if status, _, _ := postForm(t, e.client(aliceUser), e.srv.URL()+"/setup/users/"+bobID+"/password", url.Values{"password": {"alice-sets-bobs"}}); status != http.StatusForbidden {
		t.Errorf("alice sets bob's password: %d", status)
	}
	if status, _ := get(t, e.client(aliceUser), e.srv.URL()+"/setup/users"); status != http.StatusForbidden {
		t.Errorf("alice sees the users page: %d", status)
	}
}
