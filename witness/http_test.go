package witness_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/witness"
	"github.com/govlog/govlog/witness/witnesstest"
)

func post(t *testing.T, url string, body []byte) (int, string, string) {
	t.Helper()
	resp, err := http.Post(url+"/add-checkpoint", "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func originHash(origin string) string {
	sum := sha256.Sum256([]byte(origin))
	return hex.EncodeToString(sum[:])
}

// TestHTTPStatusCodes sends every kind of request of the spec through the
// handler and checks its status code.
func TestHTTPStatusCodes(t *testing.T) {
	log := witnesstest.NewLog(t, "example.com/log")
	other := witnesstest.NewLog(t, "example.com/other")
	impostor := witnesstest.NewLog(t, "example.com/log")
	fork := log.Fork(2, "fork")
	wrongEmpty, _ := govlog.SignCheckpoint(govlog.Checkpoint{Origin: log.Origin, Size: 0, Hash: log.Root(1)}, log.Signer)
	badProof := log.Proof(5, 9)
	badProof[0][0] ^= 1
	req := witness.FormatAddCheckpointRequest

	tests := []struct {
		name       string
		body       []byte
		wantStatus int
	}{
		{"200 cosigned", req(5, log.Proof(5, 9), log.Checkpoint(9)), http.StatusOK},
		{"400 garbage", []byte("hello\n"), http.StatusBadRequest},
		{"400 old size larger than new", req(9, nil, log.Checkpoint(8)), http.StatusBadRequest},
		{"400 checkpoint not a note", req(5, nil, []byte("example.com/log\n9\n")), http.StatusBadRequest},
		{"403 no signature by the log's key", req(5, log.Proof(5, 9), impostor.Checkpoint(9)), http.StatusForbidden},
		{"404 unknown origin", req(5, nil, other.Checkpoint(9)), http.StatusNotFound},
		{"409 old size is not the latest", req(3, log.Proof(3, 9), log.Checkpoint(9)), http.StatusConflict},
		{"413 too large", req(5, nil, append(log.Checkpoint(9), bytes.Repeat([]byte("x"), witness.MaxRequestSize)...)), http.StatusRequestEntityTooLarge},
		{"422 bad consistency proof", req(5, badProof, log.Checkpoint(9)), http.StatusUnprocessableEntity},
		{"422 same size another root", req(5, nil, fork.Checkpoint(5)), http.StatusUnprocessableEntity},
		{"422 empty tree with another root", req(0, nil, wrongEmpty), http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, _ := newWitness(t, newMemStore(), log)
			if _, err := w.AddCheckpoint(context.Background(), 0, nil, log.Checkpoint(5)); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(witness.NewHandler(w))
			defer srv.Close()
			status, ctype, body := post(t, srv.URL, tt.body)
			if status != tt.wantStatus {
				t.Fatalf("status %d (%s), want %d", status, strings.TrimSpace(body), tt.wantStatus)
			}
			switch status {
			case http.StatusOK:
				if !strings.HasPrefix(body, "— witness.example/w1 ") {
					t.Errorf("body %q is not a cosignature line", body)
				}
			case http.StatusConflict:
				// SPEC: the body is the latest size and a newline, as
				// text/x.tlog.size.
				if body != "5\n" || ctype != "text/x.tlog.size" {
					t.Errorf("409 body %q, Content-Type %q; want \"5\\n\", text/x.tlog.size", body, ctype)
				}
			}
		})
	}

	t.Run("422 empty tree on a fresh witness", func(t *testing.T) {
		w, _ := newWitness(t, newMemStore(), log)
		srv := httptest.NewServer(witness.NewHandler(w))
		defer srv.Close()
		if status, _, body := post(t, srv.URL, req(0, nil, wrongEmpty)); status != http.StatusUnprocessableEntity {
			t.Fatalf("status %d (%s), want 422", status, body)
		}
		if status, _, body := post(t, srv.URL, req(0, log.Proof(1, 3), log.Checkpoint(3))); status != http.StatusUnprocessableEntity {
			t.Fatalf("non-empty proof from 0: status %d (%s), want 422", status, body)
		}
		if status, ctype, body := post(t, srv.URL, req(2, log.Proof(2, 3), log.Checkpoint(3))); status != http.StatusConflict || body != "0\n" || ctype != "text/x.tlog.size" {
			t.Fatalf("fresh witness, old 2: %d %q %q; want 409 \"0\\n\"", status, ctype, body)
		}
	})
	t.Run("405 GET add-checkpoint", func(t *testing.T) {
		w, _ := newWitness(t, newMemStore(), log)
		srv := httptest.NewServer(witness.NewHandler(w))
		defer srv.Close()
		if status, _ := get(t, srv.URL+"/add-checkpoint"); status != http.StatusMethodNotAllowed {
			t.Fatalf("status %d, want 405", status)
		}
	})
}

