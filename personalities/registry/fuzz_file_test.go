package registry_test

import (
	"testing"

	"github.com/govlog/govlog/personalities/registry"
)

// FuzzParse: any registry file is parsed into a registry or refused with an
// error, never a panic; what parses builds the same registry from its
// genesis entries as from the file.
func FuzzParse(f *testing.F) {
	f.Add([]byte("agencies:\n  - id: city-a\n    name: City A\n    roles: [discloser]\n    keys:\n      - vkey: city-a+3a0b5c3f+AXPtZf9JUl6Cg2pbUUQyhzKpEGtdSGhFBYnc97xZ8bLr\n"))
	f.Add([]byte("agencies:\n  - id: a\n    retired_roles:\n      - {role: r, until: 2026-10-01T00:00:00Z}\n    officials:\n      - staff: s-1\n        keys: []\n"))
	f.Add([]byte("agencies: [{id: x, keys: [{vkey: x+00000000+AA==, revoked: true, retired: 2026-01-01T00:00:00Z}]}]"))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := registry.ParseFile(data)
		if err != nil {
			return
		}
		r, err := registry.New(file)
		if err != nil {
			return
		}
		entries, err := file.Entries()
		if err != nil {
			t.Fatalf("New built a registry from a file whose entries fail: %v", err)
		}
		if r.Size() != uint64(len(entries)) {
			t.Fatalf("registry of %d entries from %d genesis entries", r.Size(), len(entries))
		}
	})
}
