package logserver_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/google/trillian"
	"github.com/google/trillian/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/govlog/govlog"
	logserver "github.com/govlog/govlog/log-server"
	"github.com/govlog/govlog/log-server/logtest"
)

// TestRemoteTrillian: a log kept in a Trillian deployment reached over
// gRPC (Trillian's own log and admin servers, with their sequencer, on a
// TCP listener, as a separate deployment would serve them): leaves stored
// through AddSequencedLeaves are integrated by that deployment, the log
// signs and proves them, finds them by hash, and a tree named by ID is
// used as it is.
func TestRemoteTrillian(t *testing.T) {
	t.Parallel()
	deployment := logtest.SQLite(t, logtest.Options{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go deployment.Trillian.Serve(lis)

	remote, err := logserver.DialTrillian(logserver.RemoteOptions{Address: lis.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { remote.Close() })

	// One tree the operator made beforehand, named by ID.
	tree, err := client.CreateAndInitTree(t.Context(), &trillian.CreateTreeRequest{Tree: &trillian.Tree{
		TreeState: trillian.TreeState_ACTIVE, TreeType: trillian.TreeType_PREORDERED_LOG,
		DisplayName: "made by the operator", MaxRootDuration: durationpb.New(0),
	}}, remote.Admin, remote.Log)
	if err != nil {
		t.Fatal(err)
	}
	for _, named := range []bool{false, true} {
		key := logtest.NewLogKey(t, origin)
		opts := logserver.LogOptions{Origin: origin, Signer: key.Signer, MMD: time.Minute, PollInterval: 10 * time.Millisecond}
		if named {
			opts.TrillianTreeID = tree.TreeId
		}
		l, err := remote.OpenLog(t.Context(), opts)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- l.Run(ctx) }()
		if named && l.TreeID() != tree.TreeId {
			t.Fatalf("log on tree %d, want the named tree %d", l.TreeID(), tree.TreeId)
		}
		queueAndWait(t, l, 0, leaf(0), leaf(1), leaf(2))
		// Storing a leaf again at its index is no error; another leaf at a
		// taken index is, once the deployment shows what is there.
		if err := l.QueueLeaves(t.Context(), 1, [][]byte{leaf(1)}); err != nil {
			t.Errorf("storing leaf 1 again: %v", err)
		}
		if err := l.QueueLeaves(t.Context(), 1, [][]byte{leaf(9)}); err == nil {
			t.Error("another leaf at a taken index was accepted")
		}
		signed, cp := l.Checkpoint()
		if cp.Size != 3 {
			t.Fatalf("checkpoint size %d, want 3", cp.Size)
		}
		if _, _, err := govlog.OpenCheckpoint(signed, key.Verifier); err != nil {
			t.Fatal(err)
		}
		index, _, err := l.FindLeaf(t.Context(), govlog.LeafHash(leaf(2)), 0)
		if err != nil || index != 2 {
			t.Fatalf("FindLeaf(leaf 2) = %d, %v; want 2", index, err)
		}
		if _, _, err := l.FindLeaf(t.Context(), govlog.LeafHash(leaf(7)), 0); !errors.Is(err, govlog.ErrNotFound) {
			t.Errorf("FindLeaf of a leaf not in the log: %v, want ErrNotFound", err)
		}
		bundle, err := l.Bundle(t.Context(), 1)
		if err != nil {
			t.Fatal(err)
		}
		b, err := govlog.ParseBundle(bundle)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.VerifyInclusion(cp); err != nil {
			t.Errorf("bundle of entry 1: %v", err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	// A tree that is not a pre-ordered log is refused by ID.
	plain, err := remote.CreatePlainLog(t.Context(), "plain")
	if err != nil {
		t.Fatal(err)
	}
	key := logtest.NewLogKey(t, "gov.example/other")
	if _, err := remote.OpenLog(t.Context(), logserver.LogOptions{Origin: "gov.example/other", Signer: key.Signer, TrillianTreeID: plain.TreeID()}); err == nil {
		t.Error("a LOG tree named by ID was accepted")
	}
}
