package registry_test

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog/personalities/registry"
)

// BenchmarkRegistry measures what admission pays for a registry of 1,000
// agencies with two keys each: building it from the state (after each
// registry commit) and authorizing one signature (per statement).
func BenchmarkRegistry(b *testing.B) {
	const agencies = 1000
	var f registry.File
	var signer note.Signer
	for i := range agencies {
		id := fmt.Sprintf("agency-%04d", i)
		a := registry.Agency{ID: id, Roles: []string{"discloser"}}
		for range 2 {
			k := genKey(b, id)
			a.Keys = append(a.Keys, registry.Key{VKey: k.vkey})
			signer = k.signer
		}
		f.Agencies = append(f.Agencies, a)
	}
	entries, _ := f.Entries()
	start := time.Now()
	reg, err := registry.New(f)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d agencies: %d genesis entries applied and the registry built in %v", agencies, len(entries), time.Since(start))
	sigs := sigsOf(b, reg, signer)
	at := time.Now()
	b.Run("authorize", func(b *testing.B) {
		for b.Loop() {
			if _, err := reg.AuthorizeAt(reg.Size(), sigs, "discloser", at); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("replay-genesis", func(b *testing.B) {
		for b.Loop() {
			if _, err := registry.New(f); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(entries))*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	})
}
