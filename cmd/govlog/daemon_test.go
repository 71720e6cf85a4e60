package main

import "testing"

// TestDaemonFlags: serve, witness and monitor take the same flags, each
// with its own config file name.
func TestDaemonFlags(t *testing.T) {
	for _, tc := range []struct{ name, config string }{
		{"serve", "govlog.yaml"},
		{"witness", "witness.yaml"},
		{"monitor", "monitor.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd, _, err := newRootCmd().Find([]string{tc.name})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct{ name, short, def string }{
				{"config", "c", tc.config},
				{"verbose", "v", "false"},
				{"check", "", "false"},
			} {
				flag := cmd.Flags().Lookup(f.name)
				if flag == nil || flag.Shorthand != f.short || flag.DefValue != f.def {
					t.Errorf("--%s: got %+v, want -%s default %q", f.name, flag, f.short, f.def)
				}
			}
		})
	}
}
