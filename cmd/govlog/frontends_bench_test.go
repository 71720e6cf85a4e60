package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
)

// BenchmarkFrontEnds measures statements admitted per second (Submit with
// wait=false, each answered with a promise) with one and with three serve
// processes on one MariaDB database, elected through etcd, the load spread
// evenly over all of them by 64 callers. Each run starts its own deployment
// (about half a minute), so give a fixed count:
//
//	GOVLOG_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/' go test -run '^$' -bench FrontEnds -benchtime 20000x ./cmd/govlog/
func BenchmarkFrontEnds(b *testing.B) {
	outer := b
	for _, n := range []int{1, 3} {
		var cl *cluster
		b.Run(fmt.Sprintf("frontends=%d", n), func(b *testing.B) {
			// The sub-benchmark runs more than once (N=1 first); the
			// deployment lives until all its runs are done.
			if cl == nil {
				cl = startCluster(outer, n)
			}
			benchFrontEnds(b, cl)
		})
		if cl != nil {
			cl.stop()
		}
	}
}

func benchFrontEnds(b *testing.B, cl *cluster) {
	const callers = 64
	signer, err := loadSigner(filepath.Join(cl.data, "keys", "demo-agency.key"))
	if err != nil {
		b.Fatal(err)
	}
	origin := cl.origins[slices.Index(cl.logs, crashLogName)]
	// Signed before the clock starts: the callers' own signing would take
	// the servers' CPU.
	leaves := make([][]byte, b.N)
	run := time.Now().UnixNano()
	for i := range leaves {
		doc := fmt.Sprintf("fe-%d-%d", run, i)
		sum := sha256.Sum256([]byte(doc))
		body, _ := json.Marshal(map[string]string{"doc_id": doc, "title": "Front ends " + doc, "sha256": hex.EncodeToString(sum[:]),
			"category": "budget", "decision_date": "2026-11-01"})
		st, err := govlog.NewStatement(origin, "disclosure.publish", time.Now(), body)
		if err != nil {
			b.Fatal(err)
		}
		if leaves[i], err = st.Sign(signer); err != nil {
			b.Fatal(err)
		}
	}
	conns := make([]*client.Client, len(cl.serveAddrs))
	for i, addr := range cl.serveAddrs {
		if conns[i], err = client.Dial(addr); err != nil {
			b.Fatal(err)
		}
		defer conns[i].Close()
	}
	var next, retries atomic.Int64
	var wg sync.WaitGroup
	var failure atomic.Value
	b.ResetTimer()
	start := time.Now()
	for range callers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(leaves) {
					return
				}
				for {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					_, err := conns[i%len(conns)].Submit(ctx, crashLogName, leaves[i], false)
					cancel()
					if err == nil {
						break
					}
					if status.Code(err) != codes.Unavailable {
						failure.Store(err)
						return
					}
					retries.Add(1)
					time.Sleep(10 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err, _ := failure.Load().(error); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "admitted/s")
	b.ReportMetric(float64(retries.Load()), "retries")
}
