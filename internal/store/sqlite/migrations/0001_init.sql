-- Parley's first schema.
--
-- Conventions: every table carries tenant_id (tenants carries it as id), and
-- every tenant-scoped key starts with it. Times are INTEGER Unix nanoseconds
-- in UTC, NULL for the zero time; durations are INTEGER nanoseconds; lists
-- and maps are JSON text. *_key columns hold the lowercased name that makes
-- a name unique case-insensitively.

CREATE TABLE tenants (
	id                TEXT PRIMARY KEY,
	slug              TEXT NOT NULL UNIQUE,
	display_name      TEXT NOT NULL,
	kind              INTEGER NOT NULL,
	cluster           TEXT NOT NULL,
	region            TEXT NOT NULL,
	time_zone         TEXT NOT NULL,
	not_ready_reasons TEXT NOT NULL,
	dispositions      TEXT NOT NULL,
	crm_kind          TEXT NOT NULL,
	crm_login_url     TEXT NOT NULL,
	crm_api_version   TEXT NOT NULL,
	crm_client_id     TEXT NOT NULL,
	crm_username      TEXT NOT NULL,
	crm_private_key   BLOB,            -- sealed
	crm_client_secret BLOB,            -- sealed
	crm_log_cap_bytes INTEGER NOT NULL,
	crm_base_url      TEXT NOT NULL,
	created_at        INTEGER
) STRICT;

CREATE TABLE users (
	tenant_id      TEXT NOT NULL REFERENCES tenants (id),
	id             TEXT NOT NULL,
	username       TEXT NOT NULL,
	username_key   TEXT NOT NULL,
	display_name   TEXT NOT NULL,
	email          TEXT NOT NULL,
	roles          TEXT NOT NULL,
	password_hash  TEXT NOT NULL,
	skills         TEXT NOT NULL,
	sip_username   TEXT NOT NULL,
	sip_ha1        TEXT NOT NULL,
	static_contact TEXT NOT NULL,
	disabled       INTEGER NOT NULL,
	created_at     INTEGER,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, username_key)
) STRICT;

-- SIP usernames are unique across tenants: a REGISTER names no tenant.
CREATE UNIQUE INDEX users_sip_username ON users (sip_username) WHERE sip_username <> '';

CREATE TABLE presence (
	tenant_id        TEXT NOT NULL,
	user_id          TEXT NOT NULL,
	state            TEXT NOT NULL,
	reason           TEXT NOT NULL,
	since            INTEGER,
	available_since  INTEGER,
	interaction_id   TEXT NOT NULL,
	outbound         INTEGER NOT NULL,
	return_state     TEXT NOT NULL,
	return_reason    TEXT NOT NULL,
	pending_state    TEXT NOT NULL,
	pending_reason   TEXT NOT NULL,
	wrap_up_deadline INTEGER,
	version          INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, user_id),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
) STRICT;

CREATE TABLE queues (
	tenant_id         TEXT NOT NULL REFERENCES tenants (id),
	id                TEXT NOT NULL,
	name              TEXT NOT NULL,
	name_key          TEXT NOT NULL,
	priority          INTEGER NOT NULL,
	skills            TEXT NOT NULL,
	service_level     INTEGER NOT NULL,
	wrap_up           INTEGER NOT NULL,
	offer_timeout     INTEGER NOT NULL,
	max_wait          INTEGER NOT NULL,
	overflow_queue_id TEXT NOT NULL,
	dispositions      TEXT NOT NULL,
	announcement      TEXT NOT NULL,
	hold_music        TEXT NOT NULL,
	created_at        INTEGER,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, name_key)
) STRICT;

CREATE TABLE entry_points (
	tenant_id   TEXT NOT NULL,
	id          TEXT NOT NULL,
	number      TEXT NOT NULL,
	queue_id    TEXT NOT NULL,
	name        TEXT NOT NULL,
	early_media INTEGER NOT NULL,
	created_at  INTEGER,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, number),
	FOREIGN KEY (tenant_id, queue_id) REFERENCES queues (tenant_id, id)
) STRICT;

CREATE INDEX entry_points_queue ON entry_points (tenant_id, queue_id);

CREATE TABLE trunks (
	tenant_id    TEXT NOT NULL REFERENCES tenants (id),
	id           TEXT NOT NULL,
	name         TEXT NOT NULL,
	name_key     TEXT NOT NULL,
	cidrs        TEXT NOT NULL,
	outbound_uri TEXT NOT NULL,
	created_at   INTEGER,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, name_key)
) STRICT;

