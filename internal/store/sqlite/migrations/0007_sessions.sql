-- Short-lived sessions with refresh (internal/center): how the user signed
-- in, the absolute end set at sign-in, the last refresh, and the token the
-- last refresh replaced with how long it keeps working (a few seconds, for
-- requests other tabs sent while the refresh ran).
ALTER TABLE sessions ADD COLUMN method TEXT NOT NULL DEFAULT 'password';
ALTER TABLE sessions ADD COLUMN max_expires_at INTEGER;
ALTER TABLE sessions ADD COLUMN refreshed_at INTEGER;
ALTER TABLE sessions ADD COLUMN prev_token_hash TEXT;
ALTER TABLE sessions ADD COLUMN prev_valid_until INTEGER;
CREATE UNIQUE INDEX sessions_prev_token ON sessions (prev_token_hash);

-- The issuer (the CRM's OpenID login host) that gave a CRM refresh token:
-- refreshing and revoking it go to that issuer's endpoints. Empty for a
-- token stored before this migration (refresh then uses the tenant's
-- production login host or My Domain).
ALTER TABLE crm_tokens ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
