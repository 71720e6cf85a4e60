package logserver_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	logserver "github.com/govlog/govlog/log-server"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/witness"
	"github.com/govlog/govlog/witness/sqlstore"
)

// testWitness is a real witness behind an HTTP server that can be taken
// down (503 to every request) and brought back, at the same URL.
type testWitness struct {
	name string
	vkey string
	srv  *httptest.Server
	down atomic.Bool
	w    *witness.Witness
}

func startWitnesses(t *testing.T, n int, logKey logtest.LogKey) []*testWitness {
	t.Helper()
	var ws []*testWitness
	for i := 1; i <= n; i++ {
		tw := &testWitness{name: fmt.Sprintf("w%d", i)}
		skey, vkey, err := govlog.GenerateCosignerKey(nil, "witness.example/"+tw.name)
		if err != nil {
			t.Fatal(err)
		}
		tw.vkey = vkey
		cosigner, err := govlog.NewCosigner(skey, nil)
		if err != nil {
			t.Fatal(err)
		}
		store, err := sqlstore.Open(t.Context(), sqlstore.Memory)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		tw.w, err = witness.New(t.Context(), witness.Options{
			Cosigner: cosigner, Store: store,
			Logs: map[string]note.Verifier{logKey.Signer.Name(): logKey.Verifier},
		})
		if err != nil {
			t.Fatal(err)
		}
		h := witness.NewHandler(tw.w)
		tw.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if tw.down.Load() {
				http.Error(rw, "down", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(rw, r)
		}))
		t.Cleanup(tw.srv.Close)
		ws = append(ws, tw)
	}
	return ws
}

func witnessPolicy(t *testing.T, logKey logtest.LogKey, ws []*testWitness, quorum int) *govlog.Policy {
	t.Helper()
	var pws []govlog.PolicyWitness
	for _, w := range ws {
		pws = append(pws, govlog.PolicyWitness{Name: w.name, VKey: w.vkey, URL: w.srv.URL})
	}
	text, err := govlog.FormatPolicy([]string{logKey.VKey}, pws, quorum)
	if err != nil {
		t.Fatal(err)
	}
	p, err := govlog.ParsePolicy(text)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func openWitnessedLog(t *testing.T, b *logtest.Backend, key logtest.LogKey, p *govlog.Policy) *logserver.Log {
	t.Helper()
	l, err := b.Trillian.OpenLog(t.Context(), logserver.LogOptions{
		Origin: key.Signer.Name(), Signer: key.Signer, MMD: time.Minute,
		PollInterval: 10 * time.Millisecond, Policy: p, WitnessTimeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return l
}

// waitCosigned waits until the log publishes size, and returns the names
// of the witnesses whose cosignatures it carries.
func waitCosigned(t *testing.T, l *logserver.Log, p *govlog.Policy, size uint64) []string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		signed, cp := l.Checkpoint()
		if cp.Size >= size {
			_, names, err := p.Verify(signed)
			if err != nil {
				t.Fatalf("published checkpoint fails the policy: %v", err)
			}
			return names
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("size %d never published", size)
	return nil
}

// TestWitnessedLog: three witnesses, quorum two. Checkpoints are published
// cosigned; with one witness down the log keeps publishing; the witness
// that was down catches up; a restarted log (which knows nothing of the
// witnesses' sizes) is brought up to date through their 409 answers.
func TestWitnessedLog(t *testing.T) {
	t.Parallel()
	b := logtest.SQLite(t, logtest.Options{})
	key := logtest.NewLogKey(t, origin)
	ws := startWitnesses(t, 3, key)
	p := witnessPolicy(t, key, ws, 2)
	l := openWitnessedLog(t, b, key, p)

	queueAndWait(t, l, 0, leaf(0), leaf(1))
	if names := waitCosigned(t, l, p, 2); len(names) < 2 {
		t.Errorf("size 2 cosigned by %v, want at least 2 witnesses", names)
	}

	ws[2].down.Store(true)
	queueAndWait(t, l, 2, leaf(2))
	names := waitCosigned(t, l, p, 3)
	if strings.Contains(strings.Join(names, ","), "w3") || len(names) != 2 {
		t.Errorf("with w3 down, size 3 cosigned by %v, want w1 and w2", names)
	}

	ws[2].down.Store(false)
	queueAndWait(t, l, 3, leaf(3))
	if names := waitCosigned(t, l, p, 4); len(names) != 3 {
		t.Errorf("with w3 back, size 4 cosigned by %v, want all three", names)
	}

	// Two witnesses down: below the quorum, nothing new is published.
	ws[0].down.Store(true)
	ws[1].down.Store(true)
	if err := l.QueueLeaves(t.Context(), 4, [][]byte{leaf(4)}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if _, cp := l.Checkpoint(); cp.Size != 4 {
		t.Errorf("published size %d with only one witness up, want 4", cp.Size)
	}
	ws[0].down.Store(false)
	ws[1].down.Store(false)
	waitCosigned(t, l, p, 5)

	// A second log server on the same tree starts with no idea of the
	// witnesses' sizes: its first requests (old size 0) get 409s, and it
	// goes on from the sizes they report.
	l2 := openWitnessedLog(t, b, key, p)
	if err := l2.QueueLeaves(t.Context(), 5, [][]byte{leaf(5)}); err != nil {
		t.Fatal(err)
	}
	if names := waitCosigned(t, l2, p, 6); len(names) != 3 {
		t.Errorf("restarted log: size 6 cosigned by %v, want all three", names)
	}
}
