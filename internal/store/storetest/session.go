package storetest

import (
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

func testSessions(f *fixture) {
	acme := f.tenant("acme")
	alice, bob := f.user(acme, "alice", ""), f.user(acme, "bob", "")
	mk := func(u *cc.User, hash string, expires time.Time) *cc.Session {
		s := &cc.Session{TenantID: acme.ID, UserID: u.ID, TokenHash: hash, CreatedAt: t0, ExpiresAt: expires}
		f.must(f.s.CreateSession(f.ctx, s), "create session %s", hash)
		return s
	}
	s1 := mk(alice, "hash-1", at(time.Hour))
	s2 := mk(alice, "hash-2", at(2*time.Hour))
	mk(bob, "hash-3", at(30*time.Minute))
	if s1.ID == "" || s1.ID == s2.ID {
		f.t.Fatalf("CreateSession assigned ids %q and %q", s1.ID, s2.ID)
	}
	got, err := f.s.SessionByTokenHash(f.ctx, "hash-1", at(time.Hour-1))
	f.must(err, "read session")
	f.equal(got, s1, "session by token hash")
	_, err = f.s.SessionByTokenHash(f.ctx, "hash-1", at(time.Hour))
	f.wantCode(err, cc.ENOTFOUND, "read session at its expiry")
	_, err = f.s.SessionByTokenHash(f.ctx, "hash-missing", t0)
	f.wantCode(err, cc.ENOTFOUND, "read missing session")
	f.wantCode(f.s.CreateSession(f.ctx, &cc.Session{TenantID: acme.ID, UserID: bob.ID, TokenHash: "hash-1", ExpiresAt: at(time.Hour)}),
		cc.ECONFLICT, "create session with a taken token hash")
	f.wantCode(f.s.CreateSession(f.ctx, &cc.Session{TenantID: acme.ID, UserID: "usr_missing", TokenHash: "hash-4", ExpiresAt: at(time.Hour)}),
		cc.ENOTFOUND, "create session for a missing user")
	f.wantCode(f.s.CreateSession(f.ctx, &cc.Session{TenantID: acme.ID, UserID: bob.ID, TokenHash: "hash-5"}),
		cc.EINVALID, "create session without expiry")

	f.must(f.s.DeleteSession(f.ctx, s2.ID), "delete session")
	_, err = f.s.SessionByTokenHash(f.ctx, "hash-2", t0)
	f.wantCode(err, cc.ENOTFOUND, "read deleted session")
	f.must(f.s.DeleteSession(f.ctx, s2.ID), "delete a deleted session")

	// Expired at or before now: s3 (30 min) goes, s1 (1 h) stays.
	f.must(f.s.DeleteExpiredSessions(f.ctx, at(30*time.Minute)), "delete expired sessions")
	_, err = f.s.SessionByTokenHash(f.ctx, "hash-3", t0)
	f.wantCode(err, cc.ENOTFOUND, "read an expired, deleted session")
	_, err = f.s.SessionByTokenHash(f.ctx, "hash-1", t0)
	f.must(err, "read a session that has not expired")

	s4 := mk(bob, "hash-6", at(time.Hour))
	f.must(f.s.DeleteUserSessions(f.ctx, acme.ID, alice.ID), "delete a user's sessions")
	_, err = f.s.SessionByTokenHash(f.ctx, "hash-1", t0)
	f.wantCode(err, cc.ENOTFOUND, "read a session of a signed-out user")
	got, err = f.s.SessionByTokenHash(f.ctx, "hash-6", t0)
	f.must(err, "read another user's session")
	f.equal(got, s4, "another user's session")

	testSessionRotation(f, acme, bob)
}

// testSessionRotation: a refresh replaces the token, the old one works
// during its grace only, a second refresh with the old token is refused,
// and the expiry never passes the absolute end.
func testSessionRotation(f *fixture, acme *cc.Tenant, u *cc.User) {
	s := &cc.Session{TenantID: acme.ID, UserID: u.ID, TokenHash: "rot-1", Method: cc.SessionSSO, CreatedAt: t0,
		ExpiresAt: at(time.Hour), MaxExpiresAt: at(90 * time.Minute)}
	f.must(f.s.CreateSession(f.ctx, s), "create a session with an absolute end")
	got, err := f.s.SessionByID(f.ctx, s.ID, t0)
	f.must(err, "session by id")
	f.equal(got, s, "session by id")
	f.wantCode(f.s.CreateSession(f.ctx, &cc.Session{TenantID: acme.ID, UserID: u.ID, TokenHash: "rot-x", Method: "magic", ExpiresAt: at(time.Hour)}),
		cc.EINVALID, "create a session with an unknown method")
	f.wantCode(f.s.CreateSession(f.ctx, &cc.Session{TenantID: acme.ID, UserID: u.ID, TokenHash: "rot-y", ExpiresAt: at(2 * time.Hour), MaxExpiresAt: at(time.Hour)}),
		cc.EINVALID, "create a session that expires after its absolute end")

	r := cc.Rotation{SessionID: s.ID, OldHash: "rot-1", NewHash: "rot-2", Now: at(50 * time.Minute),
		ExpiresAt: at(110 * time.Minute), GraceUntil: at(50*time.Minute + 30*time.Second)}
	rot, err := f.s.RotateSession(f.ctx, r)
	f.must(err, "rotate")
	want := *s
	want.TokenHash, want.PrevTokenHash, want.PrevValidUntil = "rot-2", "rot-1", r.GraceUntil
	want.ExpiresAt, want.RefreshedAt = at(90*time.Minute), r.Now // capped at the absolute end
	f.equal(rot, &want, "session after a refresh")
	got, err = f.s.SessionByTokenHash(f.ctx, "rot-2", r.Now)
	f.must(err, "read by the new token")
	f.equal(got, &want, "session by the new token")
	got, err = f.s.SessionByTokenHash(f.ctx, "rot-1", at(50*time.Minute+29*time.Second))
	f.must(err, "read by the old token in its grace")
	f.equal(got, &want, "session by the old token in its grace")
	_, err = f.s.SessionByTokenHash(f.ctx, "rot-1", r.GraceUntil)
	f.wantCode(err, cc.ENOTFOUND, "read by the old token after its grace")

	_, err = f.s.RotateSession(f.ctx, cc.Rotation{SessionID: s.ID, OldHash: "rot-1", NewHash: "rot-3", Now: r.Now, ExpiresAt: r.ExpiresAt, GraceUntil: r.GraceUntil})
	f.wantCode(err, cc.ECONFLICT, "refresh with a token a refresh replaced")
	_, err = f.s.SessionByTokenHash(f.ctx, "rot-2", r.Now)
	f.must(err, "the new token after a refused second refresh")
	_, err = f.s.RotateSession(f.ctx, cc.Rotation{SessionID: s.ID, OldHash: "rot-2", NewHash: "rot-4", Now: at(90 * time.Minute), ExpiresAt: at(3 * time.Hour), GraceUntil: at(91 * time.Minute)})
	f.wantCode(err, cc.ENOTFOUND, "refresh at the absolute end")
	_, err = f.s.SessionByID(f.ctx, s.ID, at(90*time.Minute))
	f.wantCode(err, cc.ENOTFOUND, "session by id at its end")
	_, err = f.s.RotateSession(f.ctx, cc.Rotation{SessionID: s.ID, OldHash: "rot-2", NewHash: "rot-2"})
	f.wantCode(err, cc.EINVALID, "refresh to the same token")
}

func testRegistrations(f *fixture) {
	acme := f.tenant("acme")
	alice, bob := f.user(acme, "alice", "alice-phone"), f.user(acme, "bob", "bob-phone")
	mk := func(u *cc.User, contact string, updated, expires time.Duration) *cc.Registration {
		r := &cc.Registration{TenantID: acme.ID, UserID: u.ID, Contact: contact, Source: "198.51.100.7:5060",
			Transport: "udp", CallID: "reg-" + contact, CSeq: 1, UpdatedAt: at(updated), ExpiresAt: at(expires)}
		f.must(f.s.PutRegistration(f.ctx, r), "put registration %s", contact)
		return r
	}
	list := func(u *cc.User, now time.Duration) []*cc.Registration {
		f.t.Helper()
		rs, err := f.s.Registrations(f.ctx, acme.ID, u.ID, at(now))
		f.must(err, "list registrations")
		return rs
	}
	desk := mk(alice, "sip:alice@10.0.0.5:5060", 0, time.Hour)
	soft := mk(alice, "sip:alice@192.0.2.9:5062;transport=tcp", time.Minute, 30*time.Minute)
	bobs := mk(bob, "sip:bob@10.0.0.6", 0, time.Hour)
	f.equal(list(alice, 2*time.Minute), []*cc.Registration{soft, desk}, "registrations, newest first")

	// A refresh updates the binding in place.
	desk.CSeq, desk.Source, desk.UpdatedAt, desk.ExpiresAt = 2, "198.51.100.8:5060", at(3*time.Minute), at(2*time.Hour)
	f.must(f.s.PutRegistration(f.ctx, desk), "refresh registration")
	f.equal(list(alice, 4*time.Minute), []*cc.Registration{desk, soft}, "registrations after a refresh")
	f.equal(list(alice, 30*time.Minute), []*cc.Registration{desk}, "registrations at one's expiry")

	gone, err := f.s.DeleteExpiredRegistrations(f.ctx, at(30*time.Minute-1))
	f.must(err, "delete registrations expired a nanosecond before their expiry")
	f.equal(gone, []*cc.Registration(nil), "registrations expired before their expiry")
	gone, err = f.s.DeleteExpiredRegistrations(f.ctx, at(30*time.Minute))
	f.must(err, "delete expired registrations")
	f.equal(gone, []*cc.Registration{soft}, "expired registrations")
	f.equal(list(alice, 0), []*cc.Registration{desk}, "registrations after expiry")
	gone, err = f.s.DeleteExpiredRegistrations(f.ctx, at(45*time.Minute))
	f.must(err, "delete expired registrations again")
	f.equal(gone, []*cc.Registration(nil), "expired registrations the second time")

	f.must(f.s.DeleteRegistration(f.ctx, acme.ID, alice.ID, desk.Contact), "delete registration")
	f.equal(list(alice, 0), []*cc.Registration(nil), "registrations after delete")
	f.must(f.s.DeleteRegistration(f.ctx, acme.ID, alice.ID, desk.Contact), "delete a deleted registration")
	mk(alice, "sip:alice@10.0.0.5:5060", 0, time.Hour)
	mk(alice, "sip:alice@10.0.0.7:5060", 0, time.Hour)
	f.must(f.s.DeleteRegistration(f.ctx, acme.ID, alice.ID, ""), "delete all of a user's registrations")
	f.equal(list(alice, 0), []*cc.Registration(nil), "registrations after deleting all")
	f.equal(list(bob, 0), []*cc.Registration{bobs}, "another user's registrations")

	f.wantCode(f.s.PutRegistration(f.ctx, &cc.Registration{TenantID: acme.ID, UserID: "usr_missing", Contact: "sip:x@10.0.0.1", ExpiresAt: at(time.Hour)}),
		cc.ENOTFOUND, "put registration of a missing user")
	f.wantCode(f.s.PutRegistration(f.ctx, &cc.Registration{TenantID: acme.ID, UserID: bob.ID, ExpiresAt: at(time.Hour)}),
		cc.EINVALID, "put registration without a contact")
}
