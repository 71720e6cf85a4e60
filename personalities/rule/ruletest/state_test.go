package ruletest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/govlog/govlog/personalities/rule/ruletest"
)

func TestStateCopies(t *testing.T) {
	ctx := context.Background()
	st := ruletest.State{}
	v := []byte("one")
	if err := st.Put(ctx, "k", v); err != nil {
		t.Fatal(err)
	}
	v[0] = 'X'
	got, ok, err := st.Get(ctx, "k")
	if string(got) != "one" || !ok || err != nil {
		t.Fatalf("Get = %q, %v, %v", got, ok, err)
	}
	got[0] = 'Y'
	c := st.Clone()
	c["k"][1] = 'Z'
	if string(st["k"]) != "one" {
		t.Errorf("the state changed through a value handed out: %q", st["k"])
	}
	if _, ok, err := st.Get(ctx, "nope"); ok || err != nil {
		t.Errorf("Get(nope) = %v, %v", ok, err)
	}
}

func TestStateScan(t *testing.T) {
	ctx := context.Background()
	st := ruletest.State{"b/2": []byte("2"), "a/1": []byte("x"), "b/1": []byte("1"), "b": []byte("no"), "c/1": nil}
	var keys []string
	err := st.Scan(ctx, "b/", func(k string, v []byte) error {
		keys = append(keys, k+"="+string(v))
		st["b/3"] = []byte("added while scanning")
		return nil
	})
	if err != nil || strings.Join(keys, " ") != "b/1=1 b/2=2" {
		t.Errorf("Scan(b/) = %q, %v", keys, err)
	}
	stop := errors.New("stop")
	n := 0
	if err := st.Scan(ctx, "b/", func(string, []byte) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("Scan stopped by fn = %v after %d calls", err, n)
	}
	if err := st.Scan(ctx, "", func(string, []byte) error { return nil }); err == nil {
		t.Errorf("Scan with an empty prefix succeeded")
	}
}

func TestEqualAndDiff(t *testing.T) {
	base := ruletest.State{"a": []byte(`{"n":1}`), "b": []byte("same"), "c": {0xff, 0x00}}
	tests := []struct {
		name  string
		got   ruletest.State
		equal bool
		want  []string // substrings of the diff
	}{
		{name: "same", got: base.Clone(), equal: true},
		{name: "changed", got: ruletest.State{"a": []byte(`{"n":2}`), "b": []byte("same"), "c": {0xff, 0x00}},
			want: []string{`"a":`, `got  "{\"n\":2}"`, `want "{\"n\":1}"`}},
		{name: "missing", got: ruletest.State{"a": []byte(`{"n":1}`), "b": []byte("same")}, want: []string{`"c": missing, want ff00`}},
		{name: "unexpected", got: ruletest.State{"a": []byte(`{"n":1}`), "b": []byte("same"), "c": {0xff, 0x00}, "d": nil},
			want: []string{`"d": unexpected ""`}},
		{name: "empty value is not missing", got: ruletest.State{"a": []byte(`{"n":1}`), "b": {}, "c": {0xff, 0x00}},
			want: []string{`"b":`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ruletest.Equal(base, tt.got); got != tt.equal {
				t.Errorf("Equal = %v", got)
			}
			diff := ruletest.Diff(base, tt.got)
			if (diff == "") != tt.equal {
				t.Errorf("Diff = %q", diff)
			}
			for _, w := range tt.want {
				if !strings.Contains(diff, w) {
					t.Errorf("Diff = %q, want it to contain %q", diff, w)
				}
			}
		})
	}
	if !ruletest.Equal(nil, ruletest.State{}) {
		t.Errorf("a nil state is not equal to an empty one")
	}
	many := ruletest.State{}
	for i := range 50 {
		many[fmt.Sprintf("k%02d", i)] = []byte("v")
	}
	if diff := ruletest.Diff(many, nil); strings.Count(diff, "\n") != 21 || !strings.Contains(diff, "and 30 more keys differ") {
		t.Errorf("Diff of 50 keys:\n%s", diff)
	}
}