// TestHTTPCheckpointAndEvidence covers the read side: the latest cosigned
// checkpoint at both paths, and evidence.
func TestHTTPCheckpointAndEvidence(t *testing.T) {
	ctx := context.Background()
	log := witnesstest.NewLog(t, "example.com/log")
	w, vkey := newWitness(t, newMemStore(), log)
	srv := httptest.NewServer(witness.NewHandler(w))
	defer srv.Close()
	h := originHash(log.Origin)

	for _, path := range []string{"/checkpoint/" + h, "/" + h + "/checkpoint"} {
		if status, _ := get(t, srv.URL+path); status != http.StatusNotFound {
			t.Errorf("GET %s before any cosignature: %d, want 404", path, status)
		}
	}
	if status, _ := get(t, srv.URL+"/checkpoint/"+originHash("example.com/nope")); status != http.StatusNotFound {
		t.Errorf("unknown log: %d, want 404", status)
	}
	if status, _ := get(t, srv.URL+"/checkpoint/"+strings.ToUpper(h)); status != http.StatusNotFound {
		t.Errorf("uppercase hash: %d, want 404", status)
	}

	c := &witness.Client{URL: srv.URL}
	if _, err := c.Checkpoint(ctx, log.Origin); !errors.Is(err, witness.ErrNoCheckpoint) {
		t.Errorf("Client.Checkpoint = %v, want ErrNoCheckpoint", err)
	}
	lines, err := c.AddCheckpoint(ctx, 0, nil, log.Checkpoint(6))
	if err != nil {
		t.Fatal(err)
	}
	want := string(log.Checkpoint(6)) + string(lines)
	for _, path := range []string{"/checkpoint/" + h, "/" + h + "/checkpoint"} {
		if status, body := get(t, srv.URL+path); status != http.StatusOK || body != want {
			t.Errorf("GET %s = %d %q, want %q", path, status, body, want)
		}
	}
	got, err := c.Checkpoint(ctx, log.Origin)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := govlog.NewCosignatureVerifier(vkey)
	if _, err := note.Open(got, note.VerifierList(v)); err != nil {
		t.Errorf("served checkpoint doesn't carry the cosignature: %v", err)
	}

	// The client maps status codes back to the sentinels.
	_, err = c.AddCheckpoint(ctx, 2, log.Proof(2, 8), log.Checkpoint(8))
	var conflict *witness.SizeConflictError
	if !errors.As(err, &conflict) || conflict.Latest != 6 {
		t.Errorf("Client.AddCheckpoint = %v, want a size conflict at 6", err)
	}
	if _, err := c.AddCheckpoint(ctx, 6, nil, log.Checkpoint(8)); !errors.Is(err, witness.ErrInconsistent) {
		t.Errorf("Client.AddCheckpoint = %v, want ErrInconsistent", err)
	}

	// Evidence: none, then one, listed and served.
	if status, body := get(t, srv.URL+"/evidence"); status != http.StatusOK || body != "" {
		t.Errorf("GET /evidence = %d %q, want 200 and nothing", status, body)
	}
	fork := log.Fork(3, "B")
	if _, err := c.AddCheckpoint(ctx, 6, nil, fork.Checkpoint(6)); !errors.Is(err, witness.ErrInconsistent) {
		t.Fatalf("other branch: %v, want ErrInconsistent", err)
	}
	status, list := get(t, srv.URL+"/evidence")
	fields := strings.Fields(list)
	if status != http.StatusOK || len(fields) != 4 || fields[1] != witness.KindSameSize || fields[3] != log.Origin {
		t.Fatalf("GET /evidence = %d %q, want one same-size line", status, list)
	}
	status, file := get(t, srv.URL+"/evidence/"+fields[0])
	if status != http.StatusOK {
		t.Fatalf("GET /evidence/%s = %d", fields[0], status)
	}
	if _, _, _, err := witness.VerifyEvidence([]byte(file), log.Verifier); err != nil {
		t.Errorf("served evidence doesn't verify: %v", err)
	}
	if sum := sha256.Sum256([]byte(file)); hex.EncodeToString(sum[:]) != fields[0] {
		t.Errorf("evidence ID is not the file's SHA-256")
	}
	if status, _ := get(t, srv.URL+"/evidence/"+strings.Repeat("0", 64)); status != http.StatusNotFound {
		t.Errorf("unknown evidence: %d, want 404", status)
	}
	// Frozen: even the honest branch gets 422 now.
	if status, _, body := post(t, srv.URL, witness.FormatAddCheckpointRequest(6, log.Proof(6, 8), log.Checkpoint(8))); status != http.StatusUnprocessableEntity || !strings.Contains(body, "equivocated") {
		t.Errorf("after evidence: %d %q, want 422 equivocated", status, body)
	}
}

