package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
)

var _ cc.TenantStore = (*DB)(nil)

const tenantColumns = `id, slug, display_name, kind, cluster, region, time_zone,
	not_ready_reasons, dispositions, crm_kind, crm_login_url, crm_api_version,
	crm_client_id, crm_username, crm_private_key, crm_client_secret,
	crm_log_cap_bytes, crm_base_url, created_at, crm_origins,
	crm_sso_client_id, crm_sso_client_secret, crm_my_domain`

// CreateTenant stores a new tenant. It assigns an ID and CreatedAt when they
// are empty. ECONFLICT if the slug or the id is taken.
func (s *DB) CreateTenant(ctx context.Context, t *cc.Tenant) (err error) {
	defer wrap(&err, "create tenant %s", t.Slug)
	if err := t.Validate(); err != nil {
		return err
	}
	t.ID = newID(t.ID, "ten")
	t.CreatedAt = created(t.CreatedAt)
	args, err := s.tenantArgs(t)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tenants (`+tenantColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		return tenantConflict(err, t)
	})
}

// UpdateTenant replaces a tenant's fields (all but ID and CreatedAt).
// ENOTFOUND if it does not exist; ECONFLICT if the new slug is taken.
func (s *DB) UpdateTenant(ctx context.Context, t *cc.Tenant) (err error) {
	defer wrap(&err, "update tenant %s", t.ID)
	if err := t.Validate(); err != nil {
		return err
	}
	args, err := s.tenantArgs(t)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		err := execOne(ctx, tx, tenantNotFound(t.ID), `UPDATE tenants SET
			slug = ?2, display_name = ?3, kind = ?4, cluster = ?5, region = ?6, time_zone = ?7,
			not_ready_reasons = ?8, dispositions = ?9, crm_kind = ?10, crm_login_url = ?11,
			crm_api_version = ?12, crm_client_id = ?13, crm_username = ?14,
			crm_private_key = ?15, crm_client_secret = ?16, crm_log_cap_bytes = ?17, crm_base_url = ?18,
			crm_origins = ?20, crm_sso_client_id = ?21, crm_sso_client_secret = ?22, crm_my_domain = ?23
			WHERE id = ?1`, args...)
		return tenantConflict(err, t)
	})
}

func tenantConflict(err error, t *cc.Tenant) error {
	if err == nil {
		return nil
	}
	return constraintError(err, "",
		conflict{"tenants.slug", fmt.Sprintf("tenant name %q is already taken", t.Slug)},
		conflict{"tenants.id", fmt.Sprintf("tenant id %q already exists", t.ID)})
}

func tenantNotFound(id string) error {
	return cc.Errorf(cc.ENOTFOUND, "tenant %q not found", id)
}

// Tenant returns a tenant by id. ENOTFOUND if none.
func (s *DB) Tenant(ctx context.Context, id string) (_ *cc.Tenant, err error) {
	defer wrap(&err, "read tenant %s", id)
	return queryOne(ctx, s.db, s.scanTenant, tenantNotFound(id),
		`SELECT `+tenantColumns+` FROM tenants WHERE id = ?`, id)
}

// TenantBySlug returns a tenant by slug (case-insensitive). ENOTFOUND if none.
func (s *DB) TenantBySlug(ctx context.Context, slug string) (_ *cc.Tenant, err error) {
	defer wrap(&err, "read tenant %s", slug)
	return queryOne(ctx, s.db, s.scanTenant, cc.Errorf(cc.ENOTFOUND, "tenant %q not found", slug),
		`SELECT `+tenantColumns+` FROM tenants WHERE slug = ?`, strings.ToLower(strings.TrimSpace(slug)))
}

// Tenants returns all tenants ordered by slug.
func (s *DB) Tenants(ctx context.Context) (_ []*cc.Tenant, err error) {
	defer wrap(&err, "list tenants")
	return queryAll(ctx, s.db, s.scanTenant, `SELECT `+tenantColumns+` FROM tenants ORDER BY slug`)
}

// tenantArgs returns the column values of t in tenantColumns order, with the
// CRM secrets sealed.
func (s *DB) tenantArgs(t *cc.Tenant) ([]any, error) {
	key, err := s.seal("CRM private key", t.CRM.PrivateKey)
	if err != nil {
		return nil, err
	}
	secret, err := s.seal("CRM client secret", t.CRM.ClientSecret)
	if err != nil {
		return nil, err
	}
	ssoSecret, err := s.seal("CRM SSO client secret", t.CRM.SSOClientSecret)
	if err != nil {
		return nil, err
	}
	var e encoder
	args := []any{t.ID, t.Slug, t.DisplayName, int64(t.Kind), t.Cluster, t.Region, t.TimeZone,
		e.json("not-ready reasons", t.NotReadyReasons), e.json("dispositions", t.Dispositions),
		t.CRM.Kind, t.CRM.LoginURL, t.CRM.APIVersion, t.CRM.ClientID, t.CRM.Username, key, secret,
		int64(t.CRM.LogCapBytes), t.CRM.BaseURL, e.time("created at", t.CreatedAt),
		e.json("CRM origins", nonNilStrings(t.CRMOrigins)),
		t.CRM.SSOClientID, ssoSecret, t.CRM.MyDomain}
	return args, e.err
}

// nonNilStrings stores a nil list as [] so that every row has an array.
func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *DB) scanTenant(sc scanner) (*cc.Tenant, error) {
	var t cc.Tenant
	var key, secret, ssoSecret []byte
	err := sc.Scan(&t.ID, &t.Slug, &t.DisplayName, &t.Kind, &t.Cluster, &t.Region, &t.TimeZone,
		jsonCol{&t.NotReadyReasons}, jsonCol{&t.Dispositions},
		&t.CRM.Kind, &t.CRM.LoginURL, &t.CRM.APIVersion, &t.CRM.ClientID, &t.CRM.Username, &key, &secret,
		&t.CRM.LogCapBytes, &t.CRM.BaseURL, timeCol{&t.CreatedAt}, jsonCol{&t.CRMOrigins},
		&t.CRM.SSOClientID, &ssoSecret, &t.CRM.MyDomain)
	if err != nil {
		return nil, err
	}
	if len(t.CRMOrigins) == 0 {
		t.CRMOrigins = nil // none reads as nil, as a tenant without them is built
	}
	if t.CRM.PrivateKey, err = s.open("CRM private key", t.Slug, key); err != nil {
		return nil, err
	}
	if t.CRM.ClientSecret, err = s.open("CRM client secret", t.Slug, secret); err != nil {
		return nil, err
	}
	if t.CRM.SSOClientSecret, err = s.open("CRM SSO client secret", t.Slug, ssoSecret); err != nil {
		return nil, err
	}
	return &t, nil
}

// seal encrypts a secret for storage; an empty secret is stored as NULL.
func (s *DB) seal(what string, plain []byte) (any, error) {
	if len(plain) == 0 {
		return nil, nil
	}
	if s.sealer == nil {
		return nil, cc.Errorf(cc.EINTERNAL, "no sealer configured: cannot store the %s", what)
	}
	sealed, err := s.sealer.Seal(plain)
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", what, err)
	}
	return sealed, nil
}

// open decrypts a stored secret; NULL reads as nil.
func (s *DB) open(what, tenant string, sealed []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, nil
	}
	if s.sealer == nil {
		return nil, cc.Errorf(cc.EINTERNAL, "no sealer configured: cannot read the %s of tenant %s", what, tenant)
	}
	plain, err := s.sealer.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("open %s of tenant %s: %w", what, tenant, err)
	}
	return plain, nil
}
