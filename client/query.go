package client

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/personalities/rule"
)

// Answer is a verified answer to a query.
type Answer struct {
	// Result is the answer, a JSON object, as the server sent it.
	Result []byte
	// Bundles are the tlog-proof bundles of the entries the answer rests
	// on, as the server sent them (to keep, and verify again offline).
	Bundles [][]byte
	// Entries are the verified bundles, in the same order.
	Entries []*govlog.VerifiedBundle
	// Checkpoint is the one checkpoint every bundle was verified at, and
	// Witnesses those of the policy that cosigned it. Zero and nil when
	// the answer cites no entry.
	Checkpoint govlog.Checkpoint
	Witnesses  []string
}

// Query asks log's domain the query name with args (see the domain's
// package doc, e.g. personalities/funds: "account", "payment") and
// verifies the answer before returning it: every bundle verifies against
// policy (the checkpoint is signed by a log of the policy and cosigned by
// its quorum, and the inclusion proof binds the entry it carries), all at
// the same checkpoint, and every entry the result names by a "leaf_hash"
// member is one of them. What the answer says about those entries (a
// balance, how a payment was funded) is the server's reading of the state
// they built; the entries themselves are proved, and the domain's package
// checks that reading against them (its rule.QueryClient's CheckAnswer,
// which govlog query runs on Answer.Result and ProvedEntries(Answer.Entries)).
func (c *Client) Query(ctx context.Context, policy *govlog.Policy, log, name string, args map[string]string) (*Answer, error) {
	if policy == nil {
		return nil, errors.New("a policy is required to verify the answer")
	}
	resp, err := c.api.Query(ctx, &api.QueryRequest{Log: log, Query: name, Args: args})
	if err != nil {
		return nil, err
	}
	return VerifyAnswer(policy, resp.ResultJson, resp.Bundles)
}

// VerifyAnswer checks an answer to a query as Query does, for callers that
// kept one.
func VerifyAnswer(policy *govlog.Policy, result []byte, bundles [][]byte) (*Answer, error) {
	a := &Answer{Result: result, Bundles: bundles}
	proved := map[string]bool{}
	var checkpoint []byte
	for i, b := range bundles {
		vb, err := govlog.VerifyBundle(b, policy)
		if err != nil {
			return nil, fmt.Errorf("the proof of entry %d of the answer does NOT verify: %w", i, err)
		}
		cp := vb.Checkpoint.Text()
		if i == 0 {
			checkpoint, a.Checkpoint, a.Witnesses = cp, vb.Checkpoint, vb.Witnesses
		} else if !bytes.Equal(cp, checkpoint) {
			return nil, fmt.Errorf("the answer's proofs are at different checkpoints (sizes %d and %d)", a.Checkpoint.Size, vb.Checkpoint.Size)
		}
		h := govlog.LeafHash(vb.Entry)
		proved[hex.EncodeToString(h[:])] = true
		a.Entries = append(a.Entries, vb)
	}

	var doc any
	if err := json.Unmarshal(result, &doc); err != nil {
		return nil, fmt.Errorf("the answer is not JSON: %w", err)
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, errors.New("the answer is not a JSON object")
	}
	for _, h := range leafHashesIn(doc) {
		if !proved[h] {
			return nil, fmt.Errorf("the answer names entry %.64q without a proof of it", h)
		}
	}
	return a, nil
}

// ProvedEntries reads the entries of verified bundles as statements of the
// logs that proved them. It does not verify their signatures (the log did
// when it admitted them, and monitors do again): Signers are the key names
// on their signature lines. An entry that is not a statement of its log is
// an error: a log proves only what it holds, but a client must not trust
// it to be well formed.
func ProvedEntries(vbs []*govlog.VerifiedBundle) ([]rule.ProvedEntry, error) {
	out := make([]rule.ProvedEntry, 0, len(vbs))
	for _, vb := range vbs {
		h := govlog.LeafHash(vb.Entry)
		st, _, sigs, err := govlog.ReadStatement(vb.Entry, vb.Checkpoint.Origin)
		if err != nil {
			return nil, fmt.Errorf("entry %x (index %d) is not a statement of %s: %w", h, vb.Index, vb.Checkpoint.Origin, err)
		}
		e := rule.ProvedEntry{LeafHash: h, Index: vb.Index, Type: st.Type, Time: st.Time, Body: st.Body}
		for _, s := range sigs {
			e.Signers = append(e.Signers, s.Name)
		}
		out = append(out, e)
	}
	return out, nil
}

// leafHashesIn returns the values of every "leaf_hash" member in a JSON
// document; one that is not a string is returned as its JSON, which no
// proved hash equals.
func leafHashesIn(doc any) []string {
	var out []string
	switch x := doc.(type) {
	case map[string]any:
		for k, y := range x {
			if k == "leaf_hash" {
				if s, ok := y.(string); ok {
					out = append(out, s)
				} else {
					b, _ := json.Marshal(y)
					out = append(out, string(b))
				}
				continue
			}
			out = append(out, leafHashesIn(y)...)
		}
	case []any:
		for _, y := range x {
			out = append(out, leafHashesIn(y)...)
		}
	}
	return out
}
