package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/secret"
	"github.com/parley-cc/parley/internal/store/sqlite"
)

// TestAdminUserSignOut: every session of the user ends, another user's
// stays, and the stored CRM grant is deleted.
func TestAdminUserSignOut(t *testing.T) {
	dir := t.TempDir()
	a := func(args ...string) []string { return append([]string{"admin", "--data", dir}, args...) }
	open, ten, now := seedSessions(t, dir)
	runCLISteps(t, []cliStep{
		{a("user", "sign-out", "--tenant", "acme", "--user", "alice"), 0, []string{"alice is signed out of every session"}},
		{a("user", "sign-out", "--tenant", "acme", "--user", "nobody"), 1, []string{`no user "nobody" in tenant acme`}},
		{a("user", "sign-out", "--tenant", "acme"), 1, []string{"give --user"}},
		{a("user", "sign-out", "-h"), 0, []string{"Usage: parley admin user sign-out --tenant SLUG --user NAME"}},
		{a("help"), 0, []string{"user sign-out"}},
	})
	wantAliceSignedOut(t, open, ten, now)
}

// TestAdminUserDisableSignsOut: disabling a user ends their sessions and
// deletes their CRM grant, as user sign-out does, so that enabling them
// again brings no old token back.
func TestAdminUserDisableSignsOut(t *testing.T) {
	dir := t.TempDir()
	a := func(args ...string) []string { return append([]string{"admin", "--data", dir}, args...) }
	open, ten, now := seedSessions(t, dir)
	runCLISteps(t, []cliStep{
		{a("user", "set", "--tenant", "acme", "--username", "alice", "--disable"), 0, []string{"user alice updated", "alice is signed out of every session"}},
		{a("user", "set", "--tenant", "acme", "--username", "alice", "--enable"), 0, []string{"user alice updated"}},
	})
	wantAliceSignedOut(t, open, ten, now)
}

// wantAliceSignedOut checks that alice's sessions and CRM grant are gone
// and bob's session kept.
func wantAliceSignedOut(t *testing.T, open func() *sqlite.DB, ten *cc.Tenant, now time.Time) {
	t.Helper()
	ctx := context.Background()
	db := open()
	defer db.Close()
	for hash, want := range map[string]bool{"hash-a": false, "hash-b": false, "hash-c": true} {
		_, err := db.SessionByTokenHash(ctx, hash, now)
		if (err == nil) != want {
			t.Errorf("session %s after alice's sign-out: %v, want it kept %v", hash, err, want)
		}
	}
	alice, _ := db.UserByUsername(ctx, ten.ID, "alice")
	if _, _, err := db.CRMGrant(ctx, ten.ID, alice.ID, "salesforce"); !cc.IsCode(err, cc.ENOTFOUND) {
		t.Errorf("alice's CRM grant after sign-out: %v, want it deleted", err)
	}
}

// seedSessions makes tenant acme with users alice (two sessions, hash-a
// and hash-b) and bob (hash-c), each with a CRM grant, in data dir.
func seedSessions(t *testing.T, dir string) (open func() *sqlite.DB, ten *cc.Tenant, now time.Time) {
	t.Helper()
	t.Setenv("PARLEY_SECRET_KEY", "")
	a := func(args ...string) []string { return append([]string{"admin", "--data", dir}, args...) }
	runCLISteps(t, []cliStep{
		{a("tenant", "add", "--name", "acme"), 0, nil},
		{a("user", "add", "--tenant", "acme", "--username", "alice", "--role", "agent", "--password", "long enough"), 0, nil},
		{a("user", "add", "--tenant", "acme", "--username", "bob", "--role", "agent", "--password", "long enough"), 0, nil},
	})
	ctx := context.Background()
	open = func() *sqlite.DB {
		keyring, err := secret.Load(filepath.Join(dir, "secret.key"), true)
		if err != nil {
			t.Fatal(err)
		}
		db, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"), sqlite.Options{Sealer: keyring})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	ten, err := db.TenantBySlug(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	now = time.Now()
	for i, name := range []string{"alice", "alice", "bob"} {
		u, err := db.UserByUsername(ctx, ten.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.CreateSession(ctx, &cc.Session{TenantID: ten.ID, UserID: u.ID, TokenHash: "hash-" + string(rune('a'+i)), ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := db.PutCRMGrant(ctx, ten.ID, u.ID, "salesforce", "", []byte("refresh-"+name), now); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	return open, ten, now
}
