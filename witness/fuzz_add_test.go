package witness_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/govlog/govlog/witness"
	"github.com/govlog/govlog/witness/witnesstest"
)

// FuzzAddCheckpoint sends arbitrary add-checkpoint request bodies through
// the whole HTTP handler of a witness that has cosigned size 5 of a log: no
// panic, never a 500, and a refused request leaves its latest checkpoint
// as it was.
func FuzzAddCheckpoint(f *testing.F) {
	log := witnesstest.NewLog(f, "example.com/log")
	req := witness.FormatAddCheckpointRequest
	f.Add(req(5, log.Proof(5, 9), log.Checkpoint(9)))
	f.Add(req(0, nil, log.Checkpoint(5)))
	f.Add(req(5, nil, log.Checkpoint(5)))
	f.Add(req(3, log.Proof(3, 9), log.Checkpoint(9)))
	f.Add(req(5, log.Proof(5, 7), log.Fork(6, "x").Checkpoint(7)))
	f.Add([]byte("old 5\nAAAA\n\nexample.com/log\n9\nAAAA\n\n— example.com/log AAAA\n"))
	cp5 := log.Checkpoint(5) // the log helpers belong to f, not to t
	f.Fuzz(func(t *testing.T, body []byte) {
		w, _ := newWitness(t, newMemStore(), log)
		if _, err := w.AddCheckpoint(context.Background(), 0, nil, cp5); err != nil {
			t.Fatal(err)
		}
		before, _, _ := w.Latest(context.Background(), log.Origin)
		rec := httptest.NewRecorder()
		witness.NewHandler(w).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/add-checkpoint", bytes.NewReader(body)))
		if rec.Code == http.StatusInternalServerError {
			t.Fatalf("500 for %q: %s", body, rec.Body)
		}
		if rec.Code != http.StatusOK {
			after, _, _ := w.Latest(context.Background(), log.Origin)
			if !bytes.Equal(before, after) {
				t.Fatalf("a refused request (%d) changed the latest checkpoint", rec.Code)
			}
		}
	})
}
