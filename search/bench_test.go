package search_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/search"
)

// benchEntries is the size of the index the benchmarks search.
const benchEntries = 100_000

var benchWords = []string{"budget", "procurement", "hospital", "road", "school", "water", "contract", "minutes",
	"预算", "采购", "医院", "道路", "学校", "供水", "合同", "会议纪要"}

// benchCorpus is benchEntries disclosures of 20 agencies over one year,
// each titled with three words of benchWords.
func benchCorpus() []rule.Entry {
	r := rand.New(rand.NewPCG(1, 1))
	begin := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]rule.Entry, benchEntries)
	for i := range out {
		h := sha256.Sum256(fmt.Appendf(nil, "document %d", i))
		title := benchWords[r.IntN(len(benchWords))] + " " + benchWords[r.IntN(len(benchWords))] + " " + benchWords[r.IntN(len(benchWords))]
		b, _ := json.Marshal(map[string]string{"doc_id": fmt.Sprintf("doc-%d", i), "title": title, "sha256": hex.EncodeToString(h[:]),
			"category": "general", "decision_date": "2026-01-01"})
		out[i] = rule.Entry{Type: types[r.IntN(len(types))], Agency: fmt.Sprintf("agency-%02d", r.IntN(20)), Body: b,
			Time: begin.Add(time.Duration(i) * (365 * 24 * time.Hour / benchEntries)), LeafHash: sha256.Sum256(b)}
	}
	return out
}

// benchBackends are the stores the benchmarks run on (MariaDB's skipped
// without GOVLOG_TEST_MYSQL_DSN).
var benchBackends = []struct {
	name string
	open func(testing.TB) index
}{{"sqlite", sqliteIndex}, {"mysql", mysqlIndex}}

// BenchmarkSearch measures searches per second of typical queries on an
// index of benchEntries entries, in SQLite and (with
// GOVLOG_TEST_MYSQL_DSN) MariaDB: go test -run XXX -bench Search
// ./search. Building the index is not timed.
func BenchmarkSearch(b *testing.B) {
	entries := benchCorpus()
	for _, backend := range benchBackends {
		b.Run(backend.name, func(b *testing.B) {
			ix := backend.open(b)
			began := time.Now()
			ix.add(b, 0, entries)
			b.Logf("indexed %d entries in %s", len(entries), time.Since(began).Round(time.Second))
			var lastSHA struct{ SHA256 string }
			json.Unmarshal(entries[len(entries)/2].Body, &lastSHA)
			mid := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
			for _, q := range []struct {
				name string
				q    search.Query
			}{
				{"sha256", search.Query{SHA256: lastSHA.SHA256}},
				{"id", search.Query{ID: "doc-4242"}},
				{"word", search.Query{Words: []string{"hospital"}}},
				{"chinese_words", search.Query{Words: []string{"道路"}}},
				{"agency_type", search.Query{Agency: "agency-07", Type: "disclosure.correct"}},
				{"agency_type_word", search.Query{Agency: "agency-07", Type: "disclosure.correct", Words: []string{"school"}}},
				{"week", search.Query{From: mid, To: mid.AddDate(0, 0, 7)}},
				{"word_page_50", search.Query{Words: []string{"water"}, Cursor: "50000"}},
				{"everything", search.Query{}},
			} {
				b.Run(q.name, func(b *testing.B) {
					hits, _, err := ix.find(b, q.q)
					if err != nil || len(hits) == 0 {
						b.Fatalf("%+v: %d hits, %v", q.q, len(hits), err)
					}
					for b.Loop() {
						if _, _, err := ix.find(b, q.q); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "searches/s")
				})
			}
		})
	}
}

// BenchmarkIndex measures entries indexed per second in batches of 256, as
// Follow writes them, each batch one transaction, into SQLite and (with
// GOVLOG_TEST_MYSQL_DSN) MariaDB: go test -run XXX -bench Index ./search.
func BenchmarkIndex(b *testing.B) {
	entries := benchCorpus()
	const batch = 256
	for _, backend := range benchBackends {
		b.Run(backend.name, func(b *testing.B) {
			ix := backend.open(b)
			n := 0
			for b.Loop() {
				start := n % (len(entries) - batch)
				ix.add(b, uint64(n), entries[start:start+batch])
				n += batch
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
