// Package search is the public search index of govlog's logs (DESIGN.md,
// Read path for everyone): entries found by agency, statement type,
// business ID, document SHA-256, time and title words, each with its
// bytes and its tlog-proof bundle.
//
// The index lives in each log's domain state, written by Index in the
// transaction that admits the entry, so it never disagrees with the log
// and a search is a few prefix scans of the state, not a scan of the log:
//
//	govlog.search/entry/<position>           the entry's summary (JSON)
//	govlog.search/<kind>/<term>/<position>   one empty key per term
//
// where position is 20 digits of MaxUint64 minus the entry's index, so
// that ascending keys list the newest entry first. Kinds: agency (the
// signing agency's registry ID), type, id (every string at any depth of
// the body in a field the domain's watch kinds name: doc_id, contract_id,
// account, ...), sha256 (fields named sha256 or *_sha256 holding 64 hex
// digits), year, month and day of the statement's UTC time, and word (the
// words of title and name fields, lower-cased; Chinese, Japanese and
// Korean text by single characters and pairs, so a title with no spaces
// is found by any two adjacent characters of it). An entry has at most
// MaxTermsPerEntry terms.
//
// Decisions:
//   - Several criteria intersect: the sparsest term's list is read (judged
//     from the first keys of each below the cursor), else the time range's
//     year, month and day lists, else every entry; the entries read are
//     checked for the other terms a chunk at a time, by reading each
//     term's list over the chunk's span, sparsest first. A page
//     examines at most a bounded number of entries, so it may hold fewer
//     results than asked and still have a next one.
//   - A cursor is the index below which the next page looks: pages stay
//     stable while the log grows.
//   - Terms are lower-cased, IDs included.
//   - Entries the log writes about itself outside a domain's types
//     (registry and log views) are not indexed; Service.Entry still reads
//     them from the log by index.
//   - Entries admitted before the index existed are indexed by Rebuild,
//     run once per log when a node starts: it reads them from the log, up
//     to the log's next index when it first ran, in batches whose
//     transactions also record its progress (Prefix+"rebuild"), so it
//     resumes after a restart and, once done, never runs again. It credits
//     an entry to an agency as the registry stands now (a key revoked
//     since with no from time credits none, and the entry is then found
//     by every criterion but its agency).
//   - The index is state the admission server keeps beside the domain's,
//     not domain state: a replay of the log by the rules alone does not
//     make it, and a monitor that compares states leaves Prefix out.
package search
