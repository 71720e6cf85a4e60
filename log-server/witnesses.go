package logserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/witness"
)

// witnessClient submits a log's checkpoints to one witness over C2SP
// tlog-witness and keeps what the witness last cosigned.
type witnessClient struct {
	name     string
	client   *witness.Client
	verifier note.Verifier

	mu   sync.Mutex
	size uint64 // the witness's latest cosigned size, as far as we know
}

// cosign asks the witness to cosign signed (checkpoint cp), proving
// consistency from the size it holds with prove, and returns its verified
// cosignature lines. A 409 tells us the witness's size; the request is then
// made again once from there.
func (w *witnessClient) cosign(ctx context.Context, prove consistencyProver, cp govlog.Checkpoint, signed []byte) ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for attempt := 0; ; attempt++ {
		old := min(w.size, cp.Size)
		proof, err := prove(old)
		if err != nil {
			return nil, err
		}
		lines, err := w.client.AddCheckpoint(ctx, old, proof, signed)
		var conflict *witness.SizeConflictError
		if errors.As(err, &conflict) && attempt == 0 && conflict.Latest != old {
			if conflict.Latest > cp.Size {
				return nil, fmt.Errorf("witness %s holds size %d, past this checkpoint's %d", w.name, conflict.Latest, cp.Size)
			}
			w.size = conflict.Latest
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("witness %s: %w", w.name, err)
		}
		verified, err := w.verify(signed, lines)
		if err != nil {
			return nil, fmt.Errorf("witness %s: %w", w.name, err)
		}
		w.size = cp.Size
		return verified, nil
	}
}

// verify keeps only the response's lines that are valid cosignatures by
// this witness's key on signed; other lines are ignored, as the spec says.
// A valid signature spelled in non-canonical base64 (padding bits set),
// which note.Open accepts, is ignored too: the policy refuses a checkpoint
// carrying such a line, so keeping it would let one witness stop every
// checkpoint from being published.
func (w *witnessClient) verify(signed, lines []byte) ([]byte, error) {
	var keep []byte
	sc := bufio.NewScanner(bytes.NewReader(lines))
	for sc.Scan() {
		line := sc.Text() + "\n"
		n, err := note.Open(append(append([]byte(nil), signed...), line...), note.VerifierList(w.verifier))
		if err != nil {
			continue
		}
		for _, s := range n.Sigs {
			if raw, err := base64.StdEncoding.Strict().DecodeString(s.Base64); err != nil || base64.StdEncoding.EncodeToString(raw) != s.Base64 {
				continue
			}
			keep = append(keep, "— "+s.Name+" "+s.Base64+"\n"...)
		}
	}
	if keep == nil {
		return nil, errors.New("no valid cosignature in its answer")
	}
	return keep, nil
}

// consistencyProver proves that the tree being signed extends the tree of
// size from.
type consistencyProver func(from uint64) ([][32]byte, error)

// cosignAll sends signed to every witness of the policy concurrently and
// returns the checkpoint with every cosignature that came back, and whether
// the policy's quorum is met.
func (l *Log) cosignAll(ctx context.Context, cp govlog.Checkpoint, signed []byte, prove consistencyProver) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, l.opts.WitnessTimeout)
	defer cancel()
	results := make([][]byte, len(l.witnesses))
	var wg sync.WaitGroup
	for i, w := range l.witnesses {
		wg.Go(func() {
			lines, err := w.cosign(ctx, prove, cp, signed)
			if err != nil {
				l.opts.Logger.Warn("witness did not cosign", "witness", w.name, "size", cp.Size, "err", err)
				return
			}
			results[i] = lines
		})
	}
	wg.Wait()
	cosigned := append([]byte(nil), signed...)
	for _, lines := range results {
		cosigned = append(cosigned, lines...)
	}
	if _, names, err := l.opts.Policy.Verify(cosigned); err != nil {
		return nil, fmt.Errorf("size %d not published: %w", cp.Size, err)
	} else {
		l.opts.Logger.Debug("checkpoint cosigned", "size", cp.Size, "witnesses", names)
	}
	return cosigned, nil
}

// DefaultWitnessRequestTimeout bounds one request to a witness when
// LogOptions.WitnessClient is not set.
const DefaultWitnessRequestTimeout = 30 * time.Second

// newWitnessClients makes a client for each witness of policy that has a
// URL, sending with hc (nil: one with DefaultWitnessRequestTimeout).
func newWitnessClients(policy *govlog.Policy, hc *http.Client) ([]*witnessClient, error) {
	if hc == nil {
		hc = &http.Client{Timeout: DefaultWitnessRequestTimeout}
	}
	var out []*witnessClient
	for _, pw := range policy.Witnesses() {
		if pw.URL == "" {
			continue
		}
		v, err := govlog.NewCosignatureVerifier(pw.VKey)
		if err != nil {
			return nil, fmt.Errorf("witness %s: %w", pw.Name, err)
		}
		out = append(out, &witnessClient{name: pw.Name, verifier: v,
			client: &witness.Client{URL: pw.URL, HTTPClient: hc}})
	}
	return out, nil
}
