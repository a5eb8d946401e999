package sqlite

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/store/storetest"
)

// testSealer is AES-256-GCM with a random key and a random nonce in front.
type testSealer struct{ aead cipher.AEAD }

func newTestSealer(t testing.TB) *testSealer {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return &testSealer{aead: aead}
}

func (s *testSealer) Seal(plain []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, nil), nil
}

func (s *testSealer) Open(sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed secret is too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], nil)
}

func openTest(t testing.TB, path string, opts Options) *DB {
	t.Helper()
	db, err := Open(t.Context(), path, opts)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	return db
}

func TestStoreFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) cc.Store {
		return openTest(t, filepath.Join(t.TempDir(), "parley.db"), Options{Sealer: newTestSealer(t)})
	})
}

func TestStoreMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) cc.Store {
		return openTest(t, MemoryPath, Options{Sealer: newTestSealer(t)})
	})
}

func TestPragmas(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "parley.db"), Options{})
	defer db.Close()
	// Hold connections at once so that the pool has to open several: every
	// one of them must have the pragmas.
	var conns []*sql.Conn
	for range 3 {
		c, err := db.db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		for pragma, want := range map[string]string{"journal_mode": "wal", "busy_timeout": "10000", "foreign_keys": "1", "synchronous": "2"} {
			var got string
			if err := c.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("connection %d: %s = %s, want %s", i, pragma, got, want)
			}
		}
		c.Close()
	}
}

func TestSynchronousSetting(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "parley.db"), Options{Synchronous: "Normal"})
	var got string
	if err := db.db.QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "1" {
		t.Errorf("synchronous = %s, want 1 (NORMAL)", got)
	}
	db.Close()
	_, err := Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), Options{Synchronous: "off"})
	if !cc.IsCode(err, cc.EINVALID) || !strings.Contains(err.Error(), "full or normal") {
		t.Errorf("synchronous off: %v", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	sealer := newTestSealer(t)
	db := openTest(t, path, Options{Sealer: sealer})
	ten := &cc.Tenant{Slug: "acme", Region: "US"}
	ten.Normalize()
	if err := db.CreateTenant(t.Context(), ten); err != nil {
		t.Fatal(err)
	}
	ev := cc.NewEvent(ten.ID, cc.EventAgentState, time.Now(), nil)
	if err := db.AppendEvents(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}

	db = openTest(t, path, Options{Sealer: sealer})
	defer db.Close()
	var migrations int
	if err := db.db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&migrations); err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	if migrations != len(ms) {
		t.Errorf("after reopening, %d migrations are recorded, want %d (each once)", migrations, len(ms))
	}
	got, err := db.TenantBySlug(t.Context(), "acme")
	if err != nil {
		t.Fatalf("tenant after reopening: %v", err)
	}
	if got.ID != ten.ID {
		t.Errorf("tenant after reopening has id %s, want %s", got.ID, ten.ID)
	}
	ev2 := cc.NewEvent(ten.ID, cc.EventAgentState, time.Now(), nil)
	if err := db.AppendEvents(t.Context(), ev2); err != nil {
		t.Fatal(err)
	}
	if ev2.Seq != 2 {
		t.Errorf("after reopening the next event got sequence %d, want 2", ev2.Seq)
	}
}

