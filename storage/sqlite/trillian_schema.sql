-- Trillian's tables in the embedded SQLite store, read and written only by
-- trillian.go (a Trillian storage provider: admin and log storage). Part of
-- schema version 1; Open creates them beside govlog's own tables.
--
-- Every table hangs off trillian_trees, so a hard-deleted tree takes all its
-- rows with it (Open turns foreign keys on). Hashes and values are BLOBs;
-- times are INTEGER nanoseconds since the Unix epoch.

CREATE TABLE IF NOT EXISTS trillian_trees (
  tree_id                 INTEGER PRIMARY KEY,
  tree_state              TEXT NOT NULL CHECK (tree_state IN ('ACTIVE', 'FROZEN', 'DRAINING')),
  tree_type               TEXT NOT NULL CHECK (tree_type IN ('LOG', 'PREORDERED_LOG')),
  display_name            TEXT NOT NULL,
  description             TEXT NOT NULL,
  create_time_nanos       INTEGER NOT NULL,
  update_time_nanos       INTEGER NOT NULL,
  max_root_duration_nanos INTEGER NOT NULL,
  deleted                 INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  delete_time_nanos       INTEGER
) STRICT;

-- The newest signed log root of each tree (a root's transaction removes
-- the ones before it, which nothing reads). revision is the tree revision
-- the root was written at: 0 for the root that initialises the tree, then
-- one more per root.
CREATE TABLE IF NOT EXISTS trillian_tree_heads (
  tree_id         INTEGER NOT NULL REFERENCES trillian_trees (tree_id) ON DELETE CASCADE,
  revision        INTEGER NOT NULL,
  timestamp_nanos INTEGER NOT NULL,
  tree_size       INTEGER NOT NULL,
  root_hash       BLOB NOT NULL,
  PRIMARY KEY (tree_id, revision),
  UNIQUE (tree_id, timestamp_nanos)
) STRICT, WITHOUT ROWID;

-- Merkle tree tiles (Trillian's "subtrees": storagepb.SubtreeProto, leaf
-- hashes only), one row per tile, rewritten in place by the transaction that
-- changes it; revision is the tree revision that last wrote it.
CREATE TABLE IF NOT EXISTS trillian_tiles (
  tree_id  INTEGER NOT NULL REFERENCES trillian_trees (tree_id) ON DELETE CASCADE,
  tile_id  BLOB NOT NULL,
  revision INTEGER NOT NULL,
  tile     BLOB NOT NULL,
  PRIMARY KEY (tree_id, tile_id)
) STRICT;

-- Every leaf ever queued (or added at an index), keyed by its identity hash:
-- a second leaf with the same identity hash is a duplicate.
CREATE TABLE IF NOT EXISTS trillian_leaves (
  tree_id          INTEGER NOT NULL REFERENCES trillian_trees (tree_id) ON DELETE CASCADE,
  identity_hash    BLOB NOT NULL,
  merkle_hash      BLOB NOT NULL,
  value            BLOB NOT NULL,
  extra_data       BLOB,
  queue_time_nanos INTEGER NOT NULL,
  PRIMARY KEY (tree_id, identity_hash)
) STRICT;

CREATE INDEX IF NOT EXISTS trillian_leaves_by_merkle_hash ON trillian_leaves (tree_id, merkle_hash);

-- The leaf at each index of the tree (and, in a PREORDERED_LOG, past it
-- until integrated).
CREATE TABLE IF NOT EXISTS trillian_sequenced (
  tree_id              INTEGER NOT NULL REFERENCES trillian_trees (tree_id) ON DELETE CASCADE,
  leaf_index           INTEGER NOT NULL CHECK (leaf_index >= 0),
  identity_hash        BLOB NOT NULL,
  integrate_time_nanos INTEGER NOT NULL,
  PRIMARY KEY (tree_id, leaf_index)
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX IF NOT EXISTS trillian_sequenced_by_identity_hash ON trillian_sequenced (tree_id, identity_hash);

-- Leaves of LOG trees waiting to be sequenced, in dequeue order.
CREATE TABLE IF NOT EXISTS trillian_unsequenced (
  tree_id          INTEGER NOT NULL REFERENCES trillian_trees (tree_id) ON DELETE CASCADE,
  queue_time_nanos INTEGER NOT NULL,
  identity_hash    BLOB NOT NULL,
  PRIMARY KEY (tree_id, queue_time_nanos, identity_hash)
) STRICT, WITHOUT ROWID;
