package witness_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/witness"
	"github.com/govlog/govlog/witness/sqlstore"
)

// Example runs a witness in process, as govlog dev does, and has a log
// push a checkpoint to it over HTTP.
func Example() {
	ctx := context.Background()

	// The log's key, named after its origin, and a three-leaf tree.
	logSKey, logVKey, _ := note.GenerateKey(rand.Reader, "example.com/log")
	logSigner, _ := note.NewSigner(logSKey)
	logVerifier, _ := note.NewVerifier(logVKey)
	h := rfc6962.DefaultHasher
	root := h.HashChildren(h.HashChildren(h.HashLeaf([]byte("a")), h.HashLeaf([]byte("b"))), h.HashLeaf([]byte("c")))
	signed, _ := govlog.SignCheckpoint(govlog.Checkpoint{Origin: "example.com/log", Size: 3, Hash: [32]byte(root)}, logSigner)

	// The witness: its key (govlog keygen --witness), its store, its logs.
	skey, vkey, _ := govlog.GenerateCosignerKey(nil, "witness.example/w1")
	cosigner, _ := govlog.NewCosigner(skey, nil)
	store, _ := sqlstore.Open(ctx, sqlstore.Memory)
	defer store.Close()
	w, err := witness.New(ctx, witness.Options{
		Cosigner: cosigner,
		Logs:     map[string]note.Verifier{"example.com/log": logVerifier},
		Store:    store,
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(witness.NewHandler(w))
	defer srv.Close()

	// The log's side: a first checkpoint goes with old size 0, no proof.
	c := &witness.Client{URL: srv.URL}
	lines, err := c.AddCheckpoint(ctx, 0, nil, signed)
	if err != nil {
		panic(err)
	}
	v, _ := govlog.NewCosignatureVerifier(vkey)
	n, err := note.Open(append(signed, lines...), note.VerifierList(v))
	if err != nil {
		panic(err)
	}
	fmt.Println("cosigned by", n.Sigs[0].Name)

	// A log that doesn't know the witness's size learns it from a 409.
	_, err = c.AddCheckpoint(ctx, 0, nil, signed)
	var conflict *witness.SizeConflictError
	if errors.As(err, &conflict) {
		fmt.Println("the witness holds size", conflict.Latest)
	}
	// Output:
	// cosigned by witness.example/w1
	// the witness holds size 3
}