// TestTwoHandlesOneFile: writers of two handles on one file (as of two
// processes) do not share the in-process write queue; IMMEDIATE transactions
// and the busy timeout must still serialise them without SQLITE_BUSY.
func TestTwoHandlesOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	dbs := []*DB{openTest(t, path, Options{}), openTest(t, path, Options{})}
	defer dbs[0].Close()
	defer dbs[1].Close()
	ten := &cc.Tenant{Slug: "acme", Region: "US"}
	ten.Normalize()
	if err := dbs[0].CreateTenant(t.Context(), ten); err != nil {
		t.Fatal(err)
	}
	item := &cc.OutboxItem{TenantID: ten.ID, Kind: cc.OutboxCRMLog, Key: "int_1"}
	if err := dbs[0].EnqueueOutbox(t.Context(), item); err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 6, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			db := dbs[w%2]
			for range rounds {
				if err := db.AppendEvents(t.Context(), cc.NewEvent(ten.ID, cc.EventAgentState, time.Now(), nil)); err != nil {
					errs <- err
					return
				}
				// RetryOutbox reads before it writes: a deferred
				// transaction could not upgrade its lock here.
				if err := db.RetryOutbox(t.Context(), item.ID, "busy", time.Now()); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	evs, err := dbs[1].Events(t.Context(), cc.EventFilter{TenantID: ten.ID})
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has sequence %d", i, ev.Seq)
		}
	}
	if len(evs) != workers*rounds {
		t.Errorf("%d events stored, want %d", len(evs), workers*rounds)
	}
	got, err := dbs[0].OutboxItem(t.Context(), item.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Attempts != workers*rounds {
		t.Errorf("%d attempts counted, want %d", got.Attempts, workers*rounds)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	db := openTest(t, path, Options{})
	if _, err := db.db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := Open(t.Context(), path, Options{})
	if err == nil || !strings.Contains(err.Error(), "newer") || !strings.Contains(err.Error(), "9999") {
		t.Fatalf("opening a database from a newer Parley: %v, want an error naming version 9999 as newer", err)
	}
}

func TestLoadMigrations(t *testing.T) {
	file := &fstest.MapFile{Data: []byte("CREATE TABLE x (a INTEGER);")}
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  string // "" for success
	}{
		{"ordered", fstest.MapFS{"0002_b.sql": file, "0001_a.sql": file}, ""},
		{"gap", fstest.MapFS{"0001_a.sql": file, "0003_c.sql": file}, "expected number 2"},
		{"repeat", fstest.MapFS{"0001_a.sql": file, "0001_b.sql": file}, "expected number 2"},
		{"no number", fstest.MapFS{"init.sql": file}, "NNNN_description.sql"},
		{"zero", fstest.MapFS{"0000_a.sql": file}, "positive number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := loadMigrations(tc.files)
			if tc.want == "" {
				if err != nil || len(ms) != 2 || ms[0].version != 1 || ms[1].name != "0002_b.sql" {
					t.Fatalf("got %v, %v", ms, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestMigrationFailureRollsBack(t *testing.T) {
	db := openTest(t, MemoryPath, Options{})
	defer db.Close()
	fsys := fstest.MapFS{}
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		fsys[m.name] = &fstest.MapFile{Data: []byte(m.sql)}
	}
	bad := fmt.Sprintf("%04d_bad.sql", len(ms)+1)
	fsys[bad] = &fstest.MapFile{Data: []byte("CREATE TABLE half (a INTEGER); CREATE TABLE tenants (b INTEGER);")}
	err = db.migrate(t.Context(), fsys)
	if err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("a failing migration: %v, want an error naming %s", err, bad)
	}
	var n int
	if err := db.db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'half'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the failed migration's first table was kept (%d): %v", n, err)
	}
	if err := db.db.QueryRow(`SELECT count(*) FROM schema_migrations WHERE name = ?`, bad).Scan(&n); err != nil || n != 0 {
		t.Errorf("the failed migration is recorded (%d) or its table kept: %v", n, err)
	}
}

func TestOpenRejectsBadPath(t *testing.T) {
	for _, path := range []string{"", "parley.db?mode=ro", "a#b.db"} {
		if _, err := Open(t.Context(), path, Options{}); cc.ErrorCode(err) != cc.EINVALID {
			t.Errorf("open %q: %v, want EINVALID", path, err)
		}
	}
}

func secretTenant() *cc.Tenant {
	t := &cc.Tenant{Slug: "vault", Region: "US", CRM: cc.CRMConnection{
		Kind: "salesforce", LoginURL: "https://login.salesforce.com", ClientID: "3MVG9", Username: "int@vault.example",
		PrivateKey: []byte("-----BEGIN PRIVATE KEY-----plaintext-key"), ClientSecret: []byte("plaintext-secret"),
	}}
	t.Normalize()
	return t
}

func TestSecretsSealedAtRest(t *testing.T) {
	sealer := newTestSealer(t)
	db := openTest(t, filepath.Join(t.TempDir(), "parley.db"), Options{Sealer: sealer})
	defer db.Close()
	ten := secretTenant()
	if err := db.CreateTenant(t.Context(), ten); err != nil {
		t.Fatal(err)
	}
	var key, secret []byte
	if err := db.db.QueryRow(`SELECT crm_private_key, crm_client_secret FROM tenants WHERE id = ?`, ten.ID).Scan(&key, &secret); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		raw, plain []byte
	}{{"private key", key, ten.CRM.PrivateKey}, {"client secret", secret, ten.CRM.ClientSecret}} {
		if bytes.Contains(c.raw, c.plain) || bytes.Contains(c.raw, []byte("plaintext")) {
			t.Errorf("the %s is stored in the clear: %q", c.name, c.raw)
		}
		if opened, err := sealer.Open(c.raw); err != nil || !bytes.Equal(opened, c.plain) {
			t.Errorf("the stored %s does not open to the secret: %q, %v", c.name, opened, err)
		}
	}
}

func TestSecretsNeedSealer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	db := openTest(t, path, Options{})
	ten := secretTenant()
	err := db.CreateTenant(t.Context(), ten)
	if cc.ErrorCode(err) != cc.EINTERNAL || !strings.Contains(err.Error(), "no sealer configured") {
		t.Fatalf("create tenant with secrets and no sealer: %v, want EINTERNAL no sealer configured", err)
	}
	if _, err := db.TenantBySlug(t.Context(), "vault"); cc.ErrorCode(err) != cc.ENOTFOUND {
		t.Errorf("a refused tenant was stored: %v", err)
	}
	plain := &cc.Tenant{Slug: "plain", Region: "US"}
	plain.Normalize()
	if err := db.CreateTenant(t.Context(), plain); err != nil {
		t.Fatalf("create tenant without secrets and no sealer: %v", err)
	}
	db.Close()

	db = openTest(t, path, Options{Sealer: newTestSealer(t)})
	if err := db.CreateTenant(t.Context(), ten); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = openTest(t, path, Options{})
	defer db.Close()
	if _, err := db.Tenant(t.Context(), ten.ID); cc.ErrorCode(err) != cc.EINTERNAL || !strings.Contains(err.Error(), "no sealer configured") {
		t.Errorf("read tenant with secrets and no sealer: %v, want EINTERNAL no sealer configured", err)
	}
	if _, err := db.Tenant(t.Context(), plain.ID); err != nil {
		t.Errorf("read tenant without secrets and no sealer: %v", err)
	}
}

func TestTimeOutOfRange(t *testing.T) {
	db := openTest(t, MemoryPath, Options{})
	defer db.Close()
	ten := &cc.Tenant{Slug: "acme", Region: "US", CreatedAt: time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)}
	ten.Normalize()
	err := db.CreateTenant(t.Context(), ten)
	if cc.ErrorCode(err) != cc.EINVALID || !strings.Contains(cc.ErrorMessage(err), "1678") {
		t.Errorf("create tenant in 1500: %v, want EINVALID naming the range", err)
	}
}

