-- Single sign-on from the CRM (internal/sso). The tenant's SSO connected
-- app (its consumer key, its consumer secret sealed with the keyring) and
-- the org's My Domain URL live on the tenant row with the other CRM fields.
ALTER TABLE tenants ADD COLUMN crm_sso_client_id TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN crm_sso_client_secret BLOB;
ALTER TABLE tenants ADD COLUMN crm_my_domain TEXT NOT NULL DEFAULT '';

-- Parley's one-time consent: the user allowed the panel framed in this CRM
-- origin to act as them.
CREATE TABLE sso_consents (
	tenant_id  TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	origin     TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, user_id, origin),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE
);

-- The CRM refresh token an SSO sign-in returned, sealed with the keyring;
-- one per user and CRM, replaced by the next sign-in.
CREATE TABLE crm_tokens (
	tenant_id     TEXT NOT NULL,
	user_id       TEXT NOT NULL,
	crm           TEXT NOT NULL,
	refresh_token BLOB NOT NULL,
	updated_at    INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, user_id, crm),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE
);
