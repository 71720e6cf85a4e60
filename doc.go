// Package govlog owns the wire formats of govlog and their verification:
// statements (what an agency signs and the log stores as a leaf), checkpoints,
// witness cosignatures, witness policies, signed promises and tlog-proof
// bundles. Every part of govlog (personalities, log server, witnesses,
// monitors, clients) builds on this package, so it imports only the standard
// library, [note] and [merkle], plus a JSON canonicalizer.
//
// All signatures are signed notes ([signed-note]), so any note library can
// verify them. Checkpoints follow [tlog-checkpoint], cosignatures the Ed25519
// cosignature/v1 type of [tlog-cosignature], bundles [tlog-proof] and witness
// policies [tlog-policy]. Leaf hashes and proofs use [RFC 6962] hashing.
//
// # Statements
//
// A statement is a signed note whose text is three lines: the format line
// [StatementFormat], the origin of the target log, and the canonical JSON
// ([RFC 8785]) of an object with exactly the keys "body", "time" and "type".
// The first two lines make a signature useless on any other log or format.
// The leaf is the exact bytes of the signed note.
//
// # Decisions the specs and the design left open
//
//   - A statement's "time" is whole seconds in UTC, "2006-01-02T15:04:05Z";
//     [NewStatement] truncates to the second, and [ParseStatement] rejects
//     any other spelling, so one instant has one encoding.
//   - Numbers in a statement must lie within ±2^53: RFC 8785 reads numbers as
//     IEEE 754 doubles, so a larger integer would silently change value on
//     canonicalization. Larger amounts belong in strings.
//   - A statement's origin must be a valid note key name (non-empty, no
//     Unicode space, no '+'), because a log's key is named after its origin.
//     [OpenCheckpoint] and [Policy.Verify] require the log key's name to
//     equal the checkpoint origin (tlog-policy's MUST; tlog-checkpoint's
//     SHOULD).
//   - Logs sign with Ed25519 note keys (type 0x01); witnesses with Ed25519
//     cosignature/v1 keys (type 0x04). Cosigner signer keys are encoded like
//     note signer keys, with type byte 0x04, as transparency-dev/formats
//     does. A cosigner signs only well-formed checkpoint text.
//   - [ParsePolicy] also rejects one public key used for both a log and a
//     witness, and group thresholds with leading zeroes; it accepts a last
//     line without its newline. [Policy.Verify] rejects a checkpoint if the
//     log's signature fails; a witness's cosignature that fails only does
//     not count (signed-note says SHOULD reject), so a damaged or forged
//     line does not undo the quorum the others make, and
//     [Policy.VerifyCheckpoint] names it. A cosignature dated more than
//     [DefaultCosignatureSkew] ahead of the clock does not count toward the
//     quorum; with [WithMaxCosignatureAge], neither does one older than
//     that. Without a maximum age (the default) old cosignatures count, so
//     a checkpoint that verifies keeps verifying, offline, on any later day.
//   - A govlog bundle must carry the entry in its extra line; an empty extra
//     is spelled by omitting the line. The bundle's checkpoint must be a
//     well-formed note even before verification.
//   - A promise's deadline is Unix seconds, not negative.
//
// # Stricter than the signed-note spec
//
// Every opener in this package rejects a note whose signature lines use
// non-canonical base64 (non-zero padding bits). Go's note package accepts
// them, which would let anyone derive distinct leaf bytes, or a bit-flipped
// bundle, that still verify. Signatures by unknown keys are still ignored, as
// [signed-note] requires, so anyone can make new leaf bytes for a statement
// by appending a signature line by an unknown key: deduplicate admitted
// statements by their text ([Statement.Text]), not by their leaf hash.
//
// [note]: https://pkg.go.dev/golang.org/x/mod/sumdb/note
// [merkle]: https://pkg.go.dev/github.com/transparency-dev/merkle
// [signed-note]: https://c2sp.org/signed-note
// [tlog-checkpoint]: https://c2sp.org/tlog-checkpoint
// [tlog-cosignature]: https://c2sp.org/tlog-cosignature
// [tlog-proof]: https://c2sp.org/tlog-proof
// [tlog-policy]: https://c2sp.org/tlog-policy
// [RFC 6962]: https://www.rfc-editor.org/rfc/rfc6962.html
// [RFC 8785]: https://www.rfc-editor.org/rfc/rfc8785.html
package govlog
