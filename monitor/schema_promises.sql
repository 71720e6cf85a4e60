-- Promises and the leaf hashes they are checked against; part of schema
-- version 2 (see schema.sql and store.go).

-- The leaf hash of every entry the monitor verified, written in the
-- transaction that advances the log's verified checkpoint, so a promise
-- submitted after its entry was verified is still found kept.
CREATE TABLE IF NOT EXISTS monitor_leaves (
  origin    TEXT NOT NULL,
  leaf_hash BLOB NOT NULL,
  idx       INTEGER NOT NULL,
  PRIMARY KEY (origin, leaf_hash)
) WITHOUT ROWID;

-- Promises submitted to POST /promises, verified with the log's key.
-- status is pending until the leaf is in the verified log (kept, with idx)
-- or its deadline passes first (broken, and a promise_broken alert).
CREATE TABLE IF NOT EXISTS monitor_promises (
  origin         TEXT NOT NULL,
  leaf_hash      BLOB NOT NULL,
  deadline_secs  INTEGER NOT NULL,
  signed         BLOB NOT NULL,
  status         TEXT NOT NULL,
  idx            INTEGER,
  received_nanos INTEGER NOT NULL,
  PRIMARY KEY (origin, leaf_hash, deadline_secs)
) WITHOUT ROWID;
