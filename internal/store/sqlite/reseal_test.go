package sqlite

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/secret"
)

func keyring(t *testing.T, lines ...string) *secret.Keyring {
	t.Helper()
	k, err := secret.Parse(strings.Join(lines, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// counts renders SealedCounts as "what key n" lines.
func counts(t *testing.T, db *DB) []string {
	t.Helper()
	cs, err := db.SealedCounts(t.Context(), secret.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s %s %d", c.What, c.KeyID, c.N))
	}
	return out
}

// TestResealEveryColumn rotates the key of a database holding a value in
// every sealed column: after Reseal each is sealed with the new key and
// reads back with a keyring that has only the new key.
func TestResealEveryColumn(t *testing.T) {
	k1, k2 := secret.NewKeyLine("k1"), secret.NewKeyLine("k2")
	path := filepath.Join(t.TempDir(), "parley.db")
	ctx := t.Context()
	db := openTest(t, path, Options{Sealer: keyring(t, k1)})
	ten := secretTenant()
	ten.CRM.SSOClientID, ten.CRM.SSOClientSecret = "3MVG9sso", []byte("sso-secret")
	if err := db.CreateTenant(ctx, ten); err != nil {
		t.Fatal(err)
	}
	other := &cc.Tenant{Slug: "other", Region: "US", CRM: cc.CRMConnection{Kind: "salesforce", LoginURL: "https://login.salesforce.com", ClientID: "x", ClientSecret: []byte("other-secret")}}
	other.Normalize()
	if err := db.CreateTenant(ctx, other); err != nil {
		t.Fatal(err)
	}
	u := &cc.User{TenantID: ten.ID, Username: "alice", Roles: []cc.Role{cc.RoleAgent}}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := db.PutCRMRefreshToken(ctx, ten.ID, u.ID, "salesforce", []byte("refresh-1"), time.Now()); err != nil {
		t.Fatal(err)
	}
	want := []string{"CRM private key k1 1", "CRM client secret k1 2", "CRM SSO client secret k1 1", "CRM refresh token k1 1"}
	if got := counts(t, db); !slices.Equal(got, want) {
		t.Fatalf("counts before: %q, want %q", got, want)
	}
	db.Close()

	// Every sealed column is in the test: a new one must be added here too.
	if len(sealedColumns) != 4 {
		t.Fatalf("%d sealed columns, the test fills 4: put a value in the new one", len(sealedColumns))
	}

	db = openTest(t, path, Options{Sealer: keyring(t, k2, k1)})
	n, err := db.Reseal(ctx)
	if err != nil || n != 5 {
		t.Fatalf("Reseal = %d, %v; want 5", n, err)
	}
	want = []string{"CRM private key k2 1", "CRM client secret k2 2", "CRM SSO client secret k2 1", "CRM refresh token k2 1"}
	if got := counts(t, db); !slices.Equal(got, want) {
		t.Fatalf("counts after: %q, want %q", got, want)
	}
	db.Close()

	db = openTest(t, path, Options{Sealer: keyring(t, k2)})
	defer db.Close()
	got, err := db.Tenant(ctx, ten.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.CRM.PrivateKey) != string(ten.CRM.PrivateKey) || string(got.CRM.ClientSecret) != "plaintext-secret" || string(got.CRM.SSOClientSecret) != "sso-secret" {
		t.Errorf("secrets after rotation: %q %q %q", got.CRM.PrivateKey, got.CRM.ClientSecret, got.CRM.SSOClientSecret)
	}
	if tok, err := db.CRMRefreshToken(ctx, ten.ID, u.ID, "salesforce"); err != nil || string(tok) != "refresh-1" {
		t.Errorf("refresh token after rotation: %q %v", tok, err)
	}
}

// TestResealAllOrNothing checks that a value that does not open stops the
// re-sealing with an error naming it and changes nothing.
func TestResealAllOrNothing(t *testing.T) {
	k1, k2, k3 := secret.NewKeyLine("k1"), secret.NewKeyLine("k2"), secret.NewKeyLine("k3")
	path := filepath.Join(t.TempDir(), "parley.db")
	ctx := t.Context()
	db := openTest(t, path, Options{Sealer: keyring(t, k1)})
	a := &cc.Tenant{Slug: "acme", Region: "US", CRM: cc.CRMConnection{Kind: "salesforce", LoginURL: "https://login.salesforce.com", ClientID: "x", ClientSecret: []byte("a")}}
	a.Normalize()
	if err := db.CreateTenant(ctx, a); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = openTest(t, path, Options{Sealer: keyring(t, k2)})
	b := &cc.Tenant{Slug: "bolt", Region: "US", CRM: cc.CRMConnection{Kind: "salesforce", LoginURL: "https://login.salesforce.com", ClientID: "x", ClientSecret: []byte("b")}}
	b.Normalize()
	if err := db.CreateTenant(ctx, b); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// k1 is lost: acme's secret cannot be opened.
	db = openTest(t, path, Options{Sealer: keyring(t, k3, k2)})
	defer db.Close()
	_, err := db.Reseal(ctx)
	if err == nil || !strings.Contains(err.Error(), "CRM client secret of tenants row") || !strings.Contains(err.Error(), `key "k1" is not in the keyring`) {
		t.Fatalf("Reseal with a lost key: %v", err)
	}
	want := []string{"CRM client secret k1 1", "CRM client secret k2 1"}
	if got := counts(t, db); !slices.Equal(got, want) {
		t.Fatalf("counts after a failed Reseal: %q, want %q (nothing changed)", got, want)
	}
}

// TestSealedColumnsComplete fails when a BLOB column of the schema is
// neither a sealed column (re-sealed on key rotation) nor a known plain one.
func TestSealedColumnsComplete(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "parley.db"), Options{Sealer: newTestSealer(t)})
	defer db.Close()
	sealed := map[string]bool{}
	for _, c := range sealedColumns {
		sealed[c.table+"."+c.column] = true
	}
	rows, err := db.db.Query(`SELECT m.name, p.name, p.type FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var table, col, typ string
		if err := rows.Scan(&table, &col, &typ); err != nil {
			t.Fatal(err)
		}
		name := table + "." + col
		seen[name] = true
		if strings.EqualFold(typ, "BLOB") && !sealed[name] && !plainBlobColumns[name] {
			t.Errorf("BLOB column %s is neither in sealedColumns (key rotation re-seals it) nor in plainBlobColumns", name)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for name := range sealed {
		if !seen[name] {
			t.Errorf("sealed column %s is not in the schema", name)
		}
	}
	for name := range plainBlobColumns {
		if !seen[name] {
			t.Errorf("plain BLOB column %s is not in the schema", name)
		}
	}
}
