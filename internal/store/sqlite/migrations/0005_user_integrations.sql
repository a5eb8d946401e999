-- Each user's third-party integration entries: the account the user signs in
-- to a CRM with ('salesforce'), at most one per CRM. The username is stored
-- normalised (trimmed, lowercase), so the unique key compares e-mail-style
-- usernames case-insensitively: within a tenant one CRM username belongs to
-- one user at most. Single sign-on from the CRM looks users up by it.
CREATE TABLE user_integrations (
	tenant_id TEXT NOT NULL,
	user_id   TEXT NOT NULL,
	crm       TEXT NOT NULL,
	username  TEXT NOT NULL,
	PRIMARY KEY (tenant_id, user_id, crm),
	UNIQUE (tenant_id, crm, username),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;
