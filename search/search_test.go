package search_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
	"github.com/govlog/govlog/search"
	"github.com/govlog/govlog/storage"
	"github.com/govlog/govlog/storage/mysql"
	"github.com/govlog/govlog/storage/mysql/mysqltest"
	"github.com/govlog/govlog/storage/sqlite"
)

// index is a place to write and search an index: the state in memory,
// or a real store's.
type index interface {
	add(t testing.TB, first uint64, entries []rule.Entry)
	find(t testing.TB, q search.Query) ([]search.Hit, string, error)
}

type memoryIndex struct{ st ruletest.State }

func (m *memoryIndex) add(t testing.TB, first uint64, entries []rule.Entry) {
	// One entry at a time, as a monitor's replay indexes: each block is
	// read and written back with one more entry.
	for i, e := range entries {
		e.Index = first + uint64(i)
		if err := search.IndexEntries(context.Background(), m.st, docs{}, []rule.Entry{e}); err != nil {
			t.Fatal(err)
		}
	}
}

func (m *memoryIndex) find(t testing.TB, q search.Query) ([]search.Hit, string, error) {
	return search.Find(context.Background(), m.st, q)
}

// storeIndex writes in admission transactions and searches in reads, as
// the admission server does, 500 entries at a time: batches that end
// inside a block.
type storeIndex struct{ s storage.AdmissionStore }

func (s storeIndex) add(t testing.TB, first uint64, entries []rule.Entry) {
	for len(entries) > 0 {
		n := min(len(entries), 500)
		err := s.s.Admit(context.Background(), "docs", func(ctx context.Context, tx storage.AdmitTx) error {
			batch := slices.Clone(entries[:n])
			for i := range batch {
				batch[i].Index = first + uint64(i)
			}
			return search.IndexEntries(ctx, tx, docs{}, batch)
		})
		if err != nil {
			t.Fatal(err)
		}
		entries, first = entries[n:], first+uint64(n)
	}
}

func (s storeIndex) find(t testing.TB, q search.Query) (hits []search.Hit, next string, err error) {
	err = s.s.Read(context.Background(), "docs", func(ctx context.Context, tx storage.ReadTx) error {
		hits, next, err = search.Find(ctx, tx, q)
		return err
	})
	return hits, next, err
}

func sqliteIndex(t testing.TB) index {
	path := filepath.Join(t.TempDir(), "govlog.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reader, err := sqlite.OpenReader(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reader.Close() })
	return storeIndex{sqlite.NewAdmissionStore(db, reader)}
}

func mysqlIndex(t testing.TB) index {
	db, err := mysql.Open(context.Background(), mysqltest.DSN(t), mysql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return storeIndex{mysql.NewAdmissionStore(db)}
}

// forEachIndex runs test on the index in SQLite and, with
// GOVLOG_TEST_MYSQL_DSN set, in MariaDB.
func forEachIndex(t *testing.T, test func(t *testing.T, ix index)) {
	t.Run("sqlite", func(t *testing.T) { test(t, sqliteIndex(t)) })
	t.Run("mysql", func(t *testing.T) { test(t, mysqlIndex(t)) })
}

var (
	agencies = []string{"finance-bureau", "health-commission", "city-works"}
	types    = []string{"disclosure.publish", "disclosure.correct", "disclosure.retract"}
	titles   = []string{"Budget 2027", "Hospital procurement", "预算报告", "道路维修合同", "Budget review 预算", "Road works contract"}
	start    = time.Date(2024, 11, 20, 8, 0, 0, 0, time.UTC)
)

// corpus makes n entries spread over about three years.
func corpus(n int, seed uint64) []rule.Entry {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]rule.Entry, n)
	for i := range out {
		h := sha256.Sum256(fmt.Appendf(nil, "doc %d", i))
		b, _ := json.Marshal(map[string]any{
			"doc_id": fmt.Sprintf("D-%d", i%(n/2+1)), "title": titles[r.IntN(len(titles))], "sha256": hex.EncodeToString(h[:]),
			"annex": []any{map[string]string{"from": fmt.Sprintf("acct-%d", r.IntN(5))}},
		})
		e := rule.Entry{Type: types[r.IntN(len(types))], Agency: agencies[r.IntN(len(agencies))], Body: b,
			Time: start.Add(time.Duration(i)*(3*24*time.Hour)*1000/time.Duration(n) + time.Duration(r.IntN(3600))*time.Second)}
		e.LeafHash = sha256.Sum256(b)
		out[i] = e
	}
	return out
}

// brute answers q over entries by reading every one.
func brute(entries []rule.Entry, q search.Query) []uint64 {
	var out []uint64
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		terms, _ := search.Terms(docs{}, e)
		has := func(kind, v string) bool {
			return v == "" || slices.Contains(terms, search.Term{Kind: kind, Value: strings.ToLower(v)})
		}
		ok := has(search.KindAgency, q.Agency) && has(search.KindType, q.Type) && has(search.KindID, q.ID) && has(search.KindSHA256, q.SHA256)
		for _, w := range q.Words {
			for _, qw := range search.QueryWords(w) {
				ok = ok && has(search.KindWord, qw)
			}
		}
		ok = ok && (q.From.IsZero() || !e.Time.Before(q.From)) && (q.To.IsZero() || !e.Time.After(q.To))
		if ok {
			out = append(out, uint64(i))
		}
	}
	return out
}