// TestHTTPClientGone: a request whose client disconnected is counted as
// 499, not as an internal error, and nothing is logged at ERROR.
func TestHTTPClientGone(t *testing.T) {
	log := witnesstest.NewLog(t, "example.com/log")
	w, _ := newWitness(t, ctxStore{newMemStore()}, log)
	h := witness.NewHandler(w)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	body := witness.FormatAddCheckpointRequest(0, nil, log.Checkpoint(3))
	r := httptest.NewRequest(http.MethodPost, "/add-checkpoint", bytes.NewReader(body)).WithContext(ctx)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 499 {
		t.Errorf("a gone client's request answered %d, want 499 (client closed request), not an internal error", rec.Code)
	}
}

// ctxStore is a memStore that fails, as a database does, once its caller's
// context is done.
type ctxStore struct{ *memStore }

func (s ctxStore) Update(ctx context.Context, origin string, fn func(old []byte) ([]byte, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.memStore.Update(ctx, origin, fn)
}

func (s ctxStore) Latest(ctx context.Context, origin string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	return s.memStore.Latest(ctx, origin)
}

// TestSameCheckpointAgainWritesNothing: the same checkpoint sent again (a
// retry, or a replay by anyone) gets the cosignature already given, and the
// witness writes nothing (no fsync per replay).
func TestSameCheckpointAgainWritesNothing(t *testing.T) {
	log := witnesstest.NewLog(t, "example.com/log")
	store := &writeCounter{memStore: newMemStore()}
	// A clock that moves a minute per cosignature: a new cosignature would
	// differ from the first.
	clock := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	skey, _, err := govlog.GenerateCosignerKey(nil, "witness.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := govlog.NewCosigner(skey, func() time.Time { clock = clock.Add(time.Minute); return clock })
	if err != nil {
		t.Fatal(err)
	}
	w := newWitnessWithKey(t, signer, store, log)
	first, err := w.AddCheckpoint(t.Context(), 0, nil, log.Checkpoint(5))
	if err != nil {
		t.Fatal(err)
	}
	writes := store.changed
	for range 3 {
		again, err := w.AddCheckpoint(t.Context(), 0, nil, log.Checkpoint(5))
		var conflict *witness.SizeConflictError
		if errors.As(err, &conflict) {
			// Old size 0 no longer matches: the client asks again from 5.
			again, err = w.AddCheckpoint(t.Context(), 5, nil, log.Checkpoint(5))
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, first) {
			t.Errorf("the same checkpoint again: cosignature %q, want the first %q", again, first)
		}
	}
	if store.changed != writes {
		t.Errorf("%d writes for the same checkpoint again, want none", store.changed-writes)
	}
}

// writeCounter counts the updates that change the stored value.
type writeCounter struct {
	*memStore
	changed int
}

func (s *writeCounter) Update(ctx context.Context, origin string, fn func(old []byte) ([]byte, error)) error {
	return s.memStore.Update(ctx, origin, func(old []byte) ([]byte, error) {
		next, err := fn(old)
		if err == nil && !bytes.Equal(next, old) {
			s.changed++
		}
		return next, err
	})
}

// TestHTTPRateLimitPerLog: a flood of add-checkpoint requests for one log
// gets 429 past the per-log burst, and another log is not held back.
func TestHTTPRateLimitPerLog(t *testing.T) {
	log := witnesstest.NewLog(t, "example.com/log")
	other := witnesstest.NewLog(t, "example.com/other")
	w, _ := newWitness(t, newMemStore(), log, other)
	srv := httptest.NewServer(witness.NewHandler(w))
	defer srv.Close()
	body := witness.FormatAddCheckpointRequest(0, nil, log.Checkpoint(5))
	limited := 0
	for range 2*witness.DefaultPerLogRate + 20 {
		if status, _, _ := post(t, srv.URL, body); status == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Errorf("%d requests in a burst for one log, none refused with 429", 2*witness.DefaultPerLogRate+20)
	}
	if status, _, body := post(t, srv.URL, witness.FormatAddCheckpointRequest(0, nil, other.Checkpoint(3))); status != http.StatusOK {
		t.Errorf("another log held back: %d %s", status, body)
	}
}
