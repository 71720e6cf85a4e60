package monitor

import (
	"context"
	"crypto/sha256"
	"fmt"
	"syscall"
	"testing"
)

// BenchmarkReplayStore is the store's part of a first pass over a log of
// 100,000 disclosures: per entry, a state key read that finds nothing, a
// record of 200 bytes written and the leaf hash recorded, all in one
// transaction that commits at the end. It prints the CPU time per entry
// the replay spends in SQLite, which runs on one core beside the
// signature checks on the others. Run with
//
//	go test -run '^$' -bench ReplayStore -benchtime 3x ./monitor/
func BenchmarkReplayStore(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	value := make([]byte, 200)
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	for b.Loop() {
		s, err := OpenStore(ctx, b.TempDir()+"/monitor.db")
		if err != nil {
			b.Fatal(err)
		}
		tx, err := s.begin(ctx, "gov.example/disclosures")
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			key := fmt.Sprintf("doc/ministry-of-finance/doc-%d", i)
			if _, ok, err := tx.Get(ctx, key); err != nil || ok {
				b.Fatalf("Get(%s) = %v, %v", key, ok, err)
			}
			if err := tx.Put(ctx, key, value); err != nil {
				b.Fatal(err)
			}
			if err := tx.putLeaf(ctx, sha256.Sum256([]byte(key)), uint64(i)); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.commit(ctx, Verified{}, false, Verified{Checkpoint: []byte("cp"), Size: n}); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n*b.N), "µs/entry")
	b.ReportMetric(float64(cpu)/1e3/float64(n*b.N), "CPU-µs/entry")
}
