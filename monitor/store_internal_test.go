package monitor

import (
	"context"
	"maps"
	"slices"
	"testing"
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
