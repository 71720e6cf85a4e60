-- govlog's own tables beside Trillian's: the personalities' domain state,
-- every admitted leaf's hash, index and admission time, and the outbox.
-- Version 3; mysql.go checks the version row at start-up and migrates a
-- version 2 database (migrate.go).
--
-- Log names are VARBINARY, compared byte for byte as checkpoint origins are:
-- under the server's default collation a VARCHAR would make "example.org/A"
-- and "example.org/a " the same log as "example.org/a".

-- A primary key, as Galera's wsrep_mode=REQUIRED_PRIMARY_KEY requires of
-- every table; mysql.go adds it to a table made before it had one.
CREATE TABLE IF NOT EXISTS govlog_schema (
  version INT NOT NULL PRIMARY KEY
);

CREATE TABLE IF NOT EXISTS govlog_state (
  log VARBINARY(64) NOT NULL,
  k   VARBINARY(512) NOT NULL,
  v   MEDIUMBLOB NOT NULL,
  PRIMARY KEY (log, k)
);

-- Every leaf admitted, kept for good: a statement submitted again is found
-- here (a duplicate, answered with its first admission time), and queries
-- cite entries by hash. The leaf's bytes are in Trillian's tables.
CREATE TABLE IF NOT EXISTS govlog_leaves (
  log            VARBINARY(64) NOT NULL,
  leaf_hash      BINARY(32) NOT NULL,
  leaf_index     BIGINT UNSIGNED NOT NULL,
  admitted_nanos BIGINT NOT NULL,
  PRIMARY KEY (log, leaf_hash)
);

-- The outbox: admitted leaves, with their bytes, until a published
-- checkpoint includes them; the newest of each log stays, as the next
-- index counts on from it. The index of leaves to queue begins with queued,
-- so that no statement naming a log's rows by index (marking, removing)
-- can take it for a range of the log and lock rows it does not change.
CREATE TABLE IF NOT EXISTS govlog_outbox (
  log            VARBINARY(64) NOT NULL,
  leaf_index     BIGINT UNSIGNED NOT NULL,
  leaf_hash      BINARY(32) NOT NULL,
  leaf           MEDIUMBLOB NOT NULL,
  admitted_nanos BIGINT NOT NULL,
  queued         BOOLEAN NOT NULL,
  PRIMARY KEY (log, leaf_index),
  KEY outbox_to_queue (queued, log, leaf_index)
);

-- The fence, one row: the election token of the process that admits now,
-- when several share this database (govlog serve with etcd). Every
-- admission reads it, locked shared, and rolls back unless it still holds
-- its own process's token (sqlstore's fence.go).
CREATE TABLE IF NOT EXISTS govlog_fence (
  id          TINYINT NOT NULL,
  token       BIGINT NOT NULL,
  holder      VARBINARY(255) NOT NULL,
  taken_nanos BIGINT NOT NULL,
  PRIMARY KEY (id)
);

-- The newest checkpoint each log published, by origin: the processes that
-- do not admit serve it, and the next elected one extends it.
CREATE TABLE IF NOT EXISTS govlog_checkpoints (
  log        VARBINARY(255) NOT NULL,
  size       BIGINT UNSIGNED NOT NULL,
  checkpoint BLOB NOT NULL,
  PRIMARY KEY (log)
);
