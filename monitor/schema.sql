-- The tables of a govlog monitor (package monitor), in their own SQLite
-- file, with schema_promises.sql. Version 2; store.go checks the version row
-- at start-up.

CREATE TABLE IF NOT EXISTS monitor_schema (
  version INTEGER NOT NULL
);

-- The latest checkpoint the monitor verified for each log, with the compact
-- range of the tree at that size (the concatenated 32-byte roots of its
-- perfect subtrees, left to right), so new entries are hashed onto it
-- without downloading old ones. seen_nanos is when these checkpoint bytes
-- were first seen, for the stale-checkpoint alert. Advanced only by a
-- compare-and-swap on size, in the transaction that writes the replayed
-- state of the entries it covers.
CREATE TABLE IF NOT EXISTS monitor_logs (
  origin     TEXT NOT NULL PRIMARY KEY,
  size       INTEGER NOT NULL,
  checkpoint BLOB NOT NULL,
  range      BLOB NOT NULL,
  seen_nanos INTEGER NOT NULL
) WITHOUT ROWID;

-- The domain state replayed from each log's entries up to its verified
-- checkpoint: the monitor's own copy of what the admission server holds.
CREATE TABLE IF NOT EXISTS monitor_state (
  origin TEXT NOT NULL,
  key    TEXT NOT NULL,
  value  BLOB NOT NULL,
  PRIMARY KEY (origin, key)
) WITHOUT ROWID;

-- Every alert raised, once: id is the hex SHA-256 of kind, log, index and
-- evidence, so a pass that finds the same fault again records nothing new.
CREATE TABLE IF NOT EXISTS monitor_alerts (
  id          TEXT NOT NULL PRIMARY KEY,
  log         TEXT NOT NULL,
  kind        TEXT NOT NULL,
  idx         INTEGER,
  message     TEXT NOT NULL,
  evidence    BLOB NOT NULL,
  found_nanos INTEGER NOT NULL
);
