-- 0001: tasks, events, devices, plugin history, API keys, audit log.
-- Times are Unix nanoseconds (UTC); 0 is "not set".

CREATE TABLE tasks (
	seq                INTEGER PRIMARY KEY AUTOINCREMENT, -- insertion order: the listing cursor
	id                 TEXT    NOT NULL UNIQUE,
	tenant             TEXT    NOT NULL DEFAULT '',
	instruction        TEXT    NOT NULL,
	device_id          TEXT    NOT NULL DEFAULT '', -- requested
	device             TEXT    NOT NULL DEFAULT '', -- assigned
	planner            TEXT    NOT NULL DEFAULT '',
	model              TEXT    NOT NULL DEFAULT '',
	priority           INTEGER NOT NULL DEFAULT 0,
	max_steps          INTEGER NOT NULL DEFAULT 0,
	deadline           INTEGER NOT NULL DEFAULT 0,
	created_by         TEXT    NOT NULL DEFAULT '',
	state              TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'paused', 'succeeded', 'failed', 'canceled', 'interrupted')),
	reason             TEXT    NOT NULL DEFAULT '',
	message            TEXT    NOT NULL DEFAULT '',
	degraded           INTEGER NOT NULL DEFAULT 0,
	steps              INTEGER NOT NULL DEFAULT 0,
	created_at         INTEGER NOT NULL,
	started_at         INTEGER NOT NULL DEFAULT 0,
	finished_at        INTEGER NOT NULL DEFAULT 0,
	updated_at         INTEGER NOT NULL,
	node_id            TEXT    NOT NULL DEFAULT '',
	attempt            INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tasks_tenant_seq ON tasks (tenant, seq);
CREATE INDEX tasks_state_seq ON tasks (state, seq);
CREATE INDEX tasks_finished ON tasks (finished_at) WHERE finished_at > 0;

CREATE TABLE events (
	task_id    TEXT    NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
	seq        INTEGER NOT NULL CHECK (seq > 0),
	kind       TEXT    NOT NULL,
	step       INTEGER NOT NULL DEFAULT 0,
	time       INTEGER NOT NULL,
	body       TEXT    NOT NULL, -- JSON
	screenshot TEXT    NOT NULL DEFAULT '', -- sha256 hex of a file under screenshots/
	PRIMARY KEY (task_id, seq)
) WITHOUT ROWID;
CREATE INDEX events_screenshot ON events (screenshot) WHERE screenshot != '';

CREATE TABLE devices (
	id         TEXT    PRIMARY KEY,
	backend    TEXT    NOT NULL DEFAULT '',
	tenant     TEXT    NOT NULL DEFAULT '',
	labels     TEXT    NOT NULL DEFAULT '{}', -- JSON object
	state      TEXT    NOT NULL DEFAULT '',
	updated_at INTEGER NOT NULL
);

CREATE TABLE plugin_history (
	seq     INTEGER PRIMARY KEY AUTOINCREMENT,
	time    INTEGER NOT NULL,
	name    TEXT    NOT NULL,
	version TEXT    NOT NULL DEFAULT '',
	sha256  TEXT    NOT NULL DEFAULT '',
	action  TEXT    NOT NULL,
	error   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX plugin_history_name ON plugin_history (name, seq);

CREATE TABLE api_keys (
	hash         TEXT    PRIMARY KEY, -- sha256 hex of the key; the key itself is never stored
	subject      TEXT    NOT NULL,
	tenant       TEXT    NOT NULL DEFAULT '',
	role         TEXT    NOT NULL,
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER NOT NULL DEFAULT 0,
	revoked_at   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE audit_log (
	seq       INTEGER PRIMARY KEY,
	time      INTEGER NOT NULL,
	actor     TEXT    NOT NULL DEFAULT '',
	tenant    TEXT    NOT NULL DEFAULT '',
	role      TEXT    NOT NULL DEFAULT '',
	action    TEXT    NOT NULL,
	target    TEXT    NOT NULL DEFAULT '',
	result    TEXT    NOT NULL DEFAULT '',
	details   TEXT    NOT NULL DEFAULT '{}', -- JSON
	prev_hash TEXT    NOT NULL,
	hash      TEXT    NOT NULL
);
CREATE INDEX audit_actor ON audit_log (actor, seq);
CREATE INDEX audit_tenant ON audit_log (tenant, seq);
CREATE INDEX audit_action ON audit_log (action, seq);

-- The last appended row, so that deleting the tail of the chain is detected too.
CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash TEXT    NOT NULL
);

-- Append-only: the store never updates or deletes audit rows.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
