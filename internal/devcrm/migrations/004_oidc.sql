-- devcrm as an OpenID provider: connected apps that sign users in, the
-- requests in flight, the consents users gave, refresh tokens and the
-- signing key.

-- A connected app's OpenID side: its name on the consent page, its
-- callback URLs (one per line, matched exactly) and whether it must send a
-- PKCE challenge. An app without a secret is public and always needs PKCE.
ALTER TABLE connected_app ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE connected_app ADD COLUMN callback_urls TEXT NOT NULL DEFAULT '';
ALTER TABLE connected_app ADD COLUMN require_pkce INTEGER NOT NULL DEFAULT 0;

-- Authorization requests between /services/oauth2/authorize and the code
-- exchange; times in Unix ms. user_id is set once the user signed in,
-- consented once the app may act for them; code_hash once a code is out.
CREATE TABLE oauth_request (
	id                    TEXT PRIMARY KEY,
	client_id             TEXT NOT NULL REFERENCES connected_app (client_id) ON DELETE CASCADE,
	redirect_uri          TEXT NOT NULL,
	scopes                TEXT NOT NULL,
	state                 TEXT NOT NULL,
	nonce                 TEXT NOT NULL,
	response_type         TEXT NOT NULL,
	response_mode         TEXT NOT NULL,
	code_challenge        TEXT NOT NULL,
	code_challenge_method TEXT NOT NULL,
	prompt                TEXT NOT NULL,
	login_hint            TEXT NOT NULL,
	user_id               TEXT REFERENCES "User" ("Id") ON DELETE CASCADE,
	auth_time             INTEGER NOT NULL DEFAULT 0,
	consented             INTEGER NOT NULL DEFAULT 0,
	code_hash             TEXT UNIQUE,
	created_at            INTEGER NOT NULL,
	expires_at            INTEGER NOT NULL
);
CREATE INDEX oauth_request_expiry ON oauth_request (expires_at);

-- "Allow" on the consent page, remembered per user and app.
CREATE TABLE oauth_consent (
	user_id    TEXT NOT NULL REFERENCES "User" ("Id") ON DELETE CASCADE,
	client_id  TEXT NOT NULL REFERENCES connected_app (client_id) ON DELETE CASCADE,
	granted_at TEXT NOT NULL,
	PRIMARY KEY (user_id, client_id)
);

-- Refresh tokens: only their SHA-256 hashes. Each use replaces the token
-- (rotation); times in Unix ms.
CREATE TABLE oauth_refresh_token (
	token_hash TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES "User" ("Id") ON DELETE CASCADE,
	client_id  TEXT NOT NULL REFERENCES connected_app (client_id) ON DELETE CASCADE,
	scopes     TEXT NOT NULL,
	auth_time  INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX oauth_refresh_token_expiry ON oauth_refresh_token (expires_at);

-- The access tokens of the OpenID flows carry which app and scopes they
-- were given for (the access_token rows of the other grants leave it empty).
ALTER TABLE access_token ADD COLUMN scopes TEXT NOT NULL DEFAULT '';

-- RS256 keys that sign id_tokens (PKCS #8 PEM); the newest signs, all are
-- published at /id/keys.
CREATE TABLE oidc_key (
	kid         TEXT PRIMARY KEY,
	private_pem TEXT NOT NULL,
	created_at  TEXT NOT NULL
);
