// Package witnesstest is the conformance suite of witness.Store: every
// implementation runs [TestStore] in its own tests.
package witnesstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/govlog/govlog/witness"
)

// TestStore checks that the stores made by open behave as witness.Store
// documents. open returns a new, empty store each time it is called.
func TestStore(t *testing.T, open func(t *testing.T) witness.Store) {
	ctx := context.Background()

	t.Run("Empty", func(t *testing.T) {
		s := open(t)
		if cp, ok, err := s.Latest(ctx, "example.com/log"); err != nil || ok || cp != nil {
			t.Fatalf("Latest on an empty store = %q, %v, %v; want nil, false, nil", cp, ok, err)
		}
		if ev, err := s.Evidence(ctx); err != nil || len(ev) != 0 {
			t.Fatalf("Evidence on an empty store = %v, %v; want none", ev, err)
		}
	})

	t.Run("UpdateSeesOld", func(t *testing.T) {
		s := open(t)
		var seen [][]byte
		for _, v := range []string{"one", "two", "three"} {
			err := s.Update(ctx, "a", func(old []byte) ([]byte, error) {
				seen = append(seen, old)
				return []byte(v), nil
			})
			if err != nil {
				t.Fatalf("Update(%s): %v", v, err)
			}
		}
		if seen[0] != nil || string(seen[1]) != "one" || string(seen[2]) != "two" {
			t.Errorf("fn saw %q, want [nil one two]", seen)
		}
		if cp, ok, err := s.Latest(ctx, "a"); err != nil || !ok || string(cp) != "three" {
			t.Errorf("Latest = %q, %v, %v; want three", cp, ok, err)
		}
		if _, ok, _ := s.Latest(ctx, "b"); ok {
			t.Errorf("origin b has a value after updates of a")
		}
	})

	t.Run("UpdateErrorWritesNothing", func(t *testing.T) {
		s := open(t)
		errNo := errors.New("no")
		if err := s.Update(ctx, "a", func([]byte) ([]byte, error) { return []byte("x"), nil }); err != nil {
			t.Fatal(err)
		}
		err := s.Update(ctx, "a", func([]byte) ([]byte, error) { return nil, fmt.Errorf("wrapped: %w", errNo) })
		if !errors.Is(err, errNo) {
			t.Fatalf("Update = %v, want fn's error", err)
		}
		if cp, _, _ := s.Latest(ctx, "a"); string(cp) != "x" {
			t.Errorf("after a failed Update, Latest = %q, want x", cp)
		}
		err = s.Update(ctx, "new", func([]byte) ([]byte, error) { return nil, errNo })
		if !errors.Is(err, errNo) {
			t.Fatalf("Update = %v, want fn's error", err)
		}
		if _, ok, _ := s.Latest(ctx, "new"); ok {
			t.Errorf("a failed first Update wrote a value")
		}
	})

	t.Run("UpdateIsCompareAndSwap", func(t *testing.T) {
		// Every writer increments a counter; a lost update shows as a
		// total below the number of writers.
		s := open(t)
		const writers, each = 8, 10
		var wg sync.WaitGroup
		for range writers {
			wg.Go(func() {
				for range each {
					err := s.Update(ctx, "a", func(old []byte) ([]byte, error) {
						n := 0
						if old != nil {
							var err error
							if n, err = strconv.Atoi(string(old)); err != nil {
								return nil, err
							}
						}
						return []byte(strconv.Itoa(n + 1)), nil
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if cp, _, _ := s.Latest(ctx, "a"); string(cp) != strconv.Itoa(writers*each) {
			t.Errorf("after %d increments the counter is %q", writers*each, cp)
		}
	})

	t.Run("ConcurrentUpdatesOfManyOrigins", func(t *testing.T) {
		// Writers of several origins at once, as a busy witness's requests
		// arrive: each origin's counter counts exactly the Updates that
		// returned nil, and an fn that fails (every third of a writer's)
		// neither writes nor keeps the others of its batch from writing.
		s := open(t)
		const origins, writers, each = 8, 6, 12
		errNo := errors.New("refused")
		var mu sync.Mutex
		succeeded := map[string]int{}
		var wg sync.WaitGroup
		for o := range origins {
			origin := fmt.Sprintf("example.com/log%d", o)
			for w := range writers {
				wg.Go(func() {
					for i := range each {
						fail := (w+i)%3 == 0
						err := s.Update(ctx, origin, func(old []byte) ([]byte, error) {
							if fail {
								return nil, errNo
							}
							n := 0
							if old != nil {
								var err error
								if n, err = strconv.Atoi(string(old)); err != nil {
									return nil, err
								}
							}
							return []byte(strconv.Itoa(n + 1)), nil
						})
						switch {
						case fail && !errors.Is(err, errNo):
							t.Errorf("Update with a failing fn = %v, want its error", err)
						case !fail && err != nil:
							t.Errorf("Update: %v", err)
						case !fail:
							mu.Lock()
							succeeded[origin]++
							mu.Unlock()
						}
					}
				})
			}
		}
		wg.Wait()
		for origin, n := range succeeded {
			if cp, _, err := s.Latest(ctx, origin); err != nil || string(cp) != strconv.Itoa(n) {
				t.Errorf("%s: counter %q (%v) after %d successful increments", origin, cp, err, n)
			}
		}
	})

	t.Run("Evidence", func(t *testing.T) {
		s := open(t)
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
		recs := []witness.EvidenceRecord{
			{ID: "bb", Origin: "example.com/a", Kind: witness.KindSameSize, Found: t0, File: []byte("file b")},
			{ID: "aa", Origin: "example.com/b", Kind: witness.KindPrefix, Found: t0.Add(time.Second), File: []byte("file a")},
		}
		for _, r := range recs {
			if added, err := s.AddEvidence(ctx, r); err != nil || !added {
				t.Fatalf("AddEvidence(%s) = %v, %v; want true", r.ID, added, err)
			}
		}
		dup := recs[0]
		dup.Found = t0.Add(time.Hour)
		if added, err := s.AddEvidence(ctx, dup); err != nil || added {
			t.Fatalf("AddEvidence of a known ID = %v, %v; want false, nil", added, err)
		}
		got, err := s.Evidence(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(recs) {
			t.Fatalf("Evidence returned %d records, want %d", len(got), len(recs))
		}
		for i, r := range recs {
			g := got[i]
			if g.ID != r.ID || g.Origin != r.Origin || g.Kind != r.Kind || !g.Found.Equal(r.Found) || !bytes.Equal(g.File, r.File) {
				t.Errorf("record %d = %+v, want %+v", i, g, r)
			}
		}
	})
}
