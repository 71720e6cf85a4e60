// Package personalities is govlog's admission server: the gRPC Log service
// (api/govlog.proto) through which agencies submit signed statements and
// anyone reads the logs back.
//
// One statement's path (DESIGN.md, Admission):
//
//  1. The gRPC server refuses messages over MaxMessageSize before parsing,
//     and Submit refuses statements over govlog.MaxStatementSize.
//  2. The note is parsed: format line, origin of this log, canonical JSON.
//  3. The signature must verify with a registry key of an agency holding
//     the role the statement type needs (personalities/registry), as the
//     registry log stands when the statement's batch is admitted.
//  4. The domain's rules (personalities/<domain>, a rule.Domain) check the
//     body against the domain state.
//  5. State change and leaf are written to the outbox in ONE transaction.
//  6. The leaf is queued to Trillian; a loop re-queues outbox rows not
//     marked queued, so an admitted statement survives any crash. Once a
//     checkpoint the log published includes the leaf, the outbox lets go
//     of its copy (Trillian keeps it); its hash, index and admission time
//     stay, so a resubmission is still a duplicate with its first promise.
//  7. The caller gets a tlog-proof bundle once a checkpoint includes the
//     leaf, or at once a promise signed by the log key (wait=false).
//
// Group commit: per log, one admission goroutine takes every statement
// that arrived while the previous transaction was committing (up to
// Options.MaxBatch) and admits them in one transaction and one queue write.
// Statements are applied in arrival order, each on its own overlay of the
// state, so one that breaks a rule is rejected alone and the rest go on;
// two that conflict (the same business ID) race for their place in the
// batch and exactly one wins.
//
// Reads: besides the log's own read calls (checkpoint, entries, proofs),
// Query serves the public read API of a domain that is a rule.Querier (the
// funds log's account history and payment paths): the domain answers from
// one read-only snapshot of the committed state, and the answer comes with
// the bundle of every entry it cites, all at one checkpoint (see
// Server.Query).
//
// The registry: with a registry personality (a *registry.Domain), the
// registry is the registry log's state, read again after each registry
// commit before the next batch of any log authorizes against it, so a
// revocation admitted refuses the revoked key's next statement on every
// log, with no restart. Before the first statement it admits under a
// registry it has not named yet, each other log writes, first in that
// batch, a registry view entry signed by its own key (registry.ViewType:
// the registry size and last entry), so replays know which registry each
// entry was admitted under. Each log also keeps, beside the domain state,
// the latest signed time of each key's admitted statements
// ("govlog.key-use/<key>"), for the registry's rule on retirements. On an
// empty registry log, Run first admits Options.Genesis. Without one,
// Options.Registry is a fixed registry that no log records (tests,
// benchmarks).
//
// Several front ends (Options.Elected): when several processes serve the
// logs from one database, one is elected (through etcd) to admit, and
// only inside Server.Lead, after it took the store's fence with its
// election token. Any process takes a Submit: it parses the statement,
// verifies its signatures against the registry and takes the caller's
// quota, then, if it is not the elected one, hands the request to it
// (Options.Forwarder) with the deployment's forward key, and returns its
// answer; the elected process checks again (it trusts no front end) but
// takes no quota twice. A caller sees no difference but a hop of latency.
// Every admission transaction of a fenced store reads the fence: a process
// that lost its lease and has not noticed yet can no longer commit, so no
// index is ever given twice. When no process is elected (an election under
// way, etcd out of reach), Submit answers UNAVAILABLE (ErrNotAdmitting)
// and reads go on. One process is elected for all the logs, not one per
// log: each log's admission authorizes against the registry log's state
// as the same process last committed it, which one process keeps exact.
//
// Decisions where DESIGN.md is silent:
//   - Submitting bytes already admitted returns the same entry (the leaf
//     hash is the identity), without re-checking rules or time.
//   - A statement's time must be within MaxClockSkew of the server's clock
//     in the future and MaxAge in the past (defaults 5 minutes and 24
//     hours), so an agency cannot backdate or postdate entries.
//   - A revoked or retired key's statement is PERMISSION_DENIED (the
//     signature verifies; the key may no longer sign), as the registry
//     issue asks; UNAUTHENTICATED stays for a signature that does not
//     verify or an unknown key.
//   - Reads past the latest checkpoint answer OUT_OF_RANGE (as Trillian and
//     CT do: the log may grow to it), a leaf hash not in the log NOT_FOUND.
package personalities
