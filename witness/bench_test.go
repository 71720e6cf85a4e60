package witness_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog/witness"
	"github.com/govlog/govlog/witness/sqlstore"
	"github.com/govlog/govlog/witness/witnesstest"
)

// BenchmarkAddCheckpoint measures add-checkpoint over loopback HTTP with
// keep-alive: 50 clients, each a log pushing its checkpoints one leaf at a
// time and waiting for each answer, as a log does after each sequencing
// and as transparency-dev/witness's loadtest drives a witness. Request bodies are prepared
// before the clock starts. It reports requests per second, p50 and p99
// latency, and beside them the same load against a handler that only reads
// the body and answers 200 (bare net/http on loopback), as a ratio.
func BenchmarkAddCheckpoint(b *testing.B) {
	for _, store := range []string{"memory", "sqlite"} {
		b.Run("store="+store, func(b *testing.B) {
			const clients = 50
			ctx := context.Background()
			logs := make([]*witnesstest.Log, clients)
			keys := map[string]note.Verifier{}
			for i := range logs {
				logs[i] = witnesstest.NewLog(b, fmt.Sprintf("bench.example/log%02d", i))
				keys[logs[i].Origin] = logs[i].Verifier
			}
			var s witness.Store = newMemStore()
			if store == "sqlite" {
				ss, err := sqlstore.Open(ctx, filepath.Join(b.TempDir(), "w.db"))
				if err != nil {
					b.Fatal(err)
				}
				defer ss.Close()
				s = ss
			}
			signer, _ := newCosigner(b, "witness.example/bench")
			w, err := witness.New(ctx, witness.Options{Cosigner: signer, Logs: keys, Store: s, PerLogRate: -1})
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(witness.NewHandler(w))
			defer srv.Close()
			noop := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				rw.Write([]byte("ok\n"))
			}))
			defer noop.Close()

			per := b.N/clients + 1
			bodies := make([][][]byte, clients)
			for i, l := range logs {
				for size := uint64(1); size <= uint64(per); size++ {
					bodies[i] = append(bodies[i], witness.FormatAddCheckpointRequest(size-1, l.Proof(size-1, size), l.Checkpoint(size)))
				}
			}
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}

			baseline, _ := runLoad(b, hc, noop.URL, bodies)
			b.ResetTimer()
			elapsed, lat := runLoad(b, hc, srv.URL, bodies)
			b.StopTimer()
			n := float64(len(lat))
			rate, baseRate := n/elapsed.Seconds(), n/baseline.Seconds()
			b.ReportMetric(rate, "req/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
			b.ReportMetric(baseRate, "noop_req/s")
			b.ReportMetric(rate/baseRate, "ratio_to_noop")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// runLoad sends each client's bodies in order, clients concurrently, and
// returns the elapsed time and the sorted latencies.
func runLoad(b *testing.B, hc *http.Client, url string, bodies [][][]byte) (time.Duration, []time.Duration) {
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for _, mine := range bodies {
		wg.Go(func() {
			lat := make([]time.Duration, 0, len(mine))
			for _, body := range mine {
				t0 := time.Now()
				resp, err := hc.Post(url+"/add-checkpoint", "text/plain", bytes.NewReader(body))
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(all)
	if len(all) == 0 {
		b.Fatal("no request succeeded")
	}
	return elapsed, all
}
