-- The tables of a govlog witness (witness/sqlstore), in their own SQLite
-- file. Version 1; sqlstore.go checks the version row at start-up.

CREATE TABLE IF NOT EXISTS witness_schema (
  version INTEGER NOT NULL
);

-- The latest checkpoint the witness cosigned for each log: the log's
-- signature and the witness's cosignature. Replaced only by compare-and-swap.
CREATE TABLE IF NOT EXISTS witness_checkpoints (
  origin     TEXT NOT NULL PRIMARY KEY,
  checkpoint BLOB NOT NULL
) WITHOUT ROWID;

-- Evidence that a log signed two incompatible checkpoints. id is the hex
-- SHA-256 of the evidence file.
CREATE TABLE IF NOT EXISTS witness_evidence (
  id          TEXT NOT NULL PRIMARY KEY,
  origin      TEXT NOT NULL,
  kind        TEXT NOT NULL,
  found_nanos INTEGER NOT NULL,
  file        BLOB NOT NULL
);