// all pages through q, checking each page's order and size.
func all(t *testing.T, ix index, q search.Query) []uint64 {
	t.Helper()
	var out []uint64
	for pages := 0; ; pages++ {
		hits, next, err := ix.find(t, q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		if len(hits) > q.Limit {
			t.Fatalf("%d hits, limit %d", len(hits), q.Limit)
		}
		for _, h := range hits {
			if len(out) > 0 && h.Index >= out[len(out)-1] {
				t.Fatalf("%+v: hit %d after %d: not newest first", q, h.Index, out[len(out)-1])
			}
			out = append(out, h.Index)
		}
		if next == "" {
			return out
		}
		if pages > 1000 {
			t.Fatal("more than 1000 pages")
		}
		q.Cursor = next
	}
}

func TestFindMatchesBruteForce(t *testing.T) {
	forEachIndex(t, func(t *testing.T, ix index) {
		entries := corpus(600, 7) // three blocks of each list, added in batches that end inside one
		ix.add(t, 0, entries)
		r := rand.New(rand.NewPCG(7, 2))
		day := func() time.Time { return start.Add(time.Duration(r.IntN(1200*24)) * time.Hour) }
		for n := range 120 {
			q := search.Query{Limit: 1 + r.IntN(15)}
			if r.IntN(3) == 0 {
				q.Agency = agencies[r.IntN(len(agencies))]
			}
			if r.IntN(3) == 0 {
				q.Type = types[r.IntN(len(types))]
			}
			if r.IntN(6) == 0 {
				q.ID = fmt.Sprintf("d-%d", r.IntN(200))
			}
			if r.IntN(8) == 0 {
				q.ID = fmt.Sprintf("ACCT-%d", r.IntN(5))
			}
			if r.IntN(10) == 0 {
				var b rule.Entry = entries[r.IntN(len(entries))]
				var body struct{ SHA256 string }
				json.Unmarshal(b.Body, &body)
				q.SHA256 = strings.ToUpper(body.SHA256)
			}
			if r.IntN(3) == 0 {
				q.Words = []string{[]string{"budget", "预算", "合同", "road WORKS", "报告", "预"}[r.IntN(6)]}
			}
			switch r.IntN(4) {
			case 0:
				q.From = day()
			case 1:
				q.To = day()
			case 2:
				q.From = day()
				q.To = q.From.Add(time.Duration(r.IntN(800*24)) * time.Hour)
			}
			want := brute(entries, q)
			got := all(t, ix, q)
			if !slices.Equal(got, want) {
				t.Fatalf("query %d %+v:\n got %v\nwant %v", n, q, got, want)
			}
		}
	})
}

// TestFindPages: three criteria intersect, and pages of two list them all
// once, newest first, while entries are added between pages.
func TestFindPages(t *testing.T) {
	forEachIndex(t, func(t *testing.T, ix index) {
		at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
		entry := func(agency, typ, title string) rule.Entry {
			b, _ := json.Marshal(map[string]string{"title": title})
			return rule.Entry{Type: typ, Agency: agency, Time: at, Body: b}
		}
		var es []rule.Entry
		for i := range 9 {
			es = append(es, entry("a", "publish", "预算报告"), entry("b", "publish", "预算报告"), entry("a", "retract", "预算报告"))
			_ = i
		}
		ix.add(t, 0, es)
		q := search.Query{Agency: "a", Type: "publish", Words: []string{"算报"}, Limit: 2}
		hits, next, err := ix.find(t, q)
		if err != nil || len(hits) != 2 || hits[0].Index != 24 || hits[1].Index != 21 || next != "21" {
			t.Fatalf("first page: %v, next %q, %v", hits, next, err)
		}
		if hits[0].Title != "预算报告" || hits[0].Agency != "a" || hits[0].Type != "publish" || !hits[0].Time.Equal(at) {
			t.Errorf("hit summary %+v", hits[0].Summary)
		}
		// An entry admitted after the first page does not move the rest.
		ix.add(t, 27, []rule.Entry{entry("a", "publish", "预算报告")})
		q.Cursor = next
		got := all(t, ix, q)
		if want := []uint64{18, 15, 12, 9, 6, 3, 0}; !slices.Equal(got, want) {
			t.Errorf("later pages %v, want %v", got, want)
		}
	})
}

func TestFindRefusesBadQueries(t *testing.T) {
	ix := &memoryIndex{ruletest.State{}}
	now := time.Now()
	tests := []struct {
		name string
		q    search.Query
	}{
		{"limit too large", search.Query{Limit: search.MaxLimit + 1}},
		{"negative limit", search.Query{Limit: -1}},
		{"short hash", search.Query{SHA256: "abcd"}},
		{"hash not hex", search.Query{SHA256: strings.Repeat("zz", 32)}},
		{"range backwards", search.Query{From: now, To: now.Add(-time.Hour)}},
		{"bad cursor", search.Query{Cursor: "x12"}},
		{"too many words", search.Query{Words: strings.Fields(strings.Repeat("w ", search.MaxWords+1) + "v")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := ix.find(t, tt.q); !errors.Is(err, search.ErrInvalidQuery) {
				t.Errorf("err = %v, want ErrInvalidQuery", err)
			}
		})
	}
}
