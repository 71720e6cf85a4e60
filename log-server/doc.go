// Package logserver runs Trillian inside the govlog process and turns its
// trees into govlog logs: it provisions one tree per configured log, runs
// Trillian's own log server and sequencer (github.com/google/trillian/server
// and /log, not a re-implementation), signs a C2SP checkpoint with the log's
// note key whenever a tree grows, and serves the read side (checkpoints,
// entries, proofs, bundles) that personalities expose over gRPC.
//
// Trillian stays an internal detail: its gRPC API listens on a loopback
// address chosen by the kernel and is never exposed beyond this process's
// host. This package is the only importer of github.com/google/trillian
// outside storage/.
//
// Decisions where DESIGN.md is silent:
//   - A log's tree is found again on restart by its Trillian description,
//     which holds the log's origin line; no extra table is needed.
//   - Checkpoints carry no timestamp extension: they are a pure function of
//     (origin, size, root), so re-signing after a restart yields the same
//     bytes, and a checkpoint is signed only when the tree has grown.
//   - Before a new checkpoint is signed, the log server verifies a
//     consistency proof from the previous one, so a storage fault can never
//     make it sign a fork.
//
// [tlog-checkpoint]: https://c2sp.org/tlog-checkpoint
// [tlog-proof]: https://c2sp.org/tlog-proof
package logserver
