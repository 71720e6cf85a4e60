package search

import (
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
const entryPrefix = Prefix + "entry/"

// Writer is where Index writes: the admission transaction
// (storage.AdmitTx).
type Writer interface {
	Put(ctx context.Context, key string, value []byte) error
}

// Index writes the index of e, the entry admitted at index into the log
// whose rules are d: its summary, and one empty key per term. Call it in
// the transaction that admits e, so the index never holds an entry the
// log does not, nor misses one it does.
func Index(ctx context.Context, w Writer, d rule.Domain, index uint64, e rule.Entry) error {
	terms, s := Terms(d, e)
	v, err := json.Marshal(storedSummary{
		LeafHash: hex.EncodeToString(s.LeafHash[:]), Type: s.Type, Agency: s.Agency,
		Time: s.Time.Format(time.RFC3339Nano), Title: s.Title, Corrects: s.Corrects, Retracts: s.Retracts,
	})
	if err != nil {
		return err
	}
	pos := position(index)
	if err := w.Put(ctx, entryPrefix+pos, v); err != nil {
		return err
	}
	for _, t := range terms {
		if err := w.Put(ctx, listPrefix(t)+pos, []byte{}); err != nil {
			return err
		}
	}
	return nil
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

// listPrefix is the prefix of the keys of the entries with term t:
// Prefix + kind + "/" + value + "/", with "%" and "/" in the value
// escaped so that no value's list holds another's.
func listPrefix(t Term) string {
	return Prefix + t.Kind + "/" + valueEscaper.Replace(t.Value) + "/"
}

// valueEscaper is built once: listPrefix runs for every term of every
// admitted entry (a replacer made per call was 3% of admission's CPU).
var valueEscaper = strings.NewReplacer("%", "%25", "/", "%2F")
