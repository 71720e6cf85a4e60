package search_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/search"
)

// fakeLog is a published log of signed statements, all in its checkpoint.
type fakeLog struct {
	origin string
	leaves [][]byte
}

func (l *fakeLog) Origin() string { return l.origin }
func (l *fakeLog) Checkpoint() ([]byte, govlog.Checkpoint) {
	return nil, govlog.Checkpoint{Origin: l.origin, Size: uint64(len(l.leaves))}
}
func (l *fakeLog) Bundle(context.Context, uint64) ([]byte, error) {
	return nil, errors.New("no bundles")
}
func (l *fakeLog) Entries(_ context.Context, start, count uint64) ([][]byte, error) {
	return l.leaves[start:min(start+count, uint64(len(l.leaves)))], nil
}

// TestFollowReportsProgress: indexing a log far ahead of the index (a store
// indexed anew) says so when it starts and when it has caught up, and
// tells Indexed where it stands.
func TestFollowReportsProgress(t *testing.T) {
	const origin, n = "example.org/docs", 10_100
	skey, _, err := note.GenerateKey(nil, "agency")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	l := &fakeLog{origin: origin}
	at := time.Now().UTC().Truncate(time.Second)
	for i := range n {
		st, err := govlog.NewStatement(origin, "doc.publish", at, fmt.Appendf(nil, `{"doc_id":"d-%d"}`, i))
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := st.Sign(signer)
		if err != nil {
			t.Fatal(err)
		}
		l.leaves = append(l.leaves, leaf)
	}
	var out bytes.Buffer // written by Follow, read once it has returned
	var reached atomic.Uint64
	var indexed []uint64 // Follow's calls, in its goroutine
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- search.Follow(ctx, search.FollowOptions{Store: sqliteIndex(t).(storeIndex).s, Log: "docs",
			Source: search.Source{Log: l, Domain: docs{}}, Poll: 10 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(&out, nil)),
			Indexed: func(next uint64) {
				indexed = append(indexed, next)
				reached.Store(next)
			}})
	}()
	// Follow reports catching up before it next waits, so before it
	// returns.
	for deadline := time.Now().Add(2 * time.Minute); reached.Load() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("indexed %d of %d after 2 minutes", reached.Load(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Follow returned %v", err)
	}
	log := out.String()
	if !strings.Contains(log, `msg="indexing the log for search" log=docs from=0 to=10100`) ||
		!strings.Contains(log, `msg="the search index caught up with the log" log=docs entries=10100`) {
		t.Errorf("progress not reported:\n%s", log)
	}
	if len(indexed) == 0 || indexed[0] != 0 || indexed[len(indexed)-1] != n {
		t.Errorf("Indexed told %v, want from 0 to %d", indexed, n)
	}
}
