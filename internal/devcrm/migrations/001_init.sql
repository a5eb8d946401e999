-- devcrm's schema. Tables named after sObjects hold records with one column
-- per field, named exactly as the field; the Go schema (schema.go) must agree,
-- and TestSchemaMatchesMigrations checks that it does. Text compares without
-- regard to ASCII case, as SOQL's = does.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE "User" (
	"Id"               TEXT PRIMARY KEY,
	"Username"         TEXT NOT NULL COLLATE NOCASE UNIQUE,
	"Email"            TEXT NOT NULL COLLATE NOCASE,
	"FirstName"        TEXT COLLATE NOCASE,
	"LastName"         TEXT NOT NULL COLLATE NOCASE,
	"Name"             TEXT COLLATE NOCASE GENERATED ALWAYS AS (trim(coalesce("FirstName", '') || ' ' || "LastName")) VIRTUAL,
	"IsActive"         INTEGER NOT NULL DEFAULT 1,
	"CreatedDate"      TEXT NOT NULL,
	"LastModifiedDate" TEXT NOT NULL
);

CREATE TABLE "Account" (
	"Id"               TEXT PRIMARY KEY,
	"Name"             TEXT NOT NULL COLLATE NOCASE,
	"Phone"            TEXT COLLATE NOCASE,
	"OwnerId"          TEXT REFERENCES "User" ("Id"),
	"CreatedDate"      TEXT NOT NULL,
	"LastModifiedDate" TEXT NOT NULL
);

CREATE TABLE "Contact" (
	"Id"               TEXT PRIMARY KEY,
	"FirstName"        TEXT COLLATE NOCASE,
	"LastName"         TEXT NOT NULL COLLATE NOCASE,
	"Name"             TEXT COLLATE NOCASE GENERATED ALWAYS AS (trim(coalesce("FirstName", '') || ' ' || "LastName")) VIRTUAL,
	"Phone"            TEXT COLLATE NOCASE,
	"MobilePhone"      TEXT COLLATE NOCASE,
	"Email"            TEXT COLLATE NOCASE,
	"AccountId"        TEXT REFERENCES "Account" ("Id") ON DELETE CASCADE,
	"OwnerId"          TEXT REFERENCES "User" ("Id"),
	"CreatedDate"      TEXT NOT NULL,
	"LastModifiedDate" TEXT NOT NULL
);
CREATE INDEX contact_account ON "Contact" ("AccountId");

CREATE TABLE "Lead" (
	"Id"               TEXT PRIMARY KEY,
	"FirstName"        TEXT COLLATE NOCASE,
	"LastName"         TEXT NOT NULL COLLATE NOCASE,
	"Name"             TEXT COLLATE NOCASE GENERATED ALWAYS AS (trim(coalesce("FirstName", '') || ' ' || "LastName")) VIRTUAL,
	"Company"          TEXT NOT NULL COLLATE NOCASE,
	"Phone"            TEXT COLLATE NOCASE,
	"MobilePhone"      TEXT COLLATE NOCASE,
	"Email"            TEXT COLLATE NOCASE,
	"OwnerId"          TEXT REFERENCES "User" ("Id"),
	"CreatedDate"      TEXT NOT NULL,
	"LastModifiedDate" TEXT NOT NULL
);

CREATE TABLE "Task" (
	"Id"                    TEXT PRIMARY KEY,
	"Subject"               TEXT COLLATE NOCASE,
	"Description"           TEXT,
	"CallType"              TEXT COLLATE NOCASE,
	"CallDurationInSeconds" INTEGER,
	"CallObject"            TEXT COLLATE NOCASE,
	"CallDisposition"       TEXT COLLATE NOCASE,
	"TaskSubtype"           TEXT COLLATE NOCASE,
	"Type"                  TEXT COLLATE NOCASE,
	"Status"                TEXT COLLATE NOCASE,
	"Priority"              TEXT COLLATE NOCASE,
	"ActivityDate"          TEXT,
	"WhoId"                 TEXT,
	"WhatId"                TEXT,
	"AccountId"             TEXT REFERENCES "Account" ("Id") ON DELETE SET NULL,
	"OwnerId"               TEXT REFERENCES "User" ("Id"),
	"CreatedDate"           TEXT NOT NULL,
	"LastModifiedDate"      TEXT NOT NULL
);
CREATE INDEX task_call_object ON "Task" ("CallObject");
CREATE INDEX task_who ON "Task" ("WhoId");
CREATE INDEX task_what ON "Task" ("WhatId");

-- Connected apps: the secret is kept only as its SHA-256 hash.
CREATE TABLE connected_app (
	client_id      TEXT PRIMARY KEY,
	secret_hash    TEXT NOT NULL DEFAULT '',
	public_key_pem TEXT NOT NULL DEFAULT '',
	run_as_user_id TEXT REFERENCES "User" ("Id"),
	created_at     TEXT NOT NULL,
	updated_at     TEXT NOT NULL
);

-- Access tokens: only their SHA-256 hashes; times in Unix milliseconds.
CREATE TABLE access_token (
	token_hash TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES "User" ("Id"),
	client_id  TEXT NOT NULL,
	issued_at  INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX access_token_expiry ON access_token (expires_at);
