-- govlog's own tables in the embedded SQLite store: the personalities'
-- domain state and outbox. Version 2; sqlite.go checks the version row at
-- start-up.

CREATE TABLE IF NOT EXISTS govlog_schema (
  version INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS govlog_state (
  log TEXT NOT NULL,
  k   TEXT NOT NULL,
  v   BLOB NOT NULL,
  PRIMARY KEY (log, k)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS govlog_outbox (
  log            TEXT NOT NULL,
  leaf_hash      BLOB NOT NULL,
  leaf           BLOB NOT NULL,
  admitted_nanos INTEGER NOT NULL,
  queued         INTEGER NOT NULL,
  leaf_index     INTEGER NOT NULL,
  PRIMARY KEY (log, leaf_hash),
  UNIQUE (log, leaf_index)
);

CREATE INDEX IF NOT EXISTS outbox_unqueued ON govlog_outbox (log, queued, leaf_index);
