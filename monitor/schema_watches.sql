-- Notifications of watched entries; part of schema version 2 (see
-- schema.sql and store.go): a file without this table gets it at start-up.

-- Every notification, once per watch, log and entry, written in the
-- transaction that advances the log's verified checkpoint past the entry,
-- so a restart neither repeats nor loses one. bundle is the entry's
-- tlog-proof under that checkpoint.
CREATE TABLE IF NOT EXISTS monitor_notifications (
  watch       TEXT NOT NULL,
  log         TEXT NOT NULL,
  idx         INTEGER NOT NULL,
  type        TEXT NOT NULL,
  agency      TEXT NOT NULL,
  entry       BLOB NOT NULL,
  bundle      BLOB NOT NULL,
  found_nanos INTEGER NOT NULL,
  PRIMARY KEY (watch, log, idx)
) WITHOUT ROWID;