func TestErrorWrapping(t *testing.T) {
	db := openTest(t, MemoryPath, Options{})
	defer db.Close()
	_, err := db.User(t.Context(), "ten_x", "usr_missing")
	if !strings.HasPrefix(err.Error(), "read user usr_missing: ") {
		t.Errorf("error %q does not start with the operation", err)
	}
	if cc.ErrorMessage(err) != `user "usr_missing" not found` {
		t.Errorf("user-safe message %q", cc.ErrorMessage(err))
	}
}

func benchDB(b *testing.B) (*DB, *cc.Tenant) {
	db := openTest(b, filepath.Join(b.TempDir(), "parley.db"), Options{})
	b.Cleanup(func() { db.Close() })
	ten := &cc.Tenant{Slug: "bench", Region: "US"}
	ten.Normalize()
	if err := db.CreateTenant(b.Context(), ten); err != nil {
		b.Fatal(err)
	}
	return db, ten
}

func BenchmarkAppendEvents(b *testing.B) {
	db, ten := benchDB(b)
	for b.Loop() {
		ev := cc.NewEvent(ten.ID, cc.EventAgentState, time.Now(), map[string]string{"state": "available"})
		if err := db.AppendEvents(b.Context(), ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpdateInteraction(b *testing.B) {
	db, ten := benchDB(b)
	it := &cc.Interaction{TenantID: ten.ID, State: cc.InteractionQueued, Channel: cc.ChannelPhone, Direction: cc.Inbound, CreatedAt: time.Now()}
	if err := db.CreateInteraction(b.Context(), it, cc.InteractionChange{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		it.Offers++
		ev := cc.NewEvent(ten.ID, cc.EventInteractionOffered, time.Now(), nil)
		ev.InteractionID = it.ID
		if err := db.UpdateInteraction(b.Context(), it, cc.InteractionChange{Events: []*cc.Event{ev}}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEndpointMigrationKeepsPhonesRinging rolls a database back to before
// 0004_user_endpoint.sql and applies it again: users with a SIP username or
// a static contact take calls on them, the others in the browser.
func TestEndpointMigrationKeepsPhonesRinging(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "parley.db"), Options{})
	defer db.Close()
	ctx := t.Context()
	ten := &cc.Tenant{Slug: "acme", Region: "US"}
	ten.Normalize()
	if err := db.CreateTenant(ctx, ten); err != nil {
		t.Fatal(err)
	}
	users := map[string]*cc.User{
		"desk":   {StaticContact: "sip:desk@10.0.0.5"},
		"phone":  {SIPUsername: "phone", SIPHA1: strings.Repeat("0f", 16)},
		"nobody": {},
	}
	for name, u := range users {
		u.TenantID, u.Username, u.Roles = ten.ID, name, []cc.Role{cc.RoleAgent}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.db.ExecContext(ctx, `ALTER TABLE users DROP COLUMN endpoint;
		ALTER TABLE users DROP COLUMN external_number;
		DELETE FROM schema_migrations WHERE name = '0004_user_endpoint.sql'`); err != nil {
		t.Fatal(err)
	}
	if err := db.migrate(ctx, migrationFiles); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]cc.Endpoint{"desk": cc.EndpointSIP, "phone": cc.EndpointSIP, "nobody": cc.EndpointBrowser} {
		u, err := db.UserByUsername(ctx, ten.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		if u.Endpoint != want || u.ExternalNumber != "" {
			t.Errorf("%s after the migration: endpoint %q, external number %q; want %q and none", name, u.Endpoint, u.ExternalNumber, want)
		}
	}
}
