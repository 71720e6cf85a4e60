-- govlog's own tables beside Trillian's: the personalities' domain state and
-- outbox. Version 2; mysql.go checks the version row at start-up.
--
-- Log names are VARBINARY, compared byte for byte as checkpoint origins are:
-- under the server's default collation a VARCHAR would make "example.org/A"
-- and "example.org/a " the same log as "example.org/a".

CREATE TABLE IF NOT EXISTS govlog_schema (
  version INT NOT NULL
);

CREATE TABLE IF NOT EXISTS govlog_state (
  log VARBINARY(64) NOT NULL,
  k   VARBINARY(512) NOT NULL,
  v   MEDIUMBLOB NOT NULL,
  PRIMARY KEY (log, k)
);

CREATE TABLE IF NOT EXISTS govlog_outbox (
  log            VARBINARY(64) NOT NULL,
  leaf_hash      BINARY(32) NOT NULL,
  leaf           MEDIUMBLOB NOT NULL,
  admitted_nanos BIGINT NOT NULL,
  queued         BOOLEAN NOT NULL,
  leaf_index     BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (log, leaf_hash),
  UNIQUE KEY outbox_index (log, leaf_index),
  KEY outbox_unqueued (log, queued, leaf_index)
);
