package sqlite

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

func TestSSOSettingsSealedAndRead(t *testing.T) {
	sealer := newTestSealer(t)
	db := openTest(t, filepath.Join(t.TempDir(), "parley.db"), Options{Sealer: sealer})
	defer db.Close()
	ctx := t.Context()
	ten := secretTenant()
	ten.CRM.SSOClientID, ten.CRM.SSOClientSecret, ten.CRM.MyDomain = "3MVG9sso", []byte("plaintext-sso-secret"), "https://vault.my.salesforce.com"
	if err := db.CreateTenant(ctx, ten); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	if err := db.db.QueryRow(`SELECT crm_sso_client_secret FROM tenants WHERE id = ?`, ten.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("plaintext")) {
		t.Errorf("the SSO client secret is stored in the clear: %q", raw)
	}
	got, err := db.Tenant(ctx, ten.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.CRM.SSOClientID != "3MVG9sso" || string(got.CRM.SSOClientSecret) != "plaintext-sso-secret" || got.CRM.MyDomain != "https://vault.my.salesforce.com" {
		t.Errorf("SSO settings read back as %q %q %q", got.CRM.SSOClientID, got.CRM.SSOClientSecret, got.CRM.MyDomain)
	}
	got.CRM.MyDomain = ""
	if err := db.UpdateTenant(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got, _ = db.Tenant(ctx, ten.ID); got.CRM.MyDomain != "" || got.CRM.SSOClientID != "3MVG9sso" {
		t.Errorf("after update: %+v", got.CRM)
	}
}

func TestSSOConsentAndRefreshToken(t *testing.T) {
	sealer := newTestSealer(t)
	db := openTest(t, filepath.Join(t.TempDir(), "parley.db"), Options{Sealer: sealer})
	defer db.Close()
	ctx := t.Context()
	ten := &cc.Tenant{Slug: "acme", Region: "US"}
	ten.Normalize()
	if err := db.CreateTenant(ctx, ten); err != nil {
		t.Fatal(err)
	}
	u := &cc.User{TenantID: ten.ID, Username: "alice", Roles: []cc.Role{cc.RoleAgent}}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	const origin = "https://acme.lightning.force.com"
	now := time.Now().UTC()
	if ok, err := db.HasSSOConsent(ctx, ten.ID, u.ID, origin); err != nil || ok {
		t.Fatalf("consent before any: %v %v", ok, err)
	}
	for range 2 { // giving it twice is not an error
		if err := db.PutSSOConsent(ctx, ten.ID, u.ID, origin, now); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := db.HasSSOConsent(ctx, ten.ID, u.ID, origin); err != nil || !ok {
		t.Fatalf("consent after put: %v %v", ok, err)
	}
	if ok, _ := db.HasSSOConsent(ctx, ten.ID, u.ID, "https://other.lightning.force.com"); ok {
		t.Fatal("a consent for one origin counts for another")
	}

	if _, err := db.CRMRefreshToken(ctx, ten.ID, u.ID, "salesforce"); cc.ErrorCode(err) != cc.ENOTFOUND {
		t.Fatalf("token before any: %v, want ENOTFOUND", err)
	}
	for _, tok := range []string{"plaintext-refresh-1", "plaintext-refresh-2"} {
		if err := db.PutCRMRefreshToken(ctx, ten.ID, u.ID, "salesforce", []byte(tok), now); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.CRMRefreshToken(ctx, ten.ID, u.ID, "salesforce")
	if err != nil || string(got) != "plaintext-refresh-2" {
		t.Fatalf("token = %q, %v; want the last one stored", got, err)
	}
	var raw []byte
	if err := db.db.QueryRow(`SELECT refresh_token FROM crm_tokens WHERE user_id = ?`, u.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("plaintext")) {
		t.Errorf("the refresh token is stored in the clear: %q", raw)
	}
	if err := db.PutCRMRefreshToken(ctx, ten.ID, u.ID, "salesforce", nil, now); cc.ErrorCode(err) != cc.EINVALID {
		t.Errorf("empty token: %v, want EINVALID", err)
	}

	// The issuer goes with the grant; a rotated token keeps it.
	if err := db.PutCRMGrant(ctx, ten.ID, u.ID, "salesforce", "https://test.salesforce.com", []byte("plaintext-refresh-3"), now); err != nil {
		t.Fatal(err)
	}
	if err := db.PutCRMRefreshToken(ctx, ten.ID, u.ID, "salesforce", []byte("plaintext-refresh-4"), now); err != nil {
		t.Fatal(err)
	}
	got, issuer, err := db.CRMGrant(ctx, ten.ID, u.ID, "salesforce")
	if err != nil || string(got) != "plaintext-refresh-4" || issuer != "https://test.salesforce.com" {
		t.Fatalf("grant = %q %q, %v; want the rotated token with the sign-in's issuer", got, issuer, err)
	}
	for range 2 { // absent is not an error
		if err := db.DeleteCRMRefreshToken(ctx, ten.ID, u.ID, "salesforce"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := db.CRMGrant(ctx, ten.ID, u.ID, "salesforce"); cc.ErrorCode(err) != cc.ENOTFOUND {
		t.Errorf("grant after delete: %v, want ENOTFOUND", err)
	}
}
