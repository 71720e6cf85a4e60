package main

import "testing"

// TestPrintable: verify shows a bundle's text as it is in the log, not as
// bidirectional or control characters would make a terminal show it.
func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		`{"title":"Budget 2027"}`: `{"title":"Budget 2027"}`,
		"Budget \u202egpj.exe":    `Budget \u202egpj.exe`,
		"a\u2066b\u2069":          `a\u2066b\u2069`,
		"bell\a":                  `bell\u0007`,
		"预算 مرحبا":                "预算 مرحبا",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}