func TestProbe(t *testing.T) {
	ctx := context.Background()
	p := &ruletest.Probe{State: ruletest.State{"a": []byte("1")}, FailGet: 3, FailPut: 2}
	if _, ok, err := p.Get(ctx, "a"); !ok || err != nil {
		t.Fatalf("first Get = %v, %v", ok, err)
	}
	if err := p.Scan(ctx, "a", func(string, []byte) error { return nil }); err != nil {
		t.Fatalf("Scan = %v", err)
	}
	for _, k := range []string{"a", "b"} {
		if _, _, err := p.Get(ctx, k); !errors.Is(err, ruletest.ErrInjected) {
			t.Errorf("Get(%s) after the second = %v, want ErrInjected", k, err)
		}
	}
	if err := p.Scan(ctx, "a", func(string, []byte) error { return nil }); !errors.Is(err, ruletest.ErrInjected) {
		t.Errorf("Scan after the second read = %v", err)
	}
	if err := p.Put(ctx, "b", nil); err != nil {
		t.Errorf("first Put = %v", err)
	}
	if err := p.Put(ctx, "c", nil); !errors.Is(err, ruletest.ErrInjected) {
		t.Errorf("second Put = %v", err)
	}
	if p.Gets != 5 || p.Puts != 2 || strings.Join(p.Read, " ") != "a a a b a" {
		t.Errorf("counted %d Gets, %d Puts, read %q", p.Gets, p.Puts, p.Read)
	}
	if _, ok := p.State.(ruletest.State)["c"]; ok {
		t.Errorf("a failed Put wrote")
	}
	notScanner := &ruletest.Probe{State: ruletest.NewOverlay(ruletest.State{})}
	if err := notScanner.Scan(ctx, "a", func(string, []byte) error { return nil }); err == nil || errors.Is(err, ruletest.ErrInjected) {
		t.Errorf("Scan of a state that is no Scanner = %v", err)
	}
}

func TestOverlay(t *testing.T) {
	ctx := context.Background()
	base := ruletest.State{"a": []byte("0")}
	ov := ruletest.NewOverlay(base)
	for _, kv := range [][2]string{{"b", "1"}, {"a", "2"}, {"b", "3"}} {
		if err := ov.Put(ctx, kv[0], []byte(kv[1])); err != nil {
			t.Fatal(err)
		}
	}
	if v, ok, err := ov.Get(ctx, "b"); string(v) != "3" || !ok || err != nil {
		t.Errorf("Get(b) through the overlay = %q, %v, %v", v, ok, err)
	}
	if string(base["a"]) != "0" || len(base) != 1 {
		t.Errorf("writes reached the base before Commit: %q", base)
	}
	if w := ov.Writes(); ov.Puts() != 3 || !ruletest.Equal(w, ruletest.State{"a": []byte("2"), "b": []byte("3")}) {
		t.Errorf("%d Puts, writes %q", ov.Puts(), w)
	}
	// The first key written is committed first: with the second Put of the
	// base failing, only b is there.
	probe := &ruletest.Probe{State: base, FailPut: 2}
	ov2 := ruletest.NewOverlay(probe)
	_ = ov2.Put(ctx, "b", []byte("1"))
	_ = ov2.Put(ctx, "a", []byte("2"))
	if err := ov2.Commit(ctx); !errors.Is(err, ruletest.ErrInjected) || string(base["b"]) != "1" || string(base["a"]) != "0" {
		t.Errorf("Commit = %v, base %q", err, base)
	}
	if err := ov.Commit(ctx); err != nil || !ruletest.Equal(base, ruletest.State{"a": []byte("2"), "b": []byte("3")}) {
		t.Errorf("Commit = %v, base %q", err, base)
	}
}
