-- govlog's own tables in the embedded SQLite store: the personalities'
-- domain state, every admitted leaf's hash, index and admission time, and
-- the outbox. Version 3; sqlite.go checks the version row at start-up and
-- migrates a version 2 store (migrate.go).

CREATE TABLE IF NOT EXISTS govlog_schema (
  version INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS govlog_state (
  log TEXT NOT NULL,
  k   TEXT NOT NULL,
  v   BLOB NOT NULL,
  PRIMARY KEY (log, k)
) WITHOUT ROWID;

-- Every leaf admitted, kept for good: a statement submitted again is found
-- here (a duplicate, answered with its first admission time), and queries
-- cite entries by hash. The leaf's bytes are in Trillian's tables.
CREATE TABLE IF NOT EXISTS govlog_leaves (
  log            TEXT NOT NULL,
  leaf_hash      BLOB NOT NULL,
  leaf_index     INTEGER NOT NULL,
  admitted_nanos INTEGER NOT NULL,
  PRIMARY KEY (log, leaf_hash)
) WITHOUT ROWID;

-- The outbox: admitted leaves, with their bytes, until a published
-- checkpoint includes them; the newest of each log stays, as the next
-- index counts on from it.
CREATE TABLE IF NOT EXISTS govlog_outbox (
  log            TEXT NOT NULL,
  leaf_index     INTEGER NOT NULL,
  leaf_hash      BLOB NOT NULL,
  leaf           BLOB NOT NULL,
  admitted_nanos INTEGER NOT NULL,
  queued         INTEGER NOT NULL,
  PRIMARY KEY (log, leaf_index)
) WITHOUT ROWID;

-- Only the leaves still to be queued: a partial index, emptied as they are
-- marked queued.
CREATE INDEX IF NOT EXISTS outbox_to_queue ON govlog_outbox (log, leaf_index) WHERE queued = 0;

-- The fence and the newest published checkpoints (see storage/mysql's
-- schema.sql): one SQLite file has one process, which never fences, but
-- the store's SQL is the same on both engines.
CREATE TABLE IF NOT EXISTS govlog_fence (
  id          INTEGER NOT NULL PRIMARY KEY,
  token       INTEGER NOT NULL,
  holder      TEXT NOT NULL,
  taken_nanos INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS govlog_checkpoints (
  log        TEXT NOT NULL PRIMARY KEY,
  size       INTEGER NOT NULL,
  checkpoint BLOB NOT NULL
);
