// Package logserver runs Trillian inside the govlog process and turns its
// trees into govlog logs: it provisions one tree per configured log, runs
// Trillian's own log server and sequencer (github.com/google/trillian/server
// and /log, not a re-implementation), signs a C2SP checkpoint with the log's
// note key whenever a tree grows, and serves the read side (checkpoints,
// entries, proofs, bundles) that personalities expose over gRPC.
//
// Trillian stays an internal detail: its gRPC API is served on an in-memory
// listener, reachable from this process only, so nothing can queue a leaf
// past admission or touch a tree.
//
// After signing a checkpoint, a log with a witness policy pushes it to each
// witness of the policy that has a URL (C2SP tlog-witness, resending from
// the size a 409 reports) and publishes it, cosignatures attached, only once
// the policy's quorum is met.
//
// Decisions where DESIGN.md is silent:
//   - A log's tree is found again on restart by its Trillian description,
//     which holds the log's origin line; no extra table is needed.
//   - Checkpoints carry no timestamp extension: they are a pure function of
//     (origin, size, root), so re-signing after a restart yields the same
//     bytes, and a checkpoint is signed only when the tree has grown.
//   - Before a new checkpoint is signed, the log server verifies a
//     consistency proof from the last one it signed, kept in a
//     CheckpointStore (a file outside the database) across restarts; a tree
//     behind it stops the log. The witnesses guard the same line from
//     outside.
//   - The tree is a Trillian pre-ordered log: the personality gives each
//     admitted leaf its index, so the log's order is the admission order.
//
// Several processes, one database (LogOptions.Elected): govlog serve with
// an election block runs as one of several processes on one MariaDB
// database, of which etcd elects one (package election). Only the elected
// process runs Trillian's sequencer (TrillianOptions.ElectedSequencer) and
// signs: Log.Lead first catches up with the newest published checkpoint,
// then signs as a single process does, recording each checkpoint in the
// database (SharedCheckpoints, fenced: a process no longer elected records
// and publishes nothing) before it publishes it. The others follow: every
// 200 ms they read the newest recorded checkpoint, grow their own tiles to
// it from the tree's leaves, check that the tiles hash to its root and
// extend what they served, and serve it. Trillian's storage refuses a
// second integration of one revision (its tree heads are unique per
// revision), and the leaves at each index are fixed by fenced admissions,
// so even two processes that both believed they were elected could not
// make two trees; and since checkpoints carry no timestamp, they would
// sign the very same bytes.
//
// Trillian elsewhere (DialTrillian): the trees may live in an existing
// Trillian deployment reached over gRPC; its own log signers integrate
// the leaves, which the log stores through AddSequencedLeaves.
//
// [tlog-checkpoint]: https://c2sp.org/tlog-checkpoint
// [tlog-witness]: https://c2sp.org/tlog-witness
// [tlog-proof]: https://c2sp.org/tlog-proof
package logserver