CREATE TABLE interactions (
	tenant_id          TEXT NOT NULL REFERENCES tenants (id),
	id                 TEXT NOT NULL,
	channel            TEXT NOT NULL,
	direction          TEXT NOT NULL,
	state              TEXT NOT NULL,
	outcome            TEXT NOT NULL,
	customer_number    TEXT NOT NULL,
	customer_extension TEXT NOT NULL,
	customer_raw       TEXT NOT NULL,
	customer_name      TEXT NOT NULL,
	customer_withheld  INTEGER NOT NULL,
	customer_email     TEXT NOT NULL,
	dialed_number      TEXT NOT NULL,
	entry_point_id     TEXT NOT NULL,
	queue_id           TEXT NOT NULL,
	agent_id           TEXT NOT NULL,
	trunk_id           TEXT NOT NULL,
	sip_call_id        TEXT NOT NULL,
	data               TEXT NOT NULL,
	created_at         INTEGER,
	queued_at          INTEGER,
	offered_at         INTEGER,
	answered_at        INTEGER,
	ended_at           INTEGER,
	wrapped_at         INTEGER,
	offers             INTEGER NOT NULL,
	end_reason         TEXT NOT NULL,
	disposition        TEXT NOT NULL,
	notes              TEXT NOT NULL,
	matches            TEXT NOT NULL,
	lookup_error       TEXT NOT NULL,
	linked_record      TEXT NOT NULL,
	log_status         TEXT NOT NULL,
	log_ref            TEXT NOT NULL,
	log_error          TEXT NOT NULL,
	log_text           TEXT NOT NULL,
	version            INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE INDEX interactions_created ON interactions (tenant_id, created_at);
CREATE INDEX interactions_agent ON interactions (tenant_id, agent_id, created_at) WHERE agent_id <> '';
-- The interactions a restart must pick up again (OpenInteractions).
CREATE INDEX interactions_open ON interactions (created_at)
	WHERE state <> 'ended' OR (wrapped_at IS NULL AND outcome = 'answered');

-- tenant_seq holds each tenant's last event sequence number, so that the next
-- one is found in O(1) and the sequence has no gaps.
CREATE TABLE tenant_seq (
	tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
	seq       INTEGER NOT NULL
) STRICT;

CREATE TABLE events (
	tenant_id      TEXT NOT NULL REFERENCES tenants (id),
	seq            INTEGER NOT NULL,
	type           TEXT NOT NULL,
	at             INTEGER,
	interaction_id TEXT NOT NULL,
	user_id        TEXT NOT NULL,
	queue_id       TEXT NOT NULL,
	data           BLOB,
	PRIMARY KEY (tenant_id, seq)
) STRICT;

CREATE INDEX events_interaction ON events (tenant_id, interaction_id, seq) WHERE interaction_id <> '';
CREATE INDEX events_user ON events (tenant_id, user_id, seq) WHERE user_id <> '';

CREATE TABLE outbox (
	id              TEXT PRIMARY KEY,
	tenant_id       TEXT NOT NULL REFERENCES tenants (id),
	interaction_id  TEXT NOT NULL,
	kind            TEXT NOT NULL,
	key             TEXT NOT NULL,
	payload         BLOB,
	attempts        INTEGER NOT NULL,
	next_attempt_at INTEGER NOT NULL,
	last_error      TEXT NOT NULL,
	created_at      INTEGER,
	delivered_at    INTEGER,
	result          TEXT NOT NULL,
	UNIQUE (kind, key)
) STRICT;

CREATE INDEX outbox_due ON outbox (next_attempt_at, created_at) WHERE delivered_at IS NULL;

CREATE TABLE sessions (
	id         TEXT PRIMARY KEY,
	tenant_id  TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	token_hash TEXT NOT NULL UNIQUE,
	created_at INTEGER,
	expires_at INTEGER NOT NULL,
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
) STRICT;

CREATE INDEX sessions_user ON sessions (tenant_id, user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE registrations (
	tenant_id  TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	contact    TEXT NOT NULL,
	source     TEXT NOT NULL,
	transport  TEXT NOT NULL,
	call_id    TEXT NOT NULL,
	cseq       INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	updated_at INTEGER,
	PRIMARY KEY (tenant_id, user_id, contact),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
) STRICT;

CREATE INDEX registrations_expires ON registrations (expires_at);
