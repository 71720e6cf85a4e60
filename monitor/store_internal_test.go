package monitor

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestStatePrefix(t *testing.T) {
	ctx := context.Background()
	s, err := OpenStore(ctx, Memory)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, k := range []string{"account", "account/", "account/a", "account/b/c", "accounu", "ledger/a/1", "x\xff", "x\xff\xff", "y"} {
		if _, err := s.db.ExecContext(ctx, putStateSQL, "o", k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.db.ExecContext(ctx, putStateSQL, "other", "account/z", []byte("z")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"account/", []string{"account/", "account/a", "account/b/c"}},
		{"account", []string{"account", "account/", "account/a", "account/b/c"}},
		{"ledger/", []string{"ledger/a/1"}},
		{"x\xff", []string{"x\xff", "x\xff\xff"}},
		{"none", nil},
	} {
		got, err := s.StatePrefix(ctx, "o", tc.prefix)
		if err != nil {
			t.Fatal(err)
		}
		if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, tc.want) {
			t.Errorf("StatePrefix(%q) = %q, want %q", tc.prefix, keys, tc.want)
		}
	}
	if _, err := s.StatePrefix(ctx, "o", ""); err == nil {
		t.Error("StatePrefix with an empty prefix succeeded")
	}
}

// TestReadsDuringPass: while a pass holds the write transaction, the
// dashboard's reads answer at once, from the last committed state.
func TestReadsDuringPass(t *testing.T) {
	ctx := context.Background()
	s, err := OpenStore(ctx, filepath.Join(t.TempDir(), "monitor.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.db.ExecContext(ctx, putStateSQL, "o", "doc/a/1", []byte("committed")); err != nil {
		t.Fatal(err)
	}
	pass, err := s.begin(ctx, "o")
	if err != nil {
		t.Fatal(err)
	}
	defer pass.rollback()
	if err := pass.Put(ctx, "doc/a/2", []byte("in the pass")); err != nil {
		t.Fatal(err)
	}
	if err := pass.flush(ctx); err != nil {
		t.Fatal(err)
	}
	readCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	got, err := s.StatePrefix(readCtx, "o", "doc/")
	if err != nil {
		t.Fatalf("read during a pass: %v", err)
	}
	if len(got) != 1 || string(got["doc/a/1"]) != "committed" {
		t.Errorf("read during a pass = %q, want only the committed key", got)
	}
	if _, err := s.Alerts(readCtx); err != nil {
		t.Errorf("Alerts during a pass: %v", err)
	}
	if _, _, err := s.Verified(readCtx, "o"); err != nil {
		t.Errorf("Verified during a pass: %v", err)
	}
}

// TestPrefetch: state read ahead for a batch answers Gets as the store
// would, and never hides what the pass wrote since, across flushes.
func TestPrefetch(t *testing.T) {
	ctx := context.Background()
	s, err := OpenStore(ctx, Memory)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.db.ExecContext(ctx, putStateSQL, "o", "stored", []byte("s")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, putStateSQL, "other", "absent", []byte("another log's")); err != nil {
		t.Fatal(err)
	}
	pass, err := s.begin(ctx, "o")
	if err != nil {
		t.Fatal(err)
	}
	defer pass.rollback()
	want := func(key, value string, ok bool) {
		t.Helper()
		v, found, err := pass.Get(ctx, key)
		if err != nil || found != ok || string(v) != value {
			t.Fatalf("Get(%q) = %q, %v, %v; want %q, %v", key, v, found, err, value, ok)
		}
	}
	if err := pass.Put(ctx, "written", []byte("w")); err != nil {
		t.Fatal(err)
	}
	keys := []string{"stored", "absent", "written", "stored"}
	for i := range 600 { // more than one statement's worth
		keys = append(keys, fmt.Sprintf("k%d", i))
	}
	if err := pass.prefetch(ctx, keys); err != nil {
		t.Fatal(err)
	}
	if _, ok := pass.read["stored"]; !ok {
		t.Fatal("nothing read ahead")
	}
	want("stored", "s", true)
	want("absent", "", false)
	want("written", "w", true)
	want("k599", "", false)
	// Written after the read ahead, flushed, and read back.
	if err := pass.Put(ctx, "absent", []byte("a")); err != nil {
		t.Fatal(err)
	}
	want("absent", "a", true)
	if err := pass.flush(ctx); err != nil {
		t.Fatal(err)
	}
	want("absent", "a", true)
	want("stored", "s", true)
	// A value read ahead is the reader's copy.
	if err := pass.prefetch(ctx, []string{"stored"}); err != nil {
		t.Fatal(err)
	}
	v, _, _ := pass.Get(ctx, "stored")
	v[0] = 'x'
	want("stored", "s", true)
}
