-- The browser side of devcrm: who signs in to the record pages, and the call
-- centers that give users the Open CTI softphone.

-- Passwords of Users for devcrm's sign-in page (argon2id PHC strings from
-- internal/auth). A User without a row cannot sign in to the pages.
CREATE TABLE ui_password (
	user_id       TEXT PRIMARY KEY REFERENCES "User" ("Id") ON DELETE CASCADE,
	password_hash TEXT NOT NULL,
	updated_at    TEXT NOT NULL
);

-- Users who may use Setup (call centers and their users), as Salesforce's
-- system administrators may.
CREATE TABLE ui_admin (
	user_id TEXT PRIMARY KEY REFERENCES "User" ("Id") ON DELETE CASCADE
);

-- Browser sessions: only the SHA-256 hash of the cookie; times in Unix ms.
CREATE TABLE ui_session (
	token_hash TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES "User" ("Id") ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX ui_session_expiry ON ui_session (expires_at);

-- Imported call center definition files, kept as imported.
CREATE TABLE call_center (
	internal_name TEXT PRIMARY KEY COLLATE NOCASE,
	display_name  TEXT NOT NULL,
	adapter_url   TEXT NOT NULL,
	definition    TEXT NOT NULL,
	imported_at   TEXT NOT NULL
);

-- A user is in at most one call center, as in Salesforce.
CREATE TABLE call_center_user (
	user_id       TEXT PRIMARY KEY REFERENCES "User" ("Id") ON DELETE CASCADE,
	internal_name TEXT NOT NULL REFERENCES call_center (internal_name) ON DELETE CASCADE
);
CREATE INDEX call_center_user_center ON call_center_user (internal_name);
