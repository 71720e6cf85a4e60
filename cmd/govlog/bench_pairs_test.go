package main

import "testing"

// TestMedianPair: the table shows the pair whose ratio is the median of
// those measured, the lower middle of an even number, and a pair that
// could not be measured counts for nothing.
func TestMedianPair(t *testing.T) {
	p := func(ratios ...float64) []admissionPair {
		var out []admissionPair
		for _, r := range ratios {
			out = append(out, admissionPair{ratio: r, ok: r > 0})
		}
		return out
	}
	for _, tc := range []struct {
		pairs []admissionPair
		want  int
	}{
		{p(1.9), 0},
		{p(2.1, 1.7, 1.9), 2},
		{p(2.1, 1.7, 1.9, 1.8), 3},
		{p(0, 2.2, 0, 1.6), 3},
		{p(0, 0), 1},
	} {
		if got := medianPair(tc.pairs); got != tc.want {
			t.Errorf("medianPair(%v) = %d, want %d", tc.pairs, got, tc.want)
		}
	}
}
