package search

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/govlog/govlog/personalities/rule"
)

// Prefix begins every state key of the index. The domains' own keys never
// begin with "govlog." (the centre's keys do).
const Prefix = "govlog.search/"

// entryPrefix + position holds an entry's Summary (as storedSummary).
const entryPrefix = Prefix + "e/"

// blockPrefix begins the keys of the term lists' blocks (see listPrefix).
const blockPrefix = Prefix + "b/"

// blockSize is how many consecutive indexes one block of a term's list
// covers: the entries from a multiple of it on. A block's value lists the
// entries that have the term as one byte each, their offsets from the
// block's first index, ascending: an entry's terms are written in the few
// blocks a batch of entries shares (its agency's, type's, day's) instead
// of a row per entry and term.
const blockSize = 256

func blockStart(index uint64) uint64 { return index &^ (blockSize - 1) }

// Writer is where IndexEntries writes: a transaction of the log's state
// (storage.AdmitTx, or a monitor's).
type Writer interface {
	Get(ctx context.Context, key string) ([]byte, bool, error)
	Put(ctx context.Context, key string, value []byte) error
}

// prefetcher reads many keys in one round trip (storage.AdmitTx).
type prefetcher interface {
	Prefetch(ctx context.Context, keys []string) error
}

// IndexEntries writes the index of entries, each admitted at its Index
// into the log whose rules are d: its summary, and its place in the block
// of each of its terms' lists. A block is read and written back with the
// entries added, so indexing an entry again, or entries of one block in
// several transactions, leaves each block whole.
func IndexEntries(ctx context.Context, w Writer, d rule.Domain, entries []rule.Entry) error {
	add := map[string][]byte{}
	var keys []string
	for _, e := range entries {
		terms, s := Terms(d, e)
		v, err := json.Marshal(storedSummary{
			LeafHash: hex.EncodeToString(s.LeafHash[:]), Type: s.Type, Agency: s.Agency,
			Time: s.Time.Format(time.RFC3339Nano), Title: s.Title, Corrects: s.Corrects, Retracts: s.Retracts,
		})
		if err != nil {
			return err
		}
		if err := w.Put(ctx, entryPrefix+position(e.Index), v); err != nil {
			return err
		}
		start := blockStart(e.Index)
		for _, t := range terms {
			k := listPrefix(t) + position(start)
			if _, ok := add[k]; !ok {
				keys = append(keys, k)
			}
			add[k] = append(add[k], byte(e.Index-start))
		}
	}
	if p, ok := w.(prefetcher); ok {
		if err := p.Prefetch(ctx, keys); err != nil {
			return err
		}
	}
	for _, k := range keys {
		old, _, err := w.Get(ctx, k)
		if err != nil {
			return err
		}
		merged := mergeOffsets(old, add[k])
		if bytes.Equal(merged, old) {
			continue
		}
		if err := w.Put(ctx, k, merged); err != nil {
			return err
		}
	}
	return nil
}

// mergeOffsets returns the offsets of a and b, ascending, each once.
func mergeOffsets(a, b []byte) []byte {
	var seen [blockSize]bool
	for _, o := range a {
		seen[o] = true
	}
	for _, o := range b {
		seen[o] = true
	}
	out := make([]byte, 0, len(a)+len(b))
	for o := range seen {
		if seen[o] {
			out = append(out, byte(o))
		}
	}
	return out
}

// storedSummary is a Summary as the state keeps it, with short names: it
// is written for every entry.
type storedSummary struct {
	LeafHash string `json:"h"`
	Type     string `json:"y"`
	Agency   string `json:"a,omitempty"`
	Time     string `json:"t"`
	Title    string `json:"n,omitempty"`
	Corrects string `json:"c,omitempty"`
	Retracts string `json:"r,omitempty"`
}

func parseSummary(index uint64, v []byte) (Summary, error) {
	var st storedSummary
	if err := json.Unmarshal(v, &st); err != nil {
		return Summary{}, fmt.Errorf("corrupt search index entry %d: %w", index, err)
	}
	s := Summary{Type: st.Type, Agency: st.Agency, Title: st.Title, Corrects: st.Corrects, Retracts: st.Retracts}
	h, err := hex.DecodeString(st.LeafHash)
	if err != nil || len(h) != 32 {
		return Summary{}, fmt.Errorf("corrupt search index entry %d: leaf hash %q", index, st.LeafHash)
	}
	s.LeafHash = [32]byte(h)
	if s.Time, err = time.Parse(time.RFC3339Nano, st.Time); err != nil {
		return Summary{}, fmt.Errorf("corrupt search index entry %d: %w", index, err)
	}
	return s, nil
}

// position is an index as the last part of a key: 20 digits of
// MaxUint64-index, so that keys in ascending order (the only order a
// state scan reads) list the newest entry first.
func position(index uint64) string {
	return fmt.Sprintf("%020d", uint64(math.MaxUint64)-index)
}

// positionLen is the length of every position.
const positionLen = 20

func parsePosition(p string) (uint64, bool) {
	if len(p) != positionLen {
		return 0, false
	}
	n, err := strconv.ParseUint(p, 10, 64)
	if err != nil {
		return 0, false
	}
	return math.MaxUint64 - n, true
}

// listPrefix is the prefix of the keys of the blocks of the list of the
// entries with term t, each followed by the position of its first index:
// Prefix + "b/" + kind + "/" + value + "/", with "%" and "/" in the value
// escaped so that no value's list holds another's.
func listPrefix(t Term) string {
	return blockPrefix + t.Kind + "/" + valueEscaper.Replace(t.Value) + "/"
}

// valueEscaper is built once: listPrefix runs for every term of every
// admitted entry (a replacer made per call was 3% of admission's CPU).
var valueEscaper = strings.NewReplacer("%", "%25", "/", "%2F")
