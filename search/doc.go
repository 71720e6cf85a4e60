// Package search is the public search index of govlog's logs (DESIGN.md,
// Read path for everyone): entries found by agency, statement type,
// business ID, document SHA-256, time and title words, each with its
// bytes and its tlog-proof bundle.
//
// The index is kept in each log's state by Follow, which reads the log's
// entries as published checkpoints include them and indexes them in
// batches, after admission and off its path, as a search service beside
// a CT log would: admission writes nothing for it, and every entry found
// is in a checkpoint, so its result carries its bundle. A search is a few
// prefix scans of the state, not a scan of the log:
//
//	govlog.search/e/<position>                   the entry's summary (JSON)
//	govlog.search/b/<kind>/<term>/<position>     a block of the term's list
//	govlog.search/next                           the next entry to index
//
// where position is 20 digits of MaxUint64 minus an index, so that
// ascending keys list the newest first. A term's list is kept in blocks of
// 256 consecutive indexes (keyed by the block's first), each listing the
// entries of its range that have the term: an entry's shared terms (its
// agency, type, day) cost a byte in a block many entries share, not a row
// each. Kinds: agency (the signing agency's registry ID), type, id (every
// string at any depth of the body in a field the domain's watch kinds
// name: doc_id, contract_id, account, ...), sha256 (fields named sha256 or *_sha256 holding 64 hex
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
//   - The index is written by the process that admits (personalities'
//     Server runs Follow per log), in a store of its own where one is
//     given: on SQLite a file beside the logs' (govlog.search.db), so that
//     indexing never waits for admissions' one writer, nor they for it.
//   - An entry is credited to the agency whose registered key signed it,
//     by its signature lines as read: the log verified them when it
//     admitted the entry.
//   - An index kept before Follow (written by admission, one row per entry
//     and term) is not read: Follow indexes every entry again from the
//     first, and the admitting server deletes the old rows when it starts
//     (PruneOldLayout).
//   - The index is state the admission server keeps beside the domain's,
//     not domain state: a replay of the log by the rules alone does not
//     make it, and a monitor that compares states leaves Prefix out.
package search
