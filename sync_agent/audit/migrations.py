"""Versioned schema of the audit database (``PRAGMA user_version``).

Each entry of :data:`MIGRATIONS` moves the schema from version ``i`` to ``i + 1``; they
are applied in order, each in its own transaction, and never edited once released (add a
new one instead). Column meanings are documented in ``docs/sync.md``.
"""

from __future__ import annotations

import sqlite3

_V1 = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    pipeline TEXT NOT NULL,
    mode TEXT NOT NULL,                -- run | backfill | replay | dry-run
    started_at TEXT NOT NULL,
    ended_at TEXT,
    outcome TEXT NOT NULL DEFAULT 'running',
    rules_name TEXT,
    rules_hash TEXT,
    counts TEXT NOT NULL DEFAULT '{}', -- JSON: read, decided, accepted, written, dead, ...
    error TEXT
);
CREATE INDEX runs_pipeline ON runs (pipeline, started_at);

CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (id),
    pipeline TEXT NOT NULL,
    lead_key TEXT NOT NULL,            -- <source>:<source id>
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    crm_ids TEXT NOT NULL DEFAULT '{}',
    outcome TEXT NOT NULL,             -- accepted | rejected | review
    score REAL NOT NULL,
    reasons TEXT NOT NULL DEFAULT '[]',
    explanation TEXT NOT NULL DEFAULT '[]',
    fast_lane TEXT,
    rules_name TEXT NOT NULL,
    rules_hash TEXT NOT NULL,
    snapshot TEXT NOT NULL DEFAULT '{}',
    modified_at TEXT,
    fingerprint TEXT,                  -- hash of the lead's content (volatile fields left out)
    mql_date TEXT,
    decided_at TEXT NOT NULL,
    handoff_key TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    dry_run INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL               -- v1: pending | written | skipped | failed | dead | dry_run
);
CREATE INDEX decisions_lead ON decisions (lead_key, pipeline);
CREATE INDEX decisions_decided ON decisions (decided_at);
CREATE INDEX decisions_run ON decisions (run_id);
CREATE INDEX decisions_outcome ON decisions (pipeline, outcome, decided_at);

CREATE TABLE writes (
    id INTEGER PRIMARY KEY,
    decision_id INTEGER NOT NULL REFERENCES decisions (id),
    pipeline TEXT NOT NULL,
    sink TEXT NOT NULL,
    handoff_key TEXT NOT NULL,
    state TEXT NOT NULL,               -- pending | in_flight | written | skipped | retryable | dead
    attempts INTEGER NOT NULL DEFAULT 0,
    sent INTEGER NOT NULL DEFAULT 0,   -- 1 once handed to a sink: later attempts reconcile
    next_attempt_at TEXT,
    last_error TEXT,
    target_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (sink, handoff_key, decision_id)
);
CREATE INDEX writes_due ON writes (pipeline, state, next_attempt_at);
CREATE INDEX writes_decision ON writes (decision_id);

CREATE TABLE cursors (
    pipeline TEXT NOT NULL,
    kind TEXT NOT NULL,                -- run | backfill:<id>
    position TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (pipeline, kind)
);

CREATE TABLE backfills (
    id INTEGER PRIMARY KEY,
    pipeline TEXT NOT NULL,
    since_ms INTEGER NOT NULL,
    until_ms INTEGER NOT NULL,
    requested_until TEXT,
    reevaluate INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,              -- running | done
    started_at TEXT NOT NULL,
    ended_at TEXT
);

CREATE TABLE malformed (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (id),
    pipeline TEXT NOT NULL,
    source TEXT NOT NULL,
    raw_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    seen_at TEXT NOT NULL
);
CREATE INDEX malformed_run ON malformed (run_id);

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    pipeline TEXT,
    kind TEXT NOT NULL,                -- job_error | job_missed | ...
    message TEXT NOT NULL
);

-- Daily counts kept when old decisions are pruned, so reports over long periods still add up.
CREATE TABLE aggregates (
    day TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    source TEXT NOT NULL,
    outcome TEXT NOT NULL,
    decisions INTEGER NOT NULL,
    PRIMARY KEY (day, pipeline, source, outcome)
);

CREATE VIEW dead_letters AS
    SELECT w.id, w.pipeline, w.sink, d.lead_key, w.handoff_key, w.attempts, w.last_error,
           w.updated_at, d.outcome, w.decision_id
    FROM writes w JOIN decisions d ON d.id = w.decision_id
    WHERE w.state = 'dead';
"""

# v2: one vocabulary (a decision whose writes wait for a retry is 'retryable', the name the
# writes use, no longer 'failed'); per-connector-instance state (caches, budgets).
_V2 = """
UPDATE decisions SET status = 'retryable' WHERE status = 'failed';

CREATE TABLE connector_state (
    instance TEXT NOT NULL,            -- the [connectors.NAME] it belongs to
    key TEXT NOT NULL,
    value TEXT NOT NULL,               -- JSON
    updated_at TEXT NOT NULL,
    PRIMARY KEY (instance, key)
);
"""

# v3: what sales did after a handoff, read back from the CRMs: append-only events, one per
# (handoff, system, kind); re-reading the same fact changes nothing.
_V3 = """
CREATE TABLE outcomes (
    id INTEGER PRIMARY KEY,
    lead_key TEXT NOT NULL,
    handoff_key TEXT NOT NULL,         -- the accepted handoff the event follows
    system TEXT NOT NULL,              -- the connector instance it was read from
    kind TEXT NOT NULL,                -- first_touch | sql | opportunity | rejected | recycled
                                       -- | sla_breached
    at TEXT NOT NULL,                  -- when it happened (the CRM's time)
    reason TEXT,                       -- why sales rejected it (rejected only)
    detail TEXT NOT NULL DEFAULT '{}', -- JSON: owner, status values, record ids
    recorded_at TEXT NOT NULL,
    UNIQUE (handoff_key, system, kind)
);
CREATE INDEX outcomes_lead ON outcomes (lead_key);
CREATE INDEX outcomes_kind ON outcomes (kind, at);
"""

# v4: a write overtaken by a newer decision for the same lead and sink is marked, so no
# later result or retry can make it due again (it would put an outdated status back).
_V4 = """
ALTER TABLE writes ADD COLUMN superseded INTEGER NOT NULL DEFAULT 0;
"""

# v5: webhook events received by `serve`, one row per (receiving instance, sender's event id):
# a redelivered event is dropped, across restarts; an event whose record was not read yet
# (processed_at NULL) is picked up again when the agent starts.
_V5 = """
CREATE TABLE webhook_events (
    source TEXT NOT NULL,              -- the connector instance it was sent to
    event_id TEXT NOT NULL,            -- the sender's event id
    record_id TEXT NOT NULL,           -- the source record to read again
    kind TEXT NOT NULL,                -- the sender's event type
    occurred_at TEXT,
    received_at TEXT NOT NULL,
    processed_at TEXT,                 -- when its record was read and decided (NULL: not yet)
    PRIMARY KEY (source, event_id)
);
CREATE INDEX webhook_events_open ON webhook_events (source, processed_at);
CREATE INDEX webhook_events_received ON webhook_events (received_at);
"""

# v6: the report's window over a large log. Its queries group each lead's decisions in
# [since, until) (latest, first acceptance) from this covering index alone: a table scan
# would read every row's snapshot and explanation from overflow pages (minutes at 100k).
_V6 = """
CREATE INDEX decisions_window ON decisions (dry_run, decided_at, lead_key, outcome, pipeline,
                                            source);
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5, _V6)


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations this database lacks; return the resulting schema version."""
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
        version = number
    return version
